"""Warning-level rules: relevance, measure type, market, notice kind and days left each move the level."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlp.levels import LevelRules
from tbtwatch.members import default_members


RULES_FILE = Path(__file__).resolve().parents[2] / "config" / "catalogue" / "levels.yaml"
BATTERY = "Lithium-ion batteries and power banks: safety requirements"


def level(classifier, make_notice, today, **fields):
    a = classifier.assess(make_notice(**fields), today=today)
    return a.level, a.reasons


ORDER = {"none": 0, "low": 1, "medium": 2, "high": 3}


def test_a_relevant_new_regulation_from_a_big_market_is_high(classifier, make_notice, today):
    lvl, reasons = level(classifier, make_notice, today, title=BATTERY)
    assert lvl == "high"
    assert reasons[0].startswith("Matches the product line Lithium")
    assert "Measure type: mandatory technical regulation" in reasons
    assert "Notice kind: new regular notification" in reasons
    assert "Market: United States (weight 1.0)" in reasons
    assert "40 days left to comment (until 2026-04-11)" in reasons


def test_not_relevant_is_none(classifier, make_notice, today):
    lvl, reasons = level(classifier, make_notice, today, title="Maximum residue limits for pesticides in cereals")
    assert (lvl, reasons) == ("none", ["No product line of the catalogue matches"])


@pytest.mark.parametrize("change, reason", [
    ({"symbol": "G/TBT/N/USA/9001/Add.1", "description": "The comment period is extended until 30 May."},
     "Notice kind: addendum that only extends the comment period"),
    ({"symbol": "G/TBT/N/KEN/9001", "member": "Kenya"}, "Market: Kenya (weight {KEN})"),
    ({"symbol": "G/TBT/N/XYZ/9001", "member": "Nowhere"},
     "Market: XYZ (weight 0.3; the member is not in config/members.yaml)"),
    ({"comment_deadline": "2026-02-27"},  # three days before the `today` fixture
     "The comment period closed on 2026-02-27 (3 days ago)"),
    ({"symbol": "G/SPS/N/USA/9001"}, "Measure type: SPS measure"),
    ({"description": "Voluntary standard for battery safety."},
     "Measure type: voluntary standard (the text says \"voluntary standard\")"),
])
def test_each_factor_lowers_the_level_and_says_why(classifier, change, reason, make_notice, today):
    base, _ = level(classifier, make_notice, today, title=BATTERY)
    lvl, reasons = level(classifier, make_notice, today, **{"title": BATTERY, **change})
    assert reason.replace("{KEN}", f"{default_members().get('KEN').weight:.1f}") in reasons
    assert ORDER[lvl] < ORDER[base], reasons


def test_an_addendum_with_new_content_counts_more_than_a_deadline_extension(classifier, make_notice, today):
    content, _ = level(classifier, make_notice, today, symbol="G/TBT/N/EU/9001/Add.1", member="EU", title=BATTERY,
                       description="The regulation was adopted with new labelling requirements.",
                       comment_deadline=None)
    extension, _ = level(classifier, make_notice, today, symbol="G/TBT/N/EU/9001/Add.1", member="EU", title=BATTERY,
                         description="延长评议期至2026年5月30日。", comment_deadline=None)
    assert ORDER[content] > ORDER[extension]


def test_conformity_assessment_cues_in_chinese(classifier, make_notice, today):
    a = classifier.assess(make_notice(title="锂电池产品强制性认证实施规则", language="zh"), today=today)
    assert a.measure_type == "conformity_assessment"
    assert "Measure type: conformity assessment procedure (the text says \"认证\")" in a.reasons
    assert "措施类型：合格评定程序（依据文中“认证”）" in a.reasons_zh


def test_few_days_left_is_urgent(classifier, make_notice, today):
    a = classifier.assess(make_notice(title=BATTERY, comment_deadline="2026-03-09"), today=today)
    assert "Only 7 days left to comment (until 2026-03-09)" in a.reasons


def test_rules_file_loads_and_rejects_unknown_keys(tmp_path):
    rules = LevelRules.load(RULES_FILE)
    assert rules.thresholds["high"] > rules.thresholds["medium"]
    assert "认证" in rules.measure_cues["conformity_assessment"]
    bad = tmp_path / "levels.yaml"
    bad.write_text("thresholds: {high: 0.5}\nloudness: 11\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown key 'loudness'"):
        LevelRules.load(bad)
