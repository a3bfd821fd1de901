from datetime import timedelta

from senders.demo_delivery import simulate_round
from store.campaigns import create_campaign
from store.clock import utcnow
from store.figures import campaign_document
from store.models import Message


def sent_campaign(channel: str, count: int):
    sender = "CentroMed" if channel == "sms" else "Centro"
    campaign = create_campaign(channel=channel, name=f"demo {channel}", sender=sender, body="Ciao")
    address = (lambda i: f"p{i}@example.org") if channel == "email" else (lambda i: f"+39347{i:07d}")
    Message.insert_many(
        [
            {"campaign": campaign.id, "address": address(i), "state": "sent", "sent_at": utcnow()}
            for i in range(count)
        ]
    ).execute()
    return campaign


def test_the_demo_recipients_open_click_and_receive_over_a_few_minutes(sqlite_store):
    email, sms = sent_campaign("email", 300), sent_campaign("sms", 300)
    start = utcnow()
    simulate_round(start + timedelta(seconds=2))
    early = campaign_document(email)["opened"]
    assert early < 10  # nobody has read it yet, two seconds after sending
    simulate_round(start + timedelta(seconds=60))
    simulate_round(start + timedelta(seconds=6 * 60))
    simulate_round(start + timedelta(seconds=8 * 60))
    opened = campaign_document(email)
    assert 90 < opened["opened"] < 150 and 0 < opened["clicked"] < opened["opened"] / 3  # about 40% and 20%
    received = campaign_document(sms)
    assert (
        received["delivered"] > 270 and received["failed"] > 0 and received["sent"] == received["delivered"]
    )
