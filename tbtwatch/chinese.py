"""Chinese script for readers: text from Taiwanese sources is written in traditional characters, and the Chinese
interface and messages show simplified ones (OpenCC's character conversion, which keeps the wording)."""

from __future__ import annotations

import re
from functools import lru_cache

import opencc

_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


@lru_cache(maxsize=1)
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """``text`` in simplified script; text without Chinese characters is returned as it is (and costs nothing)."""
    return _converter().convert(text) if text and _HAN.search(text) else text
