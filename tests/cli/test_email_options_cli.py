"""A campaign's --open-tracking / --no-open-tracking and --language on the command line: stored, edited,
cloned, defaulted from [email] open_tracking; what an untracked campaign's statistics and exports say once
it went (through the outbox); and [email] return_path and list_id, checked at start."""

from __future__ import annotations

import email
import email.policy
import html
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.senders.peers import free_port


def create(campaigns, *options: str):
    return campaigns("create", "--channel", "email", "--name", "Richiamo", "--sender", "Centro Medico",
                     "--subject", "Controllo", "--body", "Ciao {{ first_name }}, ti aspettiamo.",
                     *options, "--json")  # fmt: skip


def draft(campaigns, *options: str) -> str:
    made = create(campaigns, *options)
    assert made.code == 0, made.err
    return str(made.json["id"])


def current(campaigns, campaign_id: str) -> dict:
    """The draft as it is stored (an edit that changes nothing prints its document)."""
    same = campaigns("edit", campaign_id, "--name", "Richiamo", "--json")
    assert same.code == 0, same.err
    return same.json


def config_file(text: str, monkeypatch) -> Path:
    path = Path("campaigns-test.toml").resolve()
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("CAMPAIGNS_CONFIG", str(path))
    return path


def one_line(result) -> str:
    assert result.out == "" and result.err.count("\n") == 1, (result.out, result.err)
    return result.err


def test_create_stores_no_open_tracking_and_the_language(campaigns):
    made = create(campaigns, "--no-open-tracking", "--language", "it")
    assert made.code == 0, made.err
    assert (made.json["open_tracking"], made.json["language"]) == (False, "it")
    default = create(campaigns)
    assert (default.json["open_tracking"], default.json["language"]) == (True, None)


def test_edit_turns_tracking_back_on_and_an_empty_language_is_the_centers(campaigns):
    campaign_id = draft(campaigns, "--no-open-tracking", "--language", "it")
    on = campaigns("edit", campaign_id, "--open-tracking", "--json")
    assert on.code == 0 and (on.json["open_tracking"], on.json["language"]) == (True, "it")
    english = campaigns("edit", campaign_id, "--language", "EN", "--json")
    assert english.code == 0 and english.json["language"] == "en"
    reset = campaigns("edit", campaign_id, "--language", "", "--json")
    assert reset.code == 0 and reset.json["language"] is None
    off = campaigns("edit", campaign_id, "--no-open-tracking", "--json")
    assert off.code == 0 and off.json["open_tracking"] is False


def test_an_unknown_language_is_refused_in_one_line(campaigns):
    refused = create(campaigns, "--language", "fr")
    assert refused.code == 2
    assert one_line(refused) == "campaigns: unknown language 'fr': choose en or it\n"
    assert campaigns("list", "--json").json == []  # no draft made
    campaign_id = draft(campaigns, "--language", "it")
    again = campaigns("edit", campaign_id, "--language", "fr")
    assert again.code == 2 and "unknown language 'fr'" in one_line(again)
    assert current(campaigns, campaign_id)["language"] == "it"  # unchanged


def test_email_open_tracking_false_in_the_config_makes_new_campaigns_untracked(campaigns, monkeypatch):
    config_file("[email]\nopen_tracking = false\n", monkeypatch)
    assert create(campaigns).json["open_tracking"] is False
    assert create(campaigns, "--open-tracking").json["open_tracking"] is True  # the option wins
    monkeypatch.delenv("CAMPAIGNS_CONFIG")
    monkeypatch.setenv("CAMPAIGNS_EMAIL_OPEN_TRACKING", "false")
    assert create(campaigns).json["open_tracking"] is False


@pytest.mark.parametrize("option", [("--no-open-tracking",), ("--open-tracking",), ("--language", "it")])
def test_variant_b_refuses_the_campaign_wide_options(campaigns, option):
    campaign_id = draft(campaigns)
    refused = campaigns("edit", campaign_id, "--variant", "b", "--body", "B: Buongiorno", *option)
    assert refused.code == 2
    line = one_line(refused)
    assert line.startswith(f"campaigns: {option[0]}")  # the option as typed, --no- included
    assert "variant" in line and "edit" in line and "without --variant" in line
    found = current(campaigns, campaign_id)
    assert (found["open_tracking"], found["language"], found["variant_b"]) == (True, None, None)


@pytest.mark.parametrize("default", ["true", "false"])
def test_a_clone_keeps_both_options_whatever_the_default(campaigns, monkeypatch, default):
    untracked = draft(campaigns, "--no-open-tracking", "--language", "it")
    tracked = draft(campaigns, "--open-tracking", "--language", "en")
    monkeypatch.setenv("CAMPAIGNS_EMAIL_OPEN_TRACKING", default)
    first = campaigns("clone", untracked, "--json")
    assert first.code == 0, first.err
    assert (first.json["open_tracking"], first.json["language"]) == (False, "it")
    second = campaigns("clone", tracked, "--json").json
    assert (second["open_tracking"], second["language"]) == (True, "en")


@pytest.fixture
def outbox(monkeypatch, tmp_path) -> Path:
    monkeypatch.setenv("CAMPAIGNS_EMAIL_TRANSPORT", "outbox")
    monkeypatch.setenv("CAMPAIGNS_OUTBOX_PATH", str(tmp_path / "outbox"))
    monkeypatch.setenv("CAMPAIGNS_FEEDBACK_LISTEN", f"127.0.0.1:{free_port()}")  # the worker's endpoints
    return tmp_path / "outbox"


def sent(campaigns, outbox: Path, campaign_id: str, to: str) -> EmailMessage:
    """Sends the draft to `to` through the outbox transport and returns the message written there."""
    assert campaigns("recipients", "add", campaign_id, "--paste", to).code == 0
    assert campaigns("send", campaign_id).code == 0
    worked = campaigns("worker", "--until-idle", "--json")
    assert worked.code == 0 and worked.json["sent"] == 1, worked.err
    (path,) = (outbox / f"campaign-{campaign_id}").glob("*.eml")
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def html_of(message: EmailMessage) -> str:
    """The HTML part, its entities read as a mail reader shows them."""
    return html.unescape(message.get_body(("html",)).get_content())


def plain_of(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()


def test_an_untracked_campaign_goes_without_the_image_and_says_opens_are_not_known(
    campaigns, outbox, tmp_path
):
    untracked = draft(campaigns, "--no-open-tracking")
    tracked = draft(campaigns)
    plain = sent(campaigns, outbox, untracked, "anna@example.org")
    pixel = sent(campaigns, outbox, tracked, "bruno@example.org")
    assert "<img" not in html_of(plain)
    assert "<img" in html_of(pixel) and "/o/" in html_of(pixel)  # the open-tracking image
    assert "/u/" in html_of(plain) and plain["List-Unsubscribe"]  # unsubscribing is not tracking

    stats = campaigns("stats", untracked, "--json").json
    assert (stats["state"], stats["sent"]) == ("sent", 1)
    assert (stats["opened"], stats["open_rate"]) == (None, None)
    assert (stats["clicked"], stats["click_rate"]) == (0, 0.0)  # clicks are still counted
    counted = campaigns("stats", tracked, "--json").json
    assert (counted["opened"], counted["open_rate"]) == (0, 0.0)
    text = campaigns("stats", untracked).out.splitlines()
    assert "  opened      not tracked (sent without the open-tracking image)" in text
    assert any(
        line.startswith("  opened") and "0.0%" in line
        for line in campaigns("stats", tracked).out.splitlines()
    )
    listed = {str(c["id"]): c for c in campaigns("list", "--json").json}
    assert (listed[untracked]["open_rate"], listed[tracked]["open_rate"]) == (None, 0.0)

    for who in ("opened", "not-opened"):
        out = tmp_path / f"{who}.csv"
        refused = campaigns("export", untracked, "--who", who, "--out", str(out))
        assert refused.code == 2
        assert one_line(refused) == (
            "campaigns: opens are not known: the campaign went without the open-tracking image\n"
        )
        assert not out.exists()
        assert campaigns("export", tracked, "--who", who, "--out", str(out)).code == 0
    everyone = campaigns("export", untracked, "--who", "all", "--out", str(tmp_path / "all.csv"), "--json")
    assert everyone.code == 0 and everyone.json["rows"] == 1


def test_the_footer_speaks_the_campaigns_language_else_the_centers(campaigns, outbox, monkeypatch):
    monkeypatch.setenv("CAMPAIGNS_EMAIL_LANGUAGE", "it")
    centre = sent(campaigns, outbox, draft(campaigns), "anna@example.org")
    english = sent(campaigns, outbox, draft(campaigns, "--language", "en"), "bruno@example.org")
    assert "Annulla l'iscrizione" in html_of(centre)
    assert "Riceve questa email perché è tra i contatti di Centro Medico." in plain_of(centre)
    assert "Unsubscribe" in html_of(english) and "Annulla" not in html_of(english)
    assert "You are receiving this email because you are in the contacts of Centro Medico." in plain_of(
        english
    )


@pytest.mark.parametrize(
    ("setting", "named"),
    [
        ('return_path = "not an address"', "[email] return_path must be a plain ASCII address"),
        ('return_path = "rimbalzi@città.example"', "[email] return_path must be a plain ASCII address"),
        ('return_path = "<bounces@example.org>"', "[email] return_path must be a plain ASCII address"),
        ('list_id = "not a list"', "[email] list_id must look like a domain name"),
    ],
    ids=["no-at", "not-ascii", "angle-brackets", "list-id"],
)
def test_a_bad_return_path_or_list_id_stops_every_command_in_one_line(campaigns, monkeypatch, setting, named):
    draft(campaigns)
    config_file(f"[email]\n{setting}\n", monkeypatch)
    for command in (("list",), ("check-email", "1", "--no-spamassassin")):
        refused = campaigns(*command)
        assert refused.code == 2
        assert one_line(refused).startswith(f"campaigns: {named}")


def test_a_good_return_path_and_list_id_are_accepted_and_the_list_id_is_sent(campaigns, outbox, monkeypatch):
    config_file(
        '[email]\nreturn_path = "bounces@example.org"\nlist_id = "richiami.example.org"\n', monkeypatch
    )
    message = sent(campaigns, outbox, draft(campaigns), "anna@example.org")
    assert message["List-Id"].endswith("<richiami.example.org>")


@pytest.mark.parametrize("channel", ["sms", "push"])
@pytest.mark.parametrize("option", [("--no-open-tracking",), ("--language", "it")])
def test_the_email_options_are_refused_for_another_channel(campaigns, channel, option):
    sender = "CentroMed" if channel == "sms" else "Centro Medico"
    made = campaigns("create", "--channel", channel, "--name", "Richiamo", "--sender", sender,
                     "--subject", "Controllo", "--body", "Ciao", *option)  # fmt: skip
    assert made.code == 2
    line = one_line(made)
    assert line.startswith(f"campaigns: {option[0]}") and channel.upper() in line
    assert campaigns("list", "--json").json == []
    campaign_id = campaigns("create", "--channel", channel, "--name", "Richiamo", "--sender", sender,
                            "--subject", "Controllo", "--body", "Ciao", "--json").json["id"]  # fmt: skip
    edited = campaigns("edit", str(campaign_id), *option)
    assert edited.code == 2 and one_line(edited).startswith(f"campaigns: {option[0]}")


def test_an_sms_campaign_is_not_marked_untracked_by_the_email_default(campaigns, monkeypatch):
    config_file("[email]\nopen_tracking = false\n", monkeypatch)
    made = campaigns("create", "--channel", "sms", "--name", "Richiamo", "--sender", "CentroMed",
                     "--body", "Ciao", "--json")  # fmt: skip
    assert made.code == 0 and made.json["open_tracking"] is True
