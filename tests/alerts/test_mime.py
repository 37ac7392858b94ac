"""alerts.mime packs messages itself (for speed): the stdlib parser must read back exactly what was given."""

from __future__ import annotations

import email
from email.policy import default as default_policy

import pytest

from alerts.mime import pack_email

CHINESE = "新的 WTO 通报涉及您关注的产品\n== G/TBT/N/EU/1100 · 通报 ==\n关于电动自行车锂离子电池安全的法规草案\n" * 20
ENGLISH = "New WTO notifications concern your products\n" + "Lithium-ion accumulators · HS 8507.60 " * 40 + "\n"
SHORT_ASCII = "Confirm your subscription\nhttps://example.org/confirm?token=abc\n"
LONG_SUBJECT = (
    "[TBT/SPS 通报预警] 通报预警 / Alert: 布隆迪 / Burundi G/TBT/N/BDI/560 DEAS 1234: 2025, Toys - Safety "
    "requirements - Part 1: Mechanical and…"
)


def _parsed(**overrides):
    fields = {
        "sender": "深圳 TBT 预警 <tbtwatch@example.org>",
        "recipient": "a@example.org",
        "subject": LONG_SUBJECT,
        "text": CHINESE,
        "html": "<p>" + CHINESE.replace("\n", "<br>\n") + "</p>",
        "message_id": "<tbtwatch.alert.1.abc@example.org>",
        "unsubscribe_url": "https://example.org/unsubscribe?token=" + "x" * 150,
    }
    fields.update(overrides)
    raw = pack_email(**fields)
    return fields, raw, email.message_from_bytes(raw, policy=default_policy)


@pytest.mark.parametrize(
    "text, encoding",
    [(CHINESE, "base64"), (ENGLISH, "quoted-printable"), (SHORT_ASCII, "7bit"), ("x" * 2000 + "\n", "quoted-printable")],
)
def test_parts_read_back_exactly_in_the_cheapest_encoding(text, encoding):
    fields, raw, message = _parsed(text=text, html=f"<pre>{text}</pre>")
    plain, html = message.get_body(("plain",)), message.get_body(("html",))
    # on the wire text lines end in CRLF (RFC 2046 canonical form); base64 carries the text's own "\n"
    assert plain.get_content().replace("\r\n", "\n") == text
    assert html.get_content().replace("\r\n", "\n") == fields["html"]
    assert plain["Content-Transfer-Encoding"] == encoding
    assert all(len(line) <= 998 for line in raw.split(b"\r\n")) and b"\n" not in raw.replace(b"\r\n", b"")


def test_headers_read_back_without_double_spaces_or_encoding_of_the_unsubscribe_link():
    fields, raw, message = _parsed()
    assert message["Subject"] == LONG_SUBJECT  # the folder once made "Alert:  Burundi"
    assert message["From"].addresses[0].display_name == "深圳 TBT 预警"
    assert message["From"].addresses[0].addr_spec == "tbtwatch@example.org"
    assert message["To"] == "a@example.org" and message["Message-ID"] == fields["message_id"]
    assert message["List-Unsubscribe"] == f"<{fields['unsubscribe_url']}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Auto-Submitted"] == "auto-generated" and message.get_content_type() == "multipart/alternative"
    assert message.defects == [] and all(not part.defects for part in message.walk())
    assert raw.isascii()  # the subject and display name as RFC 2047 encoded words


def test_no_unsubscribe_headers_without_a_link():
    _, _, message = _parsed(unsubscribe_url="", subject="Confirm")
    assert message["List-Unsubscribe"] is None and message["Subject"] == "Confirm"
