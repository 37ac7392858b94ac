"""The outbox's batch: messages share commits, each stays all or nothing, and an error keeps what was queued."""

from __future__ import annotations

import sqlite3

import pytest

from alerts import outbox as outbox_module
from alerts.outbox import Outbox, Rendered
from tbtwatch.settings import get_settings


def rendered(message_id: str, fresh: list[str]) -> Rendered:
    return Rendered(f"about {', '.join(fresh)}", f"Message-ID: {message_id}\r\n\r\nbody".encode())


def queued_elsewhere(settings) -> list[str]:
    """Recipients a second connection sees (what is committed)."""
    with sqlite3.connect(settings.archive_db) as other:
        return [r[0] for r in other.execute("SELECT recipient FROM alert_outbox ORDER BY id")]


def test_batch_commits_every_batch_messages_and_at_the_end(home, monkeypatch):
    settings = get_settings()
    monkeypatch.setattr(outbox_module, "BATCH_MESSAGES", 3)
    box = Outbox(settings)
    with box.batch():
        for k in range(4):
            box.enqueue(recipient=f"r{k}@example.org", dedup_key="d", kind="alert", render=rendered,
                        symbols=[f"G/TBT/N/EU/{k}"])
        assert queued_elsewhere(settings) == ["r0@example.org", "r1@example.org", "r2@example.org"]
    assert len(queued_elsewhere(settings)) == 4
    assert not box.conn.in_transaction


def test_a_failing_message_in_a_batch_costs_neither_the_others_nor_leaves_a_trace(home):
    settings = get_settings()
    box = Outbox(settings)

    def broken(message_id: str, fresh: list[str]) -> Rendered:
        raise ValueError("template error")

    with pytest.raises(ValueError, match="template error"), box.batch():
        box.enqueue(recipient="good@example.org", dedup_key="d", kind="alert", render=rendered,
                    symbols=["G/TBT/N/EU/1"])
        box.enqueue(recipient="bad@example.org", dedup_key="d", kind="alert", render=broken,
                    symbols=["G/TBT/N/EU/1"])
    assert queued_elsewhere(settings) == ["good@example.org"]
    items = box.conn.execute("SELECT recipient FROM alert_outbox_items").fetchall()
    assert [r[0] for r in items] == ["good@example.org"]  # the failed message's items were rolled back too
    # the failed one is queued on the next run, once, and the good one is not repeated
    with box.batch():
        assert box.enqueue(recipient="bad@example.org", dedup_key="d", kind="alert", render=rendered,
                           symbols=["G/TBT/N/EU/1"]) is not None
        assert box.enqueue(recipient="good@example.org", dedup_key="d", kind="alert", render=rendered,
                           symbols=["G/TBT/N/EU/1"]) is None
    assert queued_elsewhere(settings) == ["good@example.org", "bad@example.org"]


def test_a_batch_does_not_nest(home):
    box = Outbox(get_settings())
    with box.batch(), pytest.raises(RuntimeError, match="already open"), box.batch():
        pass
