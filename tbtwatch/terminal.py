"""Crawled text on a terminal: the one way every command prints it.

A terminal acts on what it is sent: ESC starts colour changes, cursor moves
and title rewrites, CR returns to the start of the line, bidi overrides
reorder what follows, and a line break lets a notice print a line that poses as
the program's own (``Bcc: ...`` under ``description:``). The model already
drops C0/C1 controls from every text field; this is the second wall, for text
from anywhere (old archives, error messages that quote input). ``terminal_text``
returns a ``rich.text.Text``, which rich never parses as markup, with every
such character shown as a visible escape and continuation lines indented.
"""

from __future__ import annotations

import re

from rich.text import Text

_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
INDENT = "    "


def _visible(match: re.Match[str]) -> str:
    return match.group().encode("unicode_escape").decode("ascii")


def terminal_text(value: object, style: str = "") -> Text:
    """``value`` as inert terminal text: controls and bidi marks escaped (``\\x1b``, ``\\u202e``), each line
    after the first indented, never markup."""
    text = _UNSAFE.sub(_visible, str(value).replace("\r\n", "\n"))
    return Text(text.replace("\n", "\n" + INDENT), style=style)


def marked_text(value: str, start: str, end: str, style: str) -> Text:
    """A highlighted snippet as inert terminal text: the parts between ``start`` and ``end`` get ``style``."""
    out = Text()
    for number, part in enumerate(re.split(f"{re.escape(start)}|{re.escape(end)}", value)):
        out.append_text(terminal_text(part, style if number % 2 else ""))
    return out
