"""What spiders yield: a fetched page (kept raw), a notice read from it, a notified document's text.

Spiders hold no clean-up code: a ``NoticeItem`` carries the fields as the source
wrote them plus ``leftovers`` (fields read but not mapped), and the pipelines
normalise, validate, de-duplicate and store it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from archive.documents import NotifiedDocument


@dataclass
class PageItem:
    """A response kept raw; ``error`` says why it could not be parsed (None when it parsed)."""

    source: str
    url: str
    body: bytes
    status: int | None = None
    content_type: str | None = None
    error: str | None = None
    symbols: list[str] = field(default_factory=list)


@dataclass
class NoticeItem:
    """One notice as read from a source, before validation."""

    source: str
    url: str
    fields: dict[str, Any]
    leftovers: dict[str, Any] = field(default_factory=dict)
    sparse: bool = False  # a thin record (a feed entry) that must not overwrite a richer stored notice
    page: PageItem | None = None  # the page it came from, kept with the error if the notice is invalid
    notice: Any = None  # the validated tbtwatch.model.Notice, set by the validate pipeline


class DocumentItem(NotifiedDocument):
    """A notified document (a draft regulation a notice links to) as a spider yields it: the archive's own
    record (its text page by page, or why there is none; ``final`` False when a later run should try again),
    so the pipeline stores it as it is."""
