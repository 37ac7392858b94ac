"""Run every benchmark (``make bench``): each listed module's ``run()``, in this order.

``python -m bench archive classify`` runs only the named ones, each in a process of its own. The list
is explicit (no module discovery), so the import graph shows what ``make bench`` runs.
``bench/bench_pdf_text.py`` is a one-off comparison (pypdf against pdfminer.six, which is not a
dependency) run on its own.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

from bench import (
    bench_alerts,
    bench_archive,
    bench_backfill,
    bench_classify,
    bench_daily,
    bench_first_search,
    bench_web_load,
)
from bench.common import bench_dir, console

BENCHMARKS: dict[str, Callable[[], object]] = {
    "alerts": bench_alerts.run,
    "archive": bench_archive.run,
    "backfill": bench_backfill.run,
    "classify": bench_classify.run,
    "daily": bench_daily.run,
    "first_search": bench_first_search.run,
    "web_load": bench_web_load.run,
}


def main(names: list[str]) -> None:
    """One benchmark runs here; several run each in a process of its own, as the measured commands do in
    production: what one leaves behind (a heap of a million objects, the garbage collector's frozen
    generation taken by the first classifier) would otherwise slow the next (classify ran at 4,139 notices/s
    after the others in one process, 4,800/s on its own the same hour)."""
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        raise SystemExit(f"no benchmark named {unknown}; available: {list(BENCHMARKS)}")
    names = names or list(BENCHMARKS)
    if len(names) == 1:
        console.rule(f"bench_{names[0]}")
        BENCHMARKS[names[0]]()
    else:
        for name in names:
            subprocess.run([sys.executable, "-m", "bench", name], check=True)
    console.print(f"figures saved to {bench_dir() / 'latest.json'}")


if __name__ == "__main__":
    main(sys.argv[1:])
