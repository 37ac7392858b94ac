"""The web app serves searches while two other processes write to the same archive (SQLite in WAL mode).

uvicorn serves ``webapp`` from a thread on 127.0.0.1; meanwhile three processes write: a real crawl of
every source against the replay server (``crawlers.runner.run_crawl``), a bulk import that upserts
batches of notices (English and Chinese), and ``commands.pipeline.classify_pending`` pass after pass as
they land; four client threads search in English and Chinese through the JSON API and the search page.

Figures proved: no 5xx and no "database is locked" anywhere (answers, server log, writers' output); every
notice written is in the archive, searchable through the running app, and assessed; the archive passes
its integrity check. Printed: searches served during the writes and their p95 latency.
"""

from __future__ import annotations

import logging
import os
import socket
import statistics
import subprocess
import sys
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import uvicorn

from archive.sqlite_store import SqliteStore
from tbtwatch.settings import get_settings

REPO = Path(__file__).resolve().parents[2]
BATCHES, PER_BATCH = 60, 50
WRITTEN = BATCHES * PER_BATCH
FIRST = 5001  # imported symbols G/TBT/N/EU/5001 onwards, clear of the replay's real-shaped ones
# Only speed: no politeness delay towards our own loopback server.
FAST_CRAWL = ["--set", "AUTOTHROTTLE_START_DELAY=0.05", "--set", "DOWNLOAD_TIMEOUT=10", "--set", "LOG_LEVEL=WARNING"]
SEARCHES = [("/api/search", {"q": "battery"}), ("/api/search", {"q": "电池"}),
            ("/api/search", {"q": "toy safety", "facets": "1"}), ("/api/search", {"q": "玩具", "member": "EU"}),
            ("/api/search", {"q": '"lithium batteries" -lead'}), ("/api/facets", {"q": "锂电池"}),
            ("/search", {"q": "电动玩具"}), ("/search", {"q": "chargers", "hs": "85"})]

UPSERTER = textwrap.dedent(f"""
    import sys, time
    from archive.sqlite_store import SqliteStore
    from tbtwatch.model import notice_from_dict

    def notice(n):
        if n % 2:
            return {{"symbol": f"G/TBT/N/EU/{{n}}", "distribution_date": f"2025-07-{{n % 28 + 1:02d}}", "language": "zh",
                    "title": f"电动玩具用锂电池安全要求 第{{n}}号", "description": "玩具中锂电池和充电器的安全要求。",
                    "products": "电动玩具(HS 9503)", "hs_codes": ["9503"]}}
        return {{"symbol": f"G/TBT/N/EU/{{n}}", "distribution_date": f"2025-07-{{n % 28 + 1:02d}}",
                "title": f"Toy safety: lithium batteries and chargers, draft {{n}}",
                "description": "Requirements for lithium batteries in electric toys.",
                "products": "Lithium-ion accumulators (HS 8507.60)", "hs_codes": ["850760"]}}

    store = SqliteStore(sys.argv[1])
    for batch in range({BATCHES}):
        store.upsert([notice_from_dict(notice(batch * {PER_BATCH} + i + {FIRST})) for i in range({PER_BATCH})])
        print(batch, flush=True)
        time.sleep(0.02)  # a crawl's pace between pages (pacing, not synchronisation): other writers get turns
""")

# Classifies whatever is pending, pass after pass, while the upserter writes; one last pass after "done".
CLASSIFIER = textwrap.dedent("""
    import datetime as dt, sys, threading
    import nlp  # loaded before "ready", so the first pass starts with the writes
    from commands.pipeline import classify_pending
    from tbtwatch.settings import get_settings

    writes_done = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.readline(), writes_done.set()), daemon=True).start()
    print("ready", flush=True)
    while True:
        last = writes_done.is_set()  # every write had committed before this pass began
        assessed = classify_pending(get_settings(), dt.date(2025, 7, 22)).counts.get("assessed", 0)
        print(assessed, flush=True)
        if last:
            break
        if not assessed:
            writes_done.wait(0.05)  # pacing while nothing is pending, not synchronisation
""")


def child(script: str, *args: str, stdin=None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", script, *args], cwd=REPO, stdin=stdin, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})


class ServerErrors(logging.Handler):
    """Every error the server logs (an exception in a route is logged by uvicorn before the 500 goes out)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(self.format(record))


@pytest.fixture
def web(home, shared_data):
    """uvicorn serving the app in a thread, on a socket bound before it starts (no wait for readiness)."""
    from webapp.app import create_app

    settings = get_settings()
    SqliteStore(settings.archive_db).close()  # the schema exists before the writers race to create it
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    server = uvicorn.Server(uvicorn.Config(create_app(settings), log_level="warning", access_log=False))
    errors = ServerErrors()
    for name in ("uvicorn.error", "uvicorn", ""):
        logging.getLogger(name).addHandler(errors)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}", errors
    server.should_exit = True
    thread.join(timeout=10)
    for name in ("uvicorn.error", "uvicorn", ""):
        logging.getLogger(name).removeHandler(errors)
    listener.close()


@pytest.mark.timeout(150)
def test_searches_stay_correct_while_a_crawl_an_import_and_a_classify_write(web, home, monkeypatch):
    from crawlers.replay import ReplayServer
    from crawlers.runner import run_crawl

    monkeypatch.setenv("TBTWATCH_EPING_API_KEY", "replay-test-key")  # every source crawls
    base_url, server_errors = web
    db = get_settings().archive_db
    classifier = child(CLASSIFIER, stdin=subprocess.PIPE)
    assert classifier.stdout.readline().strip() == "ready", classifier.stderr.read()[-2000:]
    upserter = child(UPSERTER, str(db))
    replay = ReplayServer().start()
    writing = threading.Event()
    writing.set()
    answers: list[tuple[int, float, str]] = []  # (status, seconds, body if it was an error)

    def search_until_the_writers_stop(worker: int) -> None:
        with httpx.Client(base_url=base_url, timeout=30) as client:
            i = worker
            while writing.is_set():
                path, params = SEARCHES[i % len(SEARCHES)]
                started = time.perf_counter()
                response = client.get(path, params=params)
                answers.append((response.status_code, time.perf_counter() - started,
                                response.text if response.status_code >= 400 else ""))
                i += 1

    with ThreadPoolExecutor(5) as pool:
        searchers = [pool.submit(search_until_the_writers_stop, w) for w in range(4)]
        crawl = pool.submit(run_crawl, None, base_url=replay.url, extra_args=FAST_CRAWL, timeout=120)
        upserter_log = upserter.communicate(timeout=90)[1]
        crawled = crawl.result()
        replay.stop()
        classifier.stdin.write("done\n")
        classifier.stdin.flush()
        classified, classifier_log = classifier.communicate(timeout=90)
        writing.clear()
        for searcher in searchers:
            searcher.result()

    assert upserter.returncode == 0 and classifier.returncode == 0, upserter_log[-2000:] + classifier_log[-2000:]
    for log in (upserter_log, classifier_log, *server_errors.records, *(body for _, _, body in answers)):
        assert "locked" not in log.lower() and "busy" not in log.lower(), log[-2000:]
    assert server_errors.records == []
    statuses = {status for status, _, _ in answers}
    assert statuses == {200}, [a for a in answers if a[0] != 200][:3]
    assert crawled.ok and crawled.total("errors") == 0, crawled.errors
    total = WRITTEN + crawled.total("inserted")
    assert crawled.total("inserted") > 0 and not [s for s in crawled.sources.values() if s.skipped]
    passes = [int(n) for n in classified.split()]
    assert sum(passes) >= total  # a crawled notice updated by a later source is assessed again

    store = SqliteStore(db)
    assert store.count() == total
    assert store.stale_assessments() == []  # every notice has an assessment of its current text
    assert all(store.get_assessment(f"G/TBT/N/EU/{n}") for n in range(FIRST, FIRST + WRITTEN))
    assert store.integrity_check() == []
    store.close()
    with httpx.Client(base_url=base_url, timeout=30) as client:  # the running app sees every write too
        assert client.get("/api/search", params={"q": "电动玩具用锂电池安全要求"}).json()["total"] == WRITTEN // 2
        assert client.get("/api/search", params={"q": '"lithium batteries and chargers"'}).json()["total"] \
            == WRITTEN // 2
        assert client.get("/api/search").json()["total"] == total

    latencies = sorted(seconds for _, seconds, _ in answers)
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    print(f"\nconcurrency: {len(answers)} searches served during a crawl ({crawled.total('inserted')} new), "
          f"{WRITTEN} imported notices and {len(passes)} classify passes {passes}; p95 {p95 * 1000:.0f} ms, "
          f"median {statistics.median(latencies) * 1000:.0f} ms, 0 errors")
    assert len(answers) >= 50  # the searches really overlapped the writes
