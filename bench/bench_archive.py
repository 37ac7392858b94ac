"""Archive at WTO-history scale: index 100,000 notices into SQLite, then search them.

Figures: index time, disk size, latency p50/p95/p99 of 200 fixed realistic queries
(English, Chinese, filtered, faceted), and the same text queries as a ``LIKE
'%term%'`` scan over the stored records (what a naive archive would do), as a ratio.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import tempfile
import time
from pathlib import Path

from archive.db import thread_connection
from archive.query import build_query
from archive.sqlite_store import SqliteStore
from bench.common import percentile, record, show, timer
from bench.corpus import generate

SIZE = int(os.environ.get("TBTWATCH_BENCH_NOTICES", "100000"))
BATCH = 2000
ENGLISH = ["battery", "batteries", "toys", "pesticide", "labelling", "food safety", "electrical equipment",
           "energy efficiency", "medical devices", "cosmetics", "wheat", "radio equipment", "conformity assessment",
           "maximum residue limits", "packaging", "\"draft regulation\"", "textiles", "vehicles", "charcoal",
           "telecommunications"]
CHINESE = ["电池", "玩具", "农药", "标签", "食品", "安全", "标准", "残留限量", "电动", "化妆品", "纺织品", "能效",
           "欧盟", "合格评定", "无线电", "乳制品", "小麦", "电子烟", "包装", "技术法规"]
MEMBERS = ["EU", "USA", "KEN", "CHN", "JPN", "SAU", "BRA", "UGA"]
HS = ["85", "8507", "95", "10", "0201", "3304", "94"]


def fixed_queries(rng: random.Random) -> list[dict]:
    """The 200 queries: 70 English, 60 Chinese, 50 with filters, 20 with facets."""
    queries: list[dict] = [{"text": rng.choice(ENGLISH)} for _ in range(70)]
    queries += [{"text": rng.choice(CHINESE)} for _ in range(60)]
    for _ in range(50):
        q: dict = {"text": rng.choice(ENGLISH + CHINESE + [""])}
        choice = rng.randrange(4)
        if choice == 0:
            q["members"] = [rng.choice(MEMBERS)]
        elif choice == 1:
            q["hs_prefixes"] = [rng.choice(HS)]
        elif choice == 2:
            start = dt.date(rng.randrange(2000, 2025), 1, 1)
            q["since"], q["until"] = start, start + dt.timedelta(days=365)
        else:
            q["areas"] = ["SPS"]
            q["open_on"] = dt.date(2026, rng.randrange(1, 12), 1)
        queries.append(q)
    queries += [{"text": rng.choice(ENGLISH + CHINESE), "facets": True} for _ in range(20)]
    return queries


def like_terms(text: str) -> list[str]:
    return [w for w in text.replace('"', "").split() if w]


def run() -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="tbtwatch-bench-") as tmp:
        db = Path(tmp) / "archive.sqlite3"
        store = SqliteStore(db)
        notices = list(generate(SIZE))
        with timer() as elapsed:
            for i in range(0, len(notices), BATCH):
                store.upsert(notices[i:i + BATCH])
        index_s = elapsed()
        thread_connection(db).execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size_mb = sum(p.stat().st_size for p in Path(tmp).iterdir()) / 1e6

        queries = fixed_queries(random.Random(7))
        with timer() as elapsed:  # a server loads the in-memory facet columns once, on its first faceted search
            store.search(build_query(facets=True))
        facet_load_ms = elapsed() * 1000
        for q in queries[:20]:  # warm the page cache like a running server
            store.search(build_query(**q))
        latencies = []
        for q in queries:
            start = time.perf_counter()
            store.search(build_query(**q))
            latencies.append((time.perf_counter() - start) * 1000)

        conn = thread_connection(db)
        text_queries = [q["text"] for q in queries if q.get("text") and len(q) == 1]
        like_latencies, fts_text_latencies = [], []
        for text in text_queries:
            terms = like_terms(text)
            sql = ("SELECT data FROM notices WHERE " + " AND ".join("data LIKE ?" for _ in terms)
                   + " ORDER BY distribution_date DESC LIMIT 20")
            start = time.perf_counter()
            conn.execute(sql, [f"%{t}%" for t in terms]).fetchall()
            conn.execute("SELECT count(*) FROM notices WHERE " + " AND ".join("data LIKE ?" for _ in terms),
                         [f"%{t}%" for t in terms]).fetchone()
            like_latencies.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            store.search(build_query(text=text))
            fts_text_latencies.append((time.perf_counter() - start) * 1000)

    figures = {
        "archive_notices": SIZE,
        "index_100k_s": round(index_s * 100000 / SIZE, 2),
        "index_notices_per_s": round(SIZE / index_s, 1),
        "archive_disk_mb": round(size_mb, 1),
        "facet_columns_load_ms": round(facet_load_ms, 1),
        "search_p50_ms": round(percentile(latencies, 0.50), 2),
        "search_p95_ms": round(percentile(latencies, 0.95), 2),
        "search_p99_ms": round(percentile(latencies, 0.99), 2),
        "search_text_p95_ms": round(percentile(fts_text_latencies, 0.95), 2),
        "like_p95_ms": round(percentile(like_latencies, 0.95), 2),
        "search_vs_like": round(percentile(like_latencies, 0.95) / max(percentile(fts_text_latencies, 0.95), 1e-6), 1),
    }
    show(f"archive: {SIZE:,} notices in SQLite", [
        ("index time (s, scaled to 100k)", figures["index_100k_s"], "< 60 s"),
        ("notices indexed per second", figures["index_notices_per_s"], ""),
        ("disk (MB)", figures["archive_disk_mb"], ""),
        ("facet columns first load (ms), once per process", figures["facet_columns_load_ms"], ""),
        ("search p50 (ms), 200 queries", figures["search_p50_ms"], ""),
        ("search p95 (ms)", figures["search_p95_ms"], "< 30 ms"),
        ("search p99 (ms)", figures["search_p99_ms"], ""),
        ("text search p95 (ms)", figures["search_text_p95_ms"], ""),
        ("LIKE scan p95 (ms), same text queries", figures["like_p95_ms"], "baseline"),
        ("FTS vs LIKE (p95 ratio)", figures["search_vs_like"], ">= 10x"),
    ])
    record(figures)
    return figures


if __name__ == "__main__":
    run()
