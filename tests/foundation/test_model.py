"""The notice model (tbtwatch/model.py) on the real development set, and merging versions of one symbol."""

from __future__ import annotations

import datetime as dt

import pytest

from tbtwatch.model import Notice, NoticeError, merge_notice, notice_from_dict
from tbtwatch.symbols import parse_symbol

from .conftest import GARBLED_SYMBOL


def _notice(**fields) -> Notice:
    return notice_from_dict({"symbol": "G/TBT/N/USA/2034", **fields})


def test_dev_set_validates_except_the_garbled_symbol(dev_records):
    valid, errors = [], []
    for record in dev_records:
        try:
            valid.append(notice_from_dict(record))
        except NoticeError as exc:
            errors.append(str(exc))
    assert len(valid) == 73 and len(errors) == 1
    assert errors[0].startswith(f"notice {GARBLED_SYMBOL}: symbol: ")
    assert "member code" in errors[0]


def test_dev_notices_derive_their_keys_from_the_symbol(valid_records):
    for record in valid_records:
        notice = notice_from_dict(record)
        parsed = parse_symbol(record["symbol"])
        assert notice.area == record["area"] == parsed.area
        assert notice.member_code == parsed.member_code
        assert notice.kind == parsed.kind
        assert notice.base_symbol == (str(parsed.base) if parsed.suffixes else None)
        assert notice.symbols[0] == notice.symbol
        assert notice.urls == [record["url"]]
        assert all(len(code) in (2, 4, 6) for code in notice.hs_codes)


def test_unknown_field_is_named():
    with pytest.raises(NoticeError, match=r"^notice G/TBT/N/USA/2034: colour: unknown field"):
        _notice(title="Toys", colour="red")
    assert notice_from_dict(
        {"symbol": "G/TBT/N/USA/2034", "title": "Toys", "colour": "red"}, ignore_unknown=True).title == "Toys"


def test_a_notice_needs_some_text_and_a_consistent_area():
    with pytest.raises(NoticeError, match="no title, description or products text"):
        _notice()
    with pytest.raises(NoticeError, match="area SPS contradicts symbol G/TBT/N/USA/2034"):
        _notice(title="Toys", area="SPS")


def test_views():
    notice = _notice(title="Toys", description="Safety", products="toys", language="en",
                     translations={"zh": {"title": "玩具"}}, comment_deadline="2024-05-01")
    assert notice.text("zh").title == "玩具" and notice.text("fr").title == "Toys"
    assert notice.all_text().split("\n") == ["Toys", "toys", "Safety", "玩具"]
    assert notice.is_open(dt.date(2024, 5, 1)) and not notice.is_open(dt.date(2024, 5, 2))


def test_zh_version_merged_into_en_becomes_a_translation():
    en = _notice(title="Toys", description="Safety of toys", products="toys", hs_codes=["9503"],
                 comment_deadline="2024-05-01", language="en", url="https://example.org/en")
    zh = _notice(title="玩具", description="玩具安全", products="玩具", hs_codes=["9504"], language="zh",
                 url="https://example.org/zh")
    merged = merge_notice(en, zh)
    assert (merged.language, merged.title, merged.description) == ("en", "Toys", "Safety of toys")
    assert merged.translations["zh"].title == "玩具" and merged.translations["zh"].description == "玩具安全"
    assert merged.hs_codes == ["9503", "9504"]
    assert merged.urls == ["https://example.org/en", "https://example.org/zh"]
    assert merged.comment_deadline == dt.date(2024, 5, 1)
    assert merge_notice(merged, zh).translations == merged.translations  # merging again changes nothing


def test_sparse_source_does_not_erase_fields():
    rich = _notice(title="Toys", description="Safety of toys", products="toys", hs_codes=["9503"],
                   ics_codes=["97.200.50"], comment_deadline="2024-05-01", distribution_date="2024-03-01")
    sparse = _notice(title="Toys (revised title)")
    merged = merge_notice(rich, sparse)
    assert merged.title == "Toys (revised title)"
    assert merged.description == "Safety of toys" and merged.products == "toys"
    assert merged.hs_codes == ["9503"] and merged.ics_codes == ["97.200.50"]
    assert merged.comment_deadline == dt.date(2024, 5, 1) and merged.distribution_date == dt.date(2024, 3, 1)


def test_merging_two_symbols_is_refused():
    with pytest.raises(ValueError, match="cannot merge G/TBT/N/USA/1 into G/TBT/N/USA/2034"):
        merge_notice(_notice(title="a"), notice_from_dict({"symbol": "G/TBT/N/USA/1", "title": "b"}))


def test_merge_keeps_the_original_text_when_it_has_no_title():
    en = _notice(description="Safety of toys", language="en")
    merged = merge_notice(en, _notice(title="玩具", language="zh"))
    assert merged.language == "en" and merged.description == "Safety of toys"


def test_sparse_source_does_not_replace_the_member_name_by_its_code():
    merged = merge_notice(_notice(title="Toys", member="美国"), _notice(title="Toys"))
    assert merged.member == "美国"


def test_content_hash_ignores_fetch_time_and_source_but_not_content():
    a = _notice(title="Toys", fetched_at="2024-01-01T00:00:00Z", source="wto")
    b = _notice(title="Toys", fetched_at="2024-02-01T08:00:00Z", source="portal")
    assert a.content_hash() == b.content_hash()
    assert a.content_hash() != _notice(title="Toys!").content_hash()
    assert len(a.content_hash()) == 16


def test_dev_notice_hash_is_stable_across_refetch(valid_records):
    record = valid_records[0]
    first = notice_from_dict({**record, "fetched_at": "2024-01-01T00:00:00Z"})
    again = notice_from_dict({**record, "fetched_at": "2025-06-30T12:00:00Z"})
    assert first.content_hash() == again.content_hash()
    assert notice_from_dict(first.model_dump(mode="json")).content_hash() == first.content_hash()


def test_kind_follows_a_regular_symbol():
    assert _notice(title="Toys", kind="revision").kind == "regular"


def test_an_original_arriving_after_a_translation_becomes_the_text():
    zh = _notice(title="电池法规", description="锂电池要求", language="zh", member="欧盟")
    en = _notice(title="Battery regulation", description="Requirements for lithium batteries", language="en",
                 member="European Union")
    merged = merge_notice(zh, en)
    assert (merged.language, merged.title, merged.member) == ("en", "Battery regulation", "European Union")
    assert merged.translations["zh"].title == "电池法规"
    # and the other order gives the same notice
    assert merge_notice(en, zh).model_dump(exclude={"fetched_at"}) == merged.model_dump(exclude={"fetched_at"})


def test_control_characters_are_dropped_and_line_breaks_unified():
    notice = _notice(title="Toys\x00\x07 safety\x1b[31m", description="line one\u2028line two\r\nthree",
                     translations={"zh": {"title": "玩具\x00安全", "description": "", "products": ""}},
                     objectives=["Safety\x08"])
    assert notice.title == "Toys safety[31m"
    assert notice.description == "line one\nline two\nthree"
    assert notice.translations["zh"].title == "玩具安全"
    assert notice.objectives == ["Safety"]


def test_a_stored_notice_reads_back_as_validated_because_validation_is_idempotent(valid_records):
    """``Notice.from_stored`` skips the cleaning and derivations: right only while they change nothing on a
    second pass, which every dev notice (Chinese and English, dates read from their texts) checks here."""
    notices = [notice_from_dict(record) for record in valid_records]
    assert any(n.dates_read_from_text for n in notices) and any(n.translations or n.language == "zh" for n in notices)
    for notice in notices:
        stored = notice.model_dump_json()
        assert Notice.model_validate_json(stored) == notice  # the full pass is idempotent...
        assert Notice.from_stored(stored) == notice  # ...so the stored path reads the same notice


def test_the_stored_path_still_checks_types():
    stored = _notice(title="Toys").model_dump_json().replace('"comment_deadline":null', '"comment_deadline":"soon"')
    with pytest.raises(ValueError, match="comment_deadline"):
        Notice.from_stored(stored)
