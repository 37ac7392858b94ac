"""Joint notifications: one source record whose symbol field names every notifying member's symbol.

ePing writes a joint notification (the East African Community, the Gulf states) as ONE record,
its symbols joined by ", " (``G/TBT/N/BDI/469, G/TBT/N/KEN/1500, ...``; the API keeps a leading
space); WTO Documents Online joins them with "#". The archive keys notices by symbol, so such a
record becomes one notice per symbol, each with its own member (named from the symbol's member
code, since the record's member field cannot name five members at once), and every copy lists
all the symbols in ``symbols``: ``alerts.grouping`` reads that as a declared group, so readers
get one alert, one digest entry and one review item for the set.
"""

from __future__ import annotations

import re
from typing import Any

from tbtwatch.members import default_members
from tbtwatch.symbols import SymbolError, parse_symbol

_SEPARATOR = re.compile(r"\s*[,#;，；]\s*|\s+(?=G\s*/)")


def split_symbols(text: str) -> list[str]:
    """The symbols of a symbol field holding several, in order; ``[]`` when it holds one or is not a clean list.

    A list with one unreadable part is left whole, so that validation rejects the record with its
    error (and its page is kept) instead of silently storing only the readable part.
    """
    parts = [part for part in _SEPARATOR.split(text.strip()) if part]
    if len(parts) < 2:
        return []
    try:
        return list(dict.fromkeys(str(parse_symbol(part)) for part in parts))
    except SymbolError:
        return []


def member_name(symbol: str, language: str) -> str:
    """The member a symbol's code names, in the notice's language (the code itself when the catalogue lacks it)."""
    code = parse_symbol(symbol).member_code
    member = default_members().get(code)
    if member is None:
        return code
    return member.name("zh" if language == "zh" else "en")


def joint_fields(fields: dict[str, Any]) -> list[dict[str, Any]]:
    """One field set per symbol of a joint record; ``[fields]`` otherwise.

    Each copy has its own symbol and member, and ``symbols`` with its own symbol first, then the others
    in the record's order (as the form parser orders a page that lists a joint notification's symbols)."""
    symbols = split_symbols(str(fields.get("symbol") or ""))
    if len(symbols) < 2:
        return [fields]
    language = str(fields.get("language") or "en")
    return [{**fields, "symbol": symbol, "symbols": [symbol, *(s for s in symbols if s != symbol)],
             "member": member_name(symbol, language)} for symbol in symbols]
