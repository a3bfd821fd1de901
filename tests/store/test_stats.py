from datetime import timedelta

from store.campaigns import create_campaign
from store.figures import campaign_document, figures_of
from store.models import Campaign, Contact, Message, Reservation
from tests.conftest import NOW


def people():
    Contact.insert_many(
        [
            {"id": 1, "registry_id": "1", "kind": "patient", "email": "a@example.org"},
            {"id": 2, "registry_id": "2", "kind": "patient", "email": "b@example.org"},
            {"id": 3, "registry_id": "3", "kind": "resource", "email": "doc@example.org"},
            {"id": 4, "registry_id": "4", "kind": "patient", "email": "d@example.org"},
        ]
    ).execute()


def message(campaign, contact_id, address, state="sent", sent=NOW, **extra):
    return Message.create(
        campaign=campaign, contact=contact_id, address=address, state=state,
        sent_at=sent if state in ("sent", "delivered") else None, **extra,
    )  # fmt: skip


def book(contact_id, moment):
    Reservation.create(contact=contact_id, created_at=moment)


def test_conversion_counts_reservations_in_the_28_days_after_each_message(store):
    people()
    campaign = create_campaign(channel="email", name="Check-up", sender="Centro", body="Hi")
    message(campaign, 1, "a@example.org", opened_at=NOW + timedelta(hours=1))
    message(campaign, 2, "b@example.org", state="delivered", sent=NOW + timedelta(hours=2))
    message(campaign, 3, "doc@example.org")  # a resource: not a patient target
    message(campaign, 4, "d@example.org", state="failed")  # never received it
    message(campaign, None, "stranger@example.org")  # pasted, no contact
    book(1, NOW - timedelta(days=1))  # before the message
    book(1, NOW + timedelta(days=27))  # day 27: counts
    book(1, NOW + timedelta(days=29))  # day 29: too late
    book(2, NOW + timedelta(hours=1))  # before their own message went out
    book(2, NOW + timedelta(days=3))
    book(2, NOW + timedelta(days=4))
    book(3, NOW + timedelta(days=2))  # a resource's booking
    book(4, NOW + timedelta(days=2))  # never got the message
    stats = campaign_document(campaign)
    assert stats["conversion"] == {"patients": 2, "reservations": 3, "rate": 1.5}
    assert (stats["recipients"], stats["sent"], stats["delivered"], stats["failed"]) == (5, 4, 1, 1)
    assert (stats["opened"], stats["clicked"], stats["open_rate"]) == (1, 0, 0.25)
    assert stats["final"] is False


def test_each_campaign_converts_on_its_own_and_sms_has_no_opens(store):
    people()
    first = create_campaign(channel="sms", name="One", sender="Centro", body="Hi")
    second = create_campaign(channel="sms", name="Two", sender="Centro", body="Hello")
    message(first, 1, "+393470000001")
    message(second, 1, "+393470000001", sent=NOW + timedelta(days=10))
    book(1, NOW + timedelta(days=5))
    book(1, NOW + timedelta(days=12))
    Campaign.update(state="completed").where(Campaign.id == first.id).execute()
    one, two = (
        f.as_document() for f in figures_of([Campaign.get_by_id(first.id), Campaign.get_by_id(second.id)])
    )
    assert one["conversion"] == {"patients": 1, "reservations": 2, "rate": 2.0}
    assert two["conversion"] == {"patients": 1, "reservations": 1, "rate": 1.0}
    assert one["opened"] is None and one["open_rate"] is None
    assert one["final"] is True and two["final"] is False


def test_a_campaign_without_messages_has_zero_everything(store):
    campaign = create_campaign(channel="push", name="Empty", sender="Centro", body="Hi")
    stats = campaign_document(campaign)
    assert stats["recipients"] == 0
    assert stats["conversion"] == {"patients": 0, "reservations": 0, "rate": None}
