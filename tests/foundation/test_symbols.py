"""Symbols as the real portals write them: the natural key must survive every spelling."""

from __future__ import annotations

import pytest

from tbtwatch.symbols import Symbol, SymbolError, find_symbols, normalise_symbol, parse_symbol

from .conftest import GARBLED_SYMBOL


def test_every_dev_symbol_parses_to_itself(valid_records):
    written = {s for r in valid_records for s in [r["symbol"], *r["symbols"]]}
    assert len(written) > 100
    for text in written:
        assert str(parse_symbol(text)) == text


def test_the_garbled_dev_symbol_is_refused_with_the_reason(dev_records):
    garbled = [r for r in dev_records if r["symbol"] == GARBLED_SYMBOL]
    assert len(garbled) == 1, "the dev set is expected to hold exactly one record with a lost member code"
    with pytest.raises(SymbolError) as err:
        parse_symbol(garbled[0]["symbol"])
    message = str(err.value)
    assert GARBLED_SYMBOL in message
    assert "member code" in message and "G/TBT/N/USA/2034" in message


@pytest.mark.parametrize(
    ("text", "canonical", "kind", "base", "parent"),
    [
        ("G/TBT/N/EU/1132/Rev.1/Add.2", "G/TBT/N/EU/1132/Rev.1/Add.2", "addendum", "G/TBT/N/EU/1132",
         "G/TBT/N/EU/1132/Rev.1"),
        ("G/SPS/N/CHN/1300/Add.1", "G/SPS/N/CHN/1300/Add.1", "addendum", "G/SPS/N/CHN/1300", "G/SPS/N/CHN/1300"),
        ("G/TBT/N/USA/2034", "G/TBT/N/USA/2034", "regular", "G/TBT/N/USA/2034", None),
        (" G / TBT / N / USA / 2034 / Add . 1 ", "G/TBT/N/USA/2034/Add.1", "addendum", "G/TBT/N/USA/2034",
         "G/TBT/N/USA/2034"),
        ("g/tbt/n/tpkm/425/add.5", "G/TBT/N/TPKM/425/Add.5", "addendum", "G/TBT/N/TPKM/425", "G/TBT/N/TPKM/425"),
        ("G／SPS／N／JPN／196", "G/SPS/N/JPN/196", "regular", "G/SPS/N/JPN/196", None),
        ("G/TBT/N/BDI/196/Corr.1", "G/TBT/N/BDI/196/Corr.1", "corrigendum", "G/TBT/N/BDI/196", "G/TBT/N/BDI/196"),
        ("G/TBT/N/ECU/466/Rev.1", "G/TBT/N/ECU/466/Rev.1", "revision", "G/TBT/N/ECU/466", "G/TBT/N/ECU/466"),
        ("G/SPS/N/EU/715/Suppl.1", "G/SPS/N/EU/715/Suppl.1", "supplement", "G/SPS/N/EU/715", "G/SPS/N/EU/715"),
        ("G/TBT/N/USA/1/Rev1", "G/TBT/N/USA/1/Rev.1", "revision", "G/TBT/N/USA/1", "G/TBT/N/USA/1"),
        ("G/TBT/Notif.00/157", "G/TBT/Notif.00/157", "regular", "G/TBT/Notif.00/157", None),
        ("G/TBT/Notif. 98/12/Add.1", "G/TBT/Notif.98/12/Add.1", "addendum", "G/TBT/Notif.98/12",
         "G/TBT/Notif.98/12"),
    ],
)
def test_real_variants(text, canonical, kind, base, parent):
    symbol = parse_symbol(text)
    assert str(symbol) == canonical == normalise_symbol(text)
    assert symbol.kind == kind
    assert str(symbol.base) == base
    assert (str(symbol.parent) if symbol.parent else None) == parent


def test_symbol_parts():
    symbol = parse_symbol("G/TBT/N/EU/1132/Rev.1/Add.2")
    assert (symbol.area, symbol.member_code, symbol.number) == ("TBT", "EU", 1132)
    assert symbol.suffixes == (("rev", 1), ("add", 2))
    assert symbol.parent.parent == symbol.base
    old = parse_symbol("G/TBT/Notif.00/157")
    assert (old.member_code, old.notif_year, old.number) == ("", "00", 157)


@pytest.mark.parametrize(
    "text",
    ["", "G/TBT/N/USA", "TBT/N/USA/1", "G/XYZ/N/USA/1", "G/TBT/N/USA/123456", "G/TBT/N/USA/1/Add",
     "G/TBT/N/USA/1/Amend.1", "G/TBT/N/USA/2034/Add.1 and more", "G/TBT/N/EU/1132Add.1", "G/TBT/N/U5A/1",
     "G/TBT/W/123", "WT/DS/1"],
)
def test_garbage_is_rejected_with_the_expected_form(text):
    with pytest.raises(SymbolError, match="expected the form G/TBT/N/USA/2034"):
        parse_symbol(text)


def test_find_symbols_on_the_multi_symbol_line_of_a_real_page(page_text):
    page = page_text("catbt_BDI_469_multiHS.txt")
    line = next(ln for ln in page.splitlines() if ln.startswith("G/TBT/N/BDI/469"))
    expected = ["G/TBT/N/BDI/469", "G/TBT/N/KEN/1615", "G/TBT/N/RWA/1016", "G/TBT/N/TZA/1123", "G/TBT/N/UGA/1927"]
    assert [str(s) for s in find_symbols(line)] == expected
    assert [str(s) for s in find_symbols(page)] == expected


def test_find_symbols_in_running_chinese_text(page_text):
    page = page_text("cnnbzj_TPKM_425_Add5.txt")
    found = [str(s) for s in find_symbols(page)]
    assert found[0] == "G/TBT/N/TPKM/425/Add.5"
    assert "G/TBT/N/TPKM/425/Add.4" in found  # the earlier addendum the description refers to


def test_find_symbols_keeps_order_drops_repeats_and_never_cuts_a_number():
    text = "见 G/SPS/N/KOR/283、g/sps/n/kor/283 及 G/TBT/N/USA/123456;G/TBT/N/USA/12/Add.3x"
    assert find_symbols(text) == [Symbol("SPS", "KOR", 283), Symbol("TBT", "USA", 12, (("add", 3),))]
    assert find_symbols("no symbol here") == []
