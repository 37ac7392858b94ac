"""The HS heading inferrer and the fixed train/test split it learns from."""

from __future__ import annotations

import numpy as np

from nlp.codes import hide_codes
from nlp.inferrer import HeadingModel, TrainingText, bigram_keys, merge_rankings
from nlp.training import InferenceConfig, is_test, split_bucket, training_notices


def top(classifier, lang: str, text: str, k: int = 3) -> list[str]:
    return [c for c, _ in classifier.pipelines[lang](text)._.tbt_headings[:k]]


def test_english_and_chinese_texts_rank_the_right_heading(classifier):
    assert "8507" in top(classifier, "en", "Safety requirements for lithium-ion accumulators")
    assert "9503" in top(classifier, "en", "Safety of toys for children under 14 years")
    assert "8806" in top(classifier, "en", "Registration of unmanned aircraft")
    assert "9503" in top(classifier, "zh", "儿童玩具安全技术规范")
    assert "8507" in top(classifier, "zh", "锂离子电池安全要求")


def test_text_with_codes_is_not_ranked(classifier):
    assert classifier.pipelines["en"]("Toys (HS 9503)")._.tbt_headings == []


def test_bigram_keys_pair_adjacent_chinese_characters_only():
    keys = bigram_keys("电池 ab 玩具")
    assert sorted(int(k) for k in keys) == sorted([(ord("电") << 21) | ord("池"), (ord("玩") << 21) | ord("具")])


def test_model_ranks_by_shared_features():
    a, b, c = (np.array([k], dtype=np.uint64) for k in (1, 2, 3))
    texts = [TrainingText(np.concatenate([a, b]), ("8507",), (), 1.0), TrainingText(c, ("9503",), (), 1.0),
             TrainingText(b, ("0101",), (), 1.0)]
    model = HeadingModel(texts, ["0101", "8507", "9503"], chapter_mix=0.0, max_df_share=1.0)
    ranked = model.rank([model.feature_ids(a), model.feature_ids(c), model.feature_ids(np.array([9], np.uint64))])
    assert ranked[0][0][0] == "8507" and ranked[1][0][0] == "9503" and ranked[2] == []


def test_merge_rankings_keeps_the_best_score_per_heading():
    merged = merge_rankings([[("8507", 0.5), ("8506", 0.4)], [("8506", 0.7), ("9503", 0.1)]], top_k=2)
    assert merged == [("8506", 0.7), ("8507", 0.5)]


def test_split_is_fixed_and_copies_of_a_text_stay_together():
    kenya = {"symbol": "G/TBT/N/KEN/1", "products": "Lithium cells (HS 850650)"}
    uganda = {"symbol": "G/TBT/N/UGA/7", "products": "Lithium cells (HS code(s): 850650)"}
    assert split_bucket(kenya) == split_bucket(uganda) == split_bucket(dict(kenya))
    assert 0 <= split_bucket(kenya) < 100


def test_training_never_sees_the_test_part(dev_records, shared_data, nomenclature):
    path = shared_data / "notices" / "dev.jsonl"
    trained = training_notices(InferenceConfig(training_notices=[path], test_share_percent=30), nomenclature)
    everything = training_notices(InferenceConfig(training_notices=[path], test_share_percent=0), nomenclature)
    assert 0 < len(trained) < len(everything)
    held_out = {hide_codes(r.get("products") or "").strip() for r in dev_records if is_test(r, 30)}
    held_out = {text for text in held_out if len(text) >= 20}
    assert held_out
    assert not any(products in text for text, _ in trained for products in held_out)
