"""Crawler test fixtures: the replay server on 127.0.0.1, an isolated archive, and a fast crawl helper."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from crawlers.replay import FIXTURE_ROOT, ReplayServer
from tbtwatch.settings import get_settings

# Real settings, only quicker: no politeness delay towards our own loopback server, short backoff and timeout.
FAST = ["--set", "AUTOTHROTTLE_START_DELAY=0.05", "--set", "RETRY_BACKOFF_BASE=0.05", "--set", "DOWNLOAD_TIMEOUT=2",
        "--set", "LOG_LEVEL=WARNING"]


@pytest.fixture
def replay() -> Iterator[ReplayServer]:
    with ReplayServer() as server:
        yield server


@pytest.fixture(scope="module")
def module_home(tmp_path_factory) -> Iterator[Path]:
    """A TBTWATCH_HOME shared by the crawls of one test module (crawls are subprocesses: they read the env)."""
    home = tmp_path_factory.mktemp("home")
    saved = {k: os.environ.get(k) for k in ("TBTWATCH_HOME", "TBTWATCH_EPING_API_KEY", "TBTWATCH_CRAWL_BASE_URL")}
    os.environ["TBTWATCH_HOME"] = str(home)
    os.environ["TBTWATCH_EPING_API_KEY"] = "replay-test-key"
    os.environ.pop("TBTWATCH_CRAWL_BASE_URL", None)
    get_settings.cache_clear()
    yield home
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    get_settings.cache_clear()


@pytest.fixture
def fresh_home(module_home, tmp_path, monkeypatch) -> Iterator[Path]:
    """An empty TBTWATCH_HOME for one test of a module that shares one; the module's is back afterwards."""
    home = tmp_path / "fresh"
    monkeypatch.setenv("TBTWATCH_HOME", str(home))
    get_settings.cache_clear()
    yield home
    get_settings.cache_clear()


@pytest.fixture
def fixture_copy(tmp_path) -> Path:
    """A writable copy of the replay fixtures, for tests that change a page (layout change, wrong charset)."""
    target = tmp_path / "replay"
    shutil.copytree(FIXTURE_ROOT, target)
    return target


def crawl(server: ReplayServer, *sources: str, since: str | None = None, until: str | None = None,
          args: tuple[str, ...] = (), settings: tuple[str, ...] = ()):
    """A real crawl (Scrapy in a subprocess) of ``sources`` against the replay server.

    ``args``: spider arguments (``[SOURCE.]NAME=VALUE``); ``settings``: Scrapy settings (``NAME=VALUE``)."""
    from crawlers.runner import run_crawl

    extra = [*FAST]
    for arg in args:
        extra += ["--arg", arg]
    for setting in settings:
        extra += ["--set", setting]
    return run_crawl(list(sources) or None, since, until, server.url, extra_args=extra, timeout=120)


def store():
    from archive.backends import open_store

    get_settings.cache_clear()
    return open_store(get_settings())
