"""HS codes as notices write them, and the HS 2022 nomenclature they are checked against."""

from __future__ import annotations

import re

import pytest

from tbtwatch.hs import HSCodeError, HSNomenclature, find_hs_codes, load_nomenclature, normalise_hs


@pytest.mark.parametrize(
    ("text", "digits"),
    [
        ("9401.80", "940180"),
        ("7217.3011", "721730"),  # Indonesian 8-digit tariff line, cut to the international 6
        ("7217.30.11", "721730"),
        ("02.01", "0201"),
        ("HS 8507.60.00", "850760"),
        ("Chapter 85", "85"),
        ("第85章", "85"),
        ("01063", "0106"),  # a 5-digit group is cut to its heading
        ("0406.3000", "040630"),
        ("08051000", "080510"),
        ("8418.69.90.00", "841869"),
        ("HS编码:9401.80", "940180"),
        ("HS 代码: 02.01", "0201"),
        ("HS編碼:7217.3011", "721730"),
        ("HS code(s): 330410", "330410"),
        ("HS: 8506", "8506"),
        (" 8539", "8539"),
        ("8507 60", "850760"),
        ("95", "95"),
    ],
)
def test_normalise_real_forms(text, digits):
    assert normalise_hs(text) == digits


@pytest.mark.parametrize("text", ["", "HS", "abc", "9", "00", "0012", "8418.69.90.00.9A", "ICS 97.190"])
def test_normalise_rejects_non_codes_with_an_example(text):
    with pytest.raises(HSCodeError, match=r"is not an HS code"):
        normalise_hs(text)


def test_every_dev_hs_code_normalises_to_its_own_prefix(dev_records):
    codes = [c for r in dev_records for c in r["hs_codes"]]
    assert len(codes) > 80
    for code in codes:
        digits = normalise_hs(code)
        assert len(digits) in (2, 4, 6) and code.startswith(digits)


def test_find_hs_codes_on_dev_code_lists(dev_records):
    """The codes a page lists, joined as a portal joins them, come back normalised and in order."""
    for record in dev_records:
        for separator in (";", "、", ", ", "   "):
            expected = list(dict.fromkeys(normalise_hs(c) for c in record["hs_codes"]))
            assert find_hs_codes(separator.join(record["hs_codes"])) == expected


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("7217.3011;7217.3021;7217.3034;7217.9090;7229.9020", ["721730", "721790", "722990"]),
        ("1001、1002、1003", ["1001", "1002", "1003"]),
        ("02.01, 02.02, 02.03 and 02.09", ["0201", "0202", "0203", "0209"]),
        ("8450   8516   8525   9907", ["8450", "8516", "8525", "9907"]),
        ("8450 8516 8525", ["8450", "8516", "8525"]),
        ("8507 60; 8506 10 00", ["850760", "850610"]),
        ("120740, 170490", ["120740", "170490"]),
        ("7321.81;8", ["732181"]),  # a cut-off last code is dropped, not guessed
        ("", []),
    ],
)
def test_find_hs_codes_in_lists(text, codes):
    assert find_hs_codes(text) == codes


def test_find_hs_codes_on_the_real_page_lines(page_text):
    page = page_text("klkj_trad_IDN_118.txt")
    line = next(ln for ln in page.splitlines() if ln.startswith("HS編碼"))
    assert find_hs_codes(re.split(r"[:：]", line, maxsplit=1)[1]) == ["721730", "721790", "722990"]
    japan = page_text("gsiic_SPS_JPN_196.txt")
    meat = re.search(r"肉与可食用内脏\(HS: ([^)]*)\)", japan)
    assert meat and find_hs_codes(meat.group(1)) == [f"02{n:02d}" for n in range(1, 10)]


def test_nomenclature_counts_match_the_data_readme(nomenclature):
    assert len(nomenclature.entries(2)) == 97
    assert len(nomenclature.entries(4)) == 1229
    assert len(nomenclature.entries(6)) == 5613
    assert len(nomenclature) == 97 + 1229 + 5613
    for level in (2, 4, 6):
        assert all(len(e.code) == level for e in nomenclature.entries(level))


def test_nomenclature_entries_link_up(nomenclature):
    battery = nomenclature.get("850760")
    assert battery is not None and "lithium" in battery.description.lower()
    assert battery.parent == "8507" and nomenclature.get("8507").parent == "85"
    assert "850760" in nomenclature and "859999" not in nomenclature
    assert nomenclature.description("859999") == ""


def test_validate(nomenclature):
    assert nomenclature.validate("HS 8507.60.00") == "850760"
    assert nomenclature.validate("Chapter 85") == "85"
    with pytest.raises(HSCodeError, match=r"'9822': HS code 9822 is not in the HS 2022 nomenclature"):
        nomenclature.validate("9822")  # a national chapter-98 line (Philippines), not an HS code
    with pytest.raises(HSCodeError, match="is not an HS code"):
        nomenclature.validate("ICS 97.190")


# Dev codes that are not HS 2022 subheadings, each for a reason the archive must live with.
NOT_IN_HS_2022 = {
    "08052000": "HS 2017 mandarins; HS 2022 split 0805.20 into 0805.21/22/29",
    "81389000": "printed as given by the portal; chapter 81 has no heading 8138",
    "9802": "national chapter 98", "9822": "national chapter 98",
    "9901": "national chapter 99", "9907": "national chapter 99",
}


def test_dev_codes_are_in_the_nomenclature_except_known_odd_ones(dev_records, nomenclature):
    codes = {c for r in dev_records for c in r["hs_codes"]}
    assert set(NOT_IN_HS_2022) <= codes
    for code in codes:
        if code in NOT_IN_HS_2022:
            with pytest.raises(HSCodeError, match="not in the HS 2022 nomenclature"):
                nomenclature.validate(code)
        else:
            assert nomenclature.validate(code) == normalise_hs(code)


def test_missing_nomenclature_file_says_which_setting_to_fix(tmp_path):
    missing = tmp_path / "nowhere.csv"
    with pytest.raises(FileNotFoundError) as err:
        HSNomenclature.load(missing)
    assert str(missing) in str(err.value)
    assert "paths.hs_nomenclature" in str(err.value) and "TBTWATCH_PATHS_HS_NOMENCLATURE" in str(err.value)


def test_load_nomenclature_is_read_once_per_path(nomenclature, shared_data):
    assert load_nomenclature(str(shared_data / "hs" / "harmonized-system.csv")) is nomenclature


@pytest.mark.parametrize(("code", "name"), [
    ("85", "电机与设备"),               # Taiwan's chapter text without its "第85章" prefix
    ("8507", "蓄电池"),                 # traditional 蓄電池 in simplified script
    ("850760", "锂离子蓄电池"),          # China Customs' line where Taiwan's text is relative
    ("850610", "原电池及原电池组：二氧化锰者"),  # a relative subheading text with its heading in front
    ("8806", "无人驾驶航空器"),          # an HS 2022 heading Taiwan's 2017 file lacks
    ("392690", "3901"),                 # full-width digits made plain
])
def test_every_kind_of_code_has_a_chinese_name(nomenclature, code, name):
    assert name in nomenclature.name_zh(code)


def test_chinese_names_cover_the_nomenclature(nomenclature):
    """Every chapter, heading and subheading but the national chapter 99 is named in Chinese."""
    unnamed = [e.code for e in nomenclature.entries() if not nomenclature.name_zh(e.code)]
    assert unnamed == ["99", "9999", "999999"]
    assert "锂离子蓄电池" in nomenclature.names_zh("8507")
    assert any("lithium" in n.lower() for n in nomenclature.names_en_extra("8507"))


def test_without_the_chinese_files_names_are_empty_not_an_error(tmp_path, shared_data):
    english = tmp_path / "harmonized-system.csv"
    english.write_bytes((shared_data / "hs" / "harmonized-system.csv").read_bytes())
    alone = HSNomenclature.load(english)
    assert alone.description("8507") and alone.name_zh("8507") == ""
