"""What every benchmark shares: where results go, how figures are merged and printed."""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
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


def peak_mb() -> float:
    """Peak resident memory of this process and of the children it has waited for, in MB.

    VmHWM, not RUSAGE_SELF: Linux keeps ru_maxrss across exec, so a child forked from a big benchmark
    process would report the parent's memory; the high-water mark starts afresh at exec.
    """
    with open("/proc/self/status", encoding="ascii") as fh:
        own_kb = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))
    return max(own_kb, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024


def child_json(module: str, *args: str, env: dict[str, str] | None = None, timeout: float = 900) -> dict:
    """Run ``python -m module args`` in a new process and return the JSON object its last output line holds.

    Benchmarks measure in a child what must start afresh: peak memory, a cold start, a stage alone."""
    done = subprocess.run([sys.executable, "-m", module, *args], env={**os.environ, **(env or {})},
                          capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise SystemExit(f"{module} {' '.join(args)} failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


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
