"""The catalogue matcher on English and Chinese text (through the real pipelines)."""

from __future__ import annotations

import pytest


def terms(classifier, lang: str, text: str) -> list[tuple[str, tuple[str, ...], bool]]:
    doc = classifier.pipelines[lang](text)
    return [(m.text, m.line_ids, m.excluded) for m in doc._.tbt_terms]


def lines(classifier, lang: str, text: str) -> set[str]:
    return {i for _, ids, excluded in terms(classifier, lang, text) if not excluded for i in ids}


def test_english_matches_lemmas_in_any_case(classifier):
    assert lines(classifier, "en", "Safety of BATTERIES and Power Banks") == {"batteries", "power_banks"}
    assert lines(classifier, "en", "requirements for electric bicycles") == {"ebikes"}


def test_hyphenated_terms_match_with_a_space_or_joined(classifier):
    for text in ("lithium-ion batteries", "lithium ion batteries", "e-bikes", "ebikes", "e bikes"):
        assert lines(classifier, "en", text), text


def test_the_longest_term_wins(classifier):
    found = terms(classifier, "en", "Lithium-ion battery packs")
    assert found[0][0] == "Lithium-ion battery" and "lithium_batteries" in found[0][1]
    assert "batteries" not in lines(classifier, "en", "lithium-ion battery")


def test_upper_case_terms_match_only_as_written(classifier):
    assert "led_lighting" in lines(classifier, "en", "LED lamps for general lighting")
    assert lines(classifier, "en", "the measure led to changes at the ends of the period") == set()


def test_chinese_terms_by_longest_match(classifier):
    assert lines(classifier, "zh", "锂离子电池和移动电源的安全要求") == {"lithium_batteries", "power_banks"}
    assert lines(classifier, "zh", "电子烟及其烟弹") == {"e_cigarettes"}
    assert lines(classifier, "zh", "关于猪肉中兽药残留限量") == set()


def test_english_words_inside_chinese_text(classifier):
    assert "power_banks" in lines(classifier, "zh", "适用于Power Banks(移动电源)")
    assert "led_lighting" in lines(classifier, "zh", "LED灯具能效")
    assert lines(classifier, "zh", "Cosmetics和Xpower banking") == {"cosmetics"}


@pytest.mark.parametrize("lang, text, kept, dropped", [
    ("en", "Electrical appliances, excluding batteries and chargers", {"household_appliances"}, "batteries"),
    ("en", "Toys (excl. electric toys); Games", {"toys"}, None),
    ("zh", "家用电器,不包括电池", {"household_appliances"}, "batteries"),
    ("zh", "除电池外的电器产品", {"electrical_equipment"}, "batteries"),
])
def test_exclusions(classifier, lang, text, kept, dropped):
    found = lines(classifier, lang, text)
    assert kept <= found
    if dropped:
        assert dropped not in found
        assert any(excluded for _, ids, excluded in terms(classifier, lang, text) if dropped in ids)


def test_exclusion_scope_ends_with_its_clause(classifier):
    assert "batteries" in lines(classifier, "en", "Chargers (excluding cables); batteries")


def test_matches_are_annotated_as_spans_by_default(catalogue, nomenclature, classifier):
    import spacy

    import nlp.components  # noqa: F401  (registers the factories)

    pipeline = spacy.blank("en")
    pipeline.add_pipe("tbtwatch_lemmatizer_v1").initialize(nlp=pipeline)
    pipeline.add_pipe("tbtwatch_hs_extractor_v1").initialize(nlp=pipeline, known_hs=nomenclature)
    pipeline.add_pipe("tbtwatch_catalogue_matcher_v1").initialize(nlp=pipeline, catalogue=catalogue)
    doc = pipeline("Safety of power banks (HS 8507.60)")
    assert [(s.text, s.label_) for s in doc.spans["tbt_terms"]] == [("power banks", "power bank")]
    assert [(s.text, s.label_) for s in doc.spans["tbt_codes"]] == [("8507.60", "hs")]
    # the classifier's own pipelines read the annotation lists and write no span groups
    inside = classifier.pipelines["en"]("Safety of power banks (HS 8507.60)")
    assert [m.text for m in inside._.tbt_terms] == ["power banks"] and not inside.spans
