"""Chinese in search and highlights: a Chinese word is marked as one word (never character by character,
whichever backend marked it), and a query mixing Latin letters and Chinese (USB充电器) finds its notice."""

from __future__ import annotations

import re

import pytest
from webtools import day

from archive.base import MARK_END, MARK_START

CHARGER = {"symbol": "G/TBT/N/CHN/1950", "member": "中国", "language": "zh", "distribution_date": day(-4),
           "title": "USB充电器能效限定值及能效等级", "description": "规定了USB充电器的能效要求。",
           "products": "USB充电器"}


@pytest.fixture(scope="module", autouse=True)
def charger_notice(web_settings):
    from archive.sqlite_store import SqliteStore
    from tbtwatch.model import notice_from_dict

    SqliteStore(web_settings.archive_db).upsert([notice_from_dict(CHARGER)])


def test_touching_marks_become_one_mark():
    from webapp.templating import highlight

    per_character = f"{MARK_START}电{MARK_END}{MARK_START}池{MARK_END} & {MARK_START}battery{MARK_END} " \
                    f"{MARK_START}passport{MARK_END}"
    assert str(highlight(per_character)) == "<mark>电池</mark> &amp; <mark>battery</mark> <mark>passport</mark>"


def test_a_chinese_word_is_marked_whole_in_the_translation_of_an_english_notice(client):
    page = client.get("/search", params={"q": "电池", "lang": "zh"}).text
    marks = re.findall(r"<mark>(.*?)</mark>", page)
    assert "电池" in marks and not {"电", "池"} & set(marks)
    assert set(marks) - {"电池"} <= {"battery", "Battery", "batteries"}  # the English it also searched


def test_a_query_mixing_latin_and_chinese_finds_and_marks_its_notice(client):
    from archive.text import parse_query

    assert parse_query("USB充电器")[0].words == ("USB", "充电器")  # the words the index holds
    body = client.get("/api/search", params={"q": "USB充电器"}).json()
    assert [h["symbol"] for h in body["hits"]] == [CHARGER["symbol"]]
    page = client.get("/search", params={"q": "USB充电器"}).text
    assert "<mark>USB充电器</mark>" in page


def test_the_objective_facet_is_one_entry_per_objective_in_the_interface_language(client):
    """"Protection of the environment" (EU) and 保护人类健康和安全 (CHN) are stored as written; the facet names
    each objective once in the reader's language and its link searches every form it counts."""
    zh = client.get("/search", params={"lang": "zh"}).text
    facet = zh.split('data-facet="objective"', 1)[1].split("</section>", 1)[0]
    labels = re.findall(r'">([^<]+)</a> <span class="count">', facet)
    assert "保护人类健康或安全" in labels and "保护环境" in labels and "食品安全" in labels
    assert "Protection of the environment" not in facet and "保护人类健康和安全" not in labels
    en = client.get("/search", params={"lang": "en"}).text
    assert ">Protection of human health or safety</a>" in en and ">保护人类健康和安全</a>" not in en
    link = re.search(r'href="([^"]+)">Protection of human health or safety</a>', en).group(1).replace("&amp;", "&")
    assert client.get(link).text.count('class="hit') >= 1
