"""The product-line facet on the web: the API's facets, the search sidebar's links, and the statistics page
counting every line with one search (not one per catalogue line)."""

from __future__ import annotations

import html


def test_api_facets_count_product_lines(client):
    facets = client.get("/api/facets").json()["facets"]
    assert {f["value"]: f["count"] for f in facets["product_line"]} == {"batteries": 1, "toys": 1}
    narrowed = client.get("/api/facets", params={"member": "EU"}).json()["facets"]["product_line"]
    assert narrowed == [{"value": "batteries", "count": 1}]


def test_search_sidebar_links_each_line_by_name(client):
    page = client.get("/search", params={"lang": "en"}).text
    section = page.split('data-facet="product_line"')[1].split("</section>")[0]
    assert "Product line" in section and 'href="?lang=en&line=toys"' in html.unescape(section)
    narrowed = client.get("/search", params={"line": "toys"}).text
    assert "G/TBT/N/CHN/1900" in narrowed and "G/TBT/N/EU/1132" not in narrowed


def test_stats_counts_lines_in_one_search(client, app, monkeypatch):
    store = app.state.resources.store
    searches = []
    original = type(store).search

    def counted(self, query):
        searches.append(query)
        return original(self, query)

    monkeypatch.setattr(type(store), "search", counted)
    page = client.get("/stats", params={"lang": "en"}).text
    assert not [q for q in searches if q.product_lines]  # no search per line any more
    assert len(searches) == 12 + 1 + 1  # each month, the product lines, the open comment periods
    section = page.split("<h2>Product lines with the most notices since")[1].split("</section>")[0]
    assert section.count('class="bar-line"') == 2
