"""Matching filters to notices: HS prefixes both ways, members, keywords (whole words, Chinese), levels,
exclusions, and the index giving exactly the brute-force answer."""

from __future__ import annotations

import random

import pytest

from alerts.matching import SubscriptionIndex
from alerts.rules import Evidence, Filter, NoticeFacts, Rule, evaluate_filter
from tbtwatch.model import notice_from_dict

from .conftest import ASSESSMENTS, NOTICES

FACTS = {d["symbol"]: NoticeFacts.build(notice_from_dict(d), a) for d, a in zip(NOTICES, ASSESSMENTS, strict=True)}


def matched(rule: Rule, exclude: list[Rule] = ()) -> set[str]:
    flt = Filter(rule, list(exclude))
    return {symbol for symbol, facts in FACTS.items() if evaluate_filter(flt, facts) is not None}


@pytest.mark.parametrize(
    "prefix, expected",
    [
        ("85", {"G/TBT/N/EU/1100", "G/TBT/N/KEN/1500", "G/TBT/N/CHN/800"}),
        ("8507", {"G/TBT/N/EU/1100", "G/TBT/N/CHN/800"}),
        ("850760", {"G/TBT/N/EU/1100", "G/TBT/N/CHN/800"}),
        ("850780", set()),
        ("8508", set()),
        (
            "940510",
            {"G/TBT/N/USA/2100"},
        ),  # the notice gives the heading 9405: it covers the subscriber's 940510
    ],
)
def test_hs_prefix(prefix, expected):
    assert matched(Rule(hs=[prefix])) == expected


def test_hs_evidence_names_code_and_origin():
    evidence = evaluate_filter(Filter(Rule(hs=["8507"])), FACTS["G/TBT/N/EU/1100"])
    assert evidence[0] == Evidence("hs", "8507", "850760", "given") and not evidence[0].covers


def test_inferred_code_matches_with_its_score():
    facts = NoticeFacts.build(
        notice_from_dict(NOTICES[5]), {"hs_inferred": [{"code": "950300", "score": 0.72}]}
    )
    evidence = evaluate_filter(Filter(Rule(hs=["9503"])), facts)
    assert evidence == [Evidence("hs", "9503", "950300", "inferred", 0.72)]


def test_a_wider_notice_code_covers_the_readers():
    (evidence,) = evaluate_filter(Filter(Rule(hs=["940510"])), FACTS["G/TBT/N/USA/2100"])
    assert evidence == Evidence("hs", "940510", "9405", "given") and evidence.covers


def test_member_narrows_topic():
    assert matched(Rule(hs=["85"], members=["EU"])) == {"G/TBT/N/EU/1100"}
    assert matched(Rule(members=["KEN"])) == {"G/TBT/N/KEN/1500"}


def test_keywords_whole_words_and_chinese():
    assert matched(Rule(keywords=["mobile phone"])) == {"G/TBT/N/KEN/1500"}
    assert matched(Rule(keywords=["lead"])) == set()  # "leading" is not "lead"
    assert matched(Rule(keywords=["锂电池"])) == {"G/TBT/N/CHN/800"}
    assert matched(Rule(keywords=["锂离子"])) == {"G/TBT/N/EU/1100"}  # in the Chinese translation


def test_product_line_and_area_and_level():
    assert matched(Rule(product_lines=["toys"])) == {"G/TBT/N/EU/1000", "G/TBT/N/EU/1000/Add.1"}
    assert matched(Rule(areas=["SPS"])) == {"G/SPS/N/JPN/900"}
    assert matched(Rule(min_level="high")) == {"G/TBT/N/EU/1100"}
    assert matched(Rule(hs=["85"], min_level="medium")) == {"G/TBT/N/EU/1100", "G/TBT/N/CHN/800"}


def test_exclude_rule_drops_a_match():
    assert matched(Rule(hs=["85"]), [Rule(members=["KEN"]), Rule(keywords=["锂电池"])]) == {"G/TBT/N/EU/1100"}


def _random_rule(rng: random.Random) -> Rule:
    return Rule(
        hs=rng.sample(["85", "8507", "850760", "9405", "940510", "0303", "95", "8517"], rng.randint(0, 2)),
        product_lines=rng.sample(
            ["toys", "lithium_batteries", "led_lighting", "mobile_phones"], rng.randint(0, 1)
        ),
        keywords=rng.sample(["mobile phone", "锂电池", "battery", "玩具", "fish"], rng.randint(0, 1)),
        members=rng.sample(["EU", "USA", "KEN", "JPN", "CHN"], rng.randint(0, 2)),
        areas=rng.sample(["TBT", "SPS"], rng.randint(0, 1)),
        min_level=rng.choice(["none", "none", "low", "medium", "high"]),
    )


def test_index_gives_the_brute_force_answer():
    rng = random.Random(5)
    filters = [
        Filter(_random_rule(rng), [_random_rule(rng)] if rng.random() < 0.2 else [], id=i, subscriber_id=i)
        for i in range(400)
    ]
    filters = [f for f in filters if not f.include.is_empty()]
    index = SubscriptionIndex(filters)
    total = 0
    for facts in FACTS.values():
        expected = {f.id for f in filters if evaluate_filter(f, facts) is not None}
        got = {m.filter.id for m in index.match(facts)}
        assert got == expected
        total += len(got)
        assert len(index.candidates(facts)) < len(filters)  # the index prunes
    assert total > 50  # the random filters do match things, so the comparison means something


@pytest.mark.parametrize(
    "symbol, keyword, shown",
    [
        # the notice's own words around the match, not the normalised "due diligence and labelling ..."
        ("G/TBT/N/EU/1100", "due diligence", "The draft sets due-diligence and labelling requirements for rechargeable…"),
        ("G/TBT/N/EU/1100", "锂离子", "关于电动自行车锂离子电池安全的法规草案"),
        ("G/TBT/N/KEN/1500", "chargers", "Requirements for mobile phone chargers & <b>cables</b>; not leading anything."),
    ],
)
def test_keyword_evidence_shows_a_window_of_the_original_text(symbol, keyword, shown):
    (evidence,) = evaluate_filter(Filter(Rule(keywords=[keyword])), FACTS[symbol])
    assert evidence.kind == "keyword" and evidence.detail == shown


def test_keyword_window_cuts_at_words_and_stays_on_the_line():
    from alerts.rules import keyword_window

    text = "Toys; dolls\nDEAS 1234: 2025, Toys - Safety requirements - Part 1: Mechanical and physical properties"
    assert keyword_window(text, "safety requirements") == (
        "DEAS 1234: 2025, Toys - Safety requirements - Part 1: Mechanical and physical properties"
    )
    assert keyword_window(text, "mechanical") == "…2025, Toys - Safety requirements - Part 1: Mechanical and physical properties"
    assert keyword_window("ＬＥＤ lamps", "led lamps") == "LED lamps"  # found in the NFKC form


def test_only_the_leading_inferred_headings_match():
    ranked = [{"code": "8504", "score": 0.141}, {"code": "3304", "score": 0.091}, {"code": "8544", "score": 0.076},
              {"code": "8517", "score": 0.071}, {"code": "0402", "score": 0.06}]
    facts = NoticeFacts.build(notice_from_dict(NOTICES[5]), {"hs_inferred": ranked})
    inferred = {code for code, (origin, _) in facts.codes.items() if origin == "inferred"}
    assert inferred == {"8504", "3304", "8544"}  # 0.076 >= half of 0.141; 8517 is fourth; 0402 is noise
    weak_tail = [{"code": "8504", "score": 0.3}, {"code": "0402", "score": 0.1}]
    facts = NoticeFacts.build(notice_from_dict(NOTICES[5]), {"hs_inferred": weak_tail})
    assert "0402" not in facts.codes


def test_a_domestic_measure_meets_no_filter():
    """China's own notification makes no export alert, however well it matches."""
    chinese = next(d for d in NOTICES if d["symbol"] == "G/TBT/N/CHN/800")
    assessment = {**ASSESSMENTS[NOTICES.index(chinese)], "domestic": True}
    facts = NoticeFacts.build(notice_from_dict(chinese), assessment)
    assert evaluate_filter(Filter(Rule(hs=["8507"])), FACTS["G/TBT/N/CHN/800"]) is not None
    assert evaluate_filter(Filter(Rule(hs=["8507"])), facts) is None
    index = SubscriptionIndex([Filter(Rule(hs=["8507"]))])
    assert index.match(facts) == []
