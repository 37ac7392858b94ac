"""Lists inside one cell or field, as sources write them: ICS codes, objectives, links.

Sources join list items with separators nobody documents (the ePing bulk export's
``Objectives`` and ``ICS code(s)`` cells, the API's ``notifiedDocumentLink``), so each
list is read by what its items look like, not by one separator: ICS codes and URLs by
their shape, objectives by ";" and line breaks and, between known objective names
(the English names of ``config/objectives.yaml``), by ", ".
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml

from tbtwatch.settings import get_settings

ICS_CODE = re.compile(r"(?<![\d.])\d{2}\.\d{3}(?:\.\d{2})?(?![\d])")
URL = re.compile(r"https?://[^\s\"'<>,;，；]+")
_ITEM_BREAK = re.compile(r"\s*(?:[;；\n]|\r\n?)\s*")


def find_ics_codes(text: str) -> list[str]:
    """ICS codes (``29.220.10``) in a text, in order, without repeats."""
    return list(dict.fromkeys(ICS_CODE.findall(text or "")))


def find_urls(text: str) -> list[str]:
    """The URLs of a text holding one or several (joined by ", ", ";" or spaces), in order."""
    return list(dict.fromkeys(url.rstrip(".)") for url in URL.findall(text or "")))


@lru_cache(maxsize=4)
def _objective_names(path: Path) -> dict[str, str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    names = [entry["en"] for entry in data.get("objectives") or [] if isinstance(entry, dict) and entry.get("en")]
    return {name.casefold(): name for name in names}


def objective_names() -> dict[str, str]:
    """Known objective names as ePing writes them (case-folded -> as written), from ``paths.objectives``.

    Only the English names: their variants ("consumer information", "labelling") are parts of other
    names and would cut them."""
    path = get_settings().paths.objectives
    return _objective_names(path) if path.exists() else {}


def split_objectives(text: str) -> list[str]:
    """The objectives of one cell: split at ";" and line breaks, and at ", " where the pieces are known names.

    A part whose ", "-pieces do not all group into known names is kept whole (as written) rather than
    cut into fragments no one wrote.
    """
    known = objective_names()
    found: list[str] = []
    for part in filter(None, _ITEM_BREAK.split((text or "").strip())):
        names = _known_run(part, known)
        found.extend(names if len(names) > 1 else [part])
    return list(dict.fromkeys(found))


def _known_run(part: str, known: dict[str, str]) -> list[str]:
    """``part`` as a run of known names joined by ", " (shortest names first), or [] when it is not one."""
    names, pending = [], ""
    for piece in part.split(", "):
        pending = f"{pending}, {piece}" if pending else piece
        if pending.casefold() in known:
            names.append(known[pending.casefold()])
            pending = ""
    return names if not pending else []
