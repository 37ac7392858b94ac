"""Rendering a ``MessageContext`` into a multipart email (plain text + HTML), Chinese and/or English.

Templates are files under ``alerts/templates/`` sharing ``base.html`` /
``base.txt``; labels in both languages are data (``templates/labels.yaml``).
HTML templates autoescape, so crawled notice text cannot inject markup; every
header value goes through ``clean_header`` so a crawled newline or control
character never reaches a header.

Speed: a day's run sends thousands of messages about the same hundred notices,
so the parts of a notice's block that are the same for every reader (its facts
and its status) are rendered once per (notice, language, format) and kept in
``BLOCKS``; only the reader's lines (their filters and the evidence) and the
frame are rendered per message, and ``alerts.mime`` packs the bytes.
"""

from __future__ import annotations

import dataclasses
import unicodedata
from collections import OrderedDict
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import SMTP
from functools import lru_cache
from pathlib import Path
from typing import Any
from collections.abc import Callable

import jinja2
import yaml
from markupsafe import Markup

from alerts.context import MessageContext, NoticeItem
from alerts.mime import pack_email
from alerts.outbox import Rendered

TEMPLATES = Path(__file__).parent / "templates"
SUBJECT_MAX = 160
# Headers set raw (List-Unsubscribe) are written as they are: a long URL must stay a plain URL, not be
# RFC 2047-encoded by the folder. Every other header is folded normally.
WIRE_POLICY = SMTP.clone(refold_source="none")
READER_FIELDS = frozenset({"filters", "matches"})  # what differs between readers of one notice
SHARED_FIELDS = tuple(f.name for f in dataclasses.fields(NoticeItem) if f.name not in READER_FIELDS)


def clean_header(text: str, limit: int = SUBJECT_MAX) -> str:
    """One line of printable text: control, format and line/paragraph separator characters become spaces."""
    text = str(text)
    if text.isprintable() and "  " not in text and text.strip() == text and len(text) <= limit:
        return text  # the usual case, without a look at each character
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


def shared_key(item: NoticeItem) -> tuple:
    """Every field of ``item`` but the reader's: two items with equal keys render the same shared parts."""
    values = item.__dict__
    return tuple(tuple(v) if type(v) is list else v for v in map(values.__getitem__, SHARED_FIELDS))


class BlockCache:
    """Rendered parts of notice blocks by (format, language, the fields they show), least recently used out.

    Keyed by content, not by symbol, so a notice whose review status or deadline changed renders afresh.
    """

    def __init__(self, size: int = 4096):
        self.size = size
        self.parts: OrderedDict[tuple, Any] = OrderedDict()

    def get(self, key: tuple, make: Callable[[], Any]) -> Any:
        found = self.parts.get(key)
        if found is None:
            found = self.parts[key] = make()
            if len(self.parts) > self.size:
                self.parts.popitem(last=False)
        else:
            self.parts.move_to_end(key)
        return found


BLOCKS = BlockCache()


def in_languages(languages: list[str], key: str, count: int | None = None) -> str:
    """A label in each of the message's languages, ``通报评议工作组日报 / Working group daily digest`` (subjects);
    with ``count``, each preceded by it: ``3 项通报 / 3 notifications``, ``14 天 / 14 days``."""
    prefix = "" if count is None else f"{count} "
    return " / ".join(f"{prefix}{labels()[lang][key]}" for lang in languages)


@jinja2.pass_eval_context
def notice_block(eval_ctx: jinja2.nodes.EvalContext, item: NoticeItem, lang: str) -> str:
    """One notice as a message shows it: the cached shared parts around this reader's lines."""
    html = bool(eval_ctx.autoescape)
    macros = _notice_macros(html)
    facts, status = BLOCKS.get(
        ("html" if html else "txt", lang, shared_key(item)),
        lambda: (str(macros.notice_facts(item, lang)), str(macros.notice_status(item, lang))),
    )
    reader = ""
    if item.filters or item.matches:  # readers with the same filter names and evidence share these lines too
        reader = BLOCKS.get(
            ("reader", html, lang, tuple(item.filters), tuple(item.matches)),
            lambda: str(macros.reader_lines(item, lang)),
        )
    block = facts + reader + status
    return Markup(block) if html else block


@lru_cache(maxsize=2)
def _notice_macros(html: bool) -> Any:
    """The macros of ``_notice.html`` or ``_notice.txt`` (looked up once: a message has up to ten blocks)."""
    return environment().get_template("_notice.html" if html else "_notice.txt").module


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The one Jinja2 environment: templates compiled once per process (no re-check of the files)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    env.globals["L"] = labels()
    env.globals["notice_block"] = notice_block
    env.globals["in_languages"] = in_languages
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
    """The message ``rendered_email`` would queue, as an ``EmailMessage`` (for callers that want the object).

    One-click unsubscribe headers when there is a link (RFC 8058).
    """
    raw = _pack(sender, recipient, subject, text, html, message_id, unsubscribe_url)
    return message_from_bytes(raw, _class=EmailMessage, policy=WIRE_POLICY)


def _pack(sender, recipient, subject, text, html, message_id, unsubscribe_url) -> bytes:
    return pack_email(
        sender=clean_header(sender, 320),
        recipient=clean_header(recipient, 320),
        subject=clean_header(subject),
        text=text,
        html=html,
        message_id=clean_header(message_id, 320),
        unsubscribe_url=clean_header(unsubscribe_url, 900) if unsubscribe_url else "",
    )


def rendered_email(kind: str, context: MessageContext, *, sender: str, message_id: str) -> Rendered:
    """Render and pack a message for the outbox."""
    subject, text, html = render(kind, context)
    raw = _pack(sender, context.recipient, subject, text, html, message_id, context.unsubscribe_url)
    return Rendered(subject, raw)
