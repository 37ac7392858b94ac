"""Chinese character segmentation, the same tokens as spaCy's ``zh`` "char" segmenter in linear time.

spaCy's ``ChineseTokenizer`` (segmenter "char") splits the text into characters and
then re-aligns them with the text in ``util.get_words_and_spaces``, which slices off
the rest of the text for every character: a fifth of the time of the whole
classification of a Chinese notice. The tokens are known without aligning: every
character that is not whitespace is a token; a single space after one is its
trailing space; any other run of whitespace is a token of its own. This builds the
same words and spaces from the text's whitespace runs (tests compare both on the
development notices and on random texts).

The doc is made from the tokens' lexeme ids (``orth``), not their strings: ``Doc(vocab,
words=strings)`` hashes every character again to find its lexeme (two thirds of making a
Chinese doc), while a character's id, once known, is one dict lookup.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from spacy.tokens import Doc
from spacy.vocab import Vocab

_WHITESPACE_RUN = re.compile(r"(\s+)")  # \s on str is str.isspace, as spaCy tests whitespace


def char_words_and_spaces(text: str) -> tuple[list[str], list[bool]]:
    """(words, spaces) for ``Doc(vocab, words, spaces)``: what ``get_words_and_spaces(list(text), text)`` gives."""
    words: list[str] = []
    spaces: list[bool] = []
    parts = _WHITESPACE_RUN.split(text)  # characters, whitespace, characters, ... (first and last may be "")
    for i, part in enumerate(parts):
        if not i % 2:
            words += part
            spaces += [False] * len(part)
            continue
        if words and part[0] == " ":  # one space after a character is that character's trailing space
            spaces[-1] = True
            part = part[1:]
        if part:
            words.append(part)
            spaces.append(False)
    return words, spaces


class _Orths(dict):
    """Token text -> its lexeme id in ``vocab``, the lexeme made on first sight. Lexemes live as long as the
    vocab (the classifier opens no ``memory_zone``, which would drop the ones made inside it)."""

    def __init__(self, vocab: Vocab):
        super().__init__()
        self.vocab = vocab

    def __missing__(self, text: str) -> int:
        orth = self[text] = self.vocab[text].orth
        return orth


class CharTokenizer:
    """A tokenizer for ``nlp.tokenizer``: one token per character, as spaCy's "char" segmenter."""

    def __init__(self, vocab: Vocab):
        self.vocab = vocab
        self._orths = _Orths(vocab)

    def __call__(self, text: str) -> Doc:
        words, spaces = char_words_and_spaces(text)
        return Doc(self.vocab, words=list(map(self._orths.__getitem__, words)), spaces=spaces)

    def pipe(self, texts: Iterable[str], batch_size: int = 1000) -> Iterator[Doc]:
        for text in texts:
            yield self(text)
