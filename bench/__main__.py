"""Run every benchmark (``make bench``): each listed module's ``run()``, in this order.

``python -m bench archive classify`` runs only the named ones. The list is explicit (no module discovery),
so the import graph shows what ``make bench`` runs. ``bench/bench_pdf_text.py`` is a one-off comparison
(pypdf against pdfminer.six, which is not a dependency) run on its own.
"""

from __future__ import annotations

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
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        raise SystemExit(f"no benchmark named {unknown}; available: {list(BENCHMARKS)}")
    for name in names or list(BENCHMARKS):
        console.rule(f"bench_{name}")
        BENCHMARKS[name]()
    console.print(f"figures saved to {bench_dir() / 'latest.json'}")


if __name__ == "__main__":
    main(sys.argv[1:])
