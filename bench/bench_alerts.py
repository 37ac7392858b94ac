"""Alerts at scale: 10,000 subscriptions matched against a day's assessments, then 10,000 messages rendered.

The day is 120 notices (the busiest WTO days) from the realistic corpus (``bench.corpus``),
assessed by the real classifier (not timed here: the classify benchmark measures it). The
10,000 subscribers are generated from the real catalogue and HS nomenclature, in the mix a
Shenzhen exporters' service would see: most follow HS prefixes or product lines of the
catalogue, some Chinese or English keywords, a few a whole member; a third narrow by member,
some by area or minimum level, one in ten excludes a keyword. Each has one to three filters.

Figures: matching time through ``alerts.matching.SubscriptionIndex`` (index build included, as
``alerts.run.match_day`` does it per run), and 10,000 alert emails rendered and queued the way
``alerts.run.send_alerts`` does it: each notice's item built once, a copy per reader with their
evidence, rendered through the real templates (``alerts.messages.rendered_email``: Jinja2 text and
HTML, MIME packing) inside the outbox's enqueue transaction on a real SQLite file.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import tempfile
from collections import defaultdict
from pathlib import Path

from alerts.context import MessageContext, Names, for_reader, notice_item
from alerts.matching import SubscriptionIndex
from alerts.messages import rendered_email
from alerts.outbox import Outbox, Rendered
from alerts.rules import Filter, NoticeFacts, Rule, normalise_keyword
from bench.common import record, show, timer
from bench.corpus import generate
from tbtwatch.members import default_members
from tbtwatch.settings import get_settings

SUBSCRIBERS = 10_000
MESSAGES = int(__import__("os").environ.get("TBTWATCH_BENCH_MESSAGES", "10000"))
DAY_NOTICES = 120
MEMBERS = ["EU", "USA", "JPN", "KOR", "IND", "BRA", "SAU", "KEN", "UGA", "GBR", "CAN", "AUS", "VNM", "THA", "MEX"]


def subscriptions(rng: random.Random, catalogue) -> list[Filter]:
    """The generated subscribers' filters (``subscriber_id`` ties a subscriber's filters together)."""
    lines = list(catalogue)
    codes = sorted({code for line in lines for code in line.hs})
    keywords = sorted({normalise_keyword(t) for line in lines for t in (*line.terms_en, *line.terms_zh) if t.strip()})
    filters = []
    for subscriber in range(SUBSCRIBERS):
        for n in range(rng.choice((1, 1, 1, 2, 2, 3))):
            kind = rng.random()
            rule = Rule()
            if kind < 0.40:
                rule.hs = rng.sample(codes, rng.randint(1, 3))
            elif kind < 0.70:
                rule.product_lines = [line.id for line in rng.sample(lines, rng.randint(1, 2))]
            elif kind < 0.90:
                rule.keywords = rng.sample(keywords, rng.randint(1, 2))
            else:
                rule.members = [rng.choice(MEMBERS)]
            if not rule.members and rng.random() < 0.33:
                rule.members = rng.sample(MEMBERS, rng.randint(1, 3))
            if rng.random() < 0.2:
                rule.areas = [rng.choice(("TBT", "SPS"))]
            if rng.random() < 0.3:
                rule.min_level = rng.choice(("medium", "high"))
            exclude = [Rule(keywords=[rng.choice(keywords)])] if rng.random() < 0.1 else []
            filters.append(Filter(include=rule, exclude=exclude, name=f"filter {n + 1}",
                                  id=len(filters) + 1, subscriber_id=subscriber))
    return filters


def run() -> dict[str, float]:
    from nlp.classifier import Classifier  # heavy: spaCy pipelines

    settings = get_settings()
    day = dt.date(2026, 3, 2)
    notices = [n.model_copy(update={"distribution_date": day}) for n in generate(DAY_NOTICES, seed=302)]
    classifier = Classifier().settle()  # as the daily run has it when its alerts stage renders
    assessments = [a.to_dict() for a in classifier.assess_many(notices, today=day)]
    filters = subscriptions(random.Random(11), classifier.catalogue)

    with timer() as elapsed:
        index = SubscriptionIndex(filters)
        matched: dict[int, list[tuple[int, list]]] = defaultdict(list)  # subscriber -> (notice, evidence)
        for i, (notice, assessment) in enumerate(zip(notices, assessments)):
            for match in index.match(NoticeFacts.build(notice, assessment)):
                matched[match.filter.subscriber_id].append((i, match.evidence))
    match_s = elapsed()
    pairs = sum(len(v) for v in matched.values())

    members = default_members()
    names = Names(members, {line.id: (line.name_zh, line.name_en) for line in classifier.catalogue})
    jobs = [(sid, found) for sid, found in sorted(matched.items())] or [(0, [(0, [])])]
    with tempfile.TemporaryDirectory() as home, timer() as elapsed:
        # as alerts.run.send_alerts does it: each notice's item once per run, a copy per reader with their
        # evidence, rendered inside the outbox's enqueue transaction (a real SQLite file)
        outbox = Outbox(dataclasses.replace(settings, paths=dataclasses.replace(settings.paths, home=Path(home))))
        items = [notice_item(n, a, day=day, base_url=settings.alerts.base_url, names=names)
                 for n, a in zip(notices, assessments)]
        size = 0
        with outbox.batch():  # as send_alerts queues them
            for k in range(MESSAGES):
                sid, found = jobs[k % len(jobs)]
                context = MessageContext(kind="alert", languages=["zh", "en"] if sid % 3 == 0 else ["zh"],
                                         recipient=f"subscriber{sid}@example.org", day=day.isoformat(),
                                         base_url=settings.alerts.base_url,
                                         items=[for_reader(items[i], evidence, names, [f"filter {sid % 3 + 1}"])
                                                for i, evidence in found[:10]],
                                         unsubscribe_url=f"{settings.alerts.base_url}/unsubscribe/token{sid}")

                def render(message_id: str, _: list[str], context=context) -> Rendered:
                    return rendered_email("alert", context, sender=settings.smtp.sender, message_id=message_id)

                outbox.enqueue(recipient=context.recipient, dedup_key=f"{day}:{k}", kind="alert", render=render)
        render_s = elapsed()
        size = outbox.conn.execute("SELECT SUM(LENGTH(payload)) FROM alert_outbox").fetchone()[0]

    figures = {
        "alerts_subscribers": SUBSCRIBERS,
        "alerts_filters": len(filters),
        "alerts_day_notices": DAY_NOTICES,
        "alerts_matches": pairs,
        "alerts_subscribers_matched": len(matched),
        "match_10k_subs_s": round(match_s, 3),
        "render_10k_messages_s": round(render_s, 2),
        "render_messages_per_s": round(MESSAGES / render_s, 1),
        "render_message_kb": round(size / MESSAGES / 1000, 1),
    }
    show(f"alerts: {SUBSCRIBERS:,} subscribers ({len(filters):,} filters) x {DAY_NOTICES} notices of one day", [
        ("match time (s), index build included", figures["match_10k_subs_s"], "< 1 s"),
        ("(subscriber, notice) matches", pairs, ""),
        ("subscribers with at least one match", len(matched), ""),
        (f"render and queue {MESSAGES:,} alert emails (s)", figures["render_10k_messages_s"], ""),
        ("messages rendered and queued per second", figures["render_messages_per_s"], ">= 1,000"),
        ("average message size (kB)", figures["render_message_kb"], ""),
    ])
    record(figures)
    return figures


if __name__ == "__main__":
    run()
