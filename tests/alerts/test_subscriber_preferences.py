"""``update_preferences``: a subscriber changes the language and frequency of their alerts (the manage page)."""

from __future__ import annotations

import pytest

from alerts import subscriptions
from alerts.rules import Rule
from alerts.validation import SubscriptionError


def test_language_and_frequency_change_and_filters_stay(settings):
    subscriptions.subscribe(settings, "pref@example.org", Rule(hs=["8507"]), lang="zh", frequency="daily",
                            name="EU batteries", confirmed=True)
    changed = subscriptions.update_preferences(settings, "Pref@Example.org ", lang="both")
    assert (changed.lang, changed.frequency, changed.status) == ("both", "daily", "active")
    changed = subscriptions.update_preferences(settings, "pref@example.org", frequency="weekly")
    assert (changed.lang, changed.frequency) == ("both", "weekly")
    assert [f.name for f in changed.filters] == ["EU batteries"]
    stored = subscriptions.get_subscriber(settings, "pref@example.org")
    assert (stored.lang, stored.frequency) == ("both", "weekly")


def test_bad_values_and_unknown_addresses_are_refused_and_change_nothing(settings):
    subscriptions.subscribe(settings, "pref@example.org", Rule(hs=["8507"]), lang="en", frequency="daily",
                            confirmed=True)
    with pytest.raises(SubscriptionError, match="hourly"):
        subscriptions.update_preferences(settings, "pref@example.org", lang="zh", frequency="hourly")
    with pytest.raises(SubscriptionError, match="klingon"):
        subscriptions.update_preferences(settings, "pref@example.org", lang="klingon")
    with pytest.raises(SubscriptionError, match="no subscription"):
        subscriptions.update_preferences(settings, "nobody@example.org", lang="zh")
    stored = subscriptions.get_subscriber(settings, "pref@example.org")
    assert (stored.lang, stored.frequency) == ("en", "daily")
