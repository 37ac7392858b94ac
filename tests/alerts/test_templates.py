"""Templates: every context field is rendered; crawled text is escaped in HTML and kept out of headers."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
from email.policy import default as default_policy

import pytest

from alerts.context import (
    CountRow,
    DigestGroup,
    JointEntry,
    MatchLine,
    MessageContext,
    NoticeItem,
    ReviewRow,
    TrendBar,
    safe_links,
)
from alerts.messages import build_email, clean_header, labels, render, rendered_email

KINDS = ("alert", "reminder", "confirm", "digest", "webhook_disabled")
# Fields whose value picks a label rather than being shown as written.
ENUMS = {
    ("NoticeItem", "kind"): "kind_",
    ("NoticeItem", "level"): "level_",
    ("MatchLine", "kind"): "match_",
    ("DigestGroup", "level"): "level_",
    ("CountRow", "dimension"): "count_",
    ("ReviewRow", "status"): "review_",
    ("NoticeItem", "review_status"): "review_",
    ("MessageContext", "frequency"): "frequency_",
}
ENUM_VALUES = {
    "kind_": "corrigendum",
    "level_": "medium",
    "match_": "keyword",
    "count_": "area",
    "review_": "comment_drafted",
    "frequency_": "weekly",
}
NOT_SHOWN = {("MessageContext", "kind"), ("MessageContext", "languages")}  # select the template and sections


def _fill(cls, tag: str, expectations: list[tuple[str, str]]):
    """An instance with every field set to a distinctive value; records (field, text expected in output)."""
    values = {}
    for f in dataclasses.fields(cls):
        key = (cls.__name__, f.name)
        marker = f"{tag}{f.name}X"
        if key in ENUMS:
            values[f.name] = ENUM_VALUES[ENUMS[key]]
            expectations.append((f"{cls.__name__}.{f.name}", labels()["en"][ENUMS[key] + values[f.name]]))
            continue
        if key in NOT_SHOWN:
            continue
        if f.name == "trend_table":  # a switch: shows the trend's table (labelled) in the digest e-mail
            values[f.name] = True
            expectations.append((f"{cls.__name__}.{f.name}", labels()["en"]["trend_table"]))
            continue
        if f.name in {"days_left", "count", "reminder_days", "trend_max"}:
            values[f.name] = 4321
        elif f.name in {"x", "y", "height"}:
            values[f.name] = {"x": 1234, "y": 2345, "height": 3456}[f.name]
        elif f.name == "joint":
            values[f.name] = [_fill(JointEntry, "j", expectations)]
        elif f.name in {"notice_url", "document_urls", "unsubscribe_url", "confirm_url", "base_url"}:
            url = f"https://example.org/{marker}"
            values[f.name] = [url] if f.name == "document_urls" else url
        elif f.name == "matches":
            values[f.name] = [_fill(MatchLine, "m", expectations)]
        elif f.name in {"items", "followups"}:
            values[f.name] = [_fill(NoticeItem, f"{f.name}-", expectations)]
        elif f.name == "groups":
            values[f.name] = [_fill(DigestGroup, "g", expectations)]
        elif f.name == "counts":
            values[f.name] = [_fill(CountRow, "c", expectations)]
        elif f.name == "trend":
            values[f.name] = [_fill(TrendBar, "t", expectations)]
        elif f.name == "review_queue":
            values[f.name] = [_fill(ReviewRow, "r", expectations)]
        elif f.name in {
            "reasons",
            "reasons_zh",
            "product_lines",
            "hs_codes",
            "filters_summary",
            "failed_sources",
            "filters",
            "joint_symbols",
        }:
            values[f.name] = [marker]
        else:
            values[f.name] = marker
        if f.name not in {"matches", "items", "followups", "groups", "counts", "trend", "review_queue", "joint"}:
            shown = values[f.name][0] if isinstance(values[f.name], list) else values[f.name]
            expectations.append((f"{cls.__name__}.{f.name}", str(shown)))
    return cls(**values)


def test_every_context_field_is_rendered():
    expectations: list[tuple[str, str]] = []
    context = _fill(MessageContext, "", expectations)
    context.languages = ["zh", "en"]
    outputs = []
    for kind in KINDS:
        context.kind = kind
        subject, text, html = render(kind, context)
        outputs += [subject, text, html]
    rendered = "\n".join(outputs)
    missing = [name for name, text in expectations if text not in rendered]
    assert not missing, f"fields never rendered: {missing}"
    assert len(expectations) > 60


@pytest.mark.parametrize("kind", KINDS)
def test_html_escapes_crawled_text(kind):
    hostile = "<script>alert('x')</script> & <b>"
    item = NoticeItem(
        symbol="G/TBT/N/KEN/1",
        title_en=hostile,
        description_en=hostile,
        products_en=hostile,
        reasons=[hostile],
        matches=[MatchLine("keyword", hostile, hostile)],
    )
    context = MessageContext(
        kind=kind,
        languages=["en"],
        items=[item],
        followups=[item],
        groups=[DigestGroup("toys", hostile, hostile, "low", [item])],
        review_queue=[ReviewRow(symbol="G/TBT/N/KEN/1", title=hostile, notes=hostile)],
        failed_sources=[hostile],
        filters_summary=[hostile],
        endpoint_url=hostile,
        endpoint_error=hostile,  # a receiver's answer is untrusted too
    )
    _, text, html = render(kind, context)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<b>" not in html and "&lt;b&gt;" in html
    if kind != "confirm":
        assert hostile in text  # the plain part shows the text as it is


def test_clean_header_strips_line_breaks_and_controls():
    assert (
        clean_header("Title\r\nBcc: victim@example.org\x00\x1b[31m\u2028x")
        == "Title Bcc: victim@example.org [31m x"
    )
    assert len(clean_header("长" * 500)) == 160


def test_injection_in_subject_does_not_create_headers():
    item = NoticeItem(symbol="G/TBT/N/KEN/1500", title_en="Phones\r\nBcc: victim@example.org\nX-Evil: 1")
    context = MessageContext(kind="alert", languages=["en"], items=[item], recipient="a@example.org")
    raw = rendered_email(
        "alert", context, sender="tbtwatch <t@example.org>", message_id="<1@example.org>"
    ).payload
    message = email.message_from_bytes(raw, policy=default_policy)
    assert message["Bcc"] is None and message["X-Evil"] is None
    assert "Bcc: victim@example.org X-Evil: 1" in message["Subject"]


def test_build_email_refuses_nothing_but_sanitises_every_header():
    msg = build_email(
        sender="tbtwatch <t@example.org>",
        recipient="a@example.org",
        subject="a\nb",
        text="t",
        html="<p>t</p>",
        message_id="<1@x>",
        unsubscribe_url="https://x.org/u?token=a\r\nb",
    )
    assert msg["Subject"] == "a b"
    assert (
        "\n" not in msg["List-Unsubscribe"] and msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    )


def test_only_web_links_from_crawled_data():
    assert safe_links(
        [
            "javascript:alert(1)",
            "https://docs.wto.org/x.pdf",
            "data:text/html,x",
            "http://a.org",
            "ftp://a.org/x",
            "https:///nohost",
        ]
    ) == ["https://docs.wto.org/x.pdf", "http://a.org"]


def test_one_level_line_the_notices_level_against_the_readers_minimum():
    """Copies of a group each brought their own level; the reader sees this notice's level once."""
    from alerts.context import notice_item
    from alerts.rules import Evidence
    from tbtwatch.members import default_members
    from tbtwatch.model import notice_from_dict

    notice = notice_from_dict({"symbol": "G/TBT/N/BDI/560", "member": "Burundi", "title": "Toys", "language": "en"})
    evidence = [Evidence("level", "low", ">= low"), Evidence("level", "medium", ">= low"), Evidence("level", "low", ">= none")]
    item = notice_item(
        notice, {"level": "low"}, day=dt.date(2025, 7, 22), base_url="", members=default_members(), line_names={},
        evidence=evidence,
    )
    assert item.matches == [MatchLine("level", "low", "low")]
    _, text, html = render("alert", MessageContext(languages=["zh", "en"], items=[item]))
    assert "  - 预警等级 低 (您设定的最低等级: 低)\n" in text and "  - Warning level low (your minimum: low)\n" in text
    assert text.count("预警等级 ") == 1 and "medium" not in text and ">=" not in text
    assert "<li>Warning level <strong>low</strong> (your minimum: low)</li>" in html


def test_chinese_parts_show_the_chinese_reasons_when_the_assessment_has_them():
    both = NoticeItem(symbol="G/TBT/N/EU/1", reasons=["EU market weight 1.0"], reasons_zh=["欧盟市场权重 1.0"])
    _, text, html = render("alert", MessageContext(languages=["zh", "en"], items=[both]))
    zh, en = text.split("New WTO notifications", 1)
    assert "  - 欧盟市场权重 1.0" in zh and "EU market weight" not in zh
    assert "  - EU market weight 1.0" in en and "欧盟市场权重" not in en
    assert "<li>欧盟市场权重 1.0</li>" in html and "<li>EU market weight 1.0</li>" in html
    older = NoticeItem(symbol="G/TBT/N/EU/1", reasons=["EU market weight 1.0"])  # assessed before reasons_zh
    assert "  - EU market weight 1.0" in render("reminder", MessageContext(languages=["zh"], items=[older]))[1]


def test_alert_subject_names_the_notice_once_in_both_languages():
    item = NoticeItem(symbol="G/TBT/N/BDI/560", member_zh="布隆迪", member_en="Burundi", title_en="T" * 100)
    subject, _, _ = render("alert", MessageContext(languages=["zh", "en"], items=[item]))
    assert subject == f"[TBT/SPS 通报预警] 通报预警 / Alert: 布隆迪 / Burundi G/TBT/N/BDI/560 {'T' * 79}…"
    subject, _, _ = render("alert", MessageContext(languages=["en"], items=[item, item], day="2025-07-22"))
    assert subject == "[TBT/SPS notification alert] Alert: 2 notifications · 2025-07-22"
