"""``tbtwatch serve`` under load: 20 clients for 60 s on the 100,000-notice archive while a writer runs.

The load tool is Debian's ``wrk`` (C, so the clients cost the two cores little; ``make loadtool``
installs it). Its requests are a fixed, shuffled mix of what readers do: the search page (words,
filters), the JSON API's search, facets and notices, notice pages and CSV exports of one member's
year. Meanwhile a writer goes round the daily run's writes on the same archive file for the whole
test: a crawl of ``eping_bulk`` from the replay server (a new workbook each round: new and changed
notices), ``tbtwatch import`` of a JSONL file, and classification of everything they changed. The
server runs with ``WORKERS`` processes and, the naive way, with one, each against a fresh copy of
the archive; both from the facet snapshot, as after a restart.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

from bench.archives import classified_home
from bench.bench_archive import CHINESE, ENGLISH, MEMBERS
from bench.common import record, show

SIZE = int(os.environ.get("TBTWATCH_BENCH_NOTICES", "100000"))
SECONDS = int(os.environ.get("TBTWATCH_BENCH_LOAD_SECONDS", "60"))
CLIENTS = 20
WORKERS = int(os.environ.get("TBTWATCH_BENCH_WORKERS", str(os.cpu_count() or 2)))
WRITE_ROWS, IMPORT_NOTICES = 1000, 500  # per round of the writer
# The daily run yields the CPU to readers: docker-compose.yml gives the scheduler (which runs the tasks)
# cpu_shares 256 against the web's 1024, and docs/running.md runs `tbtwatch daily` under `nice -n 6`
# (the kernel's weight of nice 6, 272, is about a quarter of nice 0's 1024). The writer runs so.
BATCH_NICE = int(os.environ.get("TBTWATCH_BENCH_WRITER_NICE", "6"))
LUA = Path(__file__).with_name("web_load.lua")
PATHS = 5000


def request_mix(db: Path, rng: random.Random) -> list[str]:
    """The shuffled request paths: (share, path maker) per kind of request."""
    import sqlite3

    symbols = [r[0] for r in sqlite3.connect(db).execute("SELECT symbol FROM notices WHERE id % 97 = 0")]
    words = ENGLISH + CHINESE
    year = lambda: rng.randrange(2005, 2026)  # noqa: E731 - a one-line generator of the mix
    kinds = [
        (25, lambda: "/search?" + urlencode({"q": rng.choice(words)})),
        (10, lambda: "/search?" + urlencode({"q": rng.choice(words), "member": rng.choice(MEMBERS), "open": 1})),
        (15, lambda: "/api/search?" + urlencode({"q": rng.choice(words), "limit": 20})),
        (10, lambda: "/api/facets?" + urlencode({"q": rng.choice(words)})),
        (20, lambda: "/notices/" + rng.choice(symbols)),
        (15, lambda: "/api/notices/" + rng.choice(symbols)),
        (5, lambda: "/export.csv?" + urlencode({"member": rng.choice(MEMBERS), "since": f"{(y := year())}-01-01",
                                                "until": f"{y}-12-31"})),
    ]
    paths = [make() for share, make in kinds for _ in range(PATHS * share // 100)]
    rng.shuffle(paths)
    return paths


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_ready(url: str, server: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"tbtwatch serve exited with {server.returncode}: {server.stderr.read()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"tbtwatch serve did not answer {url} within {timeout:.0f} s")


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM to what this benchmark started (uvicorn's supervisor stops its workers), SIGKILL if it hangs."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _load(home: Path, workers: int, paths_file: Path, replay_url: str, replay_root: Path) -> dict:
    """One load test: a server with ``workers`` processes, the writer, wrk; wrk's JSON plus the writer's."""
    port = _free_port()
    env = {**os.environ, "TBTWATCH_HOME": str(home), "TBTWATCH_ARCHIVE_BACKEND": "sqlite",
           "TBTWATCH_SECRET": os.environ.get("TBTWATCH_SECRET", "bench-secret-not-for-production")}
    server = subprocess.Popen([str(Path(sys.executable).with_name("tbtwatch")), "serve", "--port", str(port),
                               "--workers", str(workers)], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True, start_new_session=True)
    writer = None
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_ready(base + "/api/facets", server)
        for _ in range(4 * workers):  # each worker's first faceted search loads its columns from the snapshot
            urllib.request.urlopen(base + "/api/facets?q=safety", timeout=60).read()
        writer = subprocess.Popen([sys.executable, "-m", "bench.bench_web_load", "--writer", str(home), replay_url,
                                   str(replay_root), str(SECONDS)], env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, start_new_session=True)
        load = subprocess.run(["wrk", "-t2", f"-c{CLIENTS}", f"-d{SECONDS}s", "--timeout", "10s", "-s", str(LUA), base],
                              env={**env, "TBTWATCH_WRK_PATHS": str(paths_file)}, capture_output=True, text=True,
                              timeout=SECONDS + 120)
        if load.returncode != 0:
            raise SystemExit(f"wrk failed: {load.stderr[-2000:]}")
        result = json.loads(load.stdout.strip().splitlines()[-1])
        out, err = writer.communicate(timeout=600)
        if writer.returncode != 0:
            raise SystemExit(f"the writer failed: {err[-3000:]}")
        result["writer"] = json.loads(out.strip().splitlines()[-1])
        return result
    finally:
        if writer is not None:
            _stop(writer)
        _stop(server)


def _yield_cpu(nice: int) -> None:
    """Run this process at ``nice``, and its session too: with the kernel's autogroups (on by default)
    the CPU is shared between sessions first, so a process's nice only ranks it within its own session, and
    the writer (a session of its own) would weigh as much as the server's workers together."""
    os.nice(nice)
    autogroup = Path("/proc/self/autogroup")
    if nice and autogroup.exists():
        try:
            autogroup.write_text(str(nice))
        except OSError:  # a kernel without autogroups, or a sandbox that forbids it: the process nice stands
            pass


def _writer(home: str, replay_url: str, replay_root: str, seconds: str) -> dict:
    """In the writer's process: rounds of crawl, import and classify until ``seconds`` have passed, at the
    CPU weight the deployment gives the daily run (``BATCH_NICE``; docs/running.md)."""
    import datetime as dt

    _yield_cpu(BATCH_NICE)

    from bench.corpus import generate
    from bench.eping_workbook import write
    from bench.bench_backfill import REPLAY_PATH
    from commands import pipeline
    from tbtwatch.settings import get_settings

    settings = get_settings()
    deadline = time.monotonic() + float(seconds)
    rounds, changed, assessed = 0, 0, 0
    jsonl = Path(home) / "import.jsonl"
    while time.monotonic() < deadline:
        rounds += 1
        write(Path(replay_root) / REPLAY_PATH, WRITE_ROWS, seed=1000 + rounds)
        crawled = pipeline.crawl_sources(["eping_bulk"], None, None, base_url=replay_url)[0]
        if not crawled.ok:
            raise SystemExit(f"the writer's crawl failed: {crawled.error}")
        jsonl.write_text("".join(n.model_dump_json() + "\n" for n in generate(IMPORT_NOTICES, seed=2000 + rounds)),
                         encoding="utf-8")
        subprocess.run([str(Path(sys.executable).with_name("tbtwatch")), "import", str(jsonl)], check=True,
                       capture_output=True)
        classified = pipeline.classify_pending(settings, dt.date.today())
        changed += len(crawled.changed)
        assessed += classified.counts.get("assessed", 0)
    return {"rounds": rounds, "crawl_changed": changed, "assessed": assessed}


def run() -> dict[str, float]:
    if shutil.which("wrk") is None:
        raise SystemExit("the web load test needs wrk: run `make loadtool` (Debian's wrk package)")
    from crawlers.replay import ReplayServer

    source = classified_home(SIZE)
    results = {}
    with tempfile.TemporaryDirectory(prefix="tbtwatch-bench-web-") as tmp:
        paths_file = Path(tmp) / "paths.txt"
        paths_file.write_text("\n".join(request_mix(source / "archive.sqlite3", random.Random(16))) + "\n")
        replay_root = Path(tmp) / "replay"
        replay_root.mkdir()
        with ReplayServer(root=replay_root) as replay:
            for workers in dict.fromkeys((WORKERS, 1)):
                home = Path(tmp) / f"home-{workers}"
                home.mkdir()
                for name in ("archive.sqlite3", "archive.sqlite3-facets.npz"):
                    if (source / name).exists():
                        shutil.copy2(source / name, home / name)
                results[workers] = _load(home, workers, paths_file, replay.url, replay_root)
    figures = {}
    for workers, r in results.items():
        prefix = "web_load" if workers == WORKERS else "web_load_1_worker"
        seconds = r["duration_us"] / 1e6
        figures.update({f"{prefix}_rps": round(r["requests"] / seconds, 1), f"{prefix}_p95_ms": round(r["p95_us"] / 1000, 1),
                        f"{prefix}_errors": r["connect"] + r["read"] + r["write"] + r["status"] + r["timeout"]})
        figures[f"{prefix}_p50_ms"] = round(r["p50_us"] / 1000, 1)
    figures["web_load_workers"] = WORKERS
    if 1 in results and WORKERS != 1:
        figures["web_load_vs_1_worker"] = round(figures["web_load_rps"] / figures["web_load_1_worker_rps"], 2)
    rows = []
    for workers, r in results.items():
        prefix = "web_load" if workers == WORKERS else "web_load_1_worker"
        w = r["writer"]
        naive = " (naive: one process)" if workers == 1 and WORKERS != 1 else ""
        rows += [(f"{workers} worker(s){naive}: requests/s", figures[f"{prefix}_rps"],
                  ">= 200" if workers == WORKERS else "baseline"),
                 ("  p50 / p95 (ms)", f"{figures[f'{prefix}_p50_ms']} / {figures[f'{prefix}_p95_ms']}",
                  "p95 < 150 ms" if workers == WORKERS else ""),
                 ("  errors (HTTP >= 400, timeouts, sockets)", figures[f"{prefix}_errors"], "0"),
                 ("  writer meanwhile", f"{w['rounds']} rounds",
                  f"{w['crawl_changed']} notices crawled in, {w['assessed']} classified, plus imports")]
    if "web_load_vs_1_worker" in figures:
        rows.append((f"{WORKERS} workers vs one", figures["web_load_vs_1_worker"], "x requests/s"))
    show(f"tbtwatch serve under load: {CLIENTS} clients for {SECONDS} s, {SIZE:,} notices, writer running", rows)
    record(figures)
    return figures


if __name__ == "__main__":
    if sys.argv[1:2] == ["--writer"]:
        print(json.dumps(_writer(*sys.argv[2:6])))
    else:
        run()
