"""The HS/ICS code extractor on products-covered strings in the shapes real notices use."""

from __future__ import annotations

import pytest

from nlp.codes import extract_codes, given_hs_codes, hide_codes
from nlp.training import known_labels


def hs(text, known=None):
    return given_hs_codes(extract_codes(text, known))


@pytest.mark.parametrize("text, expected", [
    ("Lithium-ion accumulators (HS 8507.60)", ["850760"]),
    ("Primary cells; lithium (HS code(s): 850650); Batteries (ICS code(s): 29.220.10)", ["850650"]),
    ("Button cells (HS 850650), power banks", ["850650"]),
    ("充电宝\nHS编码:8507.60   ICS编码:29.220.20", ["850760"]),
    ("电动自行车(HS代码: 8711.60)及其零件(HS代码: 8714.10)", ["871160", "871410"]),
    ("玩具 HS:9503;9504;9505 ICS:97.200.50", ["9503", "9504", "9505"]),
    ('电池 ICS:[{"uid":"29.220"}]      HS:[{"uid":" 8506"}]', ["8506"]),
    ("扫地机器人(CCCN 8508.11.00.00.1A, 8508.19.00.00.9B)", ["850811", "850819"]),
    ("Electrical machinery (Chapter 85)", ["85"]),
    ("本通报涉及第85章的电气产品", ["85"]),
    ("Televisions (HS 8528.72 to 8528.73)", ["852872", "852873"]),
    ("Fans and hoods (HS 8414.51, 8414.59 and 8414.60)", ["841451", "841459", "841460"]),
    ("手机(HS编码:8517.13、8517.14和8517.79)", ["851713", "851714", "851779"]),
])
def test_extracts_member_given_codes(text, expected, nomenclature):
    assert hs(text, nomenclature) == expected


def test_ranges_expand_to_the_headings_the_nomenclature_has(nomenclature):
    assert hs("Electric motors and generators (HS 8501-8504)", nomenclature) == ["8501", "8502", "8503", "8504"]


def test_national_tariff_lines_fall_back_to_their_international_stem(nomenclature):
    # 0805.20 was split in HS 2017; an old national line keeps its heading
    assert hs("Mandarins (HS 0805.20.00)", nomenclature) == ["0805"]


def test_numbers_without_a_label_are_not_codes(nomenclature):
    assert hs("Regulation 2023/1542 of 12 July 2023, 60 days, 8507 units", nomenclature) == []
    assert hs("The HSS 8507 and physics 33.020", nomenclature) == []


def test_ics_codes_are_reported_as_ics():
    mentions = extract_codes("Lamps (ICS 29.140.99); Luminaires (ICS code(s): 29.140.40)")
    assert [(m.kind, m.code) for m in mentions] == [("ics", "29.140.99"), ("ics", "29.140.40")]


def test_codes_in_an_exclusion_clause_are_marked_excluded(nomenclature):
    text = "测量仪表,不包括税目为90.14、90.15的仪器(HS 9026)"
    mentions = [m for m in extract_codes(text, nomenclature) if m.kind == "hs"]
    assert [(m.code, m.excluded) for m in mentions] == [("9014", True), ("9015", True), ("9026", False)]
    assert given_hs_codes(mentions) == ["9026"]
    english = "Electrical equipment (HS 85), excluding heading 8507 and HS 8506; chargers (HS 8504.40)"
    assert given_hs_codes(extract_codes(english, nomenclature)) == ["85", "850440"]


def test_hide_codes_removes_labels_and_codes_but_keeps_words():
    hidden = hide_codes("锂电池(HS编码:8507.60); Lithium cells (HS code(s): 850650); Batteries (ICS 29.220)")
    assert "8507" not in hidden and "850650" not in hidden and "29.220" not in hidden
    assert "锂电池" in hidden and "Lithium cells" in hidden and "Batteries" in hidden
    assert extract_codes(hidden) == []


def test_agrees_with_the_codes_real_portals_list(dev_records, nomenclature):
    """On the real products fields, every code the portal lists is found where the text writes it."""
    compared = exact = 0
    for record in dev_records:
        given = set(known_labels(record.get("hs_codes") or [], nomenclature))
        found = set(hs(record.get("products") or "", nomenclature))
        if not given or not found:
            continue
        compared += 1
        assert given <= found, (record["symbol"], sorted(given), sorted(found))
        exact += found == given
    assert compared >= 40
    assert exact / compared >= 0.9
