"""Issue 19 on the command line: `edit --variant b`, `--remove`, `send --holdout` and `--b-share`."""

from __future__ import annotations

import email
import email.policy


def draft(campaigns, recipients: int = 40) -> str:
    content = ("--name", "Richiamo", "--sender", "Centro", "--subject", "Promemoria", "--body", "A: Ciao")
    created = campaigns("create", "--channel", "email", *content, "--json").json
    paste = ", ".join(f"p{i}@example.org" for i in range(recipients))
    assert campaigns("recipients", "add", str(created["id"]), "--paste", paste).code == 0
    return str(created["id"])


def test_variant_b_is_set_shown_and_dropped(campaigns):
    campaign_id = draft(campaigns)
    shown = campaigns("edit", campaign_id, "--variant", "b", "--body", "B: Buongiorno", "--json")
    assert shown.code == 0 and shown.json["variant_b"] == {"subject": None, "body": "B: Buongiorno"}
    refused = campaigns("edit", campaign_id, "--variant", "b", "--name", "Altro")
    assert (refused.code, refused.err.strip()) == (
        2, "campaigns: --name belongs to the campaign, not to a variant: edit it without --variant"
    )  # fmt: skip
    assert campaigns("edit", campaign_id, "--remove").code == 2  # --remove is for --variant b
    dropped = campaigns("edit", campaign_id, "--variant", "b", "--remove", "--json")
    assert dropped.code == 0 and dropped.json["variant_b"] is None


def test_send_with_a_hold_out_and_a_b_share_says_what_it_drew(campaigns):
    campaign_id = draft(campaigns)
    campaigns("edit", campaign_id, "--variant", "b", "--body", "B: Buongiorno {{ first_name }}")
    sent = campaigns("send", campaign_id, "--holdout", "25", "--b-share", "50")
    assert sent.code == 0
    assert sent.out.startswith(f"Campaign {campaign_id} is queued (10 held out (25%); 15 get A, 15 get B): ")
    stats = campaigns("stats", campaign_id, "--json").json
    assert (stats["held_out"], stats["recipients"], stats["pending"]) == (10, 40, 30)
    document = campaigns("list", "--json").json[0]
    assert document["held_out"] == 10


def test_a_b_share_without_a_variant_b_and_a_hold_out_of_100_are_refused(campaigns):
    campaign_id = draft(campaigns)
    refused = campaigns("send", campaign_id, "--b-share", "30")
    assert (refused.code, refused.err.strip()) == (
        2, f"campaigns: campaign {campaign_id} has no variant B to share: edit --variant b first"
    )  # fmt: skip
    assert campaigns("send", campaign_id, "--holdout", "100").code == 2
    assert campaigns("stats", campaign_id, "--json").json["state"] == "draft"


def test_a_test_of_variant_b_sends_b(campaigns, tmp_path):
    campaign_id = draft(campaigns, recipients=1)
    assert campaigns("test", campaign_id, "--to", "me@example.org", "--variant", "b").code == 2  # no B yet
    campaigns("edit", campaign_id, "--variant", "b", "--body", "B: Buongiorno", "--subject", "Un invito")
    assert campaigns("test", campaign_id, "--to", "me@example.org", "--variant", "b").code == 0
    written = email.message_from_bytes(
        next((tmp_path / "outbox").rglob("*.eml")).read_bytes(), policy=email.policy.default
    )
    assert written["Subject"] == "[TEST] Un invito"
    assert "B: Buongiorno" in written.get_body(("plain",)).get_content()


def test_stats_give_each_group_and_the_lift_only_for_a_campaign_with_a_hold_out(campaigns, sqlite_url):
    from datetime import timedelta

    from store.clock import utcnow
    from store.db import close_database, open_database
    from store.models import Contact, Message, Reservation
    from store.queue import finish_if_done

    created = campaigns("create", "--channel", "sms", "--name", "Richiamo", "--sender", "CentroMed",
                        "--body", "Ciao", "--json").json  # fmt: skip
    open_database(sqlite_url)
    for i in range(80):
        Contact.create(id=i + 1, registry_id=f"P{i}", kind="patient", phone=f"+39347{i:07d}")
    close_database()
    ids = ",".join(f"P{i}" for i in range(80))
    assert campaigns("recipients", "add", str(created["id"]), "--contacts", ids).code == 0
    assert campaigns("stats", str(created["id"]), "--json").json.get("groups") is None
    assert campaigns("send", str(created["id"]), "--holdout", "50").code == 0
    open_database(sqlite_url)
    sent = utcnow() - timedelta(days=30)
    Message.update(state="sent", sent_at=sent).where(Message.state == "pending").execute()
    finish_if_done(created["id"])
    for message in Message.select().where(Message.state == "sent"):  # every messaged patient books once
        Reservation.create(contact=message.contact_id, created_at=sent + timedelta(days=3))
    close_database()
    stats = campaigns("stats", str(created["id"]), "--json").json
    assert stats["groups"] == {
        "a": {"patients": 40, "reservations": 40, "rate": 1.0},
        "holdout": {"patients": 40, "reservations": 0, "rate": 0.0},
    }
    [lift] = stats["lift"]
    assert (lift["of"], lift["against"], lift["difference"]) == ("a", "holdout", 1.0)
    assert lift["low"] is None and not lift["significant"]  # nobody varies: no interval to give
    assert stats["conversion"] == {"patients": 40, "reservations": 40, "rate": 1.0}  # the manual's, unchanged
    text = campaigns("stats", str(created["id"])).out.splitlines()
    assert text[-4:] == [
        "  held out           40",
        "  A                  40 patients, 40 reservations, 1.000 per patient",
        "  hold-out           40 patients, 0 reservations, 0.000 per patient",
        "  A vs hold-out: +1.000 per patient, no interval: every patient made as many reservations",
    ]
