"""Near-duplicate grouping: the threshold measured on the real development set, real joint filings grouped,
different notices of one member (or of one day) kept apart; one alert, one digest entry, one review per group."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from alerts import reviews, run, subscriptions
from alerts.digest import digest_context
from alerts.grouping import SIMILARITY_THRESHOLD, find_groups, refresh_groups, similarity
from alerts.rules import Rule
from tbtwatch.model import Notice, NoticeError, notice_from_dict

from .conftest import DAY, EAC


@pytest.fixture(scope="module")
def real_notices(dev_records) -> list[Notice]:
    notices = []
    for record in dev_records:
        try:
            notices.append(notice_from_dict(record, ignore_unknown=True))
        except NoticeError:  # one record's symbol lost its member code on the portal
            continue
    return notices


def member_copy(notice: Notice, symbol: str, keep: float = 1.0) -> Notice:
    """Another member's copy of a joint text, as that member files it; ``keep`` cuts the description the way
    portals store excerpts."""
    cut = notice.description[: int(len(notice.description) * keep)]
    return notice.model_copy(
        update={
            "symbol": symbol,
            "symbols": [symbol],
            "member": "",
            "member_code": symbol.split("/")[3],
            "description": cut,
        }
    )


@pytest.fixture(scope="module")
def measured(real_notices):
    """(positive similarities by cut, negative pairs) on the real records."""
    positives: dict[float, list[float]] = {1.0: [], 0.85: [], 0.7: [], 0.5: []}
    for notice in real_notices:
        others = [s for s in notice.symbols if s.split("/")[3] != notice.member_code]
        for symbol, keep in itertools.product(others, positives):
            positives[keep].append(similarity(notice, member_copy(notice, symbol, keep)))
    negatives = [(similarity(a, b), a, b) for a, b in itertools.combinations(real_notices, 2)]
    return positives, sorted(negatives, key=lambda x: -x[0])


def test_threshold_sits_in_the_measured_gap(measured, capsys):
    positives, negatives = measured
    lowest_positive = min(min(v) for v in positives.values())
    highest_negative, a, b = negatives[0]
    with capsys.disabled():
        print(
            f"\n  positives: {sum(map(len, positives.values()))} pairs; minimum by cut: "
            + ", ".join(f"{k:.0%} {min(v):.3f}" for k, v in positives.items())
        )
        print(
            f"  negatives: {len(negatives)} pairs; highest {highest_negative:.3f} ({a.symbol} vs {b.symbol}), "
            f"then {negatives[1][0]:.3f} ({negatives[1][1].symbol} vs {negatives[1][2].symbol})"
        )
    assert sum(map(len, positives.values())) >= 200 and len(negatives) >= 2500
    assert highest_negative < SIMILARITY_THRESHOLD <= lowest_positive
    margin = min(SIMILARITY_THRESHOLD - highest_negative, lowest_positive - SIMILARITY_THRESHOLD)
    assert margin > 0.1, "the threshold is too close to one side of the gap"


def test_real_joint_filing_is_grouped_but_neighbours_are_not(real_notices):
    by_symbol = {n.symbol: n for n in real_notices}
    cattle, poultry = by_symbol["G/TBT/N/BDI/334"], by_symbol["G/TBT/N/BDI/337"]  # 3 days apart, same HS
    copies = [member_copy(cattle, s) for s in cattle.symbols[1:]]
    poultry_copies = [member_copy(poultry, s) for s in poultry.symbols[1:]]
    found = find_groups([*copies, *poultry_copies])  # no declared symbols: similarity alone
    assert sorted(map(sorted, found.groups)) == sorted([cattle.symbols[1:], poultry.symbols[1:]])
    assert similarity(copies[0], poultry_copies[1]) < SIMILARITY_THRESHOLD


def test_different_notices_of_one_member_on_one_day_stay_apart(real_notices):
    by_symbol = {n.symbol: n for n in real_notices}
    soft_drinks, chili = by_symbol["G/TBT/N/RWA/787"], by_symbol["G/TBT/N/RWA/783"]
    assert soft_drinks.distribution_date == chili.distribution_date
    assert similarity(soft_drinks, chili) < SIMILARITY_THRESHOLD
    # two EAC adoption addenda of one day share their boilerplate, yet are different texts
    palm, groundnut = by_symbol["G/TBT/N/BDI/268/Add.1"], by_symbol["G/TBT/N/BDI/244/Add.1"]
    palm_ken = member_copy(palm, "G/TBT/N/KEN/1297/Add.1")
    assert similarity(palm_ken, groundnut) < SIMILARITY_THRESHOLD
    found = find_groups([soft_drinks, chili, palm_ken, member_copy(groundnut, "G/TBT/N/UGA/1598/Add.1")])
    assert found.groups == []


def test_declared_joint_symbols_group_even_before_the_copies_arrive(real_notices):
    gulf = next(n for n in real_notices if n.symbol == "G/TBT/N/ARE/540")
    found = find_groups([gulf])
    assert found.groups == [sorted(gulf.symbols)] and len(gulf.symbols) == 7
    revision = next(n for n in real_notices if n.symbol == "G/TBT/N/ECU/466/Rev.1")
    assert find_groups([revision]).groups == []  # a revision listing its base is not a joint filing


def test_window_kind_and_area_limit_grouping():
    base = {
        "title": "Portable power banks — Specification",
        "language": "en",
        "description": "Safety requirements for power banks " * 5,
        "products": "Power banks",
    }
    make = lambda symbol, day: notice_from_dict({**base, "symbol": symbol, "distribution_date": day})  # noqa: E731
    assert find_groups([make("G/TBT/N/KEN/1", "2026-03-02"), make("G/TBT/N/UGA/1", "2026-03-05")]).groups
    assert not find_groups([make("G/TBT/N/KEN/1", "2026-03-02"), make("G/TBT/N/UGA/1", "2026-03-06")]).groups
    assert not find_groups([make("G/TBT/N/KEN/1", "2026-03-02"), make("G/SPS/N/UGA/1", "2026-03-02")]).groups
    assert not find_groups(
        [make("G/TBT/N/KEN/1", "2026-03-02"), make("G/TBT/N/UGA/1/Add.1", "2026-03-02")]
    ).groups
    assert not find_groups([make("G/TBT/N/KEN/1", "2026-03-02"), make("G/TBT/N/KEN/2", "2026-03-02")]).groups


def test_groups_are_stored_and_keep_their_id_when_a_late_copy_arrives(settings, store):
    groups = refresh_groups(settings, store, [DAY])
    power = groups.group_of("G/TBT/N/KEN/1901")
    assert power.id == "G/TBT/N/BDI/1900" and power.symbols == [
        f"G/TBT/N/{c}/{1900 + i}" for i, c in enumerate(EAC)
    ]
    assert set(groups.groups_of(["G/TBT/N/KEN/1901", "G/TBT/N/EU/2001", "G/TBT/N/UGA/1914"])) == {
        "G/TBT/N/KEN/1901",
        "G/TBT/N/UGA/1914",
    }
    lantern = groups.group_of("G/TBT/N/UGA/1914")
    assert lantern.id == "G/TBT/N/BDI/1910" and groups.group_of("G/TBT/N/EU/2001") is None
    late = store.get("G/TBT/N/KEN/1901").model_copy(
        update={
            "symbol": "G/TBT/N/SSD/50",
            "symbols": [],
            "member_code": "SSD",
            "distribution_date": DAY + dt.timedelta(days=2),
        }
    )
    store.upsert([late])
    refreshed = refresh_groups(settings, store, [DAY + dt.timedelta(days=2)]).group_of("G/TBT/N/SSD/50")
    assert refreshed.id == "G/TBT/N/BDI/1900" and len(refreshed.symbols) == 6
    assert store.get("G/TBT/N/KEN/1901").symbol == "G/TBT/N/KEN/1901"  # each notice keeps its own record


def test_one_alert_one_digest_entry_one_review_per_group(smtp_server, settings, store, monkeypatch):
    monkeypatch.setattr(settings.alerts, "working_group", ["wg@example.org"])
    subscriptions.subscribe(
        settings, "a@example.org", Rule(members=["KEN", "UGA"]), lang="en", confirmed=True
    )
    run.send_alerts(settings, DAY, store=store)
    subjects = sorted(m.message["Subject"] for m in smtp_server.messages)
    assert len(subjects) == 2, subjects  # power banks and solar lanterns, not 2 x 2 member copies
    body = smtp_server.messages[0].message.get_body(("plain",)).get_content()
    for code, number in zip(EAC, range(1900, 1905)):
        assert f"G/TBT/N/{code}/{number}" in body
    assert "Also notified as" in body and "Tanzania" in body
    context = digest_context(settings, store, [DAY], [])
    symbols = [item.symbol for item in context.details]
    assert symbols.count("G/TBT/N/BDI/1900") == 1 and not any("KEN/19" in s for s in symbols)
    member_counts = {row.label_in("zh"): row.count for row in context.counts if row.dimension == "member"}
    assert member_counts["肯尼亚 (KEN)"] == 2  # counts count every member's copy (power banks, lanterns)
    queued = {r.symbol for r in reviews.list_reviews(settings)}
    assert "G/TBT/N/BDI/1900" in queued and not queued & {
        f"G/TBT/N/{c}/190{i}" for i, c in enumerate(EAC) if i
    }
    row = next(r for r in context.review_queue if r.symbol == "G/TBT/N/BDI/1900")
    assert row.joint_symbols == [f"G/TBT/N/{c}/{1900 + i}" for i, c in enumerate(EAC)][1:]


def test_a_busy_day_of_joint_filings_is_grouped_text_by_text():
    """24 texts x 5 members on one day (as in July 2024), the texts differing in a few words only."""
    texts = [
        f"This Draft East African Standard specifies requirements for product number {i} of kind "
        f"{'abcdefghijklmnopqrstuvwx'[i]} including sampling and test methods for {i * 7} items"
        for i in range(24)
    ]
    notices = [
        notice_from_dict(
            {
                "symbol": f"G/TBT/N/{c}/{100 + i}",
                "distribution_date": "2024-07-15",
                "title": f"DEAS {900 + i}:2024 product {i}",
                "description": t,
                "products": f"product {i}",
                "language": "en",
            }
        )
        for i, t in enumerate(texts)
        for c in EAC
    ]
    found = find_groups(notices)
    assert sorted(map(sorted, found.groups)) == sorted(
        sorted(f"G/TBT/N/{c}/{100 + i}" for c in EAC) for i in range(24)
    )


def test_an_addendum_of_any_copy_follows_the_groups_review(settings, store):
    refresh_groups(settings, store, [DAY])
    reviews.update_review(settings, "G/TBT/N/BDI/1900", status="under_review", owner="李工")
    later = DAY + dt.timedelta(days=10)
    addendum = notice_from_dict({
        "symbol": "G/TBT/N/KEN/1901/Add.1", "member": "Kenya", "language": "en",
        "distribution_date": later.isoformat(), "comment_deadline": (later + dt.timedelta(days=30)).isoformat(),
        "title": "Comment period extended", "description": "Kenya extends the comment period."})
    store.upsert([addendum])
    context = digest_context(settings, store, [later], [])
    (item,) = context.followups
    assert item.symbol == "G/TBT/N/KEN/1901/Add.1"
    assert (item.review_status, item.review_owner) == ("under_review", "李工")


class _Leads:
    """Groups as the digest asks them: symbol -> the group's lead."""

    def __init__(self, lead: str):
        self.lead = lead

    def lead_of(self, symbol: str) -> str:
        return self.lead


def test_a_group_shows_its_highest_level_not_its_leads():
    from alerts.daybook import Assessed
    from alerts.digest import one_per_group

    def entry(symbol: str, level: str) -> Assessed:
        return Assessed(notice_from_dict({"symbol": symbol, "title": "Toys"}), {"level": level})

    copies = [entry("G/TBT/N/BDI/600", "low"), entry("G/TBT/N/KEN/1600", "medium"), entry("G/TBT/N/UGA/2100", "low")]
    (shown,) = one_per_group(copies, _Leads("G/TBT/N/BDI/600"))
    assert shown.notice.symbol == "G/TBT/N/KEN/1600"
    (tie,) = one_per_group([entry("G/TBT/N/KEN/1600", "low"), entry("G/TBT/N/BDI/600", "low")],
                           _Leads("G/TBT/N/BDI/600"))
    assert tie.notice.symbol == "G/TBT/N/BDI/600"  # the lead on a tie
