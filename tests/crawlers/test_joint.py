"""Joint notifications: one ePing record naming five members' symbols becomes five findable, grouped notices."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from crawlers.joint import joint_fields, split_symbols
from crawlers.replay import ReplayServer
from tbtwatch.settings import get_settings

from .conftest import crawl, store

API_EAC = {"G/TBT/N/BDI/561": "Burundi", "G/TBT/N/KEN/1851": "Kenya", "G/TBT/N/RWA/1201": "Rwanda",
           "G/TBT/N/TZA/1301": "Tanzania", "G/TBT/N/UGA/2101": "Uganda"}
BULK_EAC = {"G/TBT/N/BDI/560": "Burundi", "G/TBT/N/KEN/1850": "Kenya", "G/TBT/N/RWA/1200": "Rwanda",
            "G/TBT/N/TZA/1300": "Tanzania", "G/TBT/N/UGA/2100": "Uganda"}


@pytest.mark.parametrize("text", [" G/TBT/N/BDI/469, G/TBT/N/KEN/1500, G/TBT/N/RWA/1000",
                                  "G/TBT/N/BDI/469#G/TBT/N/KEN/1500#G/TBT/N/RWA/1000",
                                  "G/TBT/N/BDI/469 G/TBT/N/KEN/1500 G/TBT/N/RWA/1000"])
def test_joint_symbol_fields_split_in_order(text):
    assert split_symbols(text) == ["G/TBT/N/BDI/469", "G/TBT/N/KEN/1500", "G/TBT/N/RWA/1000"]


def test_one_symbol_or_an_unreadable_part_is_left_to_validation():
    assert split_symbols(" G/TBT/N/USA/2210") == []
    assert split_symbols("G/TBT/N/BDI/469, G/TBT/N/KEN/") == []  # rejected whole, with its page kept
    fields = {"symbol": "G/TBT/N/BDI/469, G/TBT/N/KEN/", "member": "Burundi"}
    assert joint_fields(fields) == [fields]


def test_each_copy_gets_its_own_member_in_the_notice_language():
    copies = joint_fields({"symbol": "G/TBT/N/KEN/1, G/TBT/N/UGA/2", "member": "Kenya, Uganda", "language": "zh",
                           "title": "玩具"})
    assert [(c["symbol"], c["member"]) for c in copies] == [("G/TBT/N/KEN/1", "肯尼亚"), ("G/TBT/N/UGA/2", "乌干达")]
    assert [c["symbols"] for c in copies] == [["G/TBT/N/KEN/1", "G/TBT/N/UGA/2"], ["G/TBT/N/UGA/2", "G/TBT/N/KEN/1"]]
    assert all(c["title"] == "玩具" for c in copies)


@pytest.mark.slow
@pytest.mark.parametrize("source, symbols, word", [("eping_api", API_EAC, "diapers"),
                                                    ("eping_bulk", BULK_EAC, "toys")])
def test_every_symbol_of_a_joint_record_is_stored_findable_and_grouped(fresh_home, source, symbols, word):
    from alerts.grouping import refresh_groups
    from alerts.matching import SubscriptionIndex
    from alerts.rules import Filter, NoticeFacts, Rule
    from archive.base import SearchQuery

    with ReplayServer() as server:
        report = crawl(server, source, args=("eping_api.page_size=2",))  # the replay pages the API by 2
    assert report.sources[source].invalid_notices == (1 if source == "eping_bulk" else 0)  # MEX/ has no number
    archive = store()
    for symbol, member in symbols.items():
        notice = archive.get(symbol)
        assert (notice.member, notice.member_code) == (member, symbol.split("/")[3])
        assert sorted(notice.symbols) == sorted(symbols) and notice.symbols[0] == symbol

    # search, by member
    for symbol in symbols:
        found = archive.search(SearchQuery(text=word, members=[symbol.split("/")[3]]))
        assert [hit.notice.symbol for hit in found.hits] == [symbol]

    # a subscription to one member only (no topic) meets that member's copy and no other
    rwanda = next(s for s in symbols if "/RWA/" in s)
    index = SubscriptionIndex([Filter(Rule(members=["RWA"]), name="Rwanda")])
    assert {s for s in symbols if index.match(NoticeFacts.build(archive.get(s), None))} == {rwanda}

    # one joint notification downstream: a declared group of the five
    groups = refresh_groups(get_settings(), archive, [dt.date(2025, 7, 21)])
    group = groups.group_of(rwanda)
    assert sorted(group.symbols) == sorted(symbols)

    # `tbtwatch show` prints each copy
    cli = Path(sys.executable).with_name("tbtwatch")
    shown = subprocess.run([str(cli), "show", rwanda], capture_output=True, text=True, timeout=60, check=False)
    assert shown.returncode == 0, shown.stderr
    assert rwanda in shown.stdout and "Rwanda" in shown.stdout
