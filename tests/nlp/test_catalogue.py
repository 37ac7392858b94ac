"""The catalogue file and its loader's errors."""

from __future__ import annotations

import pytest

from nlp.catalogue import CatalogueError, load_catalogue

GOOD_LINE = """\
  - id: {id}
    name_en: Power banks
    name_zh: 移动电源
    hs: ["850760"]
    weight: 0.8
    terms_en: [power bank]
    terms_zh: [移动电源]
"""


def test_shenzhen_catalogue_covers_the_required_lines(catalogue, nomenclature):
    assert len(catalogue) >= 40
    required_codes = ["8517", "8471", "8542", "8534", "8528", "8507", "8504", "8544", "9405", "8516", "8518",
                      "8525", "8806", "8703", "8711", "8541", "8543", "9503", "9018", "3304", "61", "64", "9403",
                      "7113", "9102", "3923", "3924"]
    covered = {prefix for line in catalogue.lines for prefix in line.hs}
    for code in required_codes:
        assert any(p.startswith(code) or code.startswith(p) for p in covered), code
    for line in catalogue.lines:
        assert line.terms_en and line.terms_zh and line.name_en and line.name_zh and 0 <= line.weight <= 1
        assert all(code in nomenclature for code in line.hs)


def test_the_issue_examples_are_terms(catalogue):
    terms = {(t, line.id) for line in catalogue.lines for t in (*line.terms_en, *line.terms_zh)}
    for term, line_id in [("lithium-ion battery", "lithium_batteries"), ("锂离子电池", "lithium_batteries"),
                          ("power bank", "power_banks"), ("移动电源", "power_banks"),
                          ("electronic cigarette", "e_cigarettes"), ("vaping device", "e_cigarettes"),
                          ("电子烟", "e_cigarettes")]:
        assert (term, line_id) in terms


def write(tmp_path, body: str, name: str = "catalogue.yaml"):
    path = tmp_path / name
    path.write_text("version: 1\nlines:\n" + body, encoding="utf-8")
    return path


def test_bad_entries_are_all_reported_with_id_and_line(tmp_path, nomenclature):
    body = (GOOD_LINE.format(id="power_banks")
            + GOOD_LINE.format(id="power_banks")
            + GOOD_LINE.format(id="chargers").replace('["850760"]', '["850799", "8504"]')
            + GOOD_LINE.format(id="cables").replace("terms_zh: [移动电源]", "terms_zh: []"))
    with pytest.raises(CatalogueError) as err:
        load_catalogue(write(tmp_path, body), nomenclature)
    problems = err.value.problems
    assert any(p.startswith("line 10: power_banks: duplicate id (first used at line 3)") for p in problems)
    assert any(p.startswith("line 17: chargers: unknown HS code 850799") for p in problems)
    assert any(p.startswith("line 24: cables: terms_zh is empty") for p in problems)
    assert len(problems) == 3
    assert "catalogue.yaml" in str(err.value)


def test_malformed_values_are_named(tmp_path, nomenclature):
    body = GOOD_LINE.format(id="Bad-Id").replace("weight: 0.8", "weight: 3").replace('["850760"]', "[85076]")
    with pytest.raises(CatalogueError) as err:
        load_catalogue(write(tmp_path, body), nomenclature)
    text = "\n".join(err.value.problems)
    assert "id must be lower-case" in text and "weight 3 must be a number from 0 to 1" in text
    assert "HS code '85076' must be 2, 4 or 6 digits" in text


def test_malformed_yaml_and_missing_file(tmp_path, nomenclature):
    path = tmp_path / "broken.yaml"
    path.write_text("lines: [\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match="malformed YAML"):
        load_catalogue(path, nomenclature)
    with pytest.raises(CatalogueError, match="file not found"):
        load_catalogue(tmp_path / "absent.yaml", nomenclature)


def test_a_folder_of_files_is_one_catalogue(tmp_path, nomenclature):
    write(tmp_path, GOOD_LINE.format(id="power_banks"), "a.yaml")
    write(tmp_path, GOOD_LINE.format(id="chargers").replace('["850760"]', '["850440"]'), "b.yaml")
    (tmp_path / "levels.yaml").write_text("thresholds: {high: 0.5}\n", encoding="utf-8")
    catalogue = load_catalogue(tmp_path, nomenclature)
    assert catalogue.ids == ["power_banks", "chargers"]
    assert catalogue.get("chargers").covers("85044010") and not catalogue.get("chargers").covers("8504")
    write(tmp_path, GOOD_LINE.format(id="chargers"), "c.yaml")
    with pytest.raises(CatalogueError, match="duplicate id chargers across files"):
        load_catalogue(tmp_path, nomenclature)
