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
  the inferred headings; heading recall@5: a given heading among the top five.

The split into train and test parts is fixed (``nlp.training.split_bucket``; the
share is in ``config/catalogue/hs_inference.yaml``) and the inferrer trains on the
train part only: the test figures are the ones to report; the train figures show
how much is memorised. Never tune on the test part.

Run: ``.venv/bin/python bench/eval_classify.py [--notices more.jsonl ...]``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import bench_dir, console, record, show  # noqa: E402
from nlp.catalogue import Catalogue, load_catalogue  # noqa: E402
from nlp.codes import hide_codes  # noqa: E402
from nlp.training import InferenceConfig, is_test, known_labels, read_records  # noqa: E402
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


def run_classify(records: list[dict[str, Any]], catalogue_path: Path | None) -> list[dict[str, Any]]:
    """Through the real command line, as other tools call it."""
    script = Path(sys.executable).with_name("tbtwatch")
    command = [str(script)] if script.exists() else [sys.executable, "-c", "from commands.cli import app; app()"]
    command += ["classify"] + (["--catalogue", str(catalogue_path)] if catalogue_path else [])
    stdin = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    done = subprocess.run(command, input=stdin, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"classify failed ({done.returncode}): {done.stderr}")
    return [json.loads(line) for line in done.stdout.splitlines()]


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
    misses: list[str] = field(default_factory=list)

    def add(self, symbol: str, labels: list[str], answer: dict[str, Any], catalogue: Catalogue) -> None:
        self.notices += 1
        if "error" in answer:
            self.invalid += 1
            return
        truth = any(line.covers(code) for code in labels for line in catalogue.lines)
        said = bool(answer["relevant"])
        self.tp += truth and said
        self.fp += said and not truth
        self.fn += truth and not said
        self.tn += not truth and not said
        if truth != said:
            self.misses.append(f"{symbol}: {'missed' if truth else 'false alarm'} (given {', '.join(labels)})")
        inferred = [h["code"] for h in answer["hs_inferred"]]
        chapters = list(dict.fromkeys(code[:2] for code in inferred))[:3]
        self.chapter_n += 1
        self.chapter_hits += any(code[:2] in chapters for code in labels)
        headings = {code[:4] for code in labels if len(code) >= 4}
        if headings:
            self.heading_n += 1
            self.heading_hits += bool(headings & set(inferred[:5]))

    def figures(self) -> dict[str, float]:
        def ratio(a: int, b: int) -> float | None:
            return round(a / b, 3) if b else None  # None: no notice to measure on

        return {"notices": self.notices, "invalid": self.invalid,
                "relevant_true": self.tp + self.fn, "precision": ratio(self.tp, self.tp + self.fp),
                "recall": ratio(self.tp, self.tp + self.fn), "chapter_recall_at_3": ratio(self.chapter_hits, self.chapter_n),
                "heading_recall_at_5": ratio(self.heading_hits, self.heading_n), "heading_notices": self.heading_n}


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
    args = parser.parse_args()
    settings = get_settings()
    nomenclature = load_nomenclature(str(settings.paths.hs_nomenclature))
    catalogue = load_catalogue(args.catalogue, nomenclature)
    config_dir = (args.catalogue or settings.paths.catalogue)
    config_dir = config_dir if config_dir.is_dir() else config_dir.parent
    share = InferenceConfig.load(config_dir / "hs_inference.yaml", PROJECT_ROOT).test_share_percent
    records = labelled_set(args.notices, nomenclature)
    if not records:
        sys.exit(f"no labelled notices found under {SHARED}: the evaluation needs the real development set")
    answers = run_classify([hidden(r) for r in records], args.catalogue)
    parts: dict[str, Tally] = defaultdict(Tally)
    by_member: dict[str, Tally] = defaultdict(Tally)
    by_area: dict[str, Tally] = defaultdict(Tally)
    for r, answer in zip(records, answers):
        part = "test" if is_test(r, share) else "train"
        member, area = group_of(r["symbol"])
        for tally in (parts[part], parts["all"], by_member[f"{part}:{member}"], by_area[f"{part}:{area}"]):
            tally.add(r["symbol"], r["_labels"], answer, catalogue)
    results = {"parts": {k: v.figures() for k, v in parts.items()},
               "by_member": {k: v.figures() for k, v in sorted(by_member.items())},
               "by_area": {k: v.figures() for k, v in sorted(by_area.items())},
               "test_misses": parts["test"].misses, "test_share_percent": share}
    for name in ("test", "train", "all"):
        f = results["parts"].get(name)
        if f:
            show(f"classify evaluation, {name} part ({f['notices']} notices with given codes, codes hidden)", [
                ("relevance precision", _shown(f["precision"]), f"{f['relevant_true']} truly relevant"),
                ("relevance recall", _shown(f["recall"]), ""),
                ("HS chapter recall@3", _shown(f["chapter_recall_at_3"]), ""),
                ("HS heading recall@5", _shown(f["heading_recall_at_5"]), f"{f['heading_notices']} notices give a heading"),
                ("invalid notices", f["invalid"], "error records from classify"),
            ])
    for title, groups in (("by area", results["by_area"]), ("by member", results["by_member"])):
        rows = [(k, v["notices"], f"P {_shown(v['precision'])} R {_shown(v['recall'])} "
                                  f"ch@3 {_shown(v['chapter_recall_at_3'])} hd@5 {_shown(v['heading_recall_at_5'])}")
                for k, v in groups.items()]
        show(f"classify evaluation {title} (part:group)", rows)
    for miss in parts["test"].misses:
        console.print(f"test miss: {miss}", highlight=False)
    out = bench_dir() / "eval_classify.json"
    out.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    test = results["parts"].get("test", {})
    record({f"classify_eval_test_{k}": v for k, v in test.items() if k in
            {"precision", "recall", "chapter_recall_at_3", "heading_recall_at_5", "notices"}})
    console.print(f"full results in {out}")


if __name__ == "__main__":
    main()
