"""The trained heading model is saved once per set of inputs and loaded after."""

from __future__ import annotations

import numpy as np

from nlp.inferrer import HeadingModel, MixSettings, TrainingText
from nlp.model_cache import cached_model, fingerprint


def _model() -> HeadingModel:
    return HeadingModel([TrainingText(np.array([1 << 40, 1 << 41], np.uint64), ("8507",), (), 1.0, entry=True)], ["8507"],
                        mix=MixSettings(max_df_share=1.0))


def test_a_model_is_built_once_then_loaded(tmp_path):
    built = []

    def build() -> HeadingModel:
        built.append(1)
        return _model()

    first = cached_model(tmp_path, "k1", build)
    second = cached_model(tmp_path, "k1", build)
    assert len(built) == 1 and second.headings == first.headings == ["8507"]
    assert second.rank([second.feature_ids(np.array([1 << 40], np.uint64))])[0][0][0] == "8507"


def test_a_corrupt_file_is_rebuilt_not_an_error(tmp_path):
    (tmp_path / "hs-headings-k2.pkl").write_bytes(b"not a pickle")
    assert cached_model(tmp_path, "k2", _model).headings == ["8507"]


def test_the_fingerprint_changes_with_any_input(tmp_path):
    data = tmp_path / "hs.csv"
    data.write_text("a")
    base = fingerprint([data], "catalogue", "labelled")
    assert fingerprint([data], "catalogue", "labelled") == base
    assert fingerprint([data], "catalogue", "labelled + one more") != base
    data.write_text("ab")
    assert fingerprint([data], "catalogue", "labelled") != base
