"""The ``tbtwatch`` command line.

Foundation commands (import, export, search, show) live here; each stage adds
its own commands from its package (``crawlers.cli``, ``nlp.cli``, ...) at the
end of this file. Command modules import their heavy libraries inside the
command functions so ``tbtwatch --help`` stays instant.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from tbtwatch.settings import SettingsError, get_settings

app = typer.Typer(
    name="tbtwatch",
    help="Early warning on WTO TBT/SPS notifications: collect, classify, alert, search.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True, soft_wrap=True)  # long paths and messages stay whole, for copying
out = Console(soft_wrap=True)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print an actionable error and return the exit to raise."""
    err.print(f"[red]error:[/red] {message}", highlight=False)
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
    from archive.jsonl import read_notices

    stream = sys.stdin if str(file) == "-" else None
    if stream is None and not file.exists():
        raise fail(f"{file} does not exist")
    store = _store()
    with (stream or file.open(encoding="utf-8")) as fh:
        notices, errors = read_notices(fh)
    for line_no, message in errors:
        err.print(f"{file}:{line_no}: {message}", highlight=False, markup=False)
    result = store.upsert(notices)
    out.print(f"{len(result.inserted)} new, {len(result.updated)} updated, {len(result.unchanged)} unchanged, "
              f"{len(errors)} bad lines skipped ({store.count()} notices in the archive)")
    if errors and not notices:
        raise typer.Exit(1)


@app.command("export")
def export_notices(
    fmt: Annotated[str, typer.Option("--format", help="jsonl or csv")] = "jsonl",
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="file (default stdout)")] = None,
    since: Annotated[Optional[dt.datetime], typer.Option(formats=["%Y-%m-%d"])] = None,
    until: Annotated[Optional[dt.datetime], typer.Option(formats=["%Y-%m-%d"])] = None,
) -> None:
    """Export the archive (or a distribution-date range) as JSON Lines or CSV."""
    from archive.jsonl import CSV_FIELDS, notice_csv_row, write_jsonl

    if fmt not in {"jsonl", "csv"}:
        raise fail(f"--format {fmt!r}: use jsonl or csv")
    store = _store()
    notices = store.iter_notices(since.date() if since else None, until.date() if until else None)
    fh = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
    try:
        if fmt == "jsonl":
            write_jsonl(notices, fh)
        else:
            writer = csv.DictWriter(fh, fieldnames=CSV_FIELDS)
            writer.writeheader()
            for n in notices:
                writer.writerow(notice_csv_row(n))
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
    from rich.markup import escape
    from rich.table import Table

    also = also_searched(q.expansions)
    table = Table(title=f"{result.total} notices" + (f" (also searched: {escape(', '.join(also))})" if also else ""),
                  show_lines=False)
    for col in ("symbol", "date", "member", "level", "deadline", "title"):
        table.add_column(col)
    for h in result.hits:
        n = h.notice
        title = h.highlights.get("title") or n.title or n.description[:120]
        title = escape(title).replace(MARK_START, "[bold yellow]").replace(MARK_END, "[/bold yellow]")
        table.add_row(n.symbol, str(n.distribution_date or ""), n.member_code, h.level or "",
                      str(n.comment_deadline or ""), title)
    out.print(table)


@app.command("show")
def show(symbol: Annotated[str, typer.Argument(help="WTO symbol, e.g. G/TBT/N/USA/2034")],
         as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show one notice with its assessment and history."""
    from tbtwatch.symbols import SymbolError, normalise_symbol

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
            out.print(f"[bold]{name}[/bold]: " + _plain(value), highlight=False)
    if assessment:
        out.print(f"[bold]assessment[/bold]: level {assessment.get('level')}, "
                  f"lines {[p['id'] for p in assessment.get('product_lines', [])]}", highlight=False)
    if len(history) > 1:
        out.print("[bold]history[/bold]: " + ", ".join(history), highlight=False)


def _plain(value: object) -> str:
    from rich.markup import escape

    return escape(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))


# -- stage commands: each stage keeps its commands in its own package -----------------------------
from alerts import cli as alerts_cli  # noqa: E402 - after the foundation commands, in help order
from crawlers import cli as crawlers_cli  # noqa: E402
from nlp import cli as nlp_cli  # noqa: E402
from tbtwatch import pipeline_cli  # noqa: E402
from webapp import cli as webapp_cli  # noqa: E402

for _name, _command in {
    "crawl": crawlers_cli.crawl_command,
    "classify": nlp_cli.classify_command,
    "daily": pipeline_cli.daily_command,
    "backfill": pipeline_cli.backfill_command,
    "subscribe": alerts_cli.subscribe_command,
    "unsubscribe": alerts_cli.unsubscribe_command,
    "digest": alerts_cli.digest_command,
    "remind": alerts_cli.remind_command,
    "serve": webapp_cli.serve_command,
}.items():
    app.command(_name)(_command)
for _name, _group in {
    "subscriptions": alerts_cli.subscriptions_app,
    "filters": alerts_cli.filters_app,
    "webhooks": alerts_cli.webhooks_app,
    "alerts": alerts_cli.alerts_app,
    "review": alerts_cli.review_app,
    "index": webapp_cli.index_app,
    "users": webapp_cli.users_app,
    "replay": crawlers_cli.replay_app,
}.items():
    app.add_typer(_group, name=_name)
