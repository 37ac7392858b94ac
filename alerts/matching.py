"""Which subscribers' filters a notice meets, without testing every (filter, notice) pair.

Filters are indexed by HS prefix, product line, keyword and member. For a
notice, the index yields the few candidate filters that share a code, a line, a
keyword or (for filters with no topic) a member; only those are evaluated in
full by ``alerts.rules.evaluate_filter``, which stays the one definition of a
match, so the index can only ever save work, never change a result.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from alerts.rules import Evidence, Filter, NoticeFacts, evaluate_filter, is_cjk

ANY = "*"


@dataclass
class FilterMatch:
    filter: Filter
    evidence: list[Evidence]


class SubscriptionIndex:
    def __init__(self, filters: Iterable[Filter]):
        self.filters: list[Filter] = list(filters)
        self._by_hs: dict[str, set[int]] = defaultdict(set)  # the filter's own prefix
        self._by_hs_parent: dict[str, set[int]] = defaultdict(set)  # shorter prefixes of the filter's codes
        self._by_line: dict[str, set[int]] = defaultdict(set)
        self._by_keyword: dict[str, set[int]] = defaultdict(set)
        self._latin_by_first_word: dict[str, set[str]] = defaultdict(set)  # "lithium" -> {"lithium battery"}
        self._cjk_keywords: set[str] = set()
        self._topicless_by_member: dict[str, set[int]] = defaultdict(set)
        for i, flt in enumerate(self.filters):
            rule = flt.include
            for code in rule.hs:
                self._by_hs[code].add(i)
                for cut in (2, 4):
                    if cut < len(code):
                        self._by_hs_parent[code[:cut]].add(i)
            for line_id in rule.product_lines:
                self._by_line[line_id].add(i)
            for keyword in rule.keywords:
                self._by_keyword[keyword].add(i)
                if is_cjk(keyword):
                    self._cjk_keywords.add(keyword)
                else:
                    self._latin_by_first_word[keyword.split(" ", 1)[0]].add(keyword)
            if not rule.has_topic:
                for member in rule.members or [ANY]:
                    self._topicless_by_member[member].add(i)

    def __len__(self) -> int:
        return len(self.filters)

    def candidates(self, facts: NoticeFacts) -> set[int]:
        found: set[int] = set()
        for code in facts.codes:
            for cut in (2, 4, 6):
                if cut <= len(code):
                    found |= self._by_hs.get(code[:cut], set())
            found |= self._by_hs_parent.get(code, set())
        for line_id in facts.lines:
            found |= self._by_line.get(line_id, set())
        for keyword in self._keywords_in(facts):
            found |= self._by_keyword[keyword]
        found |= self._topicless_by_member.get(facts.notice.member_code, set())
        found |= self._topicless_by_member.get(ANY, set())
        return found

    def _keywords_in(self, facts: NoticeFacts) -> list[str]:
        """Keywords the notice contains: Latin ones looked up by the notice's words, Chinese ones by search."""
        maybe = {k for word in set(facts.words.split()) for k in self._latin_by_first_word.get(word, ())}
        return [k for k in (*maybe, *self._cjk_keywords) if facts.has_keyword(k)]

    def match(self, facts: NoticeFacts) -> list[FilterMatch]:
        """Every filter the notice meets, with the evidence, in filter order."""
        matches = []
        for i in sorted(self.candidates(facts)):
            evidence = evaluate_filter(self.filters[i], facts)
            if evidence is not None:
                matches.append(FilterMatch(self.filters[i], evidence))
        return matches
