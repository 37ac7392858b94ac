"""Every DAG file imports cleanly, is tagged and owned, retries its tasks, and does no work at parse time."""

from __future__ import annotations

import ast
import textwrap
import tomllib

import pytest

from tests.dags.conftest import DAGS, REPO, airflow_env, run_python

# Modules that must not be imported just by parsing a DAG file: the stages and their heavy libraries.
HEAVY = ("scrapy", "spacy", "elasticsearch", "jieba", "openpyxl", "crawlers", "nlp", "alerts", "archive",
         "webapp", "commands.pipeline", "uvicorn")

PARSE = textwrap.dedent("""
    import json, socket, sys

    def refuse(*args, **kwargs):
        raise RuntimeError("a DAG file opened a network connection while being parsed")

    socket.socket.connect = refuse
    socket.create_connection = refuse
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=sys.argv[1] if len(sys.argv) > 1 else None)
    dags = {}
    for dag_id, dag in bag.dags.items():
        dags[dag_id] = {
            "tags": sorted(dag.tags), "fileloc": dag.fileloc, "timezone": str(dag.timezone),
            "catchup": dag.catchup, "schedule": type(dag.timetable).__name__,
            "tasks": {t.task_id: {"owner": t.owner, "retries": t.retries,
                                   "backoff": bool(t.retry_exponential_backoff)} for t in dag.tasks},
            "mapped": sorted(t.task_id for t in dag.tasks
                           if any(c.__name__ == "MappedOperator" for c in type(t).__mro__)),
        }
    heavy = sorted(m for m in sys.modules if m in HEAVY or m.split(".")[0] in HEAVY)
    print(json.dumps({"errors": {k: str(v) for k, v in bag.import_errors.items()}, "dags": dags,
                      "heavy": heavy}))
""")


@pytest.fixture(scope="module")
def parsed(tmp_path_factory):
    env = airflow_env(tmp_path_factory.mktemp("dagbag"))
    return run_python(f"HEAVY = {HEAVY!r}\n" + PARSE, env)


def test_every_dag_file_imports_without_errors(parsed):
    assert parsed["errors"] == {}
    assert set(parsed["dags"]) == {"tbt_daily", "tbt_reminders", "tbt_weekly"}
    files = {p.name for p in DAGS.glob("*.py")}
    assert {d["fileloc"].rsplit("/", 1)[-1] for d in parsed["dags"].values()} == files


def test_dags_are_tagged_owned_and_retry_with_backoff(parsed):
    for dag_id, dag in parsed["dags"].items():
        assert "tbtwatch" in dag["tags"], dag_id
        assert dag["timezone"] == "Asia/Shanghai", dag_id
        assert dag["schedule"] == "CronTriggerTimetable", dag_id
        for task_id, task in dag["tasks"].items():
            assert task["owner"] == "tbtwatch", (dag_id, task_id)
            assert task["retries"] >= 1 and task["backoff"], (dag_id, task_id)


def test_daily_crawl_is_mapped_per_source(parsed):
    daily = parsed["dags"]["tbt_daily"]
    assert daily["mapped"] == ["crawl"]
    assert set(daily["tasks"]) == {"list_sources", "crawl", "classify", "index", "alerts", "digest", "sources"}


def test_parsing_imports_no_stage_code_and_no_heavy_library(parsed):
    assert parsed["heavy"] == []


@pytest.mark.parametrize("path", sorted(DAGS.glob("*.py")), ids=lambda p: p.name)
def test_top_level_of_dag_files_only_wires(path):
    """Module level holds imports, the docstring, decorated DAG functions and the call that builds the DAG."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef)):
            continue
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # the docstring
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and not node.value.args:
            continue  # tbt_daily()
        raise AssertionError(f"{path.name}:{node.lineno}: top-level statement does work at parse time: "
                             f"{ast.unparse(node)[:80]}")
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            assert node.module in {"__future__", "airflow.sdk", "commands.orchestration"}, node.module
        if isinstance(node, ast.Import):
            assert {a.name for a in node.names} <= {"datetime", "pendulum"}


@pytest.mark.parametrize("path", sorted(DAGS.glob("*.py")), ids=lambda p: p.name)
def test_dag_files_reach_our_code_only_through_commands(path):
    """The DAGs sit on top with the other entry points: they call ``commands``, never a part or the core.

    import-linter cannot see them (``dags/`` is a folder of scripts, not a package), so this reads every
    import, the ones inside tasks too, and holds them to the same rule as the layers contract.
    """
    ours = set(tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"][
        "root_packages"])
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
            [node.module] if isinstance(node, ast.ImportFrom) and node.module else [])
        for name in names:
            top = name.split(".")[0]
            assert top not in ours or top == "commands", f"{path.name}:{node.lineno} imports {name}"
