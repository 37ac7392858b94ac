"""Commands of the web app and the search index: ``serve``, ``index rebuild``, ``users add``/``list``.

Heavy imports (uvicorn, FastAPI, the Elasticsearch client) happen inside the
commands so ``tbtwatch --help`` stays instant.
"""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.console import Console

from tbtwatch.settings import SettingsError, get_settings

err = Console(stderr=True)
out = Console()
index_app = typer.Typer(help="The Elasticsearch search index (SQLite stays the system of record).",
                        no_args_is_help=True)
users_app = typer.Typer(help="Working-group accounts for the web app's review pages.", no_args_is_help=True)
BATCH = 500


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}", highlight=False, markup=True)
    return typer.Exit(code)


def serve_command(
    host: Annotated[str, typer.Option(help="address to listen on (0.0.0.0 for every interface)")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="TCP port")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="worker processes: one per CPU core "
                                                               "(docs/running.md says why)")] = 1,
) -> None:
    """Run the web app (search, notices, review queue, subscriptions, statistics, /api/)."""
    import uvicorn

    from webapp.app import create_app

    try:
        app = create_app(get_settings())  # with several workers too: a bad setting stops here, not in each
    except SettingsError as exc:
        raise _fail(str(exc)) from exc
    out.print(f"tbtwatch web app on http://{host}:{port}/ (API: http://{host}:{port}/api/openapi.json)"
              + (f", {workers} worker processes" if workers > 1 else ""), highlight=False, soft_wrap=True)
    if workers == 1:
        uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=False)
    else:  # each worker builds its own app from the same environment
        uvicorn.run("webapp.app:create_app", factory=True, workers=workers, host=host, port=port, log_level="info",
                    proxy_headers=False)


@index_app.command("rebuild")
def rebuild_command(
    backend: Annotated[str, typer.Option(help="index to rebuild: elasticsearch")] = "elasticsearch",
    fresh: Annotated[bool, typer.Option(help="delete the index first (drops documents no longer in SQLite)")] = False,
    batch: Annotated[int, typer.Option(min=1, max=5000, help="notices per bulk request")] = BATCH,
) -> None:
    """Stream every notice and assessment from the SQLite archive into the Elasticsearch index."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from archive.elastic import ElasticError, ElasticStore
    from archive.sqlite_store import SqliteStore

    if backend != "elasticsearch":
        raise _fail(f"--backend {backend}: the SQLite archive is the system of record and is always current; "
                    "only the elasticsearch index is rebuilt from it")
    settings = get_settings()
    source = SqliteStore(settings.archive_db)
    try:
        target = ElasticStore.from_settings(settings)
        if fresh:
            target.drop()
            target.ensure_indices()
        target.refresh = False  # one refresh at the end instead of one per bulk request
        total, started = source.count(), time.monotonic()
        counts = {"inserted": 0, "updated": 0, "unchanged": 0, "assessments": 0}
        with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                      TimeRemainingColumn(), console=err) as progress:
            task = progress.add_task(f"SQLite -> {settings.archive.es_index}", total=total)
            chunk = []
            for notice in source.iter_notices():
                chunk.append(notice)
                if len(chunk) >= batch:
                    _copy(source, target, chunk, counts)
                    progress.advance(task, len(chunk))
                    chunk = []
            if chunk:
                _copy(source, target, chunk, counts)
                progress.advance(task, len(chunk))
        target.refresh_indices()
        indexed = target.count()
    except (ElasticError, SettingsError) as exc:
        raise _fail(str(exc)) from exc
    seconds = time.monotonic() - started
    out.print(f"{total} notices streamed in {seconds:.1f} s ({total / max(seconds, 1e-9):.0f}/s): "
              f"{counts['inserted']} new, {counts['updated']} updated, {counts['unchanged']} unchanged; "
              f"{counts['assessments']} assessments; the index holds {indexed} notices", highlight=False)


def _copy(source, target, notices, counts: dict[str, int]) -> None:
    result = target.upsert(notices)
    counts["inserted"] += len(result.inserted)
    counts["updated"] += len(result.updated)
    counts["unchanged"] += len(result.unchanged)
    counts["assessments"] += target.put_assessments(source.get_assessments(n.symbol for n in notices).values())


@users_app.command("add")
def add_user_command(
    name: Annotated[str, typer.Argument(help="login name of the working-group member")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True,
                                          help="asked for when not given (prefer the prompt)")] = "",
) -> None:
    """Create a web login (or set a new password for an existing one)."""
    from webapp.users import UserError, Users

    try:
        user = Users(get_settings()).add(name, password)
    except UserError as exc:
        raise _fail(str(exc)) from exc
    out.print(f"user {user.name} can now log in to the review pages", highlight=False)


@users_app.command("list")
def list_users_command() -> None:
    """The web logins."""
    from webapp.users import Users

    for name in Users(get_settings()).names():
        out.print(name, highlight=False)
