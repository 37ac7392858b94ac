"""Reading the configuration files people maintain (members, holidays, sources, the catalogue).

Every failure is a ``ConfigError`` that names the file, the line where the
parser knows it, and what to do - never a codec or parser traceback, never an
error that surfaces later under another file's name. It is a ``SettingsError``,
so the command line reports it as one line and exits 2.
"""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path
from typing import Any

import yaml

from tbtwatch.settings import SettingsError

RECHECK_S = 1.0  # how stale a file_version may be
_VERSIONS: dict[str, tuple[float, int | None]] = {}  # path -> (when looked at, modification time)


def file_version(path: Path | str) -> int | None:
    """The file's modification time in ns (None when it is not a file), looked up again at most once a
    second per path: the web app's readers (every search asks for the catalogue's and the nomenclature's)
    see an edited file within a second, without two system calls per request."""
    key = str(path)
    now = time.monotonic()
    seen = _VERSIONS.get(key)
    if seen is None or now - seen[0] >= RECHECK_S:
        try:
            info = os.stat(key)
            version = info.st_mtime_ns if stat.S_ISREG(info.st_mode) else None
        except OSError:
            version = None
        _VERSIONS[key] = seen = (now, version)
    return seen[1]


class ConfigError(SettingsError):
    """A configuration file that cannot be used."""

    def __init__(self, path: Path | str, problem: str, fix: str, line: int | None = None):
        self.path, self.line = Path(path), line
        super().__init__(f"{path}{f':{line}' if line else ''}: {problem}; {fix}")


def read_text(path: Path, fix: str) -> str:
    """The file's text; a missing file or one that is not UTF-8 text (a binary, another encoding) is refused."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(path, "the file does not exist", fix) from None
    except IsADirectoryError:
        raise ConfigError(path, "this is a folder, not a file", fix) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfigError(path, f"not UTF-8 text (byte 0x{data[exc.start]:02x}): is it the right file? "
                                "Save it as UTF-8", fix, line) from None


def read_yaml(path: Path, fix: str) -> Any:
    """The parsed YAML document; a syntax error is refused with its line and the parser's words."""
    text = read_text(path, fix)
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(p for p in (exc.context, exc.problem) if p)
        raise ConfigError(path, f"malformed YAML ({problem})", fix, mark.line + 1 if mark else None) from None
    except yaml.YAMLError as exc:
        raise ConfigError(path, f"malformed YAML ({exc})", fix) from None
    except ValueError as exc:  # a value the YAML resolver cannot build, such as the date 2026-13-01
        raise ConfigError(path, f"a value is not a date or number YAML can read ({exc})", fix) from None
