"""What every benchmark shares: where results go, how figures are merged and printed."""

from __future__ import annotations

import json
import os
import platform
import time
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.table import Table

console = Console()


def bench_dir() -> Path:
    from tbtwatch.settings import get_settings

    path = get_settings().paths.home / "bench"
    path.mkdir(parents=True, exist_ok=True)
    return path


def machine() -> dict[str, object]:
    return {"python": platform.python_version(), "cpu_count": os.cpu_count(), "machine": platform.machine(),
            "processor": platform.processor() or platform.machine()}


def record(figures: dict[str, float | int | str]) -> Path:
    """Merge figures into latest.json (read-modify-write, so each benchmark keeps the others' keys)."""
    path = bench_dir() / "latest.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    data.update(figures)
    data["machine"] = machine()
    data["updated_at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    path.write_text(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    return path


def show(title: str, rows: list[tuple[str, object, str]]) -> None:
    """Print (figure, value, target or note) rows as a table."""
    table = Table(title=title)
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("target / note")
    for name, value, note in rows:
        table.add_row(name, f"{value:,.2f}" if isinstance(value, float) else str(value), note)
    console.print(table)


@contextmanager
def timer():
    """``with timer() as t: ...`` then ``t()`` is the elapsed seconds."""
    start = time.perf_counter()
    end: list[float] = []
    yield lambda: (end[0] if end else time.perf_counter()) - start
    end.append(time.perf_counter())


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)
