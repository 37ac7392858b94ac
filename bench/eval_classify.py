"""Evaluate ``tbtwatch classify`` on real notices whose member gave HS codes.

The labelled set: real notices (``../shared/data/notices/dev.jsonl``, the recorded
portal pages in ``../shared/data/pages/`` read by the crawler's form parser, and
any JSON Lines files given with ``--notices``) that carry member-given HS codes.
The codes are hidden (the ``hs_codes`` field emptied, and every code label and
listed code removed from the text), the notices go through the real ``tbtwatch
classify`` command, and the answers are compared with the hidden codes:

- relevance precision / recall: a notice is truly relevant when one of its given
  codes falls under a catalogue line's HS prefix;
- HS chapter recall@3: a given chapter among the first three distinct chapters of
  the inferred headings; heading recall@5: a given heading among the top five;
- shown-heading precision: of the inferred headings a reader is shown (``shown``),
  the share that are given headings;
- line precision: of the product lines reported, the share whose HS prefix covers
  a given code (and the same for the primary line alone).

The split into train and test parts is fixed (``nlp.training.split_bucket``; the
share is in ``config/catalogue/hs_inference.yaml``). The classifier learns as it
does in production, from an archive: the train part is imported into a fresh
archive, ``tbtwatch classify --retrain`` rebuilds the heading model from it (with
no configured notice files), and both parts are classified with codes hidden. The
test figures are the ones to report; the train figures show how much is
memorised. Never tune on the test part. With ``--folds K`` every notice is also scored once
by a model retrained without its fold (the ``cv`` figures: more notices than the test part, so
less noise when comparing two versions; still our development set, not the held-out one). The naive baseline (``bench.baseline_hs``:
TF-IDF over the bilingual nomenclature alone) is scored on the same notices.

Run: ``.venv/bin/python bench/eval_classify.py [--notices more.jsonl ...] [--folds 5]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.baseline_hs import BaselineInferrer  # noqa: E402
from bench.common import bench_dir, console, record, show  # noqa: E402
from nlp.catalogue import Catalogue, load_catalogue  # noqa: E402
from nlp.codes import hide_codes  # noqa: E402
from nlp.training import InferenceConfig, is_test, known_labels, read_records, split_bucket  # noqa: E402
from tbtwatch.hs import load_nomenclature  # noqa: E402
from tbtwatch.settings import PROJECT_ROOT, get_settings  # noqa: E402
from tbtwatch.symbols import SymbolError, parse_symbol  # noqa: E402

SHARED = PROJECT_ROOT.parent / "shared" / "data"
TEXT = ("title", "description", "products")


def page_records(folder: Path) -> list[dict[str, Any]]:
    """Notices read from recorded portal pages by the crawler's form parser (skipped if it is absent)."""
    try:
        from crawlers.forms import FormError, parse_notification_form
    except ImportError:
        return []
    out = []
    for path in sorted(folder.glob("*.txt")):
        try:
            notice = parse_notification_form(path.read_text(encoding="utf-8"))
        except FormError:
            continue
        notice.pop("leftovers", None)
        out.append({k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in notice.items()})
    return out


def labelled_set(extra: list[Path], known) -> list[dict[str, Any]]:
    """Records with member-given codes (cut to the nomenclature), first source first, one per symbol."""
    records = [r for _, r in read_records(SHARED / "notices" / "dev.jsonl")] if (SHARED / "notices").exists() else []
    records += page_records(SHARED / "pages")
    for path in extra:
        records += [r for _, r in read_records(path)]
    seen, out = set(), []
    for r in records:
        labels = known_labels(r.get("hs_codes") or [], known)
        if labels and r.get("symbol") not in seen:
            seen.add(r.get("symbol"))
            out.append({**r, "_labels": labels})
    return out


def hidden(record_: dict[str, Any]) -> dict[str, Any]:
    """The notice as classify sees it: no codes in the fields or the text."""
    out = {k: v for k, v in record_.items() if not k.startswith("_")}
    out["hs_codes"] = []
    for name in TEXT:
        if out.get(name):
            out[name] = hide_codes(out[name])
    for local in (out.get("translations") or {}).values():
        for name in TEXT:
            if local.get(name):
                local[name] = hide_codes(local[name])
    return out


def _tbtwatch(args: list[str], env: dict[str, str], stdin: str = "") -> str:
    """The real command line, as other tools call it; its stdout."""
    script = Path(sys.executable).with_name("tbtwatch")
    command = [str(script)] if script.exists() else [sys.executable, "-c", "from commands.cli import app; app()"]
    done = subprocess.run(command + args, input=stdin, capture_output=True, text=True, check=False, env=env)
    if done.returncode != 0:
        sys.exit(f"tbtwatch {' '.join(args)} failed ({done.returncode}): {done.stderr}")
    return done.stdout


def isolated_env(folder: Path, catalogue: Path) -> dict[str, str]:
    """A data directory and a copy of the catalogue folder whose inferrer reads no configured notice files:
    the heading model learns from the archive alone."""
    rules = folder / "catalogue"
    shutil.copytree(catalogue if catalogue.is_dir() else catalogue.parent, rules)
    inference = rules / "hs_inference.yaml"
    text = inference.read_text(encoding="utf-8") if inference.exists() else ""
    inference.write_text("\n".join(line for line in _without_training_files(text)) + "\n", encoding="utf-8")
    main = rules / (catalogue.name if catalogue.is_file() else "shenzhen.yaml")
    return {**os.environ, "TBTWATCH_HOME": str(folder / "home"), "TBTWATCH_PATHS_CATALOGUE": str(main)}


def _without_training_files(text: str) -> list[str]:
    out, skipping = ["training_notices: []"], False
    for line in text.splitlines():
        if line.startswith("training_notices:"):
            skipping = True
            continue
        if skipping and (line.startswith("  ") or not line.strip()):
            continue
        skipping = False
        out.append(line)
    return out


def run_classify(train: list[dict[str, Any]], records: list[dict[str, Any]], catalogue: Path) -> list[dict[str, Any]]:
    """Import ``train`` (codes kept: they are the labels) into a fresh archive, retrain from it, classify
    ``records`` (codes hidden)."""
    with tempfile.TemporaryDirectory(prefix="tbtwatch-eval-") as tmp:
        env = isolated_env(Path(tmp), catalogue)
        labelled = Path(tmp) / "train.jsonl"
        labelled.write_text("".join(json.dumps({k: v for k, v in r.items() if not k.startswith("_")},
                                               ensure_ascii=False) + "\n" for r in train), encoding="utf-8")
        _tbtwatch(["import", str(labelled)], env)
        _tbtwatch(["classify", "--retrain"], env)
        out = _tbtwatch(["classify"], env, "".join(json.dumps(hidden(r), ensure_ascii=False) + "\n" for r in records))
    return [json.loads(line) for line in out.splitlines()]


def cross_validated(records: list[dict[str, Any]], folds: int,
                    catalogue: Path) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(record, answer) for every record, each classified by a model retrained from the other folds.

    Folds follow the split bucket (``bucket * folds // 100``), so a text notified by several members stays
    in one fold, as the fixed split keeps it in one part.
    """
    fold_of = [split_bucket(r) * folds // 100 for r in records]
    out = []
    for fold in sorted(set(fold_of)):
        held = [r for r, f in zip(records, fold_of) if f == fold]
        rest = [r for r, f in zip(records, fold_of) if f != fold]
        out += zip(held, run_classify(rest, held, catalogue))
    return out


@dataclass
class Tally:
    notices: int = 0
    invalid: int = 0
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    chapter_n: int = 0
    chapter_hits: int = 0
    heading_n: int = 0
    heading_hits: int = 0
    domestic: int = 0
    shown: int = 0
    shown_right: int = 0
    lines: int = 0
    lines_right: int = 0
    primary: int = 0
    primary_right: int = 0
    base_chapter_hits: int = 0
    base_heading_hits: int = 0
    misses: list[str] = field(default_factory=list)

    def add(self, symbol: str, labels: list[str], answer: dict[str, Any], catalogue: Catalogue,
            baseline: list[str]) -> None:
        self.notices += 1
        if "error" in answer:
            self.invalid += 1
            return
        truth = any(line.covers(code) for code in labels for line in catalogue.lines)
        said = bool(answer["relevant"])
        if answer.get("domestic"):  # our own member's measure: not relevant by design, not a miss
            self.domestic += 1
            truth = False
        self.tp += truth and said
        self.fp += said and not truth
        self.fn += truth and not said
        self.tn += not truth and not said
        if truth != said:
            self.misses.append(f"{symbol}: {'missed' if truth else 'false alarm'} (given {', '.join(labels)})")
        inferred = [h["code"] for h in answer["hs_inferred"]]
        self.chapter_n += 1
        self.chapter_hits += _chapter_hit(labels, inferred)
        self.base_chapter_hits += _chapter_hit(labels, baseline)
        headings = {code[:4] for code in labels if len(code) >= 4}
        if headings:
            self.heading_n += 1
            self.heading_hits += bool(headings & set(inferred[:5]))
            self.base_heading_hits += bool(headings & set(baseline[:5]))
            shown = [h["code"] for h in answer["hs_inferred"] if h.get("shown")]
            self.shown += len(shown)
            self.shown_right += sum(code in headings for code in shown)
        true_lines = {line.id for line in catalogue.lines if any(line.covers(code) for code in labels)}
        reported = [m["id"] for m in answer["product_lines"]] if said else []
        self.lines += len(reported)
        self.lines_right += sum(i in true_lines for i in reported)
        if reported:
            self.primary += 1
            self.primary_right += reported[0] in true_lines

    def figures(self) -> dict[str, float]:
        def ratio(a: int, b: int) -> float | None:
            return round(a / b, 3) if b else None  # None: no notice to measure on

        return {"notices": self.notices, "invalid": self.invalid, "domestic": self.domestic,
                "relevant_true": self.tp + self.fn, "precision": ratio(self.tp, self.tp + self.fp),
                "recall": ratio(self.tp, self.tp + self.fn),
                "chapter_recall_at_3": ratio(self.chapter_hits, self.chapter_n),
                "heading_recall_at_5": ratio(self.heading_hits, self.heading_n), "heading_notices": self.heading_n,
                "shown_heading_precision": ratio(self.shown_right, self.shown), "shown_headings": self.shown,
                "line_precision": ratio(self.lines_right, self.lines), "lines_reported": self.lines,
                "primary_line_precision": ratio(self.primary_right, self.primary),
                "baseline_chapter_recall_at_3": ratio(self.base_chapter_hits, self.chapter_n),
                "baseline_heading_recall_at_5": ratio(self.base_heading_hits, self.heading_n)}


def _chapter_hit(labels: list[str], ranked: list[str]) -> bool:
    chapters = list(dict.fromkeys(code[:2] for code in ranked))[:3]
    return any(code[:2] in chapters for code in labels)


def _shown(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def group_of(symbol: str) -> tuple[str, str]:
    try:
        parsed = parse_symbol(symbol)
        return parsed.member_code or "?", parsed.area
    except SymbolError:
        return "?", "TBT" if "/TBT/" in symbol else "SPS"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notices", type=Path, nargs="*", default=[], help="more JSON Lines files of real notices")
    parser.add_argument("--catalogue", type=Path, default=None)
    parser.add_argument("--folds", type=int, default=0,
                        help="also cross-validate: K folds by split bucket, each classified by a model retrained "
                             "from the other folds (the 'cv' groups: every notice scored once, unseen)")
    args = parser.parse_args()
    settings = get_settings()
    nomenclature = load_nomenclature(str(settings.paths.hs_nomenclature))
    catalogue = load_catalogue(args.catalogue, nomenclature)
    catalogue_path = args.catalogue or settings.paths.catalogue
    config_dir = catalogue_path if catalogue_path.is_dir() else catalogue_path.parent
    share = InferenceConfig.load(config_dir / "hs_inference.yaml", PROJECT_ROOT).test_share_percent
    records = labelled_set(args.notices, nomenclature)
    if not records:
        sys.exit(f"no labelled notices found under {SHARED}: the evaluation needs the real development set")
    train = [r for r in records if not is_test(r, share)]
    answers = run_classify(train, records, catalogue_path)
    baseline = BaselineInferrer(nomenclature)
    groups: dict[str, Tally] = defaultdict(Tally)
    scored = [("test" if is_test(r, share) else "train", r, answer) for r, answer in zip(records, answers)]
    if args.folds > 1:
        scored += [("cv", r, answer) for r, answer in cross_validated(records, args.folds, catalogue_path)]
    ranked_by_symbol = {r["symbol"]: [code for code, _ in baseline.rank(_all_text(hidden(r)))] for r in records}
    for part, r, answer in scored:
        member, area = group_of(r["symbol"])
        language = "zh" if r.get("language") == "zh" else "en"
        ranked = ranked_by_symbol[r["symbol"]]
        keys = (part, f"{part}:{language}", f"{part}:{area}", f"member {part}:{member}")
        for key in (*keys, "all") if part != "cv" else keys:
            groups[key].add(r["symbol"], r["_labels"], answer, catalogue, ranked)
    results = {"groups": {k: v.figures() for k, v in sorted(groups.items())},
               "test_misses": groups["test"].misses, "cv_misses": groups["cv"].misses,
               "test_share_percent": share}
    for name in ("test", "train", "all", "cv"):
        f = results["groups"].get(name)
        if f:
            show(f"classify evaluation, {name} part ({f['notices']} notices with given codes, codes hidden)", [
                ("relevance precision", _shown(f["precision"]),
                 f"{f['relevant_true']} truly relevant ({f['domestic']} domestic ones are not)"),
                ("relevance recall", _shown(f["recall"]), ""),
                ("HS chapter recall@3", _shown(f["chapter_recall_at_3"]),
                 f"naive baseline {_shown(f['baseline_chapter_recall_at_3'])}"),
                ("HS heading recall@5", _shown(f["heading_recall_at_5"]),
                 f"naive baseline {_shown(f['baseline_heading_recall_at_5'])}; {f['heading_notices']} give a heading"),
                ("shown-heading precision", _shown(f["shown_heading_precision"]), f"{f['shown_headings']} shown"),
                ("line precision", _shown(f["line_precision"]), f"{f['lines_reported']} lines reported"),
                ("primary-line precision", _shown(f["primary_line_precision"]), ""),
                ("invalid notices", f["invalid"], "error records from classify"),
            ])
    rows = [(k, v["notices"], f"P {_shown(v['precision'])} R {_shown(v['recall'])} "
                              f"ch@3 {_shown(v['chapter_recall_at_3'])} ({_shown(v['baseline_chapter_recall_at_3'])}) "
                              f"hd@5 {_shown(v['heading_recall_at_5'])} ({_shown(v['baseline_heading_recall_at_5'])}) "
                              f"shown {_shown(v['shown_heading_precision'])} lines {_shown(v['line_precision'])}")
            for k, v in results["groups"].items() if ":" in k and not k.startswith("member")]
    show("classify evaluation by language and area (part:group; naive baseline in brackets)", rows)
    for part in ("test", "cv"):
        for miss in results.get(f"{part}_misses", []):
            console.print(f"{part} miss: {miss}", highlight=False)
    out = bench_dir() / "eval_classify.json"
    out.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    test = results["groups"].get("test", {})
    record({f"classify_eval_test_{k}": v for k, v in test.items() if k in
            {"precision", "recall", "chapter_recall_at_3", "heading_recall_at_5", "notices", "shown_heading_precision",
             "line_precision", "baseline_chapter_recall_at_3", "baseline_heading_recall_at_5"}})
    console.print(f"full results in {out}")


def _all_text(record_: dict[str, Any]) -> str:
    parts = [record_.get(k) or "" for k in TEXT]
    for local in (record_.get("translations") or {}).values():
        parts += [local.get(k) or "" for k in TEXT]
    return "\n".join(p for p in parts if p)


if __name__ == "__main__":
    main()
