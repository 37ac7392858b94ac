"""Airflow runs in subprocesses with their own environment (AIRFLOW_HOME under the test's tmp dir).

Airflow reads its configuration once per process and keeps global state, so
running it in the pytest process would leak into other tests; a subprocess
per scenario keeps each one clean and matches how a worker runs a task.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DAGS = REPO / "dags"


def airflow_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """An environment for an isolated Airflow: SQLite metadata under tmp_path, our DAGs, no examples."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "TBTWATCH_"))}
    env.update({
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "TBTWATCH_HOME": str(tmp_path / "home"),
        "TBTWATCH_SECRET": "test-secret-not-for-production",
        "PYTHONPATH": str(REPO),
    })
    env.update(extra)
    return env


def run_python(code: str, env: dict[str, str], timeout: float = 240) -> dict:
    """Run ``code`` in a fresh interpreter; it prints one JSON object as its last stdout line."""
    proc = subprocess.run([sys.executable, "-c", code], env=env, cwd=REPO, capture_output=True, text=True,
                          timeout=timeout)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        pytest.fail(f"subprocess failed (exit {proc.returncode}):\nSTDOUT:\n{proc.stdout[-4000:]}\n"
                    f"STDERR:\n{proc.stderr[-6000:]}")
    return json.loads(lines[-1])


def migrate(env: dict[str, str]) -> None:
    """Create the SQLite metadata database (about 3 s)."""
    airflow = Path(sys.executable).with_name("airflow")
    proc = subprocess.run([str(airflow), "db", "migrate"], env=env, cwd=REPO, capture_output=True, text=True,
                          timeout=180)
    assert proc.returncode == 0, proc.stderr[-4000:]
