"""Text of a PDF (the WTO notification forms, the notified documents), in reading order, with pypdf.

pypdf was chosen over pdfminer.six by measuring both on PDFs laid out like the WTO
forms (``bench/bench_pdf_text.py``): pypdf keeps each numbered field's number on
the line of its label, which the form parser needs, where pdfminer's layout
analysis puts the number column apart from the fields; and pypdf was faster.

A PDF breaks lines where its cell or page is full, not where the writer did: a URL
longer than its cell goes on on the next line, and so does a label or a sentence
("Products covered (provide HS ... may" / "be provided in addition ...)"), which the
form parser, reading labels line by line, would miss. ``join_wrapped_urls`` glues a
line that continues a URL back onto it, and ``unwrap_lines`` a line that continues a
sentence (it starts in lower case or with a parenthesis).
"""

from __future__ import annotations

import io
import re

_GOES_ON = re.compile(r"^[a-z(]")
_URL_AT_END = re.compile(r"https?://\S+$")
# the rest of a URL: URL characters with at least one that words lack, and not a new URL or a field number
_CONTINUATION = re.compile(r"^(?!https?:|www\.|\d{1,2}\.?(?:\s|$))"
                           r"([\w\-./%?=&#~+]*[\-./_%?=&#~+\d][\w\-./%?=&#~+]*)(.*)$")


class PdfTextError(ValueError):
    """A body that is not a readable PDF, or one with no text layer (a scan)."""


def pdf_pages(body: bytes, max_pages: int | None = None) -> list[str]:
    """The text of each page (up to ``max_pages``); raises ``PdfTextError`` when the body is not a readable PDF."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(body))
        pages = reader.pages if max_pages is None else reader.pages[:max_pages]
        return [unwrap_lines(join_wrapped_urls(page.extract_text() or "")) for page in pages]
    except (PyPdfError, ValueError, KeyError, TypeError) as exc:
        raise PdfTextError(f"not a readable PDF: {type(exc).__name__}: {exc}") from None


def pdf_text(body: bytes, max_pages: int | None = None) -> str:
    """The text of a PDF, pages joined by blank lines; ``PdfTextError`` when it has no text at all."""
    text = "\n\n".join(pdf_pages(body, max_pages)).strip()
    if not text:
        raise PdfTextError("the PDF has no text layer (a scanned image?); nothing to read")
    return text


def join_wrapped_urls(text: str) -> str:
    """Lines that continue a URL cut at a line end, glued back onto it (``...coin-batter`` + ``ies-and-...``)."""
    lines = text.split("\n")
    out: list[str] = []
    for line in lines:
        if out and _URL_AT_END.search(out[-1]):
            match = _CONTINUATION.match(line)
            if match and match.group(1):
                out[-1] += match.group(1)
                rest = match.group(2).strip()
                if rest:
                    out.append(rest)
                continue
        out.append(line)
    return "\n".join(out)


def unwrap_lines(text: str) -> str:
    """Lines that continue the previous line's sentence (starting in lower case or with "(") joined onto it."""
    out: list[str] = []
    for line in text.split("\n"):
        if out and out[-1].strip() and not out[-1].rstrip().endswith(":") and _GOES_ON.match(line):
            out[-1] = out[-1].rstrip() + " " + line.lstrip()
        else:
            out.append(line)
    return "\n".join(out)
