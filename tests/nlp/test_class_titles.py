"""nlp.class_titles: the parts of a products field that quote a standards class's title."""

from __future__ import annotations

import pytest

from nlp.class_titles import class_title_spans, within


def titles(text: str) -> list[str]:
    return [text[s:e].strip() for s, e in class_title_spans(text)]


@pytest.mark.parametrize("text, expected", [
    ("Petroleum jelly (HS code(s): 271210); Cosmetics. Toiletries (ICS code(s): 71.100.70)",
     ["Cosmetics. Toiletries"]),
    ("Petroleum jelly (); Cosmetics. Toiletries (), Milking jelly", ["Cosmetics. Toiletries"]),
    ("塑料盖;塞子,盖子(HS 392350);其他橡胶和塑料制品(ICS 83.140.99)。", ["其他橡胶和塑料制品"]),
    ("便携式空调;质量();通风机。风扇。空调()", ["通风机。风扇。空调"]),
    ("电信。音频和视频工程()电信设备、无线电设备和电信终端设备", ["电信。音频和视频工程"]),
    # a portal's own layout: the product, then its codes; no class title
    ('电动玩具 ICS:[{"uid":"97.200.50"}]      HS:[{"uid":"95"}]', []),
    ("Electric toys.", []),
    ("U.S. toys. Games", []),
    ("Lithium batteries for e-bikes; chargers", []),
])
def test_class_titles_are_found_by_their_label_or_their_style(text, expected):
    assert titles(text) == expected


def test_within():
    spans = [(3, 10)]
    assert within(spans, 3, 10) and within(spans, 4, 6)
    assert not within(spans, 2, 5) and not within(spans, 9, 11) and not within([], 0, 1)


def test_only_the_given_range_is_read():
    text = "Cosmetics. Toiletries\n\nLip make-up; Fans. Ventilators"
    start = text.index("Lip")
    assert [text[s:e] for s, e in class_title_spans(text, start)] == [" Fans. Ventilators"]
    assert class_title_spans(text, start, text.index(";")) == []
