"""The crawl report: per-source pages, items, errors and parse failures, and what changed in the archive.

``CrawlReportExtension`` fills it from each spider's stats when the spider
closes, and (with the ``TBTWATCH_PROGRESS`` setting) prints a progress line
per source every few seconds for the parent process to display.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass, field
from typing import Any

COUNTS = ("pages", "items", "errors", "parse_failures", "invalid_notices", "leftover_fields", "inserted",
          "updated", "unchanged", "duplicates", "outside_window", "retries", "refused_redirects", "restricted",
          "word_fallbacks")
PROGRESS_PREFIX = "PROGRESS "
PROBLEMS_KEPT = 200  # records or pages named one by one in a report; beyond, only counted


def note_problem(stats: Any, where: str, reason: str) -> None:
    """Name one record or page that was not stored (its URL, ``#row=N`` for a spreadsheet row) and why."""
    problems = stats.get_value("tbtwatch/problems") or []
    if len(problems) < PROBLEMS_KEPT:
        stats.set_value("tbtwatch/problems", [*problems, f"{where}: {reason}"])
    else:
        stats.inc_value("tbtwatch/problems_unlisted")


@dataclass
class SourceReport:
    source: str
    pages: int = 0
    items: int = 0
    errors: int = 0
    parse_failures: int = 0
    invalid_notices: int = 0
    leftover_fields: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    outside_window: int = 0
    retries: int = 0
    refused_redirects: int = 0  # also counted in errors: a redirect off the source's domains or to a private address
    restricted: int = 0  # catalogue documents skipped because they are restricted
    word_fallbacks: int = 0  # notification PDFs without a form, read from their Word version instead
    skipped: str = ""
    finish_reason: str = ""
    leftover_names: str = ""
    changed: list[str] = field(default_factory=list)  # symbols inserted or updated, for the later stages
    warnings: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # each record or page not stored: "where: why"
    problems_unlisted: int = 0  # more problems than PROBLEMS_KEPT
    missing_fields: list[str] = field(default_factory=list)  # a source check: fields no sampled record had
    degraded: str = ""  # why the source looks degraded compared with its earlier runs ("" when it does not)

    @property
    def failed(self) -> bool:
        """The source gave nothing and something went wrong (the digest names it)."""
        return bool(self.finish_reason and self.finish_reason != "finished") or (
            self.items == 0 and (self.errors > 0 or self.parse_failures > 0))

    @property
    def failures(self) -> int:
        return self.errors + self.parse_failures + self.invalid_notices


@dataclass
class CrawlReport:
    sources: dict[str, SourceReport] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # problems outside any one source (a crash of the runner)

    @property
    def ok(self) -> bool:
        return not self.errors and not any(s.failed for s in self.sources.values())

    @property
    def warnings(self) -> list[str]:
        return [w for s in self.sources.values() for w in s.warnings]

    def total(self, name: str) -> int:
        return sum(getattr(s, name) for s in self.sources.values())

    def to_dict(self) -> dict[str, Any]:
        return {"sources": {k: asdict(v) for k, v in self.sources.items()}, "errors": self.errors,
                "ok": self.ok}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "CrawlReport":
        sources = {k: SourceReport(**v) for k, v in (data.get("sources") or {}).items()}
        return cls(sources=sources, errors=list(data.get("errors") or []))


# Filled by the extension in the crawling process; the runner writes it out after the reactor stops.
CURRENT = CrawlReport()


def source_report(name: str, stats: dict[str, Any]) -> SourceReport:
    report = SourceReport(name, **{k: int(stats.get(f"tbtwatch/{k}", 0) or 0) for k in COUNTS})
    report.skipped = str(stats.get("tbtwatch/skipped", "") or "")
    report.finish_reason = str(stats.get("finish_reason", "") or "")
    report.leftover_names = str(stats.get("tbtwatch/leftover_names", "") or "")
    report.changed = sorted(set(stats.get("tbtwatch/changed") or []))
    report.problems = list(stats.get("tbtwatch/problems") or [])
    report.problems_unlisted = int(stats.get("tbtwatch/problems_unlisted", 0) or 0)
    report.missing_fields = list(stats.get("tbtwatch/missing_fields") or [])
    return report


class CrawlReportExtension:
    def __init__(self, crawler: Any):
        self.crawler = crawler
        self.loop = None
        interval = crawler.settings.getfloat("TBTWATCH_PROGRESS", 0)
        from scrapy import signals

        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)
        if interval > 0:
            crawler.signals.connect(lambda: self._start_progress(interval), signal=signals.spider_opened)

    @classmethod
    def from_crawler(cls, crawler: Any) -> "CrawlReportExtension":
        return cls(crawler)

    def _start_progress(self, interval: float) -> None:
        from twisted.internet import task

        self.loop = task.LoopingCall(self.print_progress)
        self.loop.start(interval, now=False)

    def print_progress(self, done: bool = False) -> None:
        name = self.crawler.spider.name
        report = source_report(name, self.crawler.stats.get_stats())
        line = {"source": name, "pages": report.pages, "items": report.items, "failures": report.failures,
                "done": done}
        sys.stdout.write(PROGRESS_PREFIX + json.dumps(line) + "\n")
        sys.stdout.flush()

    def spider_closed(self, spider: Any, reason: str) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
            self.print_progress(done=True)
        stats = dict(self.crawler.stats.get_stats())
        stats.setdefault("finish_reason", reason)
        report = source_report(spider.name, stats)
        if not report.skipped and not getattr(spider, "check", False):
            from crawlers.health import SourceRuns
            from tbtwatch.settings import get_settings

            report.degraded = SourceRuns(get_settings().archive_db).record(spider.name, report.items,
                                                                           report.invalid_notices)
            if report.degraded:
                report.warnings.append(f"source {spider.name} looks degraded: {report.degraded}")
        warning = spider.source.count_warning(report.items) if not report.skipped else None
        if warning and spider.since is None and spider.until is None:
            report.warnings.append(warning)
            spider.logger.warning(warning)
        if report.failures:
            refused = f" ({report.refused_redirects} redirects refused)" if report.refused_redirects else ""
            report.warnings.append(f"source {spider.name}: {report.errors} failed requests{refused}, "
                                   f"{report.parse_failures} pages not parsed, {report.invalid_notices} invalid notices")
        CURRENT.sources[spider.name] = report
