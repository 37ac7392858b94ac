"""assess(): the assessment's content and the shape other stages read."""

from __future__ import annotations

import pytest

import datetime as dt

from nlp import Assessment, assess
from tbtwatch.model import LocalText


KEYS = {"symbol", "hs_given", "hs_inferred", "product_lines", "relevant", "level", "reasons", "reasons_zh",
        "assessed_on", "notice_hash", "domestic"}


def test_to_dict_has_exactly_the_contract_shape(classifier, make_notice, today):
    notice = make_notice(title="Power banks", products="Power banks (HS 8507.60)")
    record = classifier.assess(notice, today=today).to_dict()
    assert set(record) == KEYS
    assert record["hs_given"] == ["850760"]
    assert record["notice_hash"] == notice.content_hash()
    assert record["assessed_on"] == "2026-03-02"
    line = next(p for p in record["product_lines"] if p["id"] == "power_banks")
    assert set(line) == {"id", "score", "evidence"} and line["score"] == 1.0
    assert {"field": "products", "text": "8507.60"} in line["evidence"]
    assert {"field": "title", "text": "Power banks"} in line["evidence"]


def test_given_codes_make_a_notice_relevant_without_any_term(classifier, make_notice, today):
    a = classifier.assess(make_notice(title="Technical regulation No. 12", hs_codes=["85176200"]), today=today)
    assert a.hs_given == ["851762"]
    assert a.relevant and {"network_equipment", "radio_equipment", "wearables"} <= {m.id for m in a.product_lines}
    assert a.hs_inferred == []  # the inferrer is for notices that give no code


def test_a_broad_code_alone_is_not_enough(classifier, make_notice, today):
    a = classifier.assess(make_notice(title="Technical regulation No. 12", hs_codes=["40"]), today=today)
    assert not a.relevant and a.level == "none"


def test_headings_are_inferred_when_no_code_is_given(classifier, make_notice, today):
    a = classifier.assess(make_notice(title="Safety of lithium-ion accumulators for electric bicycles"),
                          today=today)
    codes = [c for c, _ in a.hs_inferred]
    assert a.hs_given == [] and 1 <= len(codes) <= 10
    assert "8507" in codes[:3]
    scores = [s for _, s in a.hs_inferred]
    assert scores == sorted(scores, reverse=True) and all(0 < s <= 1 for s in scores)


def test_chinese_notice_and_its_english_translation_both_count(classifier, make_notice, today):
    notice = make_notice(language="zh", title="电子烟产品技术要求",
                         translations={"en": LocalText(title="Electronic cigarettes", products="Vaping devices")})
    a = classifier.assess(notice, today=today)
    line = next(m for m in a.product_lines if m.id == "e_cigarettes")
    fields = {e.field for e in line.evidence}
    assert {"title", "translations.en.title", "translations.en.products"} <= fields


def test_assess_many_keeps_order_and_today_defaults_to_the_date(classifier, make_notice, today):
    notices = [make_notice(symbol=f"G/TBT/N/USA/{n}", title=t)
               for n, t in [(1, "Toys"), (2, "Cheese"), (3, "Drones")]]
    results = classifier.assess_many(notices)
    assert [a.symbol for a in results] == ["G/TBT/N/USA/1", "G/TBT/N/USA/2", "G/TBT/N/USA/3"]
    assert [a.relevant for a in results] == [True, False, True]
    assert all(a.assessed_on == dt.date.today() for a in results)


def test_module_level_assess_uses_the_catalogue(catalogue, make_notice, today):
    a = assess(make_notice(title="Smartphones"), catalogue, today=today)
    assert isinstance(a, Assessment) and a.product_lines[0].id == "mobile_phones"


def test_real_notices_are_assessed(classifier, dev_records, make_notice, today):
    from tbtwatch.model import NoticeError, notice_from_dict

    notices = []
    for record in dev_records:
        try:
            notices.append(notice_from_dict(record, ignore_unknown=True))
        except NoticeError:
            continue
    results = classifier.assess_many(notices, today=today)
    assert len(results) == len(notices) >= 70
    by_symbol = {a.symbol: a for a in results}
    # a portal record whose products field gives a lighting heading and whose title says light source
    lighting = [a for a in results if "8539" in a.hs_given]
    assert lighting and all(a.product_lines for a in lighting)
    assert all(a.relevant != a.domestic for a in lighting)  # China's own light-source standard is domestic
    assert {a.symbol for a in results if a.domestic} == {a.symbol for a in results if "/CHN/" in a.symbol}
    assert all(not a.relevant for a in results if a.symbol.startswith("G/SPS/N/") and not a.product_lines)
    assert len(by_symbol) == len(results)


def test_product_lines_come_best_first_as_the_level_ranks_them(classifier, make_notice, today):
    notice = make_notice(title="Safety of lithium-ion batteries and toys",
                         products="Lithium-ion batteries (HS 8507.60); electric toys (HS 9503.00)")
    a = classifier.assess(notice, today=today)
    strengths = [classifier.rules.strength(m, classifier.catalogue) for m in a.product_lines]
    assert len(strengths) > 1 and strengths == sorted(strengths, reverse=True)
    main = classifier.catalogue.get(a.product_lines[0].id)
    assert main.name_en in a.reasons[0] and main.name_zh in a.reasons_zh[0]


@pytest.mark.parametrize(("products", "codes", "lines"), [
    # the code's most specific line, not the general ones above it
    ("Lithium-ion batteries (HS 8507.60)", [], ["lithium_batteries"]),
    # 850610 (manganese dioxide cells) lies beside lithium's 850650: batteries, not lithium batteries
    ("Alkaline button cells", ["850610"], ["batteries"]),
    # 850440 is the prefix of chargers, power banks and solar inverters: the term decides
    ("Battery chargers", ["850440"], ["chargers_power_supplies"]),
    ("Electric toothbrushes", [], ["personal_care_appliances"]),
])
def test_product_lines_follow_specific_evidence(classifier, make_notice, today, products, codes, lines):
    a = classifier.assess(make_notice(title="Technical regulation", products=products, hs_codes=codes), today=today)
    assert [m.id for m in a.product_lines] == lines


def test_at_most_three_lines_and_only_lines_that_count(classifier, make_notice, today):
    notice = make_notice(title="Toys, batteries, chargers, e-bikes, mobile phones and lamps",
                         products="toys; lithium-ion batteries; chargers; e-bikes; mobile phones; LED lamps")
    a = classifier.assess(notice, today=today)
    assert 1 <= len(a.product_lines) <= 3
    assert all(m.score >= classifier.rules.relevance_threshold for m in a.product_lines)


def test_a_products_field_that_is_a_chapter_title_gives_that_chapter(classifier, make_notice, today):
    for products, chapter in (("PLASTICS AND ARTICLES THEREOF", "39"), ("LIVE ANIMALS", "01"), ("活动物", "01")):
        record = classifier.assess(make_notice(title="Technical regulation", products=products), today=today).to_dict()
        assert record["hs_inferred"][0] == {"code": chapter, "score": 1.0, "shown": True}
    # a product the title also names is not the whole chapter ("Wood and articles of wood; wood charcoal")
    record = classifier.assess(make_notice(title="Standard", products="Wood charcoal"), today=today).to_dict()
    assert record["hs_inferred"][0]["code"] != "44"


def test_no_heading_is_shown_for_a_text_that_names_no_product(classifier, make_notice, today):
    record = classifier.assess(make_notice(title="Conformity assessment procedures", products=""),
                               today=today).to_dict()
    assert not [h for h in record["hs_inferred"] if h["shown"]]


def test_chinas_own_notification_is_domestic_not_an_export_barrier(classifier, make_notice, today):
    notice = make_notice(symbol="G/TBT/N/CHN/1900", member="China", title="Safety of toys", products="Toys")
    record = classifier.assess(notice, today=today).to_dict()
    assert record["domestic"] and not record["relevant"] and record["level"] == "none"
    assert record["product_lines"][0]["id"] == "toys"  # still known, for the digest's domestic section
    assert "domestic" in record["reasons"][0] and "国内措施" in record["reasons_zh"][0]
    joint = make_notice(symbol="G/TBT/N/KEN/1", symbols=["G/TBT/N/KEN/1", "G/TBT/N/CHN/2"], title="Toys")
    assert classifier.assess(joint, today=today).domestic
    foreign = classifier.assess(make_notice(title="Safety of toys", products="Toys"), today=today)
    assert foreign.relevant and not foreign.domestic


def test_a_joint_notification_weighs_as_its_biggest_market(classifier, make_notice, today):
    """Burundi leads the EAC filing, Kenya weighs more: every copy gets the level Kenya's market gives."""
    symbols = ["G/TBT/N/BDI/600", "G/TBT/N/KEN/1600", "G/TBT/N/RWA/1100"]
    alone = classifier.assess(make_notice(symbol=symbols[0], member="Burundi", title="Toys", products="Toys"),
                              today=today)
    joint = classifier.assess(make_notice(symbol=symbols[0], symbols=symbols, member="Burundi", title="Toys",
                                          products="Toys"), today=today)
    copy = classifier.assess(make_notice(symbol=symbols[1], symbols=symbols, member="Kenya", title="Toys",
                                         products="Toys"), today=today)
    assert any("Kenya" in r for r in joint.reasons) and not any("Kenya" in r for r in alone.reasons)
    assert joint.level == copy.level
    order = ["none", "low", "medium", "high"]
    assert order.index(joint.level) >= order.index(alone.level)


def test_broad_codes_do_not_add_up_to_a_general_line(classifier, make_notice, today):
    """Three battery codes are each weak evidence for general electrical equipment, not strong together."""
    notice = make_notice(title="Technical regulation", products="Primary cells",
                         hs_codes=["850610", "850680", "850650"])
    lines = [m.id for m in classifier.assess(notice, today=today).product_lines]
    assert "electrical_equipment" not in lines and {"batteries", "lithium_batteries"} <= set(lines)


def test_a_class_title_in_the_products_field_is_not_the_product(classifier, make_notice, today):
    # ePing quotes the ICS class's title after the product: petroleum jelly is HS 2712, not a cosmetic
    quoted = make_notice(title="", products="Petroleum jelly (HS code(s): 271210); Cosmetics. Toiletries "
                                            "(ICS code(s): 71.100.70)")
    assert not classifier.assess(quoted, today=today).relevant
    hidden = make_notice(title="", products="Petroleum jelly (); Cosmetics. Toiletries ()")  # labels removed
    assert not classifier.assess(hidden, today=today).relevant
    named = make_notice(title="", products="Lip make-up; Cosmetics. Toiletries (ICS code(s): 71.100.70)")
    line = next(m for m in classifier.assess(named, today=today).product_lines if m.id == "cosmetics")
    assert line.score == 1.0 and ("products", "Lip make-up") in {(e.field, e.text) for e in line.evidence}

