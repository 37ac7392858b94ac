"""The form parser on the 10 real Chinese portal page texts (read from ../shared/data) and on the English forms."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from crawlers.forms import FormError, parse_notification_form
from tbtwatch.dates import deadline_from, parse_date

D = dt.date
# Expected values per real page: only fields the page really gives; checked field by field.
EXPECTED = {
    "catbt_BDI_469_multiHS.txt": dict(
        symbol="G/TBT/N/KEN/1615", member="Kenya", distribution_date=D(2024, 5, 3), comment_deadline=D(2024, 7, 2),
        hs_codes=["1101", "100119"], ics_codes=["67.060"], language="en",
        symbols=["G/TBT/N/KEN/1615", "G/TBT/N/BDI/469", "G/TBT/N/RWA/1016", "G/TBT/N/TZA/1123",
                 "G/TBT/N/UGA/1927"]),
    "catbt_SPS_MOZ_4.txt": dict(
        symbol="G/SPS/N/MOZ/4", member="Mozambique", distribution_date=D(2017, 8, 17), comment_deadline=None,
        hs_codes=["0105", "0207", "0407", "0106", "010511"],
        objectives=["Animal health", "Food safety", "Protect humans from animal/plant pest or disease"],
        products="Live domestic and wild birds, eggs, fresh and frozen poultry meat, unheated products derived "
                 "from birds"),
    "cnnbzj_TPKM_425_Add5.txt": dict(
        symbol="G/TBT/N/TPKM/425/Add.5", member="台澎金马单独关税区", distribution_date=D(2025, 7, 21), title="",
        adoption_date="2025-07-18", entry_into_force="2025-08-01", comment_deadline=None, language="zh",
        urls=["https://members.wto.org/crnattachments/2025/TBT/TPKM/final_measure/25_04678_00_e.pdf",
              "https://members.wto.org/crnattachments/2025/TBT/TPKM/final_measure/25_04678_00_x.pdf"]),
    "gsiic_SPS_JPN_196.txt": dict(
        symbol="G/SPS/N/JPN/196", member="日本", distribution_date=D(2007, 9, 17),
        title="修订食品卫生法项下食品与食品添加剂标准规范(修订杀虫剂残留标准)", language="zh"),
    "jmtbt_json_USA_1052.txt": dict(
        symbol="G/TBT/N/USA/1052", member="美国", distribution_date=D(2015, 11, 20), comment_deadline=D(2016, 1, 4),
        title="能源节约计划:执行中央空调地区标准", products="中央空调。环境保护。通风机。风扇。空调。", hs_codes=[],
        ics_codes=["13.020"], objectives=["保护环境"], adoption_date="待定", entry_into_force="待定"),
    "klkj_trad_IDN_118.txt": dict(
        symbol="G/TBT/N/IDN/118", member="印度尼西亞", distribution_date=D(2018, 1, 31),
        comment_deadline=D(2018, 4, 1), hs_codes=["721730", "721790", "722990"], ics_codes=["77.140.65"],
        title="工業部關于強制執行印尼胎圈鋼絲國家標準的法令草案", adoption_date="通報之后2個月",
        objectives=["保護消費者安全", "提高產品質量", "制定公平貿易規則"]),
    "tsindex_GHA_24.txt": dict(
        symbol="G/TBT/N/GHA/24", member="Ghana", distribution_date=D(2023, 3, 20), comment_deadline=D(2023, 5, 19),
        hs_codes=["4402"], ics_codes=["75.160.10"], products="Wood charcoal",
        objectives=["Protection of animal or plant life or health", "Protection of the environment",
                    "Quality requirements", "Reducing trade barriers and facilitating trade"]),
    "wzisps_KEN_641.txt": dict(
        symbol="G/TBT/N/KEN/641", member="肯尼亚", distribution_date=D(2018, 2, 16), comment_deadline=D(2018, 3, 22),
        title="DKS 2784:2018乳脂产品-规范", hs_codes=["040630"], ics_codes=["67.100.10"],
        objectives=["保护人类健康安全", "质量要求"], entry_into_force="由内阁秘书和工业、贸易与合作部宣布为强制标准之后"),
    "wzisps_table_SPS_KOR_283.txt": dict(
        symbol="G/SPS/N/KOR/283", member="韩国", distribution_date=D(2008, 6, 6), comment_deadline=D(2008, 8, 5),
        products="食品", title="食品标准与规范的修正案草案"),
    "zstbt_DNK_123.txt": dict(
        symbol="G/TBT/N/DNK/123", member="丹麦", distribution_date=D(2021, 12, 14), comment_deadline=D(2022, 2, 12),
        title="无尼古丁灌装容器的通报行政命令", hs_codes=["2403"], ics_codes=["65.160"], adoption_date="2022-03-01",
        entry_into_force="2022-04-01", objectives=["保护人类健康或安全"]),
}


def _page_text(shared_data: Path, name: str) -> str:
    path = shared_data / "pages" / name
    if not path.exists():
        pytest.skip(f"{path} is not in the shared data")
    return path.read_text(encoding="utf-8").split("\n", 1)[1]  # the first line is the page's URL


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_portal_page_fields(shared_data, name):
    parsed = parse_notification_form(_page_text(shared_data, name))
    for field, expected in EXPECTED[name].items():
        assert parsed[field] == expected, f"{name}: {field}"


def test_every_real_page_yields_a_valid_notice(shared_data):
    from tbtwatch.model import notice_from_dict

    for name in EXPECTED:
        fields = parse_notification_form(_page_text(shared_data, name))
        fields.pop("leftovers")
        assert notice_from_dict(fields).symbol == EXPECTED[name]["symbol"]


def test_unmapped_form_fields_are_leftovers_not_dropped(shared_data):
    parsed = parse_notification_form(_page_text(shared_data, "zstbt_DNK_123.txt"))
    assert parsed["leftovers"]["agency"].startswith("丹麦安全技术局")
    assert "2.9.2" in parsed["leftovers"]["articles"]
    assert parsed["description"] == "关于通报的费用支付和维护的规则。"
    sps = parse_notification_form(_page_text(shared_data, "wzisps_table_SPS_KOR_283.txt"))
    assert sps["leftovers"]["regions"] == "所有国家"


def test_addendum_checkboxes_only_ticked_count(shared_data):
    parsed = parse_notification_form(_page_text(shared_data, "cnnbzj_TPKM_425_Add5.txt"))
    assert parsed["leftovers"]["addendum_measure_published"] == "2025年7月18日"
    assert "addendum_withdrawn" not in parsed["leftovers"]  # "[]通报措施撤回或撤销日期" is not ticked
    assert parsed["description"].startswith("本通知旨在发布《外墙面砖法定检验要求修订案》最终文本")


def _english_forms():
    from tests.fixtures import make_replay

    return make_replay


def test_english_tbt_form_fields_1_to_11():
    parsed = parse_notification_form(_english_forms().TBT_FORM)
    assert parsed["symbol"] == "G/TBT/N/USA/2210"
    assert parsed["member"] == "UNITED STATES OF AMERICA"
    assert parsed["distribution_date"] == D(2025, 7, 21)
    assert parsed["title"].startswith("Safety Standard for Button Cell or Coin Batteries")
    assert "page(s)" not in parsed["title"]
    assert parsed["hs_codes"] == ["850610", "850680"]
    assert parsed["ics_codes"] == ["29.220.10"]
    assert parsed["objectives"] == ["Protection of human health or safety", "Consumer information, labelling"]
    assert parsed["comment_deadline"] == D(2025, 9, 19)  # "60 days from notification"
    assert parsed["adoption_date"] == "To be determined"
    assert parsed["entry_into_force"] == "180 days after publication of the final rule"
    assert parsed["urls"][0] == "https://www.regulations.gov/docket/CPSC-2025-0012" and len(parsed["urls"]) == 2
    assert parsed["leftovers"]["agency"] == "Consumer Product Safety Commission (CPSC)"
    assert parsed["leftovers"]["relevant_documents"] == "90 Federal Register (FR) 31000, 18 July 2025"


def test_english_sps_form_checked_objectives_and_standard():
    parsed = parse_notification_form(_english_forms().SPS_FORM)
    assert parsed["symbol"] == "G/SPS/N/CHL/900"
    assert parsed["objectives"] == ["food safety"]
    assert parsed["hs_codes"] == ["0201", "0203", "0401", "0409"]
    assert parsed["comment_deadline"] == D(2025, 9, 19)
    assert parsed["adoption_date"] == "2025-12-01"
    assert "Codex Alimentarius" in parsed["leftovers"]["international_standard"]
    assert "All trading partners" in parsed["leftovers"]["regions"]


def test_english_addendum_form():
    parsed = parse_notification_form(_english_forms().ADDENDUM_FORM)
    assert parsed["symbol"] == "G/TBT/N/TPKM/530/Add.1"
    assert parsed["title"] == "Inspection requirements for portable power banks"
    assert parsed["adoption_date"] == "2025-07-15"
    assert parsed["entry_into_force"] == "2026-01-01"
    assert parsed["comment_deadline"] is None
    assert parsed["urls"] == ["https://members.wto.org/crnattachments/2025/TBT/TPKM/final_measure/25_05140_00_e.pdf"]


@pytest.mark.parametrize("text", ["通报之后60天", "通报日后60天", "自通报日起60天", "通報之後60天",
                                  "60 days from notification",
                                  "[X] Sixty days from the date of circulation of the notification"])
def test_relative_deadlines_are_computed_from_the_distribution_date(text):
    assert deadline_from(text, D(2025, 7, 21)) == D(2025, 9, 19)
    assert deadline_from(text, None) is None  # no distribution date: no invented deadline


@pytest.mark.parametrize("text, expected", [("2016/01/04", D(2016, 1, 4)), ("2025年7月18日", D(2025, 7, 18)),
                                            ("02008-06-06", D(2008, 6, 6)), ("2018/01/31 0:00:00", D(2018, 1, 31)),
                                            ("15 March 2024", D(2024, 3, 15)), ("19/09/2025", D(2025, 9, 19)),
                                            ("2018/06/", None), ("待定", None)])
def test_dates_as_forms_write_them(text, expected):
    assert parse_date(text) == expected


def test_text_without_a_symbol_is_a_form_error():
    with pytest.raises(FormError, match="no WTO notification symbol"):
        parse_notification_form("通报成员:美国\n内容概述:没有编号的页面")


def test_traditional_labels_parse_like_simplified():
    simplified = parse_notification_form("通报号:G/TBT/N/VNM/1\n通报成员:越南\n通报日期:2025-07-21\n"
                                         "内容概述:电池\n提意见截止日期:通报之后60天")
    traditional = parse_notification_form("通報號:G/TBT/N/VNM/1\n通報成員:越南\n通報日期:2025-07-21\n"
                                          "內容概述:電池\n提意見截止日期:通報之後60天")
    assert traditional["description"] == "電池"
    assert traditional["comment_deadline"] == simplified["comment_deadline"] == D(2025, 9, 19)
