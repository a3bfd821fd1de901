"""A mail server's permanent refusals of a mailbox at RCPT put the address on the suppression list; its
policy refusals and temporary ones do not. Real aiosmtpd, real engine."""

from __future__ import annotations

from store.models import Message
from store.suppressions import HARD_BOUNCE, list_suppressions
from tests.senders.conftest import campaign_to, config_for, send_all

GONE = "gone@example.org"
SPAM = "filtered@example.org"
FULL = "full@example.org"
BUSY = "busy@example.org"
FINE = "fine@example.org"
SENDER = "sender-refused@example.org"
RELAY = "no-relay@example.org"
BARE = "bare@example.org"
LONG = "carla.bianchi.longname@example.org"
GERMAN = "anna@bücher.example"


def test_only_a_mailbox_refused_for_good_is_suppressed_and_the_reason_hides_the_address(
    sqlite_store, mail_server
):
    mail_server.faults[GONE] = [f"550 5.1.1 <{GONE}>: Recipient address rejected: User unknown"]
    mail_server.faults[SPAM] = ["550 5.7.1 Message rejected as spam"]
    mail_server.faults[FULL] = ["552 5.2.2 Mailbox full"]
    mail_server.faults[BUSY] = ["451 4.3.0 Try again later"]
    # About our sender, not the recipient (Postfix refuses a sender at RCPT), or a relay refusing to relay:
    # suppressing would put the whole audience on the list.
    mail_server.faults[SENDER] = ["550 5.1.8 <noreply@centromedico.example>: Sender address rejected"]
    mail_server.faults[RELAY] = ["550 relay not permitted"]
    mail_server.faults[BARE] = ["550 no such user here"]  # no enhanced code: too little to go on
    mail_server.faults[LONG] = [f"550 5.1.1 The mailbox you tried to reach is not there any more: <{LONG}>"]
    mail_server.faults["anna@xn--bcher-kva.example"] = ["550 5.1.1 <anna@xn--bcher-kva.example> unknown"]
    first = campaign_to("email", [GONE, SPAM, FULL, BUSY, FINE, SENDER, RELAY, BARE, LONG, GERMAN])
    send_all(config_for(sqlite_store, mail=mail_server))

    found = {m.address: (m.state, m.error) for m in Message.select().where(Message.campaign == first)}
    assert found[GONE] == (
        "failed", "SMTP 550 5.1.1 <the address>: Recipient address rejected: User unknown",
    )  # fmt: skip
    assert found[SPAM][0] == found[FULL][0] == "failed"
    assert found[BUSY][0] == found[FINE][0] == "sent"  # 451: tried again
    assert {s.address: (s.reason, s.campaign_id) for s in list_suppressions()} == {
        address: (HARD_BOUNCE, first) for address in (GONE, LONG, GERMAN)
    }
    assert all(found[a][0] == "failed" for a in (SENDER, RELAY, BARE))
    # The address is scrubbed before the reason is cut, and in the form the server echoes it.
    assert found[LONG][1].endswith("<the address>") and "carla" not in found[LONG][1]
    assert found[GERMAN][1] == "SMTP 550 5.1.1 <the address> unknown"

    delivered_before = len(mail_server.rcpts)
    second = campaign_to("email", [FINE, GONE, SPAM])  # the import leaves the bounced one out
    send_all(config_for(sqlite_store, mail=mail_server))
    addresses = {m.address for m in Message.select().where(Message.campaign == second)}
    assert GONE not in addresses
    assert GONE not in mail_server.rcpts[delivered_before:]
