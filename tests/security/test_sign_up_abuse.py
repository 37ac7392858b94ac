"""Sign-up abuse over HTTP: nobody changes another person's subscription, and the answer tells nothing.

A sign-up names an address its sender may not own. Proved here through the real app on a real SQLite
archive: a sign-up (API or form) for an address that already subscribes leaves its filters, language,
frequency and status exactly as they were; the owner gets a message at that address describing the
request, and only its link applies it. Every address - new, pending, active, unsubscribed - gets the
same answer, so the sign-up is no oracle of who subscribes.
"""

from __future__ import annotations

import pytest
from conftest import csrf_of, link_in, outbox_to

from alerts import subscriptions
from alerts.rules import Rule
from tbtwatch.settings import get_settings

pytestmark = pytest.mark.timeout(60)

OWNER = "owner@example.org"


def _state(settings, address: str):
    found = subscriptions.get_subscriber(settings, address)
    return found and (found.status, found.lang, found.frequency,
                      [(f.name, f.include.to_dict(), [r.to_dict() for r in f.exclude]) for f in found.filters])


@pytest.fixture
def owner(home):
    settings = get_settings()
    subscriptions.subscribe(settings, OWNER, Rule(hs=["8507"]), lang="en", frequency="daily", confirmed=True)
    return settings


def _sign_up_by_api(web, address):
    return web.post("/api/subscriptions", json={"email": address, "keywords": ["toys", "food"],
                                                "lang": "zh", "frequency": "immediate"})


def _sign_up_by_form(web, address):
    token = csrf_of(web.get("/subscribe").text)
    return web.post("/subscribe", data={"email": address, "keywords": "toys; food", "lang": "zh",
                                        "frequency": "immediate", "csrf_token": token})


@pytest.mark.parametrize("sign_up", [_sign_up_by_api, _sign_up_by_form], ids=["api", "form"])
def test_a_sign_up_for_a_subscribed_address_changes_nothing_until_its_owner_confirms(owner, web, sign_up):
    before = _state(owner, OWNER)
    assert sign_up(web, OWNER).status_code in (200, 202)
    assert _state(owner, OWNER) == before  # no filter added, language and frequency untouched
    told = outbox_to(owner, OWNER)
    assert len(told) == 1, "the owner is told at the address itself"
    text = told[0].get_body(preferencelist=("plain",)).get_content()
    assert "toys" in text and "food" in text  # what was asked for, so the owner can judge it

    link = link_in(told[0], "/subscriptions/change")
    page = web.get(link)
    assert page.status_code == 200 and _state(owner, OWNER) == before  # a GET (mail scanners) applies nothing
    token = link.partition("token=")[2]
    applied = web.post("/subscriptions/change", data={"token": token, "csrf_token": csrf_of(page.text)})
    assert applied.status_code == 200, applied.text
    after = subscriptions.get_subscriber(owner, OWNER)
    assert (after.status, after.lang, after.frequency) == ("active", "zh", "immediate")
    assert [f.include.keywords for f in after.filters] == [[], ["toys", "food"]]
    again = web.post("/subscriptions/change", data={"token": token, "csrf_token": csrf_of(page.text)})
    assert again.status_code == 400 and len(subscriptions.get_subscriber(owner, OWNER).filters) == 2  # once only


def test_a_forged_change_link_applies_nothing(owner, web):
    _sign_up_by_api(web, OWNER)
    link = link_in(outbox_to(owner, OWNER)[0], "/subscriptions/change")
    page = web.get(link)
    forged = link.partition("token=")[2][:-2] + "xx"
    refused = web.post("/subscriptions/change", data={"token": forged, "csrf_token": csrf_of(page.text)})
    assert refused.status_code == 400 and len(subscriptions.get_subscriber(owner, OWNER).filters) == 1


def _addresses_in_every_state(settings, tag: str) -> list[str]:
    """A new, a pending, an active and an unsubscribed address."""
    new, pending, active, gone = (f"{state}-{tag}@example.org" for state in ("new", "pending", "active", "gone"))
    subscriptions.subscribe(settings, pending, Rule(hs=["85"]))
    subscriptions.subscribe(settings, active, Rule(hs=["85"]), confirmed=True)
    subscriptions.subscribe(settings, gone, Rule(hs=["85"]), confirmed=True)
    subscriptions.unsubscribe(settings, gone)
    return [new, pending, active, gone]


def test_every_address_gets_the_same_answer(home, web):
    settings = get_settings()
    by_api = _addresses_in_every_state(settings, "api")
    answers = [_sign_up_by_api(web, address) for address in by_api]
    assert [r.status_code for r in answers] == [202] * 4
    assert len({repr({**r.json(), "email": ""}) for r in answers}) == 1, [r.json() for r in answers]

    by_form = _addresses_in_every_state(settings, "form")
    pages = [_sign_up_by_form(web, address) for address in by_form]
    assert [r.status_code for r in pages] == [200] * 4
    assert len({r.text.replace(a, "ADDRESS") for r, a in zip(pages, by_form, strict=True)}) == 1
    for address in by_api + by_form:
        assert outbox_to(settings, address), f"{address} is sent a message, whatever its state"
