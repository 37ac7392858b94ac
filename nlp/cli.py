"""``tbtwatch classify``: notices (JSON Lines) in, assessments (JSON Lines) out, one line per line.

Streaming and batched: lines are read in batches, assessed together with
``nlp.pipe`` and written in input order. A bad line becomes an error record
naming its line number and the problem, and the run goes on.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Optional, TextIO

import typer


def _batches(stream: TextIO, size: int) -> Iterator[list[tuple[int, str]]]:
    batch: list[tuple[int, str]] = []
    for line_no, line in enumerate(stream, 1):
        if not line.strip():
            continue
        batch.append((line_no, line))
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _error(line_no: int, message: str, record: Any = None) -> dict[str, Any]:
    symbol = record.get("symbol") if isinstance(record, dict) else None
    return {"line": line_no, "symbol": symbol, "error": message}


def classify_stream(classifier, source: TextIO, sink: TextIO, *, today: dt.date | None = None,
                    batch_size: int = 256) -> tuple[int, int]:
    """Classify every line of ``source`` into ``sink``; returns (assessed, errors)."""
    from tbtwatch.model import NoticeError, notice_from_dict

    assessed = errors = 0
    for batch in _batches(source, batch_size):
        results: list[dict[str, Any] | None] = []
        notices, slots = [], []
        for line_no, line in batch:
            record: Any = None
            try:
                record = json.loads(line)
                if not isinstance(record, dict):
                    raise NoticeError("expected a JSON object (one notice per line)")
                notice = notice_from_dict(record, ignore_unknown=True)
            except json.JSONDecodeError as exc:
                results.append(_error(line_no, f"not valid JSON: {exc.msg} at column {exc.colno}"))
                continue
            except (NoticeError, ValueError) as exc:
                results.append(_error(line_no, str(exc), record))
                continue
            slots.append(len(results))
            results.append(None)
            notices.append(notice)
        for slot, assessment in zip(slots, classifier.assess_many(notices, today)):
            results[slot] = assessment.to_dict()
        for result in results:
            sink.write(json.dumps(result, ensure_ascii=False) + "\n")
        errors += len(results) - len(notices)
        assessed += len(notices)
        sink.flush()
    return assessed, errors


# The command's options, shared with the command line's wrapper that adds --retrain (commands.cli).
CatalogueOption = Annotated[Optional[Path], typer.Option(help="catalogue YAML file or folder (default: "
                                                              "paths.catalogue in config/settings.toml)")]
TodayOption = Annotated[Optional[dt.datetime], typer.Option(formats=["%Y-%m-%d"],
                                                            help="assess as of this date (default today)")]
BatchOption = Annotated[int, typer.Option(min=1, max=10000, help="notices per nlp.pipe batch")]


def classify_command(catalogue: CatalogueOption = None, today: TodayOption = None, batch_size: BatchOption = 256,
                     ) -> None:
    """Classify notices (JSON Lines on stdin) against the export catalogue; assessments on stdout."""
    from nlp.catalogue import CatalogueError, load_catalogue
    from nlp.classifier import Classifier

    try:
        classifier = Classifier(load_catalogue(catalogue)).settle()
    except (CatalogueError, FileNotFoundError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    assessed, errors = classify_stream(classifier, sys.stdin, sys.stdout,
                                       today=today.date() if today else None, batch_size=batch_size)
    if errors:
        typer.echo(f"{assessed} notices assessed, {errors} bad lines (error records written in their place)",
                   err=True)
