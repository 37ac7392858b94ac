"""``tbtwatch crawl``, ``tbtwatch sources check`` and ``tbtwatch replay serve``; Scrapy is imported only
inside the crawl's subprocess."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Optional

import typer
from rich.console import Console

err = Console(stderr=True)
out = Console()

replay_app = typer.Typer(help="Serve recorded real-shaped source pages on 127.0.0.1 (tests, demos).",
                         no_args_is_help=True)
sources_app = typer.Typer(help="The configured sources (config/sources.yaml) and their health.", no_args_is_help=True)



def _fail(message: str, code: int = 2) -> typer.Exit:
    """Print an error (text, never markup: it may quote a configuration file or a page) and return the exit."""
    from rich.text import Text

    from tbtwatch.terminal import terminal_text

    err.print(Text.assemble(("error:", "red"), " ", terminal_text(message)), highlight=False)
    return typer.Exit(code)


def crawl_command(
    source: Annotated[Optional[list[str]], typer.Option("--source", "-s", help="source name (repeatable)")] = None,
    since: Annotated[Optional[dt.datetime], typer.Option(formats=["%Y-%m-%d"], help="first distribution date")] = None,
    until: Annotated[Optional[dt.datetime], typer.Option(formats=["%Y-%m-%d"], help="last distribution date")] = None,
    base_url: Annotated[Optional[str], typer.Option("--base-url", help="read every source from here "
                                                    "(e.g. the replay server)")] = None,
) -> None:
    """Crawl the configured sources (config/sources.yaml) into the archive; a backfill without --since/--until."""
    from rich.live import Live
    from rich.table import Table
    from rich.text import Text

    from tbtwatch.terminal import terminal_text

    from crawlers.runner import CrawlError, run_crawl

    progress: dict[str, dict] = {}

    def table() -> Table:
        view = Table(title="crawl progress")
        for column in ("source", "pages", "items", "failures", ""):
            view.add_column(column)
        for name, line in progress.items():
            view.add_row(name, str(line["pages"]), str(line["items"]), str(line["failures"]),
                         "done" if line.get("done") else "…")
        return view

    with Live(table(), console=err, transient=True, refresh_per_second=2) as live:
        def show(line: dict) -> None:
            progress[line["source"]] = line
            live.update(table())

        try:
            report = run_crawl(source or None, since.date().isoformat() if since else None,
                               until.date().isoformat() if until else None, base_url, progress=show)
        except CrawlError as exc:
            raise _fail(str(exc)) from exc

    summary = Table(title="crawl report")
    for column in ("source", "pages", "items", "new", "updated", "unchanged", "failed requests", "not parsed",
                   "invalid"):
        summary.add_column(column)
    for name, s in report.sources.items():
        summary.add_row(terminal_text(name), str(s.pages), str(s.items), str(s.inserted), str(s.updated), str(s.unchanged),
                        str(s.errors), str(s.parse_failures), str(s.invalid_notices))
    out.print(summary)
    for s in report.sources.values():
        if s.skipped:
            err.print(Text.assemble(("skipped:", "yellow"), " ", terminal_text(s.skipped)), highlight=False)
    for s in report.sources.values():  # each record or page not stored: crawled text
        if s.problems:
            err.print(Text.assemble((f"not stored ({s.source}):", "yellow")), highlight=False)
        for problem in s.problems:
            err.print(Text.assemble("  ", terminal_text(problem)), highlight=False)
        if s.problems_unlisted:
            err.print(f"  … and {s.problems_unlisted} more (kept in the archive's raw pages)", highlight=False)
    for warning in report.warnings:
        err.print(Text.assemble(("warning:", "yellow"), " ", terminal_text(warning)), highlight=False)
    for problem in report.errors:  # may quote a page or a record: crawled text
        err.print(Text.assemble(("error:", "red"), " ", terminal_text(problem)), highlight=False)
    if not report.ok:
        failed = [n for n, s in report.sources.items() if s.failed]
        raise _fail("the crawl had failures" + (f" (sources: {', '.join(failed)})" if failed else "")
                    + "; failed pages are kept in the archive's raw pages with their errors", code=1)


@sources_app.command("check")
def sources_check(
    source: Annotated[Optional[list[str]], typer.Option("--source", "-s", help="source name (repeatable)")] = None,
    offline: Annotated[bool, typer.Option(help="check the recorded pages on a local replay server")] = False,
    base_url: Annotated[Optional[str], typer.Option("--base-url", help="read every source from here")] = None,
) -> None:
    """Fetch one small page of each enabled source and say whether it still has the shape its spider needs:
    ok, drifted (what is missing) or failed (why). Nothing is stored."""
    from rich.table import Table
    from rich.text import Text

    from crawlers.health import OK, verdict
    from tbtwatch.terminal import terminal_text
    from crawlers.runner import CrawlError, run_crawl

    def check(url: str | None):
        return run_crawl(source or None, base_url=url, check=True)

    try:
        if offline:
            from crawlers.replay import ReplayServer

            with ReplayServer() as server:
                report = check(server.url)
        else:
            report = check(base_url)
    except CrawlError as exc:
        raise _fail(str(exc)) from exc
    table = Table(title="source check")
    for column in ("source", "status", "sampled", "what is missing or wrong"):
        table.add_column(column)
    verdicts = [verdict(s.source, s.pages, s.items, s.errors, s.parse_failures, s.invalid_notices, s.problems,
                        s.missing_fields, s.skipped) for s in report.sources.values()]
    colours = {"ok": "green", "drifted": "yellow", "failed": "red"}
    for v, s in zip(verdicts, report.sources.values(), strict=True):
        table.add_row(terminal_text(v.source), Text(v.status, style=colours[v.status]), str(s.items),
                      terminal_text("\n".join(v.missing) or "-"))
    out.print(table)
    for problem in report.errors:
        err.print(Text.assemble(("error:", "red"), " ", terminal_text(problem)), highlight=False)
    if report.errors or any(v.status != OK for v in verdicts):
        raise typer.Exit(1)


@replay_app.command("serve")
def replay_serve(port: Annotated[int, typer.Option(help="port on 127.0.0.1")] = 8765) -> None:
    """Serve tests/fixtures/replay at the real sites' paths until Ctrl-C."""
    from crawlers.replay import serve_forever

    try:
        serve_forever(port=port)
    except OSError as exc:
        raise _fail(f"cannot listen on 127.0.0.1:{port}: {exc}; choose another --port") from exc
