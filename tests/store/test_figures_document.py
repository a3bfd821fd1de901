"""Golden: `campaigns stats ID --json` and `campaigns stats ID`, pinned to the character for campaigns with a
known mix of message states, opens, clicks, unsubscribes and reservations, on both engines."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from store.campaigns import create_campaign
from store.db import close_database
from store.models import Campaign, Contact, Message, Reservation, TrackingEvent
from tests.conftest import NOW
from tui.cli import main


def message(
    campaign: Campaign, contact: int | None, address: str, state: str = "sent", **extra: Any
) -> Message:
    sent = extra.pop("sent", NOW if state in ("sent", "delivered") else None)
    return Message.create(
        campaign=campaign, contact=contact, address=address, state=state, sent_at=sent, **extra
    )


def event(message_: Message, kind: str, after: timedelta) -> None:
    TrackingEvent.create(message=message_, kind=kind, occurred_at=message_.sent_at + after)


def book(contact: int, after: timedelta) -> None:
    Reservation.create(contact=contact, created_at=NOW + after)


def stamp(campaign: Campaign, state: str, **moments: Any) -> None:
    Campaign.update(state=state, created_at=NOW - timedelta(days=1), **moments).where(
        Campaign.id == campaign.id
    ).execute()


def center() -> tuple[int, int, int]:
    """An email campaign still sending (and waiting), a completed SMS one, an empty push draft."""
    Contact.insert_many(
        [
            {"id": i, "registry_id": str(i), "kind": "patient", "email": f"p{i}@example.org"}
            for i in (1, 2, 4, 5, 6, 7)
        ]
        + [{"id": 3, "registry_id": "3", "kind": "resource", "email": "doc@example.org"}]
    ).execute()
    email = create_campaign(channel="email", name="Controllo – novembre", sender="Centro", body="Ciao")
    person = message(email, 1, "p1@example.org", opened_at=NOW + timedelta(hours=1),
                     clicked_at=NOW + timedelta(hours=1))  # fmt: skip
    event(person, "open", timedelta(hours=1))
    event(person, "click", timedelta(hours=1, seconds=5))
    proxy = message(email, 2, "p2@example.org", "delivered", sent=NOW + timedelta(hours=2),
                    opened_at=NOW + timedelta(hours=2, seconds=3))  # fmt: skip
    event(proxy, "open", timedelta(seconds=3))  # within 10 s of sending: a mail proxy
    gone = message(email, 3, "doc@example.org", resent_after_crash=True)
    event(gone, "unsubscribe", timedelta(minutes=30))
    message(email, 4, "p4@example.org", "failed", error="550 mailbox unavailable")
    message(email, None, "stranger@example.org", "pending")
    message(email, None, "busy@example.org", "sending")
    message(email, None, "twice@example.org", "skipped_duplicate")
    message(email, None, "no1@example.org", "skipped_opted_out")
    message(email, None, "no2@example.org", "skipped_opted_out")
    message(email, None, "stop@example.org", "cancelled")
    message(email, None, "bounced@example.org", "skipped_suppressed", error="suppressed: hard bounce")
    late = message(email, 5, "p5@example.org", opened_at=NOW + timedelta(hours=5))
    event(late, "open", timedelta(hours=5))
    book(1, timedelta(days=27))  # counts
    book(1, timedelta(days=29))  # too late
    book(2, timedelta(days=3))
    book(2, timedelta(days=4))
    book(3, timedelta(days=2))  # a resource's
    book(4, timedelta(days=2))  # never got it
    book(5, timedelta(days=1))
    waiting = "the SMTP server does not answer"
    stamp(email, "sending", queued_at=NOW - timedelta(hours=1), first_sent_at=NOW,
          last_sent_at=NOW + timedelta(hours=2), waiting_reason=waiting)  # fmt: skip

    sms = create_campaign(channel="sms", name="Flu shots", sender="CentroMed", body="Hi")
    message(sms, 6, "+393470000006", "delivered", sent=NOW + timedelta(days=40))
    message(sms, 7, "+393470000007", sent=NOW + timedelta(days=40))
    message(sms, None, "+393470000008", "failed", error="unknown number")
    book(6, timedelta(days=41))
    book(7, timedelta(days=41))
    book(7, timedelta(days=69))  # 29 days after its message: too late
    stamp(sms, "completed", queued_at=NOW + timedelta(days=40), first_sent_at=NOW + timedelta(days=40),
          last_sent_at=NOW + timedelta(days=40, minutes=1), completed_at=NOW + timedelta(days=42),
          waiting_reason="left over: shown only while queued or sending")  # fmt: skip

    push = create_campaign(channel="push", name="App news", sender="Centro", body="Hi")
    stamp(push, "draft")
    return email.id, sms.id, push.id


EMAIL = {
    "id": 1, "name": "Controllo – novembre", "channel": "email", "state": "sending",
    "recipients": 12, "pending": 1, "sending": 1, "sent": 4, "delivered": 1, "failed": 1,
    "skipped_duplicate": 1, "skipped_opted_out": 2, "skipped_suppressed": 1, "held_out": 0, "cancelled": 1,
    "resent_after_crash": 1,
    "opened": 3, "machine_opened": 1, "clicked": 1, "unsubscribed": 1, "open_rate": 0.75, "click_rate": 0.25,
    "conversion": {"patients": 3, "reservations": 4, "rate": 1.3333},
    "created_at": "2026-11-19T10:00:00Z", "queued_at": "2026-11-20T09:00:00Z", "scheduled_at": None,
    "first_sent_at": "2026-11-20T10:00:00Z", "last_sent_at": "2026-11-20T12:00:00Z", "completed_at": None,
    "waiting_reason": "the SMTP server does not answer", "final": False,
    "failures": [{"reason": "550 mailbox unavailable", "count": 1}],
}  # fmt: skip
SMS = {
    "id": 2, "name": "Flu shots", "channel": "sms", "state": "completed",
    "recipients": 3, "pending": 0, "sending": 0, "sent": 2, "delivered": 1, "failed": 1,
    "skipped_duplicate": 0, "skipped_opted_out": 0, "skipped_suppressed": 0, "held_out": 0, "cancelled": 0,
    "resent_after_crash": 0,
    "opened": None, "machine_opened": None, "clicked": None, "unsubscribed": 0, "open_rate": None,
    "click_rate": None, "conversion": {"patients": 2, "reservations": 2, "rate": 1.0},
    "created_at": "2026-11-19T10:00:00Z", "queued_at": "2026-12-30T10:00:00Z", "scheduled_at": None,
    "first_sent_at": "2026-12-30T10:00:00Z", "last_sent_at": "2026-12-30T10:01:00Z",
    "completed_at": "2027-01-01T10:00:00Z", "waiting_reason": None, "final": True,
    "failures": [{"reason": "unknown number", "count": 1}],
}  # fmt: skip
PUSH = {
    "id": 3, "name": "App news", "channel": "push", "state": "draft",
    "recipients": 0, "pending": 0, "sending": 0, "sent": 0, "delivered": 0, "failed": 0,
    "skipped_duplicate": 0, "skipped_opted_out": 0, "skipped_suppressed": 0, "held_out": 0, "cancelled": 0,
    "resent_after_crash": 0,
    "opened": None, "machine_opened": None, "clicked": None, "unsubscribed": 0, "open_rate": None,
    "click_rate": None, "conversion": {"patients": 0, "reservations": 0, "rate": None},
    "created_at": "2026-11-19T10:00:00Z", "queued_at": None, "scheduled_at": None, "first_sent_at": None,
    "last_sent_at": None,
    "completed_at": None, "waiting_reason": None, "final": False, "failures": [],
}  # fmt: skip

EMAIL_TEXT = """\
Campaign 1: Controllo – novembre (EMAIL, sending, figures final 48 h after the last message)
  recipients         12
  pending             1
  sent                4
  failed              1
                      1   550 mailbox unavailable
  skipped             1   duplicate within the window
                      2   without consent
                      1   on the suppression list
  opened              3   75.0% (1 of them only within seconds of sending: mail proxies?)
  clicked             1   25.0%
  unsubscribed        1
  conversion     133.3%   4 reservations by 3 patients in the 28 days after their message
"""
SMS_TEXT = """\
Campaign 2: Flu shots (SMS, completed, final)
  recipients          3
  pending             0
  sent                2   (delivered 1)
  failed              1
                      1   unknown number
  skipped             0   duplicate within the window
                      0   without consent
                      0   on the suppression list
  conversion     100.0%   2 reservations by 2 patients in the 28 days after their message
"""
PUSH_TEXT = """\
Campaign 3: App news (PUSH, draft, figures final 48 h after the last message)
  recipients          0
  pending             0
  sent                0
  failed              0
  skipped             0   duplicate within the window
                      0   without consent
                      0   on the suppression list
  conversion          -   0 reservations by 0 patients in the 28 days after their message
"""


@pytest.fixture
def stats(store: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    """Runs `campaigns stats ARGS` in this process against the test's database; returns its stdout."""
    monkeypatch.setenv("CAMPAIGNS_DB", store)

    def run(*args: str) -> str:
        close_database()  # the command opens its own
        capsys.readouterr()
        try:
            main(["stats", *args])
        except SystemExit as exit_:
            assert exit_.code in (0, None), capsys.readouterr().err
        finally:
            close_database()
        return capsys.readouterr().out

    return run


@pytest.mark.parametrize("which, expected", [(0, EMAIL), (1, SMS), (2, PUSH)], ids=["email", "sms", "push"])
def test_the_stats_document_is_pinned(store, stats, which, expected):
    campaign_id = center()[which]
    assert campaign_id == expected["id"]
    out = stats(str(campaign_id), "--json")
    assert json.loads(out) == expected
    # the keys' order, the value types (1.0 is no 1, false no 0) and the non-ASCII name, to the character
    assert out == json.dumps(expected, ensure_ascii=False, indent=2) + "\n"


@pytest.mark.parametrize("which, expected", [(0, EMAIL_TEXT), (1, SMS_TEXT), (2, PUSH_TEXT)],
                         ids=["email", "sms", "push"])  # fmt: skip
def test_the_stats_text_is_pinned(store, stats, which, expected):
    assert stats(str(center()[which])) == expected


@pytest.mark.parametrize("which, expected", [(0, EMAIL), (1, SMS), (2, PUSH)], ids=["email", "sms", "push"])
def test_the_figures_write_the_document_and_read_it_back(store, which, expected):
    from store.figures import campaign_figures

    campaign = Campaign.get_by_id(center()[which])
    figures = campaign_figures(campaign)
    assert figures.as_document() == expected
