"""Exclusion scopes: the parts of a text that name what a measure does *not* cover.

Products-covered fields say "Non-alcoholic beverages (excl. water ...)" or
"不包括税目为90.14、90.15的仪器": a product or code named there is excluded, and
counting it as covered would turn a notice about flow meters into one about
surveying instruments. A scope runs from the cue to the end of its clause.
"""

from __future__ import annotations

import re

# Written as a trie (common starts factored out): the regex engine tries fewer branches at each "e", "n", "o", "d".
_CUE = re.compile(
    r"ex(?:cl(?:uding|uded|\.)|cept(?:\s+for)?)|other\s+than|not\s+(?:including|covered)"
    r"|with\s+the\s+exception\s+of|do(?:es)?\s+not\s+(?:apply\s+to|cover)"
    r"|不(?:包括|包含|含|适用于|涵盖)|除外|例外"
)
# "除电池外" / "除……以外": the excluded thing sits between the two characters.
_CHU_WAI = re.compile(r"除(?:了)?[^，。；;,\n]{1,40}?(?:以外|之外|外)")
_CLAUSE_END = re.compile(r"[;；。\n()（）]")


def exclusion_scopes(text: str) -> list[tuple[int, int]]:
    """Character ranges of ``text`` that lie in an exclusion clause, sorted by start.

    Cues are lower case: pass lower-cased text (same offsets) to find "Excluding" too.
    """
    scopes = []
    for cue in _CUE.finditer(text):
        before, after = text[cue.start() - 1: cue.start()], text[cue.end(): cue.end() + 1]
        if (before.isascii() and before.isalpha()) or (cue.group(0)[-1].isalpha() and after.isascii()
                                                          and after.isalpha()):
            continue  # inside an English word ("exceptional", "unexcluded")
        end = _CLAUSE_END.search(text, cue.end())
        scopes.append((cue.start(), end.start() if end else len(text)))
    scopes.extend((m.start(), m.end()) for m in _CHU_WAI.finditer(text))
    return sorted(scopes)


def covering_scope(scopes: list[tuple[int, int]], offset: int) -> tuple[int, int] | None:
    """The exclusion scope containing ``offset``, if any (notices have a handful of scopes at most)."""
    for start, end in scopes:
        if start <= offset < end:
            return start, end
    return None
