"""The search page's facet sidebar: each value of each facet as a link that narrows the search to it.

Made here rather than in the template: a page has about a hundred of these links, and in Jinja each one
(the facet's parameter looked up, its label, its URL) cost half the page's rendering time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

from jinja2.filters import do_truncate

from archive.base import Facet
from webapp.templating import templates

if TYPE_CHECKING:
    from webapp.deps import Resources

# Which query parameter narrows the search to a facet's value (the year facet sets a date range instead).
PARAMETER = {"member": "member", "area": "area", "hs_chapter": "hs", "objective": "objective", "level": "level",
             "product_line": "line"}
HS_LABEL_WIDTH = 40


class FacetLink(NamedTuple):  # a hundred per page: a tuple is made fastest
    href: str
    label: str
    count: int


class FacetSection(NamedTuple):
    name: str
    links: list[FacetLink]


def facet_sections(facets: dict[str, list[Facet]], query_with: Callable[..., str], res: Resources, lang: str,
                   translate: Callable[[str], str]) -> list[FacetSection]:
    """The sidebar's sections in the store's order, empty facets left out; ``query_with`` makes a link from
    the page's own query (``webapp.templating.query_with``), ``translate`` names a level."""
    sections = []
    for name, values in facets.items():
        if not values:
            continue
        if name == "objective":  # merged across languages and wordings, named in the interface's language
            links = [FacetLink(query_with(objective=m.values, page=None), m.label, m.count)
                     for m in res.objectives(values, lang)]
        elif name == "year":
            links = [FacetLink(query_with(since=f"{f.value}-01-01", until=f"{f.value}-12-31", drop=("page",)),
                               f.value, f.count) for f in values]
        else:
            label = _labeller(name, res, lang, translate)
            links = [FacetLink(query_with(**{PARAMETER[name]: [f.value], "page": None}), label(f.value), f.count)
                     for f in values]
        sections.append(FacetSection(name, links))
    return sections


def _labeller(name: str, res: Resources, lang: str, translate: Callable[[str], str]) -> Callable[[str], str]:
    if name == "member":
        return lambda value: res.member_name(value, lang)
    if name == "product_line":
        return lambda value: res.line_name(value, lang)
    if name == "hs_chapter":
        return lambda value: f"{value} {do_truncate(templates.env, res.hs_label(value, lang), HS_LABEL_WIDTH)}"
    if name == "level":
        return lambda value: translate(f"level_{value}")
    return lambda value: value
