"""Packing a rendered message into RFC 5322 / MIME bytes directly, without building an ``EmailMessage``.

The stdlib's ``EmailMessage`` parses every header it is given into an object and
refolds it on output, and encodes bodies in pure Python: two thirds of the time
of an alert run went there. A message from us has a fixed shape (a few headers,
a plain and an HTML part), so it is written here in one pass: the sender's header
is encoded once per process, the subject as RFC 2047 encoded words by
``email.header.Header`` (no double spaces where the folder splits words), bodies
by ``binascii`` (C). ``tests/alerts/test_mime.py`` reads the bytes back with the
stdlib parser and checks every header and part against what was given.

Transfer encoding per part: 7bit when it is ASCII with short lines, else
quoted-printable when at most ``QP_MAX_SHARE`` of its bytes are non-ASCII (English,
readable in the raw message), else base64 (Chinese: 1.33x instead of about 3x).
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from email.header import Header
from email.utils import formataddr, formatdate, parseaddr
from functools import lru_cache

CRLF = "\r\n"
LINE_MAX = 78  # RFC 5322's recommended line length (7bit parts and unencoded headers)
QP_MAX_SHARE = 0.17  # quoted-printable grows each non-ASCII byte to 3: smaller than base64 below ~17 %
BARE_ADDRESS = re.compile(r"[A-Za-z0-9._+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")  # no name, nothing to quote


@lru_cache(maxsize=4096)
def encode_header(name: str, value: str) -> str:
    """``Name: value`` folded to ``LINE_MAX``, as RFC 2047 encoded words when the value is not plain ASCII
    (cached: an immediate alert has the same subject for every reader of its notice)."""
    line = f"{name}: {value}"
    if value.isascii() and len(line) <= LINE_MAX:
        return line
    charset = "us-ascii" if value.isascii() else "utf-8"
    return f"{name}: " + Header(value, charset, maxlinelen=LINE_MAX, header_name=name).encode(linesep=CRLF)


@lru_cache(maxsize=64)
def address_header(name: str, address: str) -> str:
    """``From``/``To`` with a display name encoded when needed (cached: the sender is the same all run). A
    bare ``local@domain`` address, as a recipient usually is, is the header as it stands (what parsing and
    formatting it would give, without them: every message has a recipient of its own)."""
    if BARE_ADDRESS.fullmatch(address):
        return encode_header(name, address)
    display, mailbox = parseaddr(address)
    if not mailbox:
        return encode_header(name, address)
    return encode_header(name, formataddr((display, mailbox), charset="utf-8"))


def encode_body(text: str) -> tuple[str, bytes]:
    """(Content-Transfer-Encoding, the encoded body with CRLF line ends) for a text part."""
    data = text.encode("utf-8")
    if data.isascii() and all(len(line) <= LINE_MAX for line in data.split(b"\n")):
        return "7bit", data.replace(b"\n", b"\r\n")
    # Each non-ASCII character adds its bytes less one to the length, all of them non-ASCII: when that
    # surplus alone is over the share, the exact count (an encode pass more) is not needed.
    limit = QP_MAX_SHARE * len(data)
    if len(data) - len(text) <= limit and len(data) - len(text.encode("ascii", "ignore")) <= limit:
        return "quoted-printable", binascii.b2a_qp(data, istext=True).replace(b"\n", b"\r\n")
    encoded = base64.b64encode(data)
    return "base64", b"\r\n".join([encoded[i:i + 76] for i in range(0, len(encoded), 76)]) + b"\r\n"


def _part(subtype: str, text: str) -> bytes:
    encoding, body = encode_body(text)
    head = f'Content-Type: text/{subtype}; charset="utf-8"{CRLF}Content-Transfer-Encoding: {encoding}{CRLF}{CRLF}'
    return head.encode("ascii") + body


def pack_email(
    *,
    sender: str,
    recipient: str,
    subject: str,
    text: str,
    html: str,
    message_id: str,
    unsubscribe_url: str = "",
) -> bytes:
    """A multipart/alternative message (plain text, then HTML) with CRLF line ends, ready for SMTP.

    Header values must already be one clean line (``alerts.messages.clean_header``); the List-Unsubscribe
    URL is written as it is (a long URL must stay a plain URL, not be encoded).
    """
    boundary = f"=_tbtwatch_{secrets.token_hex(12)}"  # "=_" cannot occur in base64 or quoted-printable
    headers = [
        encode_header("Subject", subject),
        address_header("From", sender),
        address_header("To", recipient),
        f"Date: {formatdate(localtime=False)}",
        f"Message-ID: {message_id}",
        "Auto-Submitted: auto-generated",
    ]
    if unsubscribe_url:
        headers += [f"List-Unsubscribe: <{unsubscribe_url}>", "List-Unsubscribe-Post: List-Unsubscribe=One-Click"]
    headers += ["MIME-Version: 1.0", f'Content-Type: multipart/alternative; boundary="{boundary}"']
    head = (CRLF.join(headers) + CRLF + CRLF).encode("utf-8")
    separator, end = f"{CRLF}--{boundary}{CRLF}".encode("ascii"), f"{CRLF}--{boundary}--{CRLF}".encode("ascii")
    return head + separator.lstrip(b"\r\n") + _part("plain", text) + separator + _part("html", html) + end
