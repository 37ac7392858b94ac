"""A real crawl steered by a hostile source stays inside its boundaries.

``tests/crawlers/test_sources_and_pipelines.py`` checks the redirect guard and ``allowed_domains`` one
call at a time. Here the ``wto_news`` spider really crawls a source on 127.0.0.1 (the host it was told
to read, so allowed explicitly, as the replay server is) whose feed redirects elsewhere:

- to another loopback address (127.0.0.2, standing for any private or loopback target): refused by the
  redirect guard and counted as the source's failure (so the digest names it; without the guard Scrapy's
  offsite filter would still drop it, silently - checked by hand with the guard removed), and nothing
  reaches the server listening there;
- to a host outside the source's domains (``.invalid`` never resolves, so nothing can leave the machine):
  not fetched, refused by the same guard and counted as the source's failure;
- to another path on the allowed host: followed, and the feed's notice is stored (the control case,
  showing the two refusals are not just a broken crawl).

Each refusal is kept raw: the 302, with the reason naming where it came from and where it was sent.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from archive.raw_pages import RawPages
from archive.sqlite_store import SqliteStore
from crawlers.replay import FIXTURE_ROOT
from crawlers.runner import run_crawl
from tbtwatch.settings import get_settings

FEED_PATH = "/library/rss/latest_news_e.xml"
FEED_URL = "https://www.wto.org" + FEED_PATH  # raw pages keep the real site's URL, whatever host served it
FEED = (FIXTURE_ROOT / "www.wto.org" / FEED_PATH.lstrip("/")).read_bytes()
FAST = ["--set", "AUTOTHROTTLE_START_DELAY=0.05", "--set", "RETRY_BACKOFF_BASE=0.05", "--set", "DOWNLOAD_TIMEOUT=5",
        "--set", "LOG_LEVEL=WARNING"]


@contextmanager
def http_server(host: str, redirect_to: str | None = None) -> Iterator[tuple[str, list[str]]]:
    """A server on ``host`` that redirects the feed's path to ``redirect_to`` and serves the feed anywhere else
    (but has no robots.txt); ``seen`` lists every path requested."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            if self.path == "/robots.txt":
                self.send_error(404)
                return
            if self.path == FEED_PATH and redirect_to:
                self.send_response(302)
                self.send_header("Location", redirect_to.format(base=base))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
            self.send_header("Content-Length", str(len(FEED)))
            self.end_headers()
            self.wfile.write(FEED)

        def log_message(self, format: str, *args) -> None:
            return

    server = ThreadingHTTPServer((host, 0), Handler)
    base = f"http://{host}:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base, seen
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def store(home):
    get_settings.cache_clear()
    archive = SqliteStore(get_settings().archive_db)
    yield archive
    archive.close()


def pages(seen: list[str]) -> list[str]:
    return [path for path in seen if path != "/robots.txt"]


def assert_refusal_kept(route: str) -> None:
    """The feed's request is kept raw once: the 302, with the refusal naming where from and where to."""
    [page] = RawPages(get_settings().archive_db).failed("wto_news")
    assert page.url == FEED_URL and page.status == 302
    assert page.error == f"offsite redirect refused: {route}"


def crawl_feed(base_url: str):
    return run_crawl(["wto_news"], base_url=base_url, extra_args=FAST, timeout=60).sources["wto_news"]


@pytest.mark.timeout(60)
def test_a_redirect_to_another_loopback_or_private_address_is_refused(store):
    with http_server("127.0.0.2") as (target, reached), \
            http_server("127.0.0.1", redirect_to=target + "/feed.xml") as (source, _):
        line = crawl_feed(source)
    assert reached == []  # the private target never saw a request (not even for robots.txt: no connection)
    assert line.items == 0 and line.failed and store.count() == 0
    assert line.errors == line.refused_redirects == 1
    assert_refusal_kept(f"{FEED_URL} -> {target}/feed.xml")


@pytest.mark.timeout(60)
def test_a_redirect_off_the_sources_domains_is_not_followed(store):
    with http_server("127.0.0.1", redirect_to="http://tbtwatch-offsite.invalid/feed.xml") as (source, seen):
        line = crawl_feed(source)
    assert pages(seen) == [FEED_PATH]
    assert line.items == 0 and store.count() == 0
    assert line.errors == line.refused_redirects == 1 and line.failed  # counted: the digest names the source
    assert_refusal_kept(f"{FEED_URL} -> http://tbtwatch-offsite.invalid/feed.xml")


@pytest.mark.timeout(60)
def test_a_redirect_within_the_allowed_host_is_followed(store):
    with http_server("127.0.0.1", redirect_to="{base}/moved/feed.xml") as (source, seen):
        line = crawl_feed(source)
    assert pages(seen) == [FEED_PATH, "/moved/feed.xml"]
    assert line.items == 1 and store.get("G/TBT/N/IND/330") is not None
    assert line.errors == line.refused_redirects == 0 and not line.failed
    assert RawPages(get_settings().archive_db).failed() == []
