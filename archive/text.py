"""Search text: how notices are written into a full-text index and how queries are read.

SQLite's FTS5 tokenizers cannot find 2-character Chinese words (``trigram``
needs 3 characters, ``unicode61`` keeps a whole run of Han characters as one
token), and many Chinese words are 2 characters (电池, 玩具, 欧盟). So runs of
CJK characters are indexed as overlapping character bigrams (a lone character
as itself) beside the ordinary words, and a Chinese query becomes the phrase of
its bigrams. English words go through FTS5's porter stemmer.

Queries are parsed into terms here and each term is emitted as a quoted FTS5
string, so user input can never inject FTS5 syntax; the expression is passed
to SQLite as a bound parameter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from archive.base import MARK_END, MARK_START, Expansion, QueryError

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RUN = re.compile(f"[{_CJK}]+")
_QUERY_TOKEN = re.compile(r'(-?)"([^"]*)"|(\S+)')
_WORD = re.compile(rf"[{_CJK}]+|[^\W_{_CJK}]+", re.UNICODE)  # "USB充电器" is two words, as it is indexed
MAX_TERMS = 16


def _bigrams(run: str) -> list[str]:
    if len(run) == 1:
        return [run]
    return [run[i:i + 2] for i in range(len(run) - 1)]


def index_text(text: str) -> str:
    """Text as it is written into the FTS index: CJK runs replaced by their bigrams."""
    if not text:
        return ""
    return _CJK_RUN.sub(lambda m: " " + " ".join(_bigrams(m.group(0))) + " ", text)


def is_cjk(text: str) -> bool:
    """Written in Chinese characters (the thesaurus then looks for English phrasings, and vice versa)."""
    return bool(_CJK_RUN.search(text))


@dataclass(frozen=True)
class Term:
    words: tuple[str, ...]  # the term's words (a phrase when several)
    negated: bool = False
    alternatives: tuple[tuple[str, ...], ...] = ()  # other phrasings searched as well (archive.thesaurus)
    hs: tuple[str, ...] = ()  # HS prefixes whose notices match the term too

    @property
    def display(self) -> str:
        return " ".join(self.words)

    @property
    def phrasings(self) -> tuple[tuple[str, ...], ...]:
        return (self.words, *self.alternatives)


def expanded(terms: list[Term], found: list[Expansion]) -> list[Term]:
    """The terms with their expansions attached (matched by the term as typed)."""
    by_term = {e.term: e for e in found}
    out = []
    for term in terms:
        expansion = None if term.negated else by_term.get(term.display)
        if expansion is None:
            out.append(term)
            continue
        phrases = tuple(words for p in expansion.phrases if (words := tuple(_WORD.findall(p))))
        out.append(Term(term.words, False, phrases, expansion.hs))
    return out


def parse_query(text: str) -> list[Term]:
    """Split a user's query into terms: words, "quoted phrases", and -excluded terms."""
    terms: list[Term] = []
    for match in _QUERY_TOKEN.finditer(text or ""):
        negated = bool(match.group(1)) or (match.group(3) or "").startswith("-")
        raw = match.group(2) if match.group(2) is not None else (match.group(3) or "").lstrip("-")
        words = tuple(_WORD.findall(raw))
        if words:
            terms.append(Term(words, negated))
    if len(terms) > MAX_TERMS:
        raise QueryError(f"the query has {len(terms)} terms; use at most {MAX_TERMS}")
    if terms and all(t.negated for t in terms):
        raise QueryError("the query only excludes words; add at least one word to look for")
    return terms


def _quote(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


def _words_expression(words: tuple[str, ...]) -> str:
    tokens: list[str] = []
    for word in words:
        tokens.extend(_bigrams(word) if _CJK_RUN.fullmatch(word) else [word])
    if len(tokens) == 1:
        token = tokens[0]
        # A single Han character is not a bigram token: look for bigrams starting with it too.
        if _CJK_RUN.fullmatch(token) and len(token) == 1:
            return f"({_quote(token)} OR {_quote(token)}*)"
        return _quote(token)
    return " + ".join(_quote(t) for t in tokens)  # FTS5 phrase: tokens in sequence


def _term_expression(term: Term, columns: str, hs_tags) -> str:
    """The term or any of its phrasings in the text columns, or (expanded by HS) one of its HS tags."""
    text = " OR ".join(f"({_words_expression(words)})" for words in term.phrasings)
    expression = f"{columns} : ({text})"
    if term.hs:
        expression += f" OR ({hs_tags(term.hs)})"
    return expression


def fts_expression(terms: list[Term], columns: str, hs_tags) -> str | None:
    """An FTS5 MATCH expression for the terms (AND of terms, NOT for exclusions), or None for no text;
    ``columns`` is the FTS5 column filter of the text, ``hs_tags`` the expression of some HS prefixes."""
    positive = [_term_expression(t, columns, hs_tags) for t in terms if not t.negated]
    negative = [_term_expression(t, columns, hs_tags) for t in terms if t.negated]
    if not positive:
        return None
    expression = " AND ".join(f"({p})" for p in positive)
    for n in negative:
        expression = f"({expression}) NOT ({n})"
    return expression


def _term_pattern(term: Term) -> str:
    parts = []
    for word in term.words:
        if _CJK_RUN.fullmatch(word):
            parts.append(re.escape(word))
        else:
            stem = word if len(word) <= 4 else word[: max(4, len(word) - 2)]
            parts.append(r"\b" + re.escape(stem) + r"\w*")
    return r"[\s\W]*".join(parts)


def highlighter(terms: list[Term]) -> re.Pattern[str] | None:
    positive = [_term_pattern(Term(words)) for t in terms if not t.negated for words in t.phrasings]
    if not positive:
        return None
    return re.compile("|".join(f"(?:{p})" for p in positive), re.IGNORECASE)


def highlight(text: str, pattern: re.Pattern[str] | None, width: int = 240) -> str | None:
    """A window of ``text`` around the first hit with every hit wrapped in MARK_START/MARK_END.

    Marks are random per-process tokens (``archive.base``): the caller escapes the crawled text and only
    then turns them into tags, so a notice can never inject markup through a highlight.
    """
    if not text or pattern is None:
        return None
    first = pattern.search(text)
    if not first:
        return None
    start = max(0, first.start() - width // 3)
    end = min(len(text), start + width)
    window = text[start:end]
    marked = pattern.sub(lambda m: f"{MARK_START}{m.group(0)}{MARK_END}", window)
    return ("…" if start else "") + marked + ("…" if end < len(text) else "")
