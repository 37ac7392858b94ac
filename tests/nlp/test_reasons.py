"""Reasons in English and Chinese: one structured list, two renderings from config/catalogue/reasons.yaml."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from nlp.reasons import REASON_PARAMS, Count, Named, Reason, ReasonTexts

REASONS_FILE = Path(__file__).resolve().parents[2] / "config" / "catalogue" / "reasons.yaml"
BATTERY = "Lithium-ion batteries and power banks: safety requirements"


def test_chinese_reasons_follow_the_english_ones_with_chinese_names(classifier, make_notice, today):
    a = classifier.assess(make_notice(symbol="G/TBT/N/EU/9001", member="European Union", title=BATTERY,
                                      comment_deadline=(today + dt.timedelta(days=1)).isoformat()), today=today)
    assert len(a.reasons) == len(a.reasons_zh) >= 6
    assert a.reasons[0].startswith("Matches the product line Lithium batteries (score 1.00; export exposure")
    assert a.reasons_zh[0].startswith("匹配产品线“锂电池”（匹配度 1.00；出口权重")
    assert a.reasons[1].startswith("Also matches ") and "Power banks" in a.reasons[1]
    assert a.reasons_zh[1].startswith("同时匹配：") and "移动电源" in a.reasons_zh[1]
    assert "Market: European Union (weight 1.0)" in a.reasons and "市场：欧盟（权重 1.0）" in a.reasons_zh
    assert f"Only 1 day left to comment (until {today + dt.timedelta(days=1)})" in a.reasons
    assert f"距评议截止仅剩 1 天（截至 {today + dt.timedelta(days=1)}）" in a.reasons_zh
    assert a.level == "high" and a.reasons[-1].startswith("Overall score ")
    assert a.reasons[-1].endswith(", so the level is high") and a.reasons_zh[-1].endswith("预警等级为“高”")
    assert a.to_dict()["reasons_zh"] == a.reasons_zh


def test_not_relevant_and_excluded_terms_in_both_languages(classifier, make_notice, today):
    a = classifier.assess(make_notice(title="Household appliances, excluding batteries"), today=today)
    excluded = [r for r in a.reasons if r.startswith("Not counted for")]
    assert excluded == ['Not counted for Batteries and cells: "batteries" is in an exclusion clause']
    assert a.reasons_zh[a.reasons.index(excluded[0])] == "未计入电池：“batteries”位于排除条款中"
    none = classifier.assess(make_notice(title="Maximum residue limits for pesticides in rice"), today=today)
    assert none.reasons_zh == ["未匹配出口目录中的任何产品线"]


def test_counts_take_the_singular_only_for_one():
    assert f"{Count(1):day|days}" == "1 day" and f"{Count(3):day|days}" == "3 days" and f"{Count(2)}" == "2"


def test_every_reason_code_has_both_texts_and_renders():
    texts = ReasonTexts.load(REASONS_FILE)
    sample = {"line": Named("Toys", "玩具"), "lines": [Named("Toys", "玩具"), Named("Games", "游戏")], "score": 0.5,
              "exposure": 0.8, "measure": "voluntary_standard", "cue": "voluntary", "kind": "corrigendum",
              "member": Named("Kenya", "肯尼亚"), "weight": 0.2, "date": "2026-01-01", "days": Count(2),
              "level": "low", "text": "toys"}
    reasons = [Reason(code, {p: sample[p] for p in params}) for code, params in REASON_PARAMS.items()]
    english, chinese = texts.render(reasons, "en"), texts.render(reasons, "zh")
    assert len(english) == len(chinese) == len(REASON_PARAMS)
    assert "Also matches Toys; Games" in english and "同时匹配：玩具、游戏" in chinese
    assert "Notice kind: corrigendum" in english and "通报类型：勘误" in chinese
    assert all("{" not in r for r in english + chinese)


@pytest.mark.parametrize("change, message", [
    (("product_line:\n    en: \"", "product_line:\n    en: \"{colour} "), "product_line.en uses {colour}"),
    (("  no_match:\n    en: No product line of the catalogue matches\n    zh: 未匹配出口目录中的任何产品线\n", ""),
     "reason 'no_match' has no texts"),
    (("    zh: 未给出评议截止日期\n", ""), "deadline_unknown.zh is missing"),
    (("templates:\n", "templates:\n  shrug:\n    en: x\n    zh: y\n"), "unknown reason 'shrug'"),
])
def test_a_broken_reasons_file_is_refused_naming_the_problem(tmp_path, change, message):
    bad = tmp_path / "reasons.yaml"
    text = REASONS_FILE.read_text(encoding="utf-8")
    assert change[0] in text
    bad.write_text(text.replace(change[0], change[1], 1), encoding="utf-8")
    with pytest.raises(ValueError, match=str(bad)) as error:
        ReasonTexts.load(bad)
    assert message in str(error.value)


def test_a_rules_value_without_a_label_fails_at_start():
    texts = ReasonTexts.load(REASONS_FILE)
    with pytest.raises(ValueError, match="labels: measure has no texts for import_ban"):
        texts.require_labels("measure", ["mandatory_regulation", "import_ban"])


def test_hashes_the_caller_has_are_used(classifier, make_notice, today):
    notices = [make_notice(symbol="G/TBT/N/USA/1", title="Toys"), make_notice(symbol="G/TBT/N/USA/2", title="Tea")]
    results = classifier.assess_many(notices, today, hashes=["a" * 16, "b" * 16])
    assert [a.notice_hash for a in results] == ["a" * 16, "b" * 16]
    assert classifier.assess_many(notices, today)[1].notice_hash == notices[1].content_hash()
    with pytest.raises(ValueError, match="1 hashes given for 2 notices"):
        classifier.assess_many(notices, today, hashes=["a" * 16])
