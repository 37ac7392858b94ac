"""The members table: every name the portals use resolves, and the table itself is sound."""

from __future__ import annotations

import pytest
import yaml

from tbtwatch.configfile import ConfigError
from tbtwatch.members import MemberError, Members
from tbtwatch.settings import PROJECT_ROOT
from tbtwatch.symbols import SymbolError, parse_symbol

from .conftest import members_yaml

GCC_JOINT = "阿拉伯联合酋长国、巴林王国、科威特国、阿曼、卡塔尔、沙特阿拉伯王国、也门"
EAC = {"BDI", "KEN", "RWA", "TZA", "UGA"}
GCC = {"ARE", "BHR", "KWT", "OMN", "QAT", "SAU", "YEM"}


def _raw_entries() -> list[dict]:
    return yaml.safe_load((PROJECT_ROOT / "config" / "members.yaml").read_text(encoding="utf-8"))["members"]


def test_table_covers_every_wto_member(members):
    assert len(members) >= 164
    assert {"USA", "EU", "CHN", "HKG", "MAC", "TPKM", "GBR", "VNM", "COM", "TLS"} <= {m.code for m in members}
    assert members.get("SSD") is None  # South Sudan is an EAC state but only a WTO observer


def test_codes_are_unique_in_the_file():
    codes = [str(e["code"]) for e in _raw_entries()]
    assert len(codes) == len(set(codes))


def test_every_entry_is_complete_and_weighted(members):
    for m in members:
        assert m.name_en and m.name_zh, m.code
        assert any("\u4e00" <= c <= "\u9fff" for c in m.name_zh), m.code
        assert 0.0 <= m.weight <= 1.0, m.code
    assert max(members, key=lambda m: m.weight).weight == 1.0
    assert {m.code for m in members if m.weight == 1.0} == {"USA", "EU", "HKG"}


def test_groups_hold_existing_members(members):
    groups: dict[str, set[str]] = {}
    for m in members:
        for group in m.groups:
            groups.setdefault(group, set()).add(m.code)
    assert groups == {"EAC": EAC, "GCC": GCC}
    for codes in groups.values():
        assert all(members.get(code) for code in codes)


def test_every_dev_member_string_resolves_to_the_symbols_member(dev_records, members):
    """The portal's member name points at the member whose code is in the symbol(s) it published."""
    for record in dev_records:
        if record["member"] == GCC_JOINT:
            continue
        member = members.resolve(record["member"])
        codes = set()
        for text in record["symbols"]:
            try:
                codes.add(parse_symbol(text).member_code)
            except SymbolError:
                continue
        assert not codes - {""} or member.code in codes, (record["member"], codes)


def test_the_joint_gcc_string_names_all_seven(dev_records, members):
    joint = [r for r in dev_records if r["member"] == GCC_JOINT]
    assert len(joint) == 1
    found = members.find_all(joint[0]["member"])
    assert [m.code for m in found] == ["ARE", "BHR", "KWT", "OMN", "QAT", "SAU", "YEM"]
    symbol_codes = {parse_symbol(s).member_code for s in joint[0]["symbols"]}
    assert {m.code for m in found} == symbol_codes == GCC
    with pytest.raises(MemberError):
        members.resolve(GCC_JOINT)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("美国", "USA"), ("United States", "USA"), ("United States of America", "USA"), ("usa", "USA"),
        ("欧盟", "EU"), ("European Union", "EU"), ("EEC", "EU"), ("欧洲联盟", "EU"),
        ("台澎金马单独关税区", "TPKM"), ("中国台北", "TPKM"), ("Chinese Taipei", "TPKM"),
        ("Separate Customs Territory of Taiwan, Penghu, Kinmen and Matsu", "TPKM"),
        ("中国香港", "HKG"), ("Hong Kong, China", "HKG"), ("香港", "HKG"), ("澳门", "MAC"), ("Macao, China", "MAC"),
        ("印度尼西亚", "IDN"), ("印度尼西亞", "IDN"), ("印尼", "IDN"), ("印度", "IND"),
        ("中华人民共和国", "CHN"), ("沙特阿拉伯王国", "SAU"), ("Saudi Arabia, Kingdom of", "SAU"),
        ("Korea, Republic of", "KOR"), ("Republic of Korea", "KOR"), ("韩国", "KOR"), ("韓國", "KOR"),
        ("Kenya", "KEN"), ("肯尼亚", "KEN"), ("肯亞", "KEN"), ("Tanzania", "TZA"), ("坦尚尼亞", "TZA"),
        ("Côte d'Ivoire", "CIV"), ("Cote d’Ivoire", "CIV"), ("Türkiye", "TUR"), ("Turkey", "TUR"),
        ("Viet Nam", "VNM"), ("Vietnam", "VNM"), ("刚果（金）", "COD"), ("刚果(布)", "COG"),
        ("  United   Kingdom ", "GBR"), ("ＵＳＡ", "USA"), ("沙烏地阿拉伯", "SAU"), ("Eswatini", "SWZ"),
        ("斯威士兰", "SWZ"), ("North Macedonia", "MKD"), ("Russian Federation", "RUS"), ("俄罗斯", "RUS"),
    ],
)
def test_names_codes_and_aliases_resolve(members, text, code):
    assert members.resolve(text).code == code


def test_member_display_name(members):
    usa = members.get("usa")
    assert (usa.name("en"), usa.name("zh")) == ("United States", "美国")


def test_unknown_member_error_names_the_text_and_the_file(members):
    with pytest.raises(MemberError) as err:
        members.resolve("Atlantis")
    assert "'Atlantis'" in str(err.value) and "config/members.yaml" in str(err.value)
    assert members.find("Atlantis") is None and members.find("") is None


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("Kenya, Uganda and Rwanda", ["KEN", "UGA", "RWA"]),
        ("布隆迪、肯尼亚、卢旺达、坦桑尼亚、乌干达", ["BDI", "KEN", "RWA", "TZA", "UGA"]),
        ("印度尼西亚和印度", ["IDN", "IND"]),
        ("特立尼达和多巴哥", ["TTO"]),
        ("Papua New Guinea; Guinea", ["PNG", "GIN"]),
        ("Niger and Nigeria", ["NER", "NGA"]),
        ("Romania", ["ROU"]),  # not Oman
        ("中国香港、中国", ["HKG", "CHN"]),
        ("USA/EU, then the USA again", ["USA", "EU"]),
        ("we can trade with us in Mali", ["MLI"]),  # codes and acronyms only in capitals
        ("nothing here", []),
    ],
)
def test_find_all(members, text, codes):
    assert [m.code for m in members.find_all(text)] == codes


def test_a_name_given_to_two_members_is_refused(tmp_path):
    path = members_yaml(tmp_path, "  - {code: AAA, en: Alpha, zh: 甲, aliases: [Shared]}\n"
                                  "  - {code: BBB, en: Beta, zh: 乙, aliases: [Shared]}\n")
    with pytest.raises(MemberError, match=r"'Shared' is given to both AAA and BBB"):
        Members.load(path)
    path = members_yaml(tmp_path, "  - {code: AAA, en: Alpha, zh: 甲}\n  - {code: BBB, en: alpha, zh: 乙}\n")
    with pytest.raises(MemberError, match=r"'alpha' is given to both AAA and BBB"):
        Members.load(path)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("  - {code: AAA, en: Alpha, zh: 甲}\n  - {code: aaa, en: Other, zh: 乙}\n", "AAA is listed twice"),
        ("  - {code: AAA, en: Alpha, zh: 甲, weight: 1.5}\n", r"weight 1.5 is outside \[0, 1\]"),
        ("  - {code: AAA, zh: 甲}\n", r"member entry #1 .*KeyError\('en'\).* needs code and en"),
        ("  - {code: AAA, en: Alpha, weight: heavy}\n", "weight must be a number"),
    ],
)
def test_bad_tables_are_refused_with_the_reason(tmp_path, body, message):
    with pytest.raises(MemberError, match=message):
        Members.load(members_yaml(tmp_path, body))


def test_a_file_that_cannot_be_read_is_a_configuration_error_with_its_line(tmp_path):
    with pytest.raises(ConfigError, match=r"members.yaml:3: malformed YAML"):
        Members.load(members_yaml(tmp_path, "  - {code: AAA, en: [unclosed\n"))


def test_missing_table_says_which_setting(tmp_path):
    with pytest.raises(ConfigError, match="absent.yaml: the file does not exist; .*paths.members"):
        Members.load(tmp_path / "absent.yaml")
