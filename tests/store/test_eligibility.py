"""One answer to who gets it: what the Send Now forecast counts is what the claim then does.

Random centers (a plain `random.Random` per seed) mix recipients with and without a contact, consent
withdrawn, unsubscribes through another campaign's link, the opt-out list, the same message in the sent
ledger (inside and outside the window) or in flight in another campaign, and names that make the message
too long; each recipient's fate is also worked out here, independently, from how the center was built.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import pytest
from peewee import Expression

from store.campaigns import create_campaign
from store.consent import unsubscribe
from store.errors import TemplateError
from store.forecast import forecast
from store.models import Campaign, Contact, Message, OptOut, SentLedger
from store.queue import queue_campaign
from store.recipients import add_all_patients, add_pasted
from store.sending import claim
from store.templates import Personaliser
from store.window import body_hash, parse_window
from tests.conftest import NOW

SEEDS = range(36)
BODY = {"sms": "Ciao {{ first_name }}! " + "x" * 880, "email": "Gentile {{ first_name }} {{ last_name }}"}
SUBJECT = {
    "sms": None,
    "email": "Per " + "{{ first_name }} " * 6,
}  # six names: room for a long one to overflow
# A name that makes this recipient's message too long: seven SMS parts, a subject over 998 bytes.
LONG_NAME = {"sms": "Massimiliano" * 8, "email": "à" * 100}
OTHER_CHANNEL = {"sms": "email", "email": "sms"}
LEDGER_DAYS = (0.5, 1.5, 3, 6.5, 7.5, 12)  # none on the edge of a 48-hour or a 7-day window


@dataclass
class Recipient:
    """One address of the draft and what happened to it after it was added."""

    address: str
    contact_id: int | None
    first_name: str
    last_name: str
    withdrawn: bool = False  # consent withdrawn in the registry
    unsubscribed: bool = False  # through the newsletter's link
    listed: bool = False  # on the opt-out list, put there some other way
    ledger_days: float | None = None  # the same message in the sent ledger, this many days ago
    in_flight: bool = False  # the same message claimed, unanswered, in another campaign of the channel


def address(channel: str, i: int) -> str:
    return f"p{i}@example.org" if channel == "email" else f"+39347{i:07d}"


def digest(channel: str, first_name: str, last_name: str) -> str | None:
    """The body hash of this recipient's message, or None when it cannot be made."""
    personalise = Personaliser(BODY[channel], SUBJECT[channel], None, channel)
    try:
        return body_hash(personalise(first_name, last_name)[0])
    except TemplateError:
        return None


def expected_state(person: Recipient, channel: str, window: str) -> str:
    """The state this recipient's message must end in once everything is claimed."""
    if person.unsubscribed or person.listed or (person.contact_id and person.withdrawn):
        return "skipped_opted_out"
    if digest(channel, person.first_name, person.last_name) is None:
        return "failed"
    span = parse_window(window)
    in_ledger = person.ledger_days is not None and timedelta(days=person.ledger_days) < span
    if span > timedelta(0) and (in_ledger or person.in_flight):
        return "skipped_duplicate"
    return "sending"


def a_center(rng: random.Random, channel: str) -> tuple[Campaign, list[Recipient]]:
    """Contacts, a newsletter already sent, a draft with its recipients, then the events after adding."""
    people = [
        Recipient(
            address(channel, i),
            i + 1 if rng.random() < 0.6 else None,
            rng.choice(("Maria", "Luca", "", LONG_NAME[channel])),
            rng.choice(("Rossi", "")),
        )
        for i in range(rng.randint(1, 30))
    ]
    column = "email" if channel == "email" else "phone"
    for p in people:
        if p.contact_id:
            Contact.create(
                id=p.contact_id,
                registry_id=str(p.contact_id),
                kind="patient",
                first_name="Nome",
                **{column: p.address},
            )
    newsletter = a_campaign(channel, "Newsletter", people, state="sent")
    Message.update(state="sent").where(Message.campaign == newsletter.id).execute()
    # Some newsletter messages predate the registry: no contact behind them (the reported case).
    for p in people:
        if rng.random() < 0.5:
            Message.update(contact=None).where(newsletter_message(newsletter, p)).execute()

    draft = a_campaign(channel, "Promemoria", people)
    for p in people:
        Message.update(first_name=p.first_name, last_name=p.last_name).where(
            (Message.campaign == draft.id) & (Message.address == p.address)
        ).execute()
    happen_after_adding(rng, channel, newsletter, people)
    return Campaign.get_by_id(draft.id), people


def a_campaign(channel: str, name: str, people: Sequence[Recipient] = (), state: str = "draft") -> Campaign:
    found = create_campaign(
        channel=channel, name=name, sender="CentroMed", body=BODY[channel], subject=SUBJECT[channel]
    )
    if people:
        add_pasted(found.id, ", ".join(p.address for p in people))
    Campaign.update(state=state).where(Campaign.id == found.id).execute()
    return found


def newsletter_message(newsletter: Campaign, person: Recipient) -> Expression:
    return (Message.campaign == newsletter.id) & (Message.address == person.address)


def happen_after_adding(
    rng: random.Random, channel: str, newsletter: Campaign, people: list[Recipient]
) -> None:
    """Withdrawals, unsubscribes, opt-outs, the ledger and messages in flight, with noise that must not
    count: other bodies, the same body on the other channel."""
    in_flight = a_campaign(channel, "In corso", state="sending")
    elsewhere = a_campaign(OTHER_CHANNEL[channel], "Altro canale", state="sending")
    for p in people:
        if p.contact_id and rng.random() < 0.15:
            p.withdrawn = True
            Contact.update(consent=False).where(Contact.id == p.contact_id).execute()
        if rng.random() < 0.15:
            p.unsubscribed = True
            assert unsubscribe(Message.get(newsletter_message(newsletter, p)).id, now=NOW)
        if rng.random() < 0.08:
            p.listed = True
            OptOut.insert(address=p.address, at=NOW).on_conflict_ignore().execute()
        mine = digest(channel, p.first_name, p.last_name) or body_hash("a message never sent")
        if rng.random() < 0.3:
            p.ledger_days = rng.choice(LEDGER_DAYS)
            SentLedger.create(
                channel=channel,
                address=p.address,
                body_hash=mine,
                sent_at=NOW - timedelta(days=p.ledger_days),
            )
        if rng.random() < 0.2:
            SentLedger.create(channel=channel, address=p.address, body_hash=body_hash("other"), sent_at=NOW)
        if rng.random() < 0.2:
            SentLedger.create(channel=OTHER_CHANNEL[channel], address=p.address, body_hash=mine, sent_at=NOW)
        flight = rng.random()
        if flight < 0.3:
            p.in_flight = flight < 0.2  # else the same address, another body: not the same message
            claimed_elsewhere(in_flight, p.address, mine if p.in_flight else body_hash("other"))
        if rng.random() < 0.15:
            claimed_elsewhere(elsewhere, p.address, mine)


def claimed_elsewhere(campaign: Campaign, address: str, hashed: str) -> None:
    """A message of another campaign an engine claimed and has not heard back about yet."""
    Message.create(
        campaign=campaign.id, address=address, state="sending", body_hash=hashed, worker="other-engine",
        lease_until=NOW + timedelta(minutes=5), attempts=1,
    )  # fmt: skip


def claim_everything(campaign_id: int, window: str, page: int) -> None:
    pending = (Message.campaign == campaign_id) & (Message.state == "pending")
    for _ in range(500):
        if not Message.select().where(pending).exists():
            return
        claim(campaign_id, "engine", page, window, now=NOW)
    raise AssertionError("the claims never took every message")


def states_of(campaign_id: int) -> dict[str, str]:
    return {m.address: m.state for m in Message.select().where(Message.campaign == campaign_id)}


@pytest.mark.parametrize("seed", SEEDS)
def test_the_forecast_counts_what_the_claim_then_does(store, seed):
    rng = random.Random(seed)
    channel = rng.choice(("sms", "email"))
    window = rng.choice(("7d", "7d", "48h", "0s"))
    draft, people = a_center(rng, channel)

    found = forecast(draft, window, NOW)
    queue_campaign(draft.id)
    claim_everything(draft.id, window, page=rng.randint(1, 12))

    states = states_of(draft.id)
    assert states == {p.address: expected_state(p, channel, window) for p in people}
    done = Counter(states.values())
    assert found.pending == len(people)
    assert (found.will_send, found.skipped_window, found.skipped_opted_out, found.will_fail) == (
        done["sending"], done["skipped_duplicate"], done["skipped_opted_out"], done["failed"],
    )  # fmt: skip
    for message in Message.select().where(Message.campaign == draft.id):
        if message.state == "skipped_duplicate":
            assert message.error.startswith("the same message reached this address on ")
        if message.state == "failed":
            assert "over the limit" in message.error or "998 bytes" in message.error


def test_a_patient_who_unsubscribed_through_another_campaigns_link_is_counted_opted_out(store):
    # The newsletter went to a pasted address before the registry held the patient: no contact behind it,
    # so the unsubscribe puts the address on the opt-out list and leaves the contact's consent as it was.
    newsletter = create_campaign(channel="email", name="Newsletter", sender="Centro", body="Novità")
    add_pasted(newsletter.id, "maria@example.org")
    Contact.create(id=1, registry_id="1", kind="patient", first_name="Maria", email="maria@example.org")
    Contact.create(id=2, registry_id="2", kind="patient", first_name="Luca", email="luca@example.org")
    draft = create_campaign(channel="email", name="Vaccini", sender="Centro", body="Ciao {{ first_name }}")
    add_all_patients(draft.id)
    assert unsubscribe(Message.get(Message.campaign == newsletter.id).id, now=NOW)
    assert Contact.get_by_id(1).consent

    found = forecast(Campaign.get_by_id(draft.id), "7d", NOW)
    assert (found.pending, found.will_send, found.skipped_opted_out) == (2, 1, 1)
    queue_campaign(draft.id)
    taken = claim(draft.id, "engine", 10, now=NOW)
    assert [m.address for m in taken.messages] == ["luca@example.org"]
    assert states_of(draft.id) == {"maria@example.org": "skipped_opted_out", "luca@example.org": "sending"}


def test_the_same_message_in_flight_in_another_campaign_is_counted_by_the_window(store):
    body = "Ciao {{ first_name }}"
    other = create_campaign(channel="email", name="Prima", sender="Centro", body=body)
    add_pasted(other.id, "maria@example.org")
    queue_campaign(other.id)
    assert len(claim(other.id, "engine", 10, now=NOW).messages) == 1  # claimed, no answer yet
    draft = create_campaign(channel="email", name="Seconda", sender="Centro", body=body)
    add_pasted(draft.id, "maria@example.org, luca@example.org")

    found = forecast(Campaign.get_by_id(draft.id), "7d", NOW)
    assert (found.will_send, found.skipped_window) == (1, 1)
    queue_campaign(draft.id)
    assert [m.address for m in claim(draft.id, "engine", 10, now=NOW).messages] == ["luca@example.org"]
