"""Templates: every context field is rendered; crawled text is escaped in HTML and kept out of headers."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
from dataclasses import replace
from email.policy import default as default_policy

import pytest

from alerts.context import (
    CountRow,
    Headline,
    FilterView,
    JointEntry,
    MatchLine,
    MessageContext,
    Named,
    Names,
    NoticeItem,
    ReviewRow,
    TrendBar,
    filter_view,
    notice_item,
    safe_links,
)
from alerts.messages import build_email, clean_header, labels, render, rendered_email
from alerts.rules import Evidence, Filter, Rule
from tbtwatch.members import default_members
from tbtwatch.model import notice_from_dict

KINDS = ("alert", "reminder", "confirm", "digest", "webhook_disabled")
# Fields whose value picks a label rather than being shown as written.
ENUMS = {
    ("NoticeItem", "kind"): "kind_",
    ("NoticeItem", "level"): "level_",
    ("MatchLine", "kind"): "match_",
    ("MatchLine", "origin"): "hs_",
    ("ReviewRow", "level"): "level_",
    ("CountRow", "dimension"): "count_",
    ("ReviewRow", "status"): "review_",
    ("NoticeItem", "review_status"): "review_",
    ("MessageContext", "frequency"): "frequency_",
}
ENUM_VALUES = {
    "kind_": "corrigendum",
    "level_": "medium",
    "match_": "member",
    "hs_": "inferred",
    "count_": "member",
    "review_": "comment_drafted",
    "frequency_": "weekly",
}
NOT_SHOWN = {
    ("MessageContext", "kind"),  # selects the template
    ("MessageContext", "languages"),  # selects the sections
    ("Named", "key"),  # a product line's id: shown only when the catalogue gives it no name (tested below)
}


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
        switches = {"trend_table": "trend_table", "covers": "hs_covers"}  # True shows a labelled part
        if f.name in switches:
            values[f.name] = True
            expectations.append((f"{cls.__name__}.{f.name}", labels()["en"][switches[f.name]]))
            continue
        if f.name in {"days_left", "count", "reminder_days", "trend_max", "version", "new", "relevant", "high",
                      "more_actions"}:
            values[f.name] = 4321
        elif f.name in {"x", "y", "height"}:
            values[f.name] = {"x": 1234, "y": 2345, "height": 3456}[f.name]
        elif f.name == "joint":
            values[f.name] = [_fill(JointEntry, "j", expectations)]
        elif f.name in {"notice_url", "document_urls", "unsubscribe_url", "confirm_url", "base_url"}:
            url = f"https://example.org/{marker}"
            values[f.name] = [url] if f.name == "document_urls" else url
        elif f.name in {"matches", "include", "exclude"}:
            values[f.name] = [_fill(MatchLine, f"{f.name}-", expectations)]
        elif f.name == "filters_summary":
            values[f.name] = [_fill(FilterView, "f", expectations)]
        elif f.name == "product_lines":
            values[f.name] = [_fill(Named, "p", expectations)]
        elif f.name == "line":
            values[f.name] = _fill(Named, "l", expectations)
        elif f.name in {"items", "followups", "details"}:
            values[f.name] = [_fill(NoticeItem, f"{f.name}-", expectations)]
        elif f.name in {"actions", "compliance", "domestic"}:  # the digest's short lists show a few of its details
            values[f.name] = values["details"]
        elif f.name == "headline":
            values[f.name] = _fill(Headline, "h", expectations)
        elif f.name == "counts":
            values[f.name] = [_fill(CountRow, "c", expectations)]
        elif f.name == "trend":
            values[f.name] = [_fill(TrendBar, "t", expectations)]
        elif f.name == "review_queue":
            values[f.name] = [_fill(ReviewRow, "r", expectations)]
        elif f.name == "due_this_week":  # a few fields of rows of the queue
            values[f.name] = values["review_queue"]
        elif f.name in {
            "reasons",
            "reasons_zh",
            "hs_codes",
            "hs_inferred",
            "failed_sources",
            "degraded_sources",
            "filters",
            "joint_symbols",
            "recipients",
        }:
            values[f.name] = [marker]
        else:
            values[f.name] = marker
        nested = {"matches", "items", "followups", "actions", "details", "compliance", "domestic", "headline", "counts",
                  "trend",
                  "review_queue", "due_this_week", "joint", "product_lines", "line", "filters_summary", "include",
                  "exclude"}
        if f.name not in nested:
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
        details=[item],
        actions=[item],
        compliance=[item],
        domestic=[item],
        review_queue=[ReviewRow(symbol="G/TBT/N/KEN/1", title_en=hostile, notes=hostile)],
        failed_sources=[hostile],
        filters_summary=[FilterView(hostile, [MatchLine("keyword", hostile)])],
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


def _item(evidence, assessment=None, filters=None, **notice):
    """An item built as a run builds it: a real notice, members.yaml, product line names from the catalogue."""
    notice = {"symbol": "G/TBT/N/BDI/560", "member": "Burundi", "title": "Toys", "language": "en", **notice}
    names = Names(default_members(), {"toys": ("玩具", "Toys"), "batteries": ("电池", "Batteries and cells")})
    return notice_item(
        notice_from_dict(notice), {"level": "low", **(assessment or {})}, day=dt.date(2025, 7, 22), base_url="",
        names=names, evidence=evidence, filters=filters,
    )


def _parts(item) -> tuple[str, str, str]:
    """(Chinese plain part for a Chinese reader, English plain part for an English reader, both HTML parts) of
    the bilingual alert carrying ``item``: each reader's language in full, the other as a short list after it."""
    _, zh_first, zh_html = render("alert", MessageContext(languages=["zh", "en"], items=[item]))
    _, en_first, en_html = render("alert", MessageContext(languages=["en", "zh"], items=[item]))
    return zh_first.split("In English: ", 1)[0], en_first.split("中文摘要: ", 1)[0], zh_html + en_html


def test_one_level_line_the_readers_minimum_the_notices_level_once():
    """Copies of a group each brought their own level; the reader sees the notice's level once, in its status,
    and one line saying it meets the highest minimum among their filters."""
    evidence = [Evidence("level", "low", ">= low"), Evidence("level", "medium", ">= low"), Evidence("level", "low", ">= none")]
    item = _item(evidence)
    assert item.matches == [MatchLine("level", "low", "low")]
    zh, en, html = _parts(item)
    assert "  - 预警等级达到您设定的最低等级: 低\n" in zh and zh.count("预警等级: 低") == 1
    assert "  - warning level at or above your minimum: low\n" in en and en.count("Warning level: low") == 1
    assert "medium" not in en and ">=" not in zh + en
    assert "<li>warning level at or above your minimum: <strong>low</strong></li>" in html


def test_chinese_parts_word_hs_origins_markets_and_lines_in_chinese():
    evidence = [
        Evidence("hs", "8506", "850610", "given"),
        Evidence("hs", "8506", "850680", "given"),  # two codes under one prefix: one line
        Evidence("hs", "9503", "950300", "inferred", 0.72),
        Evidence("hs", "940510", "9405", "given"),  # the notice's heading covers the reader's subheading
        Evidence("product_line", "toys", "Toys; dolls"),
        Evidence("keyword", "玩具", "…玩具 安全要求…"),
        Evidence("member", "USA"),
        Evidence("area", "TBT"),
    ]
    assessment = {"product_lines": [{"id": "toys", "score": 1.0}, {"id": "batteries", "score": 0.5}],
                  "hs_given": ["850610"], "hs_inferred": [{"code": "950300", "score": 0.72, "shown": True}]}
    zh, en, html = _parts(_item(evidence, assessment))
    assert """匹配依据:
  - HS编码 8506: 850610, 850680 (通报成员给出)
  - HS编码 9503: 950300 (系统推断, 置信度 0.72)
  - HS编码 940510: 9405 (通报成员给出; 通报的编码涵盖您的编码)
  - 产品线 玩具: Toys; dolls
  - 关键词 玩具: …玩具 安全要求…
  - 市场 美国 (USA)
  - 领域 TBT
""" in zh
    assert """Why it matched:
  - HS code 8506: 850610, 850680 (given by the member)
  - HS code 9503: 950300 (inferred, score 0.72)
  - HS code 940510: 9405 (given by the member; the notice's code covers yours)
  - product line Toys: Toys; dolls
  - keyword 玩具: …玩具 安全要求…
  - market United States (USA)
  - area TBT
""" in en
    assert "产品线: 玩具; 电池\nHS编码: 850610\n推断的HS编码 (置信度): 950300 (0.72)\n" in zh
    assert "Product lines: Toys; Batteries and cells\nHS codes: 850610\n" in en
    for english in ("given", "inferred", "score", "market", "(toys)", "Batteries", "USA\n"):
        assert english not in zh, english
    assert "<li>市场 <strong>美国 (USA)</strong></li>" in html and "(系统推断, 置信度 0.72)" in html


def test_a_product_line_without_a_name_shows_its_id():
    item = _item([Evidence("product_line", "drones", "UAV")], {"product_lines": [{"id": "drones", "score": 1}]})
    zh, en, _ = _parts(item)
    assert "  - 产品线 drones: UAV\n" in zh and "产品线: drones\n" in zh and "Product lines: drones\n" in en


def test_empty_facts_and_the_lone_default_filter_are_not_shown():
    item = _item([Evidence("member", "BDI")], filters=["default"], products="", description="")
    zh, en, _ = _parts(item)
    assert "产品:" not in zh and "内容:" not in zh and "Products:" not in en and "Description:" not in en
    assert "符合的订阅条件" not in zh and "Your filters matched" not in en
    named = _item([Evidence("member", "BDI")], filters=["default", "EAC toys"])
    assert "符合的订阅条件: default; EAC toys\n" in _parts(named)[0]


def test_follow_ups_name_their_base_notification_in_each_language():
    item = _item([], symbol="G/TBT/N/EU/1132/Add.1", member="European Union")
    zh, en, html = _parts(item)
    assert "== G/TBT/N/EU/1132/Add.1 · 补遗 (原通报 G/TBT/N/EU/1132) ==" in zh
    assert "== G/TBT/N/EU/1132/Add.1 · addendum to G/TBT/N/EU/1132 ==" in en
    assert "</a> · 补遗 (原通报 G/TBT/N/EU/1132)</h3>" in html


def test_chinese_parts_show_the_chinese_reasons_when_the_assessment_has_them():
    both = NoticeItem(symbol="G/TBT/N/EU/1", reasons=["EU market weight 1.0"], reasons_zh=["欧盟市场权重 1.0"])
    zh, en, html = _parts(both)
    assert "  - 欧盟市场权重 1.0" in zh and "EU market weight" not in zh
    assert "  - EU market weight 1.0" in en and "欧盟市场权重" not in en
    assert "<li>欧盟市场权重 1.0</li>" in html and "<li>EU market weight 1.0</li>" in html
    older = NoticeItem(symbol="G/TBT/N/EU/1", reasons=["EU market weight 1.0"])  # assessed before reasons_zh
    assert "  - EU market weight 1.0" in render("reminder", MessageContext(languages=["zh"], items=[older]))[1]


def test_subjects_name_the_brand_once_and_each_part_in_both_languages():
    item = NoticeItem(symbol="G/TBT/N/BDI/560", member_zh="布隆迪", member_en="Burundi", title_en="T" * 100)
    subject, _, _ = render("alert", MessageContext(languages=["zh", "en"], items=[item]))
    assert subject == f"[TBT/SPS 通报预警] 布隆迪 / Burundi G/TBT/N/BDI/560 {'T' * 79}…"
    subject, _, _ = render("alert", MessageContext(languages=["zh", "en"], items=[item, item], day="2025-07-22"))
    assert subject == "[TBT/SPS 通报预警] 2 项通报 / 2 notifications · 2025-07-22"
    subject, _, _ = render("alert", MessageContext(languages=["en"], items=[item, item], day="2025-07-22"))
    assert subject == "[TBT/SPS notification alert] 2 notifications · 2025-07-22"
    reminder = MessageContext(kind="reminder", languages=["zh", "en"], items=[item], reminder_days=14)
    assert render("reminder", reminder)[0] == (
        "[TBT/SPS 通报预警] 评议截止提醒 / Comment deadline reminder: 14 天 / 14 days · G/TBT/N/BDI/560"
    )
    digest = MessageContext(kind="digest", languages=["zh", "en"], day="2025-07-22")
    assert render("digest", digest)[0] == "[TBT/SPS 通报预警] 通报评议工作组日报 / Working group daily digest 2025-07-22"


def test_confirm_message_words_the_filter_in_each_language():
    names = Names(default_members(), {"toys": ("玩具", "Toys")})
    flt = Filter(Rule(hs=["8507"], product_lines=["toys"], members=["EU"], min_level="medium"),
                 [Rule(keywords=["lead acid"])])
    context = MessageContext(kind="confirm", languages=["zh", "en"], filters_summary=[filter_view(flt, names, True)])
    _, text, _ = render("confirm", context)
    zh, en = text.split("Confirm your subscription", 1)
    assert "  - HS编码 8507; 产品线 玩具; 市场 欧盟 (EU); 预警等级达到您设定的最低等级: 中 (排除 关键词 lead acid)\n" in zh
    assert ("  - HS code 8507; product line Toys; market European Union (EU); warning level at or above your "
            "minimum: medium (excluding keyword lead acid)\n") in en
    assert "default" not in text  # the lone unnamed filter
    named = filter_view(Filter(Rule(hs=["8507"]), name="EU batteries"), names, False)
    assert "  - EU batteries: HS编码 8507\n" in render("confirm", replace(context, filters_summary=[named]))[1]
