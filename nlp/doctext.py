"""What the components keep on a doc: its text (computed once) and their annotations.

``Doc.text`` joins every token's text on each call; a Chinese doc has one token per
character, so three components asking for it would cost more than tokenizing. The
classifier stores the text it tokenized in ``doc.user_data``; components read it here.

The annotations live in ``doc.user_data`` too, under ``CODES_KEY``, ``TERMS_KEY`` and
``HEADINGS_KEY``, and are readable as ``doc._.tbt_codes`` etc. Each ``doc._`` access
builds an ``Underscore`` object (about a microsecond); components and the classifier,
which touch the annotations of every doc several times, use the keys directly.
"""

from __future__ import annotations

from spacy.tokens import Doc

from nlp.scopes import exclusion_scopes

TEXT_KEY = "tbt_text"
LOWER_KEY = "tbt_lower"
SCOPES_KEY = "tbt_scopes"
CODES_GIVEN_KEY = "tbt_codes_given"  # set by the caller when the notice's hs_codes field has codes
FIELDS_KEY = "tbt_fields"  # set by the caller: (start offsets, field names) of the fields joined in the text
CODES_KEY, TERMS_KEY, HEADINGS_KEY = "tbt_codes", "tbt_terms", "tbt_headings"


def register_extensions() -> None:
    """``doc._.tbt_codes``, ``doc._.tbt_terms``, ``doc._.tbt_headings``: read-only views of the annotations."""
    for key in (CODES_KEY, TERMS_KEY, HEADINGS_KEY):
        if not Doc.has_extension(key):
            Doc.set_extension(key, getter=lambda doc, key=key: doc.user_data.get(key))


def doc_text(doc: Doc) -> str:
    text = doc.user_data.get(TEXT_KEY)
    if text is None:
        text = doc.user_data[TEXT_KEY] = doc.text
    return text


def doc_lower(doc: Doc) -> str:
    """The lower-cased text, with the same offsets (the text itself where lower-casing changes lengths)."""
    lower = doc.user_data.get(LOWER_KEY)
    if lower is None:
        text = doc_text(doc)
        lower = text.lower()
        doc.user_data[LOWER_KEY] = lower = lower if len(lower) == len(text) else text
    return lower


def doc_scopes(doc: Doc) -> list[tuple[int, int]]:
    """The doc's exclusion scopes (see ``nlp.scopes``), shared by the code extractor and the matcher."""
    scopes = doc.user_data.get(SCOPES_KEY)
    if scopes is None:
        scopes = doc.user_data[SCOPES_KEY] = exclusion_scopes(doc_lower(doc))
    return scopes
