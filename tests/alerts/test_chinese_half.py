"""The Chinese half in Chinese: the portal's translation when there is one, else the notice's product lines and
the Chinese names of its HS codes beside the English title; never a blank title; simplified script throughout.

Our own notices on a real SQLite archive with the real HS nomenclature and its Chinese names (shared data).
"""

from __future__ import annotations

import re

import pytest

from alerts import reviews, run

from .conftest import DAY, archive_holding, assessment, days

UNTRANSLATED = {"symbol": "G/TBT/N/USA/4100", "member": "United States", "distribution_date": days(0),
                "comment_deadline": days(60), "title": "Safety standard for lithium-ion cells in e-bikes",
                "hs_codes": ["850760"]}
TRADITIONAL = {"symbol": "G/TBT/N/TPKM/600", "member": "Chinese Taipei", "distribution_date": days(0),
               "comment_deadline": days(60), "title": "Inspection of power banks",
               "translations": {"zh": {"title": "行動電源商品檢驗規定", "products": "鋰電池行動電源"}}}
UNTITLED = {"symbol": "G/TBT/N/KEN/1700", "member": "Kenya", "distribution_date": days(0),
            "comment_deadline": days(60), "products": "Portable lithium batteries and chargers"}


@pytest.fixture
def archive(settings, shared_data):
    notices = [UNTRANSLATED, TRADITIONAL, UNTITLED]
    assessments = [assessment(n["symbol"], "high", [("lithium_batteries", 0.9, "lithium")]) for n in notices]
    yield from archive_holding(settings, notices, assessments)


def _zh_half(settings, store) -> str:
    html = run.build_digest(settings, DAY, store=store, deliver_now=False).read_text(encoding="utf-8")
    return html.split('id="lang-zh"', 1)[1].split('id="lang-en"', 1)[0]


def test_an_untranslated_notice_is_named_in_chinese_beside_its_english_title(archive, settings):
    zh = _zh_half(settings, archive)
    assert "锂电池（HS 850760 锂离子蓄电池）" in zh
    assert "原文: Safety standard for lithium-ion cells in e-bikes" in zh


def test_traditional_script_is_shown_simplified(archive, settings):
    zh = _zh_half(settings, archive)
    assert "行动电源商品检验规定" in zh and "行動電源" not in zh


def test_every_queue_row_has_a_chinese_title(archive, settings):
    reviews.open_review(settings, "G/TBT/N/EU/9999")  # a review whose notice the archive does not hold
    zh = _zh_half(settings, archive)
    queue = zh.split("评议队列", 1)[1].split("</table>", 1)[0]
    titles = re.findall(r'<td class="title">([^<]*)', queue)
    assert len(titles) == 4 and all(t.strip() for t in titles)
    assert all(re.search(r"[\u4e00-\u9fff]", t) for t in titles), titles
