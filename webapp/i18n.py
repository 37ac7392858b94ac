"""The interface in Chinese and English: every label of the page chrome, from ``webapp/i18n.yaml``.

The language comes from ``?lang=`` (remembered in the session), else from the
browser's Accept-Language; notice texts are shown in their own language with
the other beside them, whatever the interface language.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from fastapi import Request

LANGS = ("zh", "en")
STRINGS_FILE = Path(__file__).with_name("i18n.yaml")


@lru_cache(maxsize=1)
def strings() -> dict[str, dict[str, str]]:
    data = yaml.safe_load(STRINGS_FILE.read_text(encoding="utf-8"))
    for key, labels in data.items():
        if set(labels) != set(LANGS):
            raise ValueError(f"{STRINGS_FILE}: {key!r} needs exactly the languages {', '.join(LANGS)}")
    return data


class Translator:
    """``t("search")`` in templates; an unknown key fails loudly so a typo never ships as a raw key."""

    def __init__(self, lang: str):
        self.lang = lang

    def has(self, key: str) -> bool:
        return key in strings()

    def __call__(self, key: str, **values: object) -> str:
        text = strings()[key][self.lang]
        return text.format(**values) if values else text


def request_lang(request: Request) -> str:
    chosen = request.query_params.get("lang")
    if chosen in LANGS:
        request.session["lang"] = chosen
        return chosen
    remembered = request.session.get("lang")
    if remembered in LANGS:
        return remembered
    accept = request.headers.get("accept-language", "").lower()
    return "zh" if accept.startswith("zh") else "en"
