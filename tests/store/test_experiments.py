"""Issue 19, the draw: a hold-out of exactly the share asked, stratified by kind, made again from its seed;
A and B split the others; B's body is what the B recipients get; the hold-out's 28 days start when the
campaign sent its others; nobody held out is held against the one-week window."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from peewee import JOIN

from store.campaigns import create_campaign
from store.claims import claim
from store.clock import utcnow
from store.errors import BadInput, InvalidState
from store.experiments import drawn, edit_variant_b, quotas, split, stamp_held_out
from store.models import Campaign, Contact, Message
from store.queue import finish_if_done, queue_campaign, unschedule_campaign
from store.recipients import add_contacts, add_pasted

KINDS = {"patient": 700, "resource": 200, "user": 100}


def center() -> list[int]:
    """1,000 contacts: 700 patients, 200 resources, 100 users, every tenth without consent."""
    ids = []
    n = 0
    for kind, count in KINDS.items():
        for _ in range(count):
            contact = Contact.create(
                id=n + 1, registry_id=f"R{n}", kind=kind, email=f"c{n}@example.org", consent=n % 10 > 0
            )
            ids.append(contact.id)
            n += 1
    return ids


def a_draft(body: str = "Ciao {{ first_name }}, prenota il controllo.") -> int:
    return create_campaign(
        channel="email", name="Richiamo", sender="Centro", subject="Promemoria", body=body
    ).id


def kinds_of(state: str, campaign_id: int) -> Counter[str]:
    rows = (
        Message.select(Contact.kind)
        .join(Contact)
        .where((Message.campaign == campaign_id) & (Message.state == state))
        .tuples()
    )
    return Counter(kind for (kind,) in rows)


def test_quotas_give_the_rounded_share_of_the_total_each_kind_its_own_share():
    assert quotas({"patient": 700, "resource": 200, "user": 100}, 0.1) == {
        "patient": 70, "resource": 20, "user": 10
    }  # fmt: skip
    # 12.5% of 9 is 1.125: one in all, to the kind with the largest remainder
    assert sum(quotas({"patient": 5, "resource": 3, "user": 1}, 0.125).values()) == 1
    assert quotas({"patient": 3, "user": 3}, 0.5) == {"patient": 2, "user": 1}  # 3 of 6, ties by name
    assert quotas({}, 0.3) == {}


def test_the_split_is_made_again_from_its_seed_and_differs_with_another():
    by_kind = {"patient": list(range(500)), "user": list(range(500, 600))}
    first = split(by_kind, 0.2, 0.5, seed=42)
    assert split(by_kind, 0.2, 0.5, seed=42) == first
    assert split(by_kind, 0.2, 0.5, seed=43) != first
    held, a, b = first
    assert (len(held), len(a), len(b)) == (120, 240, 240)
    assert sorted(held + a + b) == list(range(600))
    assert sum(1 for i in held if i >= 500) == 20  # the users' share: 20% of 100


def test_send_now_holds_out_exactly_the_share_of_the_eligible_recipients_by_kind(store):
    contacts = center()
    campaign_id = a_draft()
    add_contacts(campaign_id, contacts)
    add_pasted(campaign_id, "walkin@example.org")  # no contact: a kind of its own
    queue_campaign(campaign_id, holdout=10)
    campaign = Campaign.get_by_id(campaign_id)
    # 900 of the 1,000 contacts have consent, plus the pasted address: 901 eligible; 10% is 90.1 → 90
    assert drawn(campaign_id)["holdout"] == 90
    assert kinds_of("held_out", campaign_id) == {"patient": 63, "resource": 18, "user": 9}
    assert campaign.holdout_percent == 10 and campaign.draw_seed
    held = {m.id for m in Message.select().where(Message.state == "held_out")}
    # The draw is made again from the seed
    again = split(_eligible_now(campaign_id, held), 0.1, None, campaign.draw_seed)[0]
    assert set(again) == held


def _eligible_now(campaign_id: int, held: set[int]) -> dict[str, list[int]]:
    """The eligible recipients as Send Now saw them: those pending now and those it held out."""
    rows = (
        Message.select(Message.id, Contact.kind, Contact.consent)
        .join(Contact, JOIN.LEFT_OUTER, on=(Message.contact == Contact.id))
        .where(Message.campaign == campaign_id)
        .tuples()
    )
    found: dict[str, list[int]] = {}
    for message_id, kind, consent in rows:
        if consent is False:
            continue
        found.setdefault(kind or "none", []).append(message_id)
    return found


def test_variant_b_goes_to_its_share_and_each_recipient_gets_the_body_drawn(store):
    contacts = center()
    campaign_id = a_draft("A: Ciao {{ first_name }}")
    edit_variant_b(campaign_id, body="B: Buongiorno {{ first_name }}", subject="Un invito")
    add_contacts(campaign_id, contacts)
    queue_campaign(campaign_id, holdout=20, b_share=0.25)
    groups = drawn(campaign_id)
    # 900 eligible: 180 held out; of the 720 others, a quarter get B
    assert groups == {"holdout": 180, "a": 540, "b": 180}  # those without consent were never added
    claimed = claim(campaign_id, "test", 2_000).messages
    variant = dict(
        Message.select(Message.id, Message.variant).where(Message.campaign == campaign_id).tuples()
    )
    assert len(claimed) == 720
    for message in claimed:
        expected = (
            ("B: Buongiorno ", "Un invito") if variant[message.id] == "b" else ("A: Ciao ", "Promemoria")
        )
        assert message.body.startswith(expected[0]) and message.subject == expected[1]


def test_variant_b_is_checked_like_a_and_only_on_a_draft(store):
    campaign_id = a_draft()
    with pytest.raises(BadInput, match="variant B needs its own --body"):
        edit_variant_b(campaign_id, subject="Solo l'oggetto")
    with pytest.raises(BadInput):
        edit_variant_b(campaign_id, body="Ciao {{ first_name ")  # a broken template
    edit_variant_b(campaign_id, body="B {{ first_name }}")
    assert Campaign.get_by_id(campaign_id).variant_subject is None  # A's subject goes with B too
    edit_variant_b(campaign_id, remove=True)
    assert Campaign.get_by_id(campaign_id).variant_body is None
    with pytest.raises(InvalidState, match="has no variant B"):
        add_pasted(campaign_id, "a@example.org")
        queue_campaign(campaign_id, b_share=0.3)
    queue_campaign(campaign_id)
    with pytest.raises(InvalidState, match="only drafts can be edited"):
        edit_variant_b(campaign_id, body="B")


def test_a_hold_out_share_out_of_range_is_refused(store):
    campaign_id = a_draft()
    add_pasted(campaign_id, "a@example.org")
    for bad in (-1, 100, 150):
        with pytest.raises(BadInput, match="percentage from 0 to 99"):
            queue_campaign(campaign_id, holdout=bad)
    assert Campaign.get_by_id(campaign_id).state == "draft"


def test_unscheduling_forgets_the_hold_out_asked(store):
    campaign_id = a_draft()
    add_pasted(campaign_id, ", ".join(f"p{i}@example.org" for i in range(20)))
    queue_campaign(campaign_id, at=utcnow() + timedelta(days=1), holdout=50)
    assert Campaign.get_by_id(campaign_id).holdout_percent == 50 and drawn(campaign_id)["holdout"] == 0
    unschedule_campaign(campaign_id)
    assert drawn(campaign_id) == {"holdout": 0, "a": 20, "b": 0}
    assert Campaign.get_by_id(campaign_id).holdout_percent is None


def test_the_hold_out_counts_from_the_campaigns_send_times_once_it_is_done(store):
    campaign_id = a_draft()
    add_pasted(campaign_id, ", ".join(f"p{i}@example.org" for i in range(40)))
    queue_campaign(campaign_id, holdout=25)
    start = utcnow()
    sent = Message.select().where((Message.campaign == campaign_id) & (Message.state == "pending"))
    for k, message in enumerate(sent.order_by(Message.id)):
        Message.update(state="sent", sent_at=start + timedelta(hours=k)).where(
            Message.id == message.id
        ).execute()
    assert stamp_held_out(campaign_id) == 10
    times = sorted(m.held_out_at for m in Message.select().where(Message.state == "held_out"))
    # spread over the 30 send times (0 h … 29 h): the middle of each tenth
    assert times[0] == start + timedelta(hours=1) and times[-1] == start + timedelta(hours=28)
    assert stamp_held_out(campaign_id) == 0  # once


def test_finishing_a_campaign_stamps_its_hold_out(store):
    campaign_id = a_draft()
    add_pasted(campaign_id, ", ".join(f"p{i}@example.org" for i in range(4)))
    queue_campaign(campaign_id, holdout=50)
    Message.update(state="sent", sent_at=utcnow()).where(Message.state == "pending").execute()
    assert finish_if_done(campaign_id)
    assert all(m.held_out_at for m in Message.select().where(Message.state == "held_out"))


def test_a_held_out_recipient_is_not_held_against_the_window(store):
    first = a_draft()
    add_pasted(first, "solo@example.org")
    queue_campaign(first, holdout=99)
    assert drawn(first)["holdout"] == 1
    second = a_draft()  # the same body to the same address: not a duplicate, it never went
    add_pasted(second, "solo@example.org")
    queue_campaign(second)
    assert len(claim(second, "test", 10).messages) == 1


def test_the_groups_survive_a_refresh_from_the_cached_slow_figures(store):
    from store.figures import figures_of

    campaign_id = a_draft()
    add_pasted(campaign_id, ", ".join(f"p{i}@example.org" for i in range(10)))
    queue_campaign(campaign_id, holdout=50)
    campaign = Campaign.get_by_id(campaign_id)
    [first] = figures_of([campaign])
    assert first.groups is not None and first.groups.holdout is not None
    [again] = figures_of([campaign], known={campaign_id: first.slow})  # the summary's next round
    assert again.groups == first.groups and again.lift == first.lift


def test_a_change_of_channel_or_content_checks_variant_b_again(store):
    from store.campaigns import edit_campaign
    from store.errors import TemplateError

    campaign_id = a_draft()
    edit_variant_b(campaign_id, body="B " + "lungo " * 600)  # 3,600 characters: fine by email
    with pytest.raises((BadInput, TemplateError), match=r"^variant B: "):
        edit_campaign(campaign_id, channel="sms", sender="CentroMed")  # 24 SMS parts: over the limit
    assert Campaign.get_by_id(campaign_id).channel == "email"


def test_a_scheduled_campaign_draws_when_it_joins_among_whom_is_eligible_then(store):
    from store.queue import promote_due
    from store.suppressions import add_suppression, remove_suppression

    campaign_id = a_draft()
    add_pasted(campaign_id, ", ".join(f"p{i}@example.org" for i in range(20)))
    add_suppression("p0@example.org")
    queue_campaign(campaign_id, at=utcnow() + timedelta(hours=1), holdout=50)
    assert drawn(campaign_id)["holdout"] == 0  # nothing drawn yet
    remove_suppression("p0@example.org")
    add_suppression("p1@example.org")
    assert promote_due(utcnow() + timedelta(hours=2)) == 1
    assert drawn(campaign_id) == {"holdout": 10, "a": 9, "b": 0}  # 19 eligible then: p0 in, p1 out
    left_out = Message.get((Message.campaign == campaign_id) & (Message.address == "p1@example.org"))
    assert left_out.variant == "n"  # not in the draw: in no group, sent as A if it goes after all
