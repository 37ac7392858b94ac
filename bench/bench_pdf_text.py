"""pypdf vs pdfminer.six on PDFs laid out like the WTO notification forms: speed and text quality.

Run ``.venv/bin/python -m bench.bench_pdf_text`` (needs the test extra, and pdfminer.six installed
by hand: it is only measured, not used). The PDFs are the replay's forms (TBT, SPS, addendum) as
``tests/fixtures/make_replay.py`` prints them: numbered fields in a table, checkboxes, a URL wrapped
in its cell. Quality is the share of the form parser's fields that come out as they do from the
Word version of the same form (the reference), both extractors' text going through the same
clean-up (``crawlers.pdftext``); speed is documents per second, best of 3 rounds.
This is why ``crawlers.pdftext`` uses pypdf.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable

from crawlers.forms import parse_notification_form
from crawlers.pdftext import join_wrapped_urls, unwrap_lines

FIELDS = ("symbol", "member", "distribution_date", "title", "description", "products", "hs_codes", "ics_codes",
          "objectives", "comment_deadline", "adoption_date", "entry_into_force", "urls")
ROUNDS, REPEAT = 3, 20


def pypdf_text(body: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(body)).pages)


def pdfminer_text(body: bytes) -> str:
    from pdfminer.high_level import extract_text

    return extract_text(io.BytesIO(body))


def quality(extract: Callable[[bytes], str], forms: list[tuple[str, bytes]]) -> float:
    """Share of fields equal to the Word reference's, over every form."""
    right = total = 0
    for text, pdf in forms:
        reference = parse_notification_form(text)
        try:
            got = parse_notification_form(unwrap_lines(join_wrapped_urls(extract(pdf))))
        except ValueError:
            got = {}
        right += sum(got.get(f) == reference[f] for f in FIELDS)
        total += len(FIELDS)
    return right / total


def speed(extract: Callable[[bytes], str], forms: list[tuple[str, bytes]]) -> float:
    best = float("inf")
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for _ in range(REPEAT):
            for _, pdf in forms:
                extract(pdf)
        best = min(best, time.perf_counter() - started)
    return REPEAT * len(forms) / best


def main() -> None:
    from tests.fixtures import make_replay as fixtures  # the replay's forms, printed in the WTO layout
    forms = [(text, fixtures.form_pdf(text)) for text in (fixtures.TBT_FORM, fixtures.SPS_FORM,
                                                          fixtures.ADDENDUM_FORM)]
    results = {}
    for name, extract in (("pypdf", pypdf_text), ("pdfminer.six", pdfminer_text)):
        try:
            results[name] = {"fields_right": round(quality(extract, forms), 3),
                             "documents_per_s": round(speed(extract, forms), 1)}
        except ModuleNotFoundError as exc:
            results[name] = {"skipped": f"{exc.name} is not installed"}
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
