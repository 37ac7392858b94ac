"""The ``tbtwatch`` command line.

Foundation commands (import, export, search, show) live here; each stage adds
its own commands from its package (``crawlers.cli``, ``nlp.cli``, ...) at the
end of this file. Command modules import their heavy libraries inside the
command functions so ``tbtwatch --help`` stays instant.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import sys
from pathlib import Path
from typing import Annotated, Optional

import click
import typer
from rich.console import Console
from rich.text import Text
from typer.core import TyperGroup

from tbtwatch.settings import SettingsError, get_settings

class _ReportConfigErrors(TyperGroup):
    """The root command group: a configuration error from any command (``SettingsError``: the settings file,
    members, holidays, sources, the catalogue) is one line naming the file and the fix, exit 2, not a
    traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except SettingsError as exc:
            raise fail(str(exc)) from exc
        except sqlite3.OperationalError as exc:
            raise fail(_archive_failure(exc), code=1) from exc


_DISK_ERRORS = ("SQLITE_FULL", "SQLITE_IOERR")


def _archive_failure(exc: sqlite3.OperationalError) -> str:
    """SQLite's own words and code, with the archive's path and, for a full disk or an I/O error, what to do."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    text = f"the archive {get_settings().archive_db} could not be written: {exc}" + (f" ({name})" if name else "")
    if name.startswith(_DISK_ERRORS):
        text += ("; the disk is probably full (or a file-size limit was reached): free space and run the command "
                 "again - the failed write was rolled back, the archive is consistent")
    return text


app = typer.Typer(
    cls=_ReportConfigErrors,
    name="tbtwatch",
    help="Early warning on WTO TBT/SPS notifications: collect, classify, alert, search.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True, soft_wrap=True)  # long paths and messages stay whole, for copying
out = Console(soft_wrap=True)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print an actionable error and return the exit to raise (the message is text, never markup)."""
    from tbtwatch.terminal import terminal_text

    err.print(Text.assemble(("error:", "red"), " ", terminal_text(message)), highlight=False)
    return typer.Exit(code)


def _settings():
    try:
        return get_settings()
    except SettingsError as exc:
        raise fail(str(exc)) from exc


def _store():
    from archive import open_store

    return open_store(_settings())


@app.command("today")
def today(
    day: Annotated[Optional[dt.datetime], typer.Argument(formats=["%Y-%m-%d"], help="the day to act as")] = None,
    clear: Annotated[bool, typer.Option("--clear", help="act as the real date again")] = False,
) -> None:
    """Show the day every command acts as, or make the data directory act as DAY (the demo acts as its
    recording's day) so that every later command, the web app and the DAGs agree."""
    from tbtwatch.settings import set_home_today

    settings = _settings()
    if day is not None or clear:
        path = set_home_today(settings, day.date() if day else None)
        get_settings.cache_clear()
        settings = _settings()
        out.print(f"{settings.today()} (written to {path})", highlight=False, soft_wrap=True)
        return
    where = "TBTWATCH_TODAY or [general] today" if settings.general.today else "the real date in alerts.timezone"
    out.print(f"{settings.today()} ({where})", highlight=False, soft_wrap=True)


@app.command("import")
def import_notices(
    file: Annotated[Path, typer.Argument(help="JSON Lines file, one notice per line ('-' for stdin)")],
) -> None:
    """Import notices from JSON Lines: each line validated; bad lines reported by number and skipped."""
    from archive.batches import upsert_isolating
    from archive.jsonl import read_notices
    from archive.raw_pages import RawPages
    from tbtwatch.model import TEXT_CAPS
    from tbtwatch.terminal import terminal_text

    stream = sys.stdin.buffer if str(file) == "-" else None
    if stream is None and not file.exists():
        raise fail(f"{file} does not exist")
    store = _store()
    with (stream or file.open("rb")) as fh:  # decoded line by line: one bad line costs only that line
        read = read_notices(fh)
    notices, errors = read.notices, read.errors
    for line_no, message in errors:
        err.print(terminal_text(f"{file}:{line_no}: {message}"), highlight=False, soft_wrap=True)
    raw_pages = RawPages(get_settings().archive_db) if read.cut else None
    for line_no, line, fields in read.cut:
        caps = ", ".join(f"{f} to {TEXT_CAPS[f.rpartition('.')[2]]:,}" for f in fields)
        page = raw_pages.save("import", f"{file}#line={line_no}", line.encode("utf-8"), error=f"cut {caps}")
        err.print(terminal_text(f"{file}:{line_no}: text cut at the model's caps ({caps} characters); the full "
                                f"line is kept as raw page {page}"), highlight=False, soft_wrap=True)
    result, refused = upsert_isolating(store, notices)
    for position, message in refused:
        err.print(terminal_text(f"{file}:{read.lines[position]}: {message}"), highlight=False, soft_wrap=True)
    errors = [*errors, *refused]
    out.print(f"{len(result.inserted)} new, {len(result.updated)} updated, {len(result.unchanged)} unchanged, "
              f"{len(errors)} bad lines skipped ({store.count()} notices in the archive)")
    if errors and not (result.changed or result.unchanged):
        raise typer.Exit(1)


@app.command("export")
def export_notices(
    fmt: Annotated[str, typer.Option("--format", help="jsonl or csv")] = "jsonl",
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="file (default stdout)")] = None,
    since: Annotated[Optional[dt.datetime], typer.Option(formats=["%Y-%m-%d"])] = None,
    until: Annotated[Optional[dt.datetime], typer.Option(formats=["%Y-%m-%d"])] = None,
) -> None:
    """Export the archive (or a distribution-date range) as JSON Lines or CSV."""
    from archive.jsonl import CSV_FIELDS, NoticeCsvWriter, notice_csv_row, write_jsonl

    if fmt not in {"jsonl", "csv"}:
        raise fail(f"--format {fmt!r}: use jsonl or csv")
    store = _store()
    notices = store.iter_notices(since.date() if since else None, until.date() if until else None)
    fh = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
    try:
        if fmt == "jsonl":
            write_jsonl(notices, fh)
        else:
            writer = NoticeCsvWriter(fh, CSV_FIELDS)
            writer.writeheader()
            for n in notices:
                writer.writerow(notice_csv_row(n.model_dump(mode="json")))
    finally:
        if output:
            fh.close()


@app.command("search")
def search(
    query: Annotated[str, typer.Argument(help="words or \"a phrase\", English or Chinese; -word excludes")] = "",
    member: Annotated[Optional[list[str]], typer.Option(help="member code or name, repeatable")] = None,
    area: Annotated[Optional[str], typer.Option(help="TBT or SPS")] = None,
    hs: Annotated[Optional[list[str]], typer.Option(help="HS code prefix (85, 8507, 850760), repeatable")] = None,
    level: Annotated[Optional[list[str]], typer.Option(help="warning level: high, medium, low, none; repeatable")] = None,
    line: Annotated[Optional[list[str]], typer.Option(help="catalogue product line id (batteries), repeatable")] = None,
    since: Annotated[Optional[dt.datetime], typer.Option(formats=["%Y-%m-%d"])] = None,
    until: Annotated[Optional[dt.datetime], typer.Option(formats=["%Y-%m-%d"])] = None,
    open_: Annotated[bool, typer.Option("--open", help="only notices still open for comment today")] = False,
    sort: Annotated[str, typer.Option(help="relevance or date")] = "relevance",
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="JSON output")] = False,
    expand: Annotated[bool, typer.Option("--expand/--no-expand", help="also search the other language's terms "
                                         "(catalogue, HS names)")] = True,
) -> None:
    """Full-text search of the archive with filters, across English and Chinese."""
    from archive.base import MARK_END, MARK_START, QueryError
    from archive.query import build_query
    from archive.thesaurus import also_searched

    try:
        q = build_query(text=query, members=member or [], areas=[area] if area else [], hs_prefixes=hs or [],
                        levels=level or [], product_lines=line or [],
                        since=since.date() if since else None, until=until.date() if until else None,
                        open_on=_settings().today() if open_ else None, sort=sort, limit=limit, expand=expand)
        result = _store().search(q)
    except QueryError as exc:
        raise fail(str(exc)) from exc
    if as_json:
        payload = {"total": result.total, "also_searched": also_searched(q.expansions), "hits": [
            {"symbol": h.notice.symbol, "score": h.score, "notice": h.notice.model_dump(mode="json"),
             "highlights": {k: v.replace(MARK_START, "").replace(MARK_END, "") for k, v in h.highlights.items()}}
            for h in result.hits]}
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=1) + "\n")
        return
    from rich.table import Table

    from tbtwatch.terminal import marked_text, terminal_text

    also = also_searched(q.expansions)
    table = Table(title=terminal_text(f"{result.total} notices" + (f" (also searched: {', '.join(also)})" if also
                                                                   else "")), show_lines=False)
    for col in ("symbol", "date", "member", "level", "deadline", "title"):
        table.add_column(col)
    for h in result.hits:
        n = h.notice
        title = h.highlights.get("title") or n.title or n.description[:120]
        table.add_row(terminal_text(n.symbol), str(n.distribution_date or ""), terminal_text(n.member_code),
                      h.level or "", str(n.comment_deadline or ""), marked_text(title, MARK_START, MARK_END, "bold yellow"))
    out.print(table)


@app.command("show")
def show(symbol: Annotated[str, typer.Argument(help="WTO symbol, e.g. G/TBT/N/USA/2034")],
         as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show one notice with its assessment and history."""
    from rich.text import Text

    from tbtwatch.symbols import SymbolError, normalise_symbol
    from tbtwatch.terminal import terminal_text

    try:
        symbol = normalise_symbol(symbol)
    except SymbolError as exc:
        raise fail(str(exc)) from exc
    store = _store()
    notice = store.get(symbol)
    if notice is None:
        raise fail(f"{symbol} is not in the archive (try `tbtwatch search` or `tbtwatch crawl`)", code=1)
    assessment = store.get_assessment(symbol)
    history = [n.symbol for n in store.history(symbol)]
    if as_json:
        sys.stdout.write(json.dumps({"notice": notice.model_dump(mode="json"), "assessment": assessment,
                                     "history": history}, ensure_ascii=False, indent=1) + "\n")
        return
    for name, value in notice.model_dump(mode="json").items():
        if value not in (None, "", [], {}):
            out.print(Text.assemble((name, "bold"), ": ", terminal_text(_plain(value))), highlight=False)
    if assessment:
        out.print(f"[bold]assessment[/bold]: level {assessment.get('level')}, "
                  f"lines {[p['id'] for p in assessment.get('product_lines', [])]}", highlight=False)
    if len(history) > 1:
        out.print("[bold]history[/bold]: " + ", ".join(history), highlight=False)


def _plain(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


# -- stage commands: each stage keeps its commands in its own package -----------------------------
from alerts import cli as alerts_cli  # noqa: E402 - after the foundation commands, in help order
from commands import pipeline_cli  # noqa: E402
from crawlers import cli as crawlers_cli  # noqa: E402
from nlp import cli as nlp_cli  # noqa: E402
from webapp import cli as webapp_cli  # noqa: E402

for _name, _command in {
    "crawl": crawlers_cli.crawl_command,
    "daily": pipeline_cli.daily_command,
    "backfill": pipeline_cli.backfill_command,
    "subscribe": alerts_cli.subscribe_command,
    "unsubscribe": alerts_cli.unsubscribe_command,
    "digest": alerts_cli.digest_command,
    "remind": alerts_cli.remind_command,
    "serve": webapp_cli.serve_command,
}.items():
    app.command(_name)(_command)


@app.command("classify")
def classify(
    catalogue: nlp_cli.CatalogueOption = None,
    today: nlp_cli.TodayOption = None,
    batch_size: nlp_cli.BatchOption = 256,
    retrain: Annotated[bool, typer.Option(help="rebuild the HS heading model from the archive's notices that "
                                                "give HS codes, then exit (no notices read)")] = False,
) -> None:
    """Classify notices (JSON Lines on stdin) against the export catalogue; assessments on stdout."""
    if not retrain:
        nlp_cli.classify_command(catalogue, today, batch_size)
        return
    from commands.pipeline import refresh_labelled
    from nlp import Classifier, load_catalogue

    store = _store()
    try:
        labelled = refresh_labelled(store, get_settings())
    finally:
        store.close()
    Classifier(load_catalogue(catalogue))  # trains and caches the model (nlp.model_cache)
    err.print(f"heading model retrained with {labelled} labelled notices from the archive", highlight=False)


for _name, _group in {
    "subscriptions": alerts_cli.subscriptions_app,
    "filters": alerts_cli.filters_app,
    "webhooks": alerts_cli.webhooks_app,
    "alerts": alerts_cli.alerts_app,
    "review": alerts_cli.review_app,
    "index": webapp_cli.index_app,
    "users": webapp_cli.users_app,
    "replay": crawlers_cli.replay_app,
    "sources": crawlers_cli.sources_app,
}.items():
    app.add_typer(_group, name=_name)
