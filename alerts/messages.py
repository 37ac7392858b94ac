"""Rendering a ``MessageContext`` into a multipart email (plain text + HTML), Chinese and/or English.

Templates are files under ``alerts/templates/`` sharing ``base.html`` /
``base.txt``; labels in both languages are data (``templates/labels.yaml``).
HTML templates autoescape, so crawled notice text cannot inject markup; every
header value goes through ``clean_header`` so a crawled newline or control
character never reaches a header.
"""

from __future__ import annotations

import unicodedata
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
import yaml

from alerts.context import MessageContext
from alerts.outbox import Rendered

TEMPLATES = Path(__file__).parent / "templates"
SUBJECT_MAX = 160
# Headers set raw (List-Unsubscribe) are written as they are: a long URL must stay a plain URL, not be
# RFC 2047-encoded by the folder. Every other header is folded normally.
WIRE_POLICY = SMTP.clone(refold_source="none")


def clean_header(text: str, limit: int = SUBJECT_MAX) -> str:
    """One line of printable text: control, format and line/paragraph separator characters become spaces."""
    chars = [
        " " if unicodedata.category(c)[0] == "C" or unicodedata.category(c) in {"Zl", "Zp"} else c
        for c in str(text)
    ]
    line = " ".join("".join(chars).split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


@lru_cache(maxsize=1)
def labels() -> dict[str, dict[str, str]]:
    """``{"zh": {key: text}, "en": {key: text}}`` from labels.yaml (``key: {zh: ..., en: ...}``)."""
    raw = yaml.safe_load((TEMPLATES / "labels.yaml").read_text(encoding="utf-8"))
    return {lang: {key: texts[lang] for key, texts in raw.items()} for lang in ("zh", "en")}


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals["L"] = labels()
    return env


def render(kind: str, context: MessageContext) -> tuple[str, str, str]:
    """(subject, plain text, HTML) for a message of ``kind`` (alert, reminder, confirm, digest)."""
    env = environment()
    variables: dict[str, Any] = context.as_template_vars()
    text_template = env.get_template(f"{kind}.txt")
    subject = "".join(text_template.blocks["subject"](text_template.new_context(variables)))
    return (
        clean_header(subject),
        text_template.render(variables),
        env.get_template(f"{kind}.html").render(variables),
    )


def build_email(
    *,
    sender: str,
    recipient: str,
    subject: str,
    text: str,
    html: str,
    message_id: str,
    unsubscribe_url: str = "",
) -> EmailMessage:
    """A multipart/alternative message; one-click unsubscribe headers when there is a link (RFC 8058)."""
    msg = EmailMessage()
    msg["Subject"] = clean_header(subject)
    msg["From"] = clean_header(sender, 320)
    msg["To"] = clean_header(recipient, 320)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = message_id
    msg["Auto-Submitted"] = "auto-generated"
    if unsubscribe_url:
        msg.set_raw("List-Unsubscribe", f"<{clean_header(unsubscribe_url, 900)}>")
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    return msg


def rendered_email(kind: str, context: MessageContext, *, sender: str, message_id: str) -> Rendered:
    """Render and pack a message for the outbox."""
    subject, text, html = render(kind, context)
    msg = build_email(
        sender=sender,
        recipient=context.recipient,
        subject=subject,
        text=text,
        html=html,
        message_id=message_id,
        unsubscribe_url=context.unsubscribe_url,
    )
    return Rendered(subject, msg.as_bytes(policy=WIRE_POLICY))
