"""Run every benchmark (``make bench``): each bench_*.py module's ``run()``, in name order.

``python -m bench archive classify`` runs only the named ones.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

from bench.common import bench_dir, console


def main(names: list[str]) -> None:
    modules = sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if m.name.startswith("bench_"))
    chosen = [m for m in modules if not names or m.removeprefix("bench_") in names]
    if names and not chosen:
        raise SystemExit(f"no benchmark named {names}; available: {[m.removeprefix('bench_') for m in modules]}")
    for name in chosen:
        console.rule(name)
        importlib.import_module(f"bench.{name}").run()
    console.print(f"figures saved to {bench_dir() / 'latest.json'}")


if __name__ == "__main__":
    main(sys.argv[1:])
