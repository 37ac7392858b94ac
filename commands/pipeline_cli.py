"""``tbtwatch daily`` and ``tbtwatch backfill``: the daily pipeline without Airflow.

They call the same stage functions as the ``tbt_daily`` DAG (``commands.pipeline``)
and show, as they go, each source's crawl progress and each stage's outcome,
then where every output went.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.text import Text

from commands import pipeline
from tbtwatch.settings import SettingsError, get_settings
from tbtwatch.terminal import terminal_text

err = Console(stderr=True, soft_wrap=True)  # long paths and messages stay whole, for copying
out = Console(soft_wrap=True)

_STYLE = {pipeline.DONE: "green", pipeline.NOTHING: "dim", pipeline.SKIPPED: "dim", pipeline.FAILED: "red"}


def _settings():
    try:
        return get_settings()
    except SettingsError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from exc


class CrawlProgress:
    """One live line per source (pages, items, failures) fed by the crawl runner's progress reports."""

    def __init__(self, progress: Progress):
        self.progress = progress
        self.tasks: dict[str, Any] = {}

    def __call__(self, line: dict[str, Any]) -> None:
        name = str(line.get("source", "?"))
        text = (f"  {name}: {line.get('pages', 0)} pages, {line.get('items', 0)} items, "
                f"{line.get('failures', 0)} failures")
        if name not in self.tasks:
            self.tasks[name] = self.progress.add_task(text, total=None)
        self.progress.update(self.tasks[name], description=text)
        if line.get("done"):
            self.progress.update(self.tasks[name], total=1, completed=1)

    def clear(self) -> None:
        for task in self.tasks.values():
            self.progress.remove_task(task)
        self.tasks.clear()


def print_sources(console: Console, results: list[pipeline.SourceResult]) -> None:
    for result in results:
        counts = ", ".join(f"{k} {v}" for k, v in result.counts.items()) or "nothing found"
        if result.ok:
            note = f"; {result.note}" if result.note else ""
            console.print(Text.assemble("  ", ("ok", "green"), f"     {result.source}: ", terminal_text(counts + note)))
        else:
            console.print(Text.assemble("  ", ("failed", "red"), f" {result.source}: ", terminal_text(result.error)))


def print_stage(console: Console, result: pipeline.StageResult, prefix: str = "") -> None:
    style = _STYLE.get(result.status, "")
    console.print(Text.assemble(prefix, (f"{result.stage:<9}", "bold"), " ", (result.status, style), ": ",
                                terminal_text(result.summary),
                                f" ({result.seconds:.1f} s)" if result.seconds >= 0.1 else ""))


def print_outputs(console: Console, report: pipeline.DailyReport) -> None:
    """One line per output; never wrapped, so paths stay whole for copying."""
    console.print(f"[bold]where the {report.day} run's outputs went[/bold]")
    for name, where in report.outputs.items():
        console.print(f"  [bold]{name:<10}[/bold] {escape(where)}", soft_wrap=True)


def _progress() -> Progress:
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=out, transient=False)


def daily_command(
    date: Annotated[Optional[dt.datetime], typer.Option("--date", formats=["%Y-%m-%d"],
                                                        help="the day to run (default: [general] today, else today in Asia/Shanghai)")] = None,
    offline: Annotated[bool, typer.Option("--offline", help="crawl the bundled replay of recorded pages on "
                                                            "127.0.0.1 instead of the live sources")] = False,
) -> None:
    """Run the day's pipeline: crawl, classify, index, alerts, digest (each safe to re-run)."""
    settings = _settings()
    if date:
        day = date.date()
    elif offline:  # the replay is a fixed recording: read all of it, as the day it was recorded
        from crawlers.replay import RECORDED_DAY

        day = RECORDED_DAY
    else:
        day = settings.today()
    window = (None, None) if offline and date is None else pipeline.crawl_interval(day)
    where = "the replay of recorded pages on 127.0.0.1 (offline)" if offline else "the live sources"
    dates = f"distributed {window[0]} .. {window[1]}" if window[0] else "all recorded"
    out.print(f"[bold]tbtwatch daily[/bold] for {day}: notices {dates}, from {where}")
    with _progress() as progress:
        crawl_lines = CrawlProgress(progress)

        def on_stage(result: pipeline.StageResult, report: pipeline.DailyReport) -> None:
            if result.stage == "crawl":
                crawl_lines.clear()
                print_sources(progress.console, report.sources)
            print_stage(progress.console, result)

        report = pipeline.run_daily(day, offline, settings=settings, window=window, on_progress=crawl_lines,
                                    on_stage=on_stage)
    print_outputs(out, report)
    if report.failed_sources:
        out.print(f"[yellow]sources that failed (named in the digest): {', '.join(report.failed_sources)}[/yellow]")
    for line in report.degraded_sources:
        out.print(f"[yellow]degraded source (named in the digest):[/yellow] {escape(line)}", highlight=False)
    raise typer.Exit(0 if report.ok else 1)


def backfill_command(
    since: Annotated[dt.datetime, typer.Option("--since", formats=["%Y-%m-%d"], help="first day to run")],
    until: Annotated[dt.datetime, typer.Option("--until", formats=["%Y-%m-%d"], help="last day to run")],
    offline: Annotated[bool, typer.Option("--offline", help="crawl the replay of recorded pages")] = False,
) -> None:
    """Run the daily pipeline for every day in [--since, --until], oldest first, with progress per day and source.

    Every stage is idempotent, so days already run are cheap to run again and
    nothing is sent twice.
    """
    settings = _settings()
    try:
        days = pipeline.days_between(since.date(), until.date())
    except ValueError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from exc
    reports: list[pipeline.DailyReport] = []
    with _progress() as progress:
        days_bar = progress.add_task("days", total=len(days))
        crawl_lines = CrawlProgress(progress)
        for day in days:
            progress.update(days_bar, description=f"day {day}")

            def on_stage(result: pipeline.StageResult, report: pipeline.DailyReport, day: dt.date = day) -> None:
                if result.stage == "crawl":
                    crawl_lines.clear()
                    if report.failed_sources:
                        print_sources(progress.console, [s for s in report.sources if not s.ok])
                if result.stage == "crawl" or result.status == pipeline.FAILED:
                    print_stage(progress.console, result, prefix=f"{day} ")

            reports.append(pipeline.run_daily(day, offline, settings=settings, on_progress=crawl_lines,
                                              on_stage=on_stage))
            progress.advance(days_bar)
    failed_days = [str(r.day) for r in reports if not r.ok]
    source_failures = sorted({s for r in reports for s in r.failed_sources})
    out.print(f"{len(days)} days run; {len(failed_days)} with a failed stage"
              + (f" ({', '.join(failed_days)})" if failed_days else "")
              + (f"; sources that failed on some day: {', '.join(source_failures)}" if source_failures else ""))
    if reports:
        print_outputs(out, reports[-1])
    raise typer.Exit(0 if not failed_days else 1)
