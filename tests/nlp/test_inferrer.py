"""The HS heading inferrer and the fixed train/test split it learns from."""

from __future__ import annotations

import numpy as np
import spacy

from nlp.inferrer import HeadingModel, MixSettings, TrainingText, bigram_keys, merge_rankings
from nlp.training import InferenceConfig, split_bucket, training_notices, write_labelled
from tbtwatch.model import notice_from_dict


K = 1 << 40  # feature keys in the pair range (keys below 2**21 are single Chinese characters)


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
    a, b, c = (np.array([K + k], dtype=np.uint64) for k in (1, 2, 3))
    texts = [TrainingText(np.concatenate([a, b]), ("8507",), (), 1.0), TrainingText(c, ("9503",), (), 1.0),
             TrainingText(b, ("0101",), (), 1.0)]
    model = HeadingModel(texts, ["0101", "8507", "9503"], mix=MixSettings(chapter_mix=0.0, max_df_share=1.0))
    ranked = model.rank([model.feature_ids(a), model.feature_ids(c), model.feature_ids(np.array([K + 9], np.uint64))])
    assert ranked[0][0][0] == "8507" and ranked[1][0][0] == "9503" and ranked[2] == []


def test_chinese_docs_lean_on_their_chapter_by_their_own_share():
    """With ``chapter_mix_zh`` 1 and ``chapter_mix`` 0, a Chinese doc is ranked by chapter alone (both
    headings of the chapter tie), an English doc with the same features by heading alone."""
    chapter, heading = (np.array([k], dtype=np.uint64) for k in ((ord("电") << 21) | ord("池"),
                                                                 (ord("锂") << 21) | ord("电")))
    texts = [TrainingText(np.concatenate([chapter, heading]), ("8507",), (), 1.0),
             TrainingText(chapter, ("8506",), (), 1.0), TrainingText(np.array([K + 9], np.uint64), ("9503",), (), 1.0)]
    model = HeadingModel(texts, ["8506", "8507", "9503"],
                         mix=MixSettings(chapter_mix=0.0, chapter_mix_zh=1.0, max_df_share=1.0))
    zh, en = spacy.blank("zh")("锂电池"), spacy.blank("en")("锂电池")
    (zh_ranked, en_ranked) = model.rank_docs([zh, en])
    assert zh_ranked[0][1] == zh_ranked[1][1] and {c for c, _ in zh_ranked[:2]} == {"8506", "8507"}
    assert en_ranked[0][0] == "8507" and en_ranked[0][1] > en_ranked[1][1]


def test_an_entry_contained_in_the_text_beats_a_long_profile():
    """A short name found whole ("live swine") outranks a heading whose long profile shares one word."""
    swine, live, other = (np.array(k, dtype=np.uint64) + K for k in ([1, 2], [2], [3, 4, 5, 6, 7, 8]))
    texts = [TrainingText(swine, ("0103",), (), 1.0, entry=True),
             TrainingText(np.concatenate([live, other]), ("0106",), (), 1.0, entry=True),
             TrainingText(np.array([K + 9], np.uint64), ("8507",), (), 1.0, entry=True)]
    model = HeadingModel(texts, ["0103", "0106", "8507"],
                         mix=MixSettings(chapter_mix=0.0, entry_mix=1.0, max_df_share=1.0, entry_min_mass=0.1))
    ranked = model.rank([model.feature_ids(np.array([1, 2, 3], np.uint64) + K)])[0]
    assert ranked[0] == ("0103", 1.0) and ranked[1][0] == "0106" and ranked[1][1] < 0.5


def test_chinese_portal_words_find_their_headings(classifier):
    """Short Chinese product names, traditional script included, rank their heading first or close."""
    assert "0103" in top(classifier, "zh", "活猪", 2)
    assert "0103" in top(classifier, "zh", "进口生猪的动物卫生要求", 3)  # Taiwan names the heading by one character, 猪
    assert {"7217", "7229"} & set(top(classifier, "zh", "胎圈鋼絲", 3))  # traditional script (鋼絲 = 钢丝)
    assert "8516" in top(classifier, "zh", "储水式电热水器", 3)


def test_merge_rankings_keeps_the_best_score_per_heading():
    merged = merge_rankings([[("8507", 0.5), ("8506", 0.4)], [("8506", 0.7), ("9503", 0.1)]], top_k=2)
    assert merged == [("8506", 0.7), ("8507", 0.5)]


def test_split_is_fixed_and_copies_of_a_text_stay_together():
    kenya = {"symbol": "G/TBT/N/KEN/1", "products": "Lithium cells (HS 850650)"}
    uganda = {"symbol": "G/TBT/N/UGA/7", "products": "Lithium cells (HS code(s): 850650)"}
    assert split_bucket(kenya) == split_bucket(uganda) == split_bucket(dict(kenya))
    assert 0 <= split_bucket(kenya) < 100


def test_training_reads_the_configured_files_and_the_archives_labels(shared_data, nomenclature, tmp_path):
    """Every labelled text once (a joint notification's copies count once), the archive's file beside."""
    path = shared_data / "notices" / "dev.jsonl"
    configured = training_notices(InferenceConfig(training_notices=[path]), nomenclature)
    assert configured and len({text for text, _ in configured}) == len(configured)
    archive = tmp_path / "labelled.jsonl"
    notice = notice_from_dict({"symbol": "G/TBT/N/VNM/1", "title": "Safety of e-bike batteries", "hs_codes": ["850760"]})
    unlabelled = notice_from_dict({"symbol": "G/TBT/N/VNM/2", "title": "Toys"})
    assert write_labelled([notice, unlabelled], archive) == 1
    both = training_notices(InferenceConfig(training_notices=[path]), nomenclature, [archive])
    assert len(both) == len(configured) + 1 and both[-1] == ("Safety of e-bike batteries", ["850760"])


def test_the_archives_labels_are_bounded_per_code(tmp_path):
    """At archive scale the examples are capped per code, so retraining stays seconds, not minutes."""
    notices = [notice_from_dict({"symbol": f"G/TBT/N/VNM/{i}", "title": f"Batteries {i}", "hs_codes": ["850760"]})
               for i in range(1, 8)]
    notices.append(notice_from_dict({"symbol": "G/TBT/N/VNM/99", "title": "Toys", "hs_codes": ["9503"]}))
    assert write_labelled(notices, tmp_path / "labelled.jsonl", per_code=3) == 4


def test_customs_english_names_are_split_where_the_tariff_glues_them():
    from nlp.training import customs_english

    assert customs_english("Other sausages&similar products") == "Other sausages and similar products"
    assert customs_english("Fish,excl.other fish") == "Fish,excl. other fish"
    assert customs_english("g.v. nuts") == "g.v. nuts"  # an abbreviation's own stops stay
