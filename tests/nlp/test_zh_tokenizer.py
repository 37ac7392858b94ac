"""The Chinese character tokenizer gives exactly spaCy's "char" segmenter's tokens, whitespace included."""

from __future__ import annotations

import random

import pytest
import spacy

from nlp.zh_tokenizer import CharTokenizer


@pytest.fixture(scope="module")
def tokenizers():
    stock = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "char"}}})
    return stock.tokenizer, CharTokenizer(stock.vocab)


def _tokens(doc) -> list[tuple[str, str]]:
    return [(t.text, t.whitespace_) for t in doc]


@pytest.mark.parametrize("text", [
    "", " ", "  ", "\n\n", "锂电池", " 锂电池", "锂 电池", "锂  电池", "锂\n\n电池 ", "锂电池  ", "a b\tc \n d",
    "HS 8507.60 锂离子蓄电池\u3000（含\xa0电池组）", "额定电压 ≤ 36 V；\r\n  适用范围",
])
def test_same_tokens_as_spacy(tokenizers, text):
    stock, ours = tokenizers
    assert _tokens(ours(text)) == _tokens(stock(text))
    assert ours(text).text == text


def test_same_tokens_on_random_texts(tokenizers):
    stock, ours = tokenizers
    rng = random.Random(5)
    alphabet = list("ab中文。 \n\t\r\u3000\xa0\u2028")
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 16)))
        assert _tokens(ours(text)) == _tokens(stock(text)), repr(text)


def test_same_tokens_on_the_development_notices(tokenizers, dev_records):
    stock, ours = tokenizers
    texts = [v for r in dev_records for v in r.values() if isinstance(v, str) and len(v) > 20]
    texts.append("\n\n".join(texts))  # the fields joined, as the classifier joins a notice's
    assert len(texts) > 100
    for text in texts:
        assert _tokens(ours(text)) == _tokens(stock(text))


def test_the_classifier_tokenizes_chinese_with_it(classifier):
    assert isinstance(classifier.pipelines["zh"].tokenizer, CharTokenizer)
