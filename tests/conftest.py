"""Fixtures every test area shares: an isolated data directory and the real shared data."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tbtwatch.settings import get_settings

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A fresh TBTWATCH_HOME for the test; settings are re-read from the environment."""
    data_dir = tmp_path / "home"
    monkeypatch.setenv("TBTWATCH_HOME", str(data_dir))
    monkeypatch.setenv("TBTWATCH_SECRET", "test-secret-not-for-production")
    monkeypatch.delenv("TBTWATCH_SMTP_HOST", raising=False)
    get_settings.cache_clear()
    yield data_dir
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.exists():
        pytest.skip(f"the shared real data is not at {SHARED_DATA} (CI places ../shared beside the checkout)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def dev_records(shared_data) -> list[dict]:
    """The 74 real notification records of the development set, as published."""
    with (shared_data / "notices" / "dev.jsonl").open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


# -- a real headless Chromium (Debian's package, driven by Playwright's Python client) --------------------

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    if not shutil.which(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium; `make test` does it as root)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright Python client is not installed")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()
