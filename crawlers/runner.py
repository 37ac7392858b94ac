"""Run crawls in a child process, so callers (CLI, Airflow, ``make demo``) can crawl again and again.

Twisted's reactor starts once per process (``ReactorNotRestartable``) and
Airflow's imports change logging, so ``run_crawl`` starts
``python -m crawlers.runner``, which crawls the chosen sources side by side in
one Scrapy process and writes a JSON ``CrawlReport``. One source failing never
stops the others; the report says which failed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from crawlers.report import PROGRESS_PREFIX, CrawlReport
from tbtwatch.settings import PROJECT_ROOT


class CrawlError(RuntimeError):
    """The crawl could not run at all (bad source name, bad date); the message says what to fix."""


def run_crawl(sources: Sequence[str] | None = None, since: str | None = None, until: str | None = None,
              base_url: str | None = None, *, progress: Callable[[dict[str, Any]], None] | None = None,
              timeout: float | None = None, extra_args: Sequence[str] = (), check: bool = False) -> CrawlReport:
    """Crawl ``sources`` (default: every enabled source) in a subprocess and return its report.

    ``progress`` receives one dict per source every few seconds (pages, items, failures).
    ``check``: a shape check, a small sample of each source read and judged, nothing stored.
    """
    with tempfile.TemporaryDirectory(prefix="tbtwatch-crawl-") as tmp:
        report_path = Path(tmp) / "report.json"
        command = [sys.executable, "-m", "crawlers.runner", "--report", str(report_path)]
        for name in sources or []:
            command += ["--source", name]
        for flag, value in (("--since", since), ("--until", until), ("--base-url", base_url)):
            if value:
                command += [flag, str(value)]
        if progress:
            command += ["--progress", "2"]
        if check:
            command.append("--check")
        command += list(extra_args)
        env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "crawlers.settings",
               "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")]))}
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True, encoding="utf-8")
        stderr_lines: list[str] = []
        _drain(process, progress, stderr_lines, timeout)
        if process.returncode == 2:
            message = "".join(stderr_lines[-5:]).strip().removeprefix("error: ")
            raise CrawlError(message or "the crawl's arguments were refused")
        if not report_path.exists():
            report = CrawlReport(errors=[f"the crawl process exited with {process.returncode} without a report: "
                                         + "".join(stderr_lines[-20:]).strip()])
            return report
        return CrawlReport.from_dict(json.loads(report_path.read_text(encoding="utf-8")))


def _drain(process: subprocess.Popen, progress, stderr_lines: list[str], timeout: float | None) -> None:
    """Read the child's stdout for progress lines and keep the end of its log (stderr) for errors."""
    import threading

    def keep_stderr() -> None:
        for line in process.stderr:
            stderr_lines.append(line)
            del stderr_lines[:-200]

    reader = threading.Thread(target=keep_stderr, daemon=True)
    reader.start()
    for line in process.stdout:
        if progress and line.startswith(PROGRESS_PREFIX):
            progress(json.loads(line[len(PROGRESS_PREFIX):]))
    process.wait(timeout=timeout)
    reader.join(timeout=5)


def _select(names: Sequence[str]) -> list[str]:
    from crawlers.sources import load_sources

    sources = load_sources()
    unknown = [n for n in names if n not in sources]
    if unknown:
        raise CrawlError(f"unknown source(s): {', '.join(unknown)}; configured: {', '.join(sources)}")
    return list(names) or [n for n, s in sources.items() if s.enabled]


def _crawl_in_order(process: Any, names: list[str], spider_args: dict[str, dict[str, str]],
                    report: CrawlReport) -> None:
    """One source after another, so the archive ends the same whatever the timing.

    English sources (the WTO's own text) come first, in ascending rank, then the
    translations: a notice's primary text is then always the WTO's, and each
    Chinese portal's text lands as its translation. Document sources come last:
    they fetch what the notices stored before them link to.

    A source that fails to start or crashes is recorded and the chain goes on.
    """
    from twisted.internet import defer

    from crawlers.sources import load_sources

    order = {name: (source.kind == "documents", source.language != "en", source.rank)
             for name, source in load_sources().items()}

    @defer.inlineCallbacks
    def chain():
        for name in sorted(names, key=lambda n: order.get(n, (True, True, 0))):
            try:
                yield process.crawl(name, **spider_args.get(name, {}))
            except Exception as exc:  # noqa: BLE001 - one source's failure must not stop the others
                report.errors.append(f"source {name} could not run: {type(exc).__name__}: {exc}")

    chain()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crawlers.runner", description=__doc__)
    parser.add_argument("--source", action="append", default=[], help="source name (repeatable; default all)")
    parser.add_argument("--since", help="first distribution date, YYYY-MM-DD")
    parser.add_argument("--until", help="last distribution date, YYYY-MM-DD")
    parser.add_argument("--base-url", help="read every source from this URL (the replay server)")
    parser.add_argument("--report", required=True, help="where to write the JSON report")
    parser.add_argument("--progress", type=float, default=0, help="seconds between progress lines (0: none)")
    parser.add_argument("--set", action="append", default=[], help="Scrapy setting NAME=VALUE (tests)")
    parser.add_argument("--check", action="store_true", help="a shape check: sample each source, store nothing")
    parser.add_argument("--arg", action="append", default=[],
                        help="spider argument NAME=VALUE for every source, or SOURCE.NAME=VALUE for one")
    args = parser.parse_args(argv)
    try:
        names = _select(args.source)
        from crawlers.base import _date_arg

        _date_arg(args.since, "since")
        _date_arg(args.until, "until")
    except (CrawlError, ValueError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2

    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "crawlers.settings")
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.project import get_project_settings

    from crawlers import report as report_module

    settings = get_project_settings()
    settings.set("TBTWATCH_PROGRESS", args.progress)
    if args.check:
        settings.set("ITEM_PIPELINES", settings.getdict("CHECK_PIPELINES"))
    for pair in args.set:
        key, _, value = pair.partition("=")
        settings.set(key, value)
    process = CrawlerProcess(settings, install_root_handler=True)
    spider_args = {k: v for k, v in (("since", args.since), ("until", args.until), ("base_url", args.base_url),
                                     ("check", "1" if args.check else "")) if v}
    per_source: dict[str, dict[str, str]] = {name: dict(spider_args) for name in names}
    for pair in args.arg:
        key, _, value = pair.partition("=")
        source, _, key = key.rpartition(".")
        for name in ([source] if source else names):
            per_source.setdefault(name, dict(spider_args))[key] = value
    _crawl_in_order(process, names, per_source, report_module.CURRENT)
    process.start()
    for name in names:
        if name not in report_module.CURRENT.sources and not any(name in e for e in report_module.CURRENT.errors):
            report_module.CURRENT.errors.append(f"source {name} did not report (it may have crashed; see the log)")
    Path(args.report).write_text(json.dumps(report_module.CURRENT.to_dict(), ensure_ascii=False, indent=1),
                                 encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
