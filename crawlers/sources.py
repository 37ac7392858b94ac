"""The source registry: ``config/sources.yaml`` read into ``Source`` records.

Everything about a source that is not parsing logic lives in the YAML entry
(where, what language, expected counts); the spider file only says how to read
the fields. Base URLs can be moved for tests and replays without editing the file.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from tbtwatch.configfile import read_yaml
from tbtwatch.settings import Settings, get_settings

KINDS = ("spreadsheet", "json_api", "xml_catalogue", "html", "feed", "documents")


class SourceConfigError(ValueError):
    """A sources.yaml entry that cannot be used; the message names the entry and the fix."""


@dataclass(frozen=True)
class Source:
    name: str
    kind: str
    base_url: str
    start: str
    title: str = ""
    language: str = "en"
    enabled: bool = True
    rank: int = 0
    expect_min: int = 0
    expect_max: int | None = None
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).hostname or ""

    def count_warning(self, items: int) -> str | None:
        """A sentence naming the source when a run's item count is outside the expected range."""
        if items < self.expect_min:
            return f"source {self.name}: {items} items, fewer than the expected minimum {self.expect_min}"
        if self.expect_max is not None and items > self.expect_max:
            return f"source {self.name}: {items} items, more than the expected maximum {self.expect_max}"
        return None


def _source(name: str, entry: Any, where: Path) -> Source:
    if not isinstance(entry, dict):
        raise SourceConfigError(f"{where}: source {name!r} must be a mapping of keys (kind, base_url, start...)")
    missing = [k for k in ("kind", "base_url", "start") if not entry.get(k)]
    if missing:
        raise SourceConfigError(f"{where}: source {name!r} lacks {', '.join(missing)}")
    if entry["kind"] not in KINDS:
        raise SourceConfigError(f"{where}: source {name!r} has kind {entry['kind']!r}; use one of {', '.join(KINDS)}")
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise SourceConfigError(f"{where}: source name {name!r} must be lower-case letters, digits and _")
    expect = entry.get("expect") or {}
    known = {"kind", "base_url", "start", "title", "language", "enabled", "expect", "rank"}
    return Source(name=name, kind=entry["kind"], base_url=str(entry["base_url"]).rstrip("/"),
                  start=str(entry["start"]), title=entry.get("title", ""), language=entry.get("language", "en"),
                  enabled=bool(entry.get("enabled", True)), rank=int(entry.get("rank", 0)), expect_min=int(expect.get("min", 0)),
                  expect_max=int(expect["max"]) if "max" in expect else None,
                  options={k: v for k, v in entry.items() if k not in known})


def load_sources(path: Path | None = None, settings: Settings | None = None) -> dict[str, Source]:
    """All configured sources by name, in file order."""
    path = path or (settings or get_settings()).paths.sources
    data = read_yaml(path, "fix the file (config/sources.yaml in the repository shows the form), or set "
                           "paths.sources in config/settings.toml") or {}
    entries = data.get("sources") if isinstance(data, dict) else None
    if not isinstance(entries, dict):
        raise SourceConfigError(f"{path}: expected a top-level 'sources:' mapping of source names to entries")
    return {name: _source(name, entry, path) for name, entry in entries.items()}


def resolve_base_url(source: Source, override: str | None = None, settings: Settings | None = None) -> str:
    """Where to read a source from: --base-url, TBTWATCH_SOURCE_<NAME>_URL, crawl.base_url, then the real site."""
    settings = settings or get_settings()
    chosen = (override or os.environ.get(f"TBTWATCH_SOURCE_{source.name.upper()}_URL")
              or settings.crawl.base_url or source.base_url)
    return chosen.rstrip("/")


def rebase(url: str, base_url: str) -> str:
    """``url`` with its scheme and host replaced by ``base_url``'s (the path and query stay)."""
    target = urlsplit(base_url)
    parts = urlsplit(url)
    prefix = target.path.rstrip("/")
    return urlunsplit((target.scheme, target.netloc, prefix + parts.path, parts.query, ""))
