import random
from datetime import datetime, timedelta

import numpy
import pytest
from scipy import stats

from store.bulk import insert_rows
from store.campaigns import create_campaign
from store.db import bulk_transaction
from store.lift import (
    MIN_GROUP_PATIENTS,
    GroupFigures,
    Groups,
    Lift,
    curves,
    group_figures,
    lift_between,
    lift_of,
)
from store.models import Contact, Message, Reservation
from tests.conftest import NOW


def patients(*ids, kind="patient"):
    Contact.insert_many(
        [{"id": i, "registry_id": f"P{i}", "kind": kind, "email": f"p{i}@example.org"} for i in ids]
    ).execute()


def sent(campaign, contact, variant="a", at=NOW, state="sent", address=None):
    Message.create(
        campaign=campaign, contact=contact, address=address or f"p{contact}@example.org", state=state,
        variant=variant, sent_at=at if state in ("sent", "delivered") else None,
    )  # fmt: skip


def held_out(campaign, contact, at=NOW):
    Message.create(
        campaign=campaign,
        contact=contact,
        address=f"p{contact}@example.org",
        state="held_out",
        held_out_at=at,
    )


def book(contact, *moments):
    for moment in moments:
        Reservation.create(contact=contact, created_at=moment)


def a_campaign(name="Check-up"):
    return create_campaign(channel="email", name=name, sender="Centro", body="Ciao")


def hand_made_campaign():
    """Variant A, variant B and a hold-out, with every case the figures must get right."""
    day = timedelta(days=1)
    patients(1, 2, 3, 4, 5, 6, 8, 9)
    patients(7, kind="resource")
    campaign = a_campaign()
    sent(campaign, 1)
    book(1, NOW - day, NOW + 2 * day, NOW + 27 * day, NOW + 29 * day)  # before, in, in (day 27), after
    sent(campaign, 2, state="delivered", at=NOW + timedelta(hours=2))
    book(2, NOW + timedelta(hours=1), NOW + 3 * day)  # before their own message, then in
    sent(campaign, 3, variant="b")
    book(3, NOW + 5 * day, NOW + 6 * day, NOW + 7 * day)
    # Two messages to one patient in group b: counted once, from the earliest.
    sent(campaign, 4, variant="b")
    sent(campaign, 4, variant="b", at=NOW + 10 * day, address="+393470000004")
    book(4, NOW + day, NOW + 30 * day)  # in the earliest's 28 days; the second only in the later's
    # The hold-out counts from when the campaign sent its others, not from NOW.
    held_out(campaign, 5, at=NOW + day)
    book(5, NOW + timedelta(hours=12), NOW + 2 * day, NOW + 28 * day + timedelta(hours=12))
    held_out(campaign, 6, at=NOW + day)
    sent(campaign, 7)  # a resource: not a patient
    book(7, NOW + day)
    sent(campaign, 8, variant="b", state="failed")  # never received it
    book(8, NOW + day)
    Message.create(campaign=campaign, contact=9, address="p9@example.org", state="held_out")  # no time
    book(9, NOW + day)
    sent(campaign, None, address="stranger@example.org")  # pasted, no contact
    return campaign


def test_each_group_counts_its_patients_reservations_in_their_own_28_days(store):
    groups = group_figures(hand_made_campaign().id)
    assert groups is not None
    assert groups.as_document() == {
        "a": {"patients": 2, "reservations": 3, "rate": 1.5},
        "b": {"patients": 2, "reservations": 4, "rate": 2.0},
        "holdout": {"patients": 2, "reservations": 2, "rate": 1.0},
    }
    assert groups.a == GroupFigures(((1, 1), (2, 1)))
    assert groups.b == GroupFigures(((1, 1), (3, 1)))
    assert groups.holdout == GroupFigures(((0, 1), (2, 1)))


def test_small_groups_get_a_difference_and_no_interval(store):
    groups = group_figures(hand_made_campaign().id)
    assert groups is not None
    assert [lift.as_document() for lift in lift_of(groups)] == [
        {"of": "a", "against": "holdout", "difference": 0.5, "low": None, "high": None, "significant": False},
        {"of": "b", "against": "holdout", "difference": 1.0, "low": None, "high": None, "significant": False},
        {"of": "b", "against": "a", "difference": 0.5, "low": None, "high": None, "significant": False},
    ]


def test_curves_are_cumulative_reservations_per_patient_by_day(store):
    found = curves(hand_made_campaign().id)
    assert list(found.columns) == ["a", "b", "holdout"]
    assert list(found.index) == list(range(28))
    assert list(found["a"].iloc[[0, 1, 2, 26, 27]]) == [0, 0, 1.0, 1.0, 1.5]
    assert list(found["b"].iloc[[0, 1, 4, 5, 6, 7, 27]]) == [0, 0.5, 0.5, 1.0, 1.5, 2.0, 2.0]
    assert list(found["holdout"].iloc[[0, 1, 26, 27]]) == [0, 0.5, 0.5, 1.0]


def test_a_campaign_with_one_body_and_no_holdout_has_no_groups(store):
    patients(1, 2)
    campaign = a_campaign()
    sent(campaign, 1, variant=None)
    sent(campaign, 2, variant=None)
    book(1, NOW + timedelta(days=1))
    assert group_figures(campaign.id) is None
    assert group_figures(a_campaign("Empty").id) is None
    assert list(curves(campaign.id)["a"].iloc[[0, 1, 27]]) == [0, 0.5, 0.5]


def test_a_group_not_sent_yet_is_there_with_no_patients_and_no_lift(store):
    patients(1, 2)
    campaign = a_campaign()
    sent(campaign, 1)
    sent(campaign, 2, variant="b", state="pending")
    groups = group_figures(campaign.id)
    assert groups is not None
    assert groups.as_document() == {
        "a": {"patients": 1, "reservations": 0, "rate": 0.0},
        "b": {"patients": 0, "reservations": 0, "rate": None},
    }
    assert lift_of(groups) == []
    assert list(curves(campaign.id).columns) == ["a"]


def test_the_interval_is_welchs_t_interval_of_reservations_per_patient(store):
    rng = random.Random(3)
    treated, kept_out = range(1, 41), range(41, 76)
    patients(*treated, *kept_out)
    campaign = a_campaign()
    booked: dict[int, int] = {}
    for contact in [*treated, *kept_out]:
        if contact in treated:
            sent(campaign, contact, variant=None)
        else:
            held_out(campaign, contact)
        booked[contact] = rng.choice([0, 0, 0, 1, 1, 2, 4] if contact in treated else [0, 0, 0, 0, 1, 2])
        book(contact, *(NOW + timedelta(days=1 + k) for k in range(booked[contact])))
    groups = group_figures(campaign.id)
    assert groups is not None
    [lift] = lift_of(groups)
    expected = stats.ttest_ind(
        [booked[c] for c in treated], [booked[c] for c in kept_out], equal_var=False
    ).confidence_interval(0.95)
    difference = numpy.mean([booked[c] for c in treated]) - numpy.mean([booked[c] for c in kept_out])
    assert (lift.of, lift.against) == ("a", "holdout")
    assert lift.difference == pytest.approx(difference)
    assert (lift.low, lift.high) == (pytest.approx(expected.low), pytest.approx(expected.high))
    assert lift.significant == (expected.low > 0 or expected.high < 0)
    document = lift.as_document()
    assert document["low"] == round(expected.low, 4) and document["high"] == round(expected.high, 4)


def histogram(counts):
    """A group's figures from each patient's reservations."""
    values, patients_of = numpy.unique(numpy.asarray(counts), return_counts=True)
    return GroupFigures(tuple((int(v), int(n)) for v, n in zip(values, patients_of, strict=True)))


def test_below_the_minimum_group_size_there_is_no_interval():
    big = histogram([0] * 200 + [1] * 100 + [3] * 50)
    small = histogram([5] * (MIN_GROUP_PATIENTS - 10) + [6] * 9)  # one short, and far above the other
    difference = small.reservations / small.patients - big.reservations / big.patients
    assert lift_between("a", small, "holdout", big) == Lift("a", "holdout", difference, None, None, False)
    enough = histogram([5] * (MIN_GROUP_PATIENTS - 10) + [6] * 10)
    found = lift_between("a", enough, "holdout", big)
    assert found.low is not None and found.high is not None and found.significant


def test_identical_groups_are_not_significantly_different():
    same = histogram([0] * 300 + [1] * 120 + [2] * 40 + [5] * 3)
    [lift] = lift_of(Groups(a=same, b=same))
    assert (lift.of, lift.against, lift.difference, lift.significant) == ("b", "a", 0.0, False)
    assert lift.low is not None and lift.high is not None
    assert lift.low == pytest.approx(-lift.high) and lift.low < 0


def test_groups_where_nobody_varies_give_no_interval():
    nobody = histogram([0] * 100)
    everybody = histogram([1] * 100)
    [lift] = lift_of(Groups(a=everybody, holdout=nobody))
    assert lift.as_document() == {
        "of": "a", "against": "holdout", "difference": 1.0, "low": None, "high": None, "significant": False
    }  # fmt: skip


# A synthetic center where the campaign's true effect is known: without the message a patient makes
# Poisson(BASE) reservations in 28 days, with it Poisson(BASE + EFFECT).
BASE, EFFECT, GROUP_SIZE, RUNS = 0.3, 0.1, 2000, 100


def synthetic_groups(rng, effect, size=GROUP_SIZE):
    treated = rng.poisson(BASE + effect, size)
    kept_out = rng.poisson(BASE, size)
    return treated, kept_out


@pytest.mark.slow
def test_the_interval_holds_the_true_effect_in_about_95_of_100_runs():
    covered = significant = 0
    for seed in range(RUNS):
        treated, kept_out = synthetic_groups(numpy.random.default_rng(seed), EFFECT)
        [lift] = lift_of(Groups(a=histogram(treated), holdout=histogram(kept_out)))
        assert lift.low is not None and lift.high is not None
        covered += lift.low <= EFFECT <= lift.high
        significant += lift.significant
    assert 88 <= covered <= 99
    assert significant >= 90  # 2,000 patients a group see an effect of a third of the base rate


@pytest.mark.slow
def test_without_an_effect_the_lift_is_not_significant_in_most_runs():
    significant = 0
    for seed in range(RUNS):
        treated, kept_out = synthetic_groups(numpy.random.default_rng(1000 + seed), 0.0)
        [lift] = lift_of(Groups(a=histogram(treated), holdout=histogram(kept_out)))
        assert lift.low is not None and lift.high is not None
        significant += lift.significant
    assert significant <= 12  # about 5 in 100 by chance


@pytest.mark.slow
def test_a_synthetic_center_through_the_database(store):
    """One run of the synthetic center stored as messages and reservations: the figures read back are the
    ones drawn, and the interval holds the true effect."""
    rng = numpy.random.default_rng(19)
    treated, kept_out = synthetic_groups(rng, EFFECT)
    drawn = {**dict(enumerate(treated, 1)), **dict(enumerate(kept_out, GROUP_SIZE + 1))}
    campaign = a_campaign()
    started = datetime(2026, 6, 1, 9, 0)
    with bulk_transaction():
        insert_rows(
            Contact,
            [Contact.id, Contact.registry_id, Contact.kind, Contact.email],
            [(i, f"P{i}", "patient", f"p{i}@example.org") for i in drawn],
        )
        insert_rows(
            Message,
            [Message.campaign, Message.contact, Message.address, Message.state, Message.sent_at,
             Message.held_out_at],
            [(campaign.id, i, f"p{i}@example.org", "sent" if i <= GROUP_SIZE else "held_out",
              started + timedelta(seconds=i) if i <= GROUP_SIZE else None,
              None if i <= GROUP_SIZE else started + timedelta(hours=1))
             for i in drawn],
        )  # fmt: skip
        booked = []
        for i, count in drawn.items():
            since = started + (timedelta(seconds=i) if i <= GROUP_SIZE else timedelta(hours=1))
            seconds = rng.choice(28 * 86400, size=count, replace=False)
            booked += [(i, since + timedelta(seconds=int(s))) for s in seconds]
            # Bookings the campaign has nothing to do with: before the message, and after its 28 days.
            booked += [(i, since - timedelta(days=3)), (i, since + timedelta(days=28, seconds=1))]
        insert_rows(Reservation, [Reservation.contact, Reservation.created_at], booked)
    groups = group_figures(campaign.id)
    assert groups is not None
    assert groups.a == histogram(treated) and groups.holdout == histogram(kept_out)
    [lift] = lift_of(groups)
    expected = stats.ttest_ind(treated, kept_out, equal_var=False).confidence_interval(0.95)
    assert (lift.low, lift.high) == (pytest.approx(expected.low), pytest.approx(expected.high))
    assert lift.low <= EFFECT <= lift.high
    chart = curves(campaign.id)
    assert chart["a"].iloc[-1] == pytest.approx(treated.mean())
    assert chart["holdout"].iloc[-1] == pytest.approx(kept_out.mean())
