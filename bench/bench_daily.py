"""A whole daily run on the embedded defaults against the replay server: wall time and peak memory.

``commands.pipeline.run_daily`` (what ``make demo`` runs) on the recorded day, every source
crawled from the replay of recorded pages on 127.0.0.1, into a fresh data directory with
SQLite, no SMTP server (messages are written as .eml files). It runs in a child process so
that its peak memory (its own and its crawl subprocesses') is measured alone. Loopback is
the only network, so the wall time is the figure the "< 60 s excluding network" target means;
the crawl stage's share is shown too.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time

from bench.common import child_json, peak_mb, record, show


def _child() -> None:
    """In the child: run the day and print what happened as one JSON line."""
    from crawlers.replay import RECORDED_DAY
    from commands import pipeline

    start = time.perf_counter()
    report = pipeline.run_daily(RECORDED_DAY, offline=True, window=(None, None))
    wall = time.perf_counter() - start
    print(json.dumps({"wall_s": wall, "peak_mb": peak_mb(), "ok": report.ok,
                      "stages": {s.stage: {"status": s.status, "seconds": s.seconds, "summary": s.summary}
                                 for s in report.stages}}))


def run() -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="tbtwatch-bench-daily-") as home:
        env = {"TBTWATCH_HOME": home, "TBTWATCH_SMTP_HOST": "",
               "TBTWATCH_SECRET": os.environ.get("TBTWATCH_SECRET", "bench-secret-not-for-production")}
        start = time.perf_counter()
        result = child_json("bench.bench_daily", "--child", env=env, timeout=600)
        process_s = time.perf_counter() - start
    stages = result["stages"]
    figures = {
        "daily_run_s": round(result["wall_s"], 2),
        "daily_process_s": round(process_s, 2),
        "daily_crawl_s": round(stages.get("crawl", {}).get("seconds", 0.0), 2),
        "daily_peak_mb": round(result["peak_mb"], 1),
        "daily_ok": result["ok"],
    }
    rows = [("daily run wall time (s)", figures["daily_run_s"], "< 60 s"),
            ("whole process incl. imports (s)", figures["daily_process_s"], ""),
            ("peak memory (MB)", figures["daily_peak_mb"], ""),
            ("run ok", str(result["ok"]), "")]
    rows += [(f"  {name} (s)", round(stage["seconds"], 2), f"{stage['status']}: {stage['summary'][:60]}")
             for name, stage in stages.items()]
    show("daily run on the embedded defaults, offline replay", rows)
    record(figures)
    return figures


if __name__ == "__main__":
    if sys.argv[1:] == ["--child"]:
        _child()
    else:
        run()
