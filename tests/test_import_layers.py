"""The import contracts in pyproject.toml hold, and each one breaks when a forbidden import is added.

The contracts are checked by import-linter's ``lint-imports`` (run here, so ``make test`` checks
them). Each breaking case copies the packages to a temporary directory, adds one import the
layers forbid, and runs ``lint-imports`` on the copy, so the contracts are shown to bite.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.conftest import REPO

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
ROOT_PACKAGES = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"][
    "root_packages"]


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` on the packages and pyproject.toml under ``root`` (found first on the path)."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=root, env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def test_the_code_keeps_every_contract():
    result = lint_imports(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert " 0 broken" in result.stdout


@pytest.mark.parametrize(("module", "added", "contract", "reported"), [
    # the core imports nothing of ours; an import inside a function counts too
    ("tbtwatch/dates.py", "def _later():\n    from commands import pipeline\n",
     "Entry points over parts over the core", "tbtwatch.dates -> commands.pipeline"),
    ("tbtwatch/model.py", "import archive.base\n",
     "Entry points over parts over the core", "tbtwatch.model -> archive.base"),
    # a part imports no entry point, and alerts read no crawler module (nor crawlers alerts)
    ("nlp/levels.py", "import webapp.app\n", "Entry points over parts over the core", "nlp.levels -> webapp.app"),
    ("alerts/cutoff.py", "import crawlers.forms\n",
     "Entry points over parts over the core", "alerts.cutoff -> crawlers.forms"),
    # the classifier and the archive are independent
    ("archive/query.py", "import nlp.catalogue\n",
     "Entry points over parts over the core", "archive.query -> nlp.catalogue"),
    ("webapp/paging.py", "import crawlers.sources\n",
     "The web app reads the archive; it does not crawl", "webapp.paging -> crawlers.sources"),
    # the store interface imports no backend: that would close a loop again
    ("archive/base.py", "import archive.sqlite_store\n",
     "No import loops among the modules of a package", ".base -> .sqlite_store"),
])
def test_a_forbidden_import_breaks_a_contract(tmp_path, module, added, contract, reported):
    for package in ROOT_PACKAGES:
        shutil.copytree(REPO / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path)
    target = tmp_path / module
    target.write_text(target.read_text(encoding="utf-8") + "\n\n" + added, encoding="utf-8")

    result = lint_imports(tmp_path)

    assert result.returncode == 1, result.stdout + result.stderr
    assert f"{contract} BROKEN" in result.stdout
    assert re.search(rf"^-\s+{re.escape(reported)} ", result.stdout, re.M), result.stdout  # names the import
