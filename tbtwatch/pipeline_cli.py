"""``tbtwatch daily`` and ``tbtwatch backfill``: the daily pipeline without Airflow.

They call the same stage functions as the ``tbt_daily`` DAG (``tbtwatch.pipeline``)
and show, as they go, each source and stage, then where every output went.
"""

from __future__ import annotations

import datetime as dt
import sys
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tbtwatch import pipeline
from tbtwatch.settings import SettingsError, get_settings

err = Console(stderr=True)
out = Console()

_STYLE = {pipeline.DONE: "green", pipeline.NOTHING: "dim", pipeline.SKIPPED: "dim",
          pipeline.UNAVAILABLE: "yellow", pipeline.FAILED: "red"}


def _settings():
    try:
        return get_settings()
    except SettingsError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from exc


def _today(settings) -> dt.date:
    """Today in the alerts' time zone (Asia/Shanghai by default), the day a run is for."""
    from zoneinfo import ZoneInfo

    return dt.datetime.now(ZoneInfo(settings.alerts.timezone)).date()


def print_source(console: Console, result: pipeline.SourceResult) -> None:
    counts = ", ".join(f"{k} {v}" for k, v in result.counts.items())
    if result.ok:
        console.print(f"  [green]ok[/green]     {result.source}: {escape(counts) or 'no counts reported'}, "
                      f"{len(result.changed)} new or changed ({result.seconds:.1f} s)")
    else:
        console.print(f"  [red]failed[/red] {result.source}: {escape(result.error)} ({result.seconds:.1f} s)")


def print_stage(console: Console, result: pipeline.StageResult) -> None:
    style = _STYLE.get(result.status, "")
    console.print(f"[bold]{result.stage:<9}[/bold] [{style}]{result.status}[/{style}]: {escape(result.summary)}"
                  + (f" ({result.seconds:.1f} s)" if result.seconds >= 0.1 else ""))


def print_outputs(console: Console, report: pipeline.DailyReport) -> None:
    table = Table(title=f"where the {report.day} run's outputs went", show_header=False, title_justify="left")
    table.add_column("what", style="bold")
    table.add_column("where")
    for name, where in report.outputs.items():
        table.add_row(name, escape(where))
    console.print(table)


def _exit_code(reports: list[pipeline.DailyReport]) -> int:
    return 0 if all(r.ok for r in reports) else 1


def daily_command(
    date: Annotated[Optional[dt.datetime], typer.Option("--date", formats=["%Y-%m-%d"],
                                                        help="the day to run (default: today in Asia/Shanghai)")] = None,
    offline: Annotated[bool, typer.Option("--offline", help="crawl the bundled replay of recorded pages on "
                                                            "127.0.0.1 instead of the live sources")] = False,
) -> None:
    """Run the day's pipeline: crawl, classify, index, alerts, digest (each safe to re-run)."""
    settings = _settings()
    day = date.date() if date else _today(settings)
    since, until = pipeline.crawl_interval(day)
    where = "the replay of recorded pages (offline)" if offline else "the live sources"
    out.print(f"[bold]tbtwatch daily[/bold] for {day}: notices distributed {since} .. {until}, from {where}")
    out.print("[bold]crawl[/bold]")
    report = pipeline.run_daily(day, offline, settings=settings,
                                on_source=lambda r: print_source(out, r), on_stage=lambda r: print_stage(out, r))
    print_outputs(out, report)
    if report.failed_sources:
        out.print(f"[yellow]sources that failed (named in the digest): {', '.join(report.failed_sources)}[/yellow]")
    raise typer.Exit(_exit_code([report]))


def backfill_command(
    since: Annotated[dt.datetime, typer.Option("--since", formats=["%Y-%m-%d"], help="first day to run")],
    until: Annotated[dt.datetime, typer.Option("--until", formats=["%Y-%m-%d"], help="last day to run")],
    offline: Annotated[bool, typer.Option("--offline", help="crawl the replay of recorded pages")] = False,
) -> None:
    """Run the daily pipeline for every day in [--since, --until], oldest first, with progress per day and source.

    Every stage is idempotent, so days already run are cheap to run again and
    nothing is sent twice.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    settings = _settings()
    try:
        days = pipeline.days_between(since.date(), until.date())
    except ValueError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from exc
    try:
        sources = pipeline.enabled_sources(settings)
    except (pipeline.StageUnavailable, ValueError) as exc:
        sources = []
        out.print(f"[yellow]crawl:[/yellow] {escape(str(exc))}")
    reports: list[pipeline.DailyReport] = []
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=out, transient=False) as progress:
        days_bar = progress.add_task("days", total=len(days))
        sources_bar = progress.add_task("sources", total=len(sources))
        for day in days:
            progress.update(days_bar, description=f"day {day}")
            progress.reset(sources_bar, total=len(sources), description=f"sources for {day}")

            def on_source(result: pipeline.SourceResult) -> None:
                progress.advance(sources_bar)
                print_source(progress.console, result)

            def on_stage(result: pipeline.StageResult, day: dt.date = day) -> None:
                if result.status in {pipeline.FAILED, pipeline.UNAVAILABLE} or result.stage == "digest":
                    progress.console.print(f"[bold]{day}[/bold]", end=" ")
                    print_stage(progress.console, result)

            reports.append(pipeline.run_daily(day, offline, settings=settings, sources=sources,
                                              on_source=on_source, on_stage=on_stage))
            progress.advance(days_bar)
    failed_days = [str(r.day) for r in reports if not r.ok]
    source_failures = sorted({s for r in reports for s in r.failed_sources})
    out.print(f"{len(days)} days run; {len(failed_days)} with a failed stage"
              + (f" ({', '.join(failed_days)})" if failed_days else "")
              + (f"; sources that failed on some day: {', '.join(source_failures)}" if source_failures else ""))
    if reports:
        print_outputs(out, reports[-1])
    sys.stdout.flush()
    raise typer.Exit(_exit_code(reports))
