import csv
from datetime import timedelta

import pytest

from store.audiences import export_recipients, retarget, safe_cell
from store.campaigns import create_campaign
from store.errors import BadInput
from store.models import Campaign, Contact, Message, OptOut, Reservation
from tests.conftest import NOW


def people():
    Contact.insert_many(
        [
            {
                "id": 1,
                "registry_id": "1",
                "kind": "patient",
                "email": "a@example.org",
                "first_name": '=HYPERLINK("http://x")',
            },
            {"id": 2, "registry_id": "2", "kind": "patient", "email": "b@example.org", "first_name": "Bruno"},
            {
                "id": 3,
                "registry_id": "3",
                "kind": "resource",
                "email": "c@example.org",
                "first_name": "Carla",
            },
            {
                "id": 4,
                "registry_id": "4",
                "kind": "patient",
                "email": "d@example.org",
                "first_name": "Dario",
                "consent": False,
            },
        ]
    ).execute()


def campaign_with_fates():
    """a opened and clicked, b reached and never opened, c failed, d reached but withdrew consent."""
    people()
    campaign = create_campaign(channel="email", name="Cardio", sender="Centro", body="Hi {{ first_name }}")
    sent = {"state": "sent", "sent_at": NOW}
    rows = [
        (1, "a@example.org", '=HYPERLINK("http://x")', {**sent, "opened_at": NOW, "clicked_at": NOW}),
        (2, "b@example.org", "Bruno", sent),
        (3, "c@example.org", "Carla", {"state": "failed", "error": "SMTP 550 no such user"}),
        (4, "d@example.org", "Dario", sent),
    ]
    for contact, address, first, fields in rows:
        Message.create(campaign=campaign, contact=contact, address=address, first_name=first, **fields)
    return campaign


def read(path):
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def test_not_opened_lists_those_reached_who_never_opened(store, tmp_path):
    campaign = campaign_with_fates()
    out = tmp_path / "not-opened.csv"
    assert export_recipients(campaign.id, "not-opened", out) == 2
    assert [r["email"] for r in read(out)] == ["b@example.org", "d@example.org"]
    assert export_recipients(campaign.id, "failed", out) == 1
    assert read(out)[0]["reason"] == "SMTP 550 no such user"
    assert export_recipients(campaign.id, "all", out) == 4


def test_cells_that_would_run_as_formulas_are_neutralised(store, tmp_path):
    campaign = campaign_with_fates()
    out = tmp_path / "opened.csv"
    export_recipients(campaign.id, "opened", out)
    assert read(out)[0]["first_name"] == '\'=HYPERLINK("http://x")'
    assert [safe_cell(v) for v in ("+393471234567", "-12.5", "+1+cmd|' /C calc'!A0", "@SUM(A1)", "\tx")] == [
        "+393471234567", "-12.5", "'+1+cmd|' /C calc'!A0", "'@SUM(A1)", "'\tx",
    ]  # fmt: skip


def test_converted_are_the_patients_who_booked_in_the_28_days_after_their_message(store, tmp_path):
    campaign = campaign_with_fates()
    Reservation.create(contact=1, created_at=NOW + timedelta(days=29))  # too late
    Reservation.create(contact=2, created_at=NOW + timedelta(days=27))
    Reservation.create(contact=3, created_at=NOW + timedelta(days=1))  # never got it (and not a patient)
    out = tmp_path / "converted.csv"
    assert export_recipients(campaign.id, "converted", out) == 1
    assert read(out)[0]["email"] == "b@example.org"


def test_opens_are_refused_for_channels_that_have_none(store, tmp_path):
    campaign = create_campaign(channel="sms", name="SMS", sender="CentroMed", body="Hi")
    with pytest.raises(BadInput, match="email only"):
        export_recipients(campaign.id, "not-opened", tmp_path / "x.csv")
    assert not (tmp_path / "x.csv").exists()


def test_a_file_that_cannot_be_written_is_one_clear_error(store, tmp_path):
    campaign = campaign_with_fates()
    with pytest.raises(BadInput, match="cannot write"):
        export_recipients(campaign.id, "all", tmp_path / "missing-folder" / "x.csv")


def test_retargeting_makes_a_draft_for_that_audience_without_those_who_opted_out(store):
    campaign = campaign_with_fates()
    OptOut.create(address="a@example.org", at=NOW)
    draft, added, left_out = retarget(campaign.id, "sent")  # a unsubscribed, d withdrew consent: b is left
    assert (draft.state, draft.channel, draft.body, added, left_out) == (
        "draft",
        "email",
        campaign.body,
        1,
        2,
    )
    assert draft.name == "Cardio · reached"
    assert [m.address for m in Message.select().where(Message.campaign == draft.id)] == ["b@example.org"]


def test_retargeting_an_audience_that_all_unsubscribed_creates_nothing_and_says_why(store):
    campaign = campaign_with_fates()
    OptOut.create(address="a@example.org", at=NOW)
    with pytest.raises(BadInput, match="all 1 unsubscribed or withdrew consent"):
        retarget(campaign.id, "clicked")
    assert Campaign.select().count() == 1


@pytest.mark.parametrize("name", ["list.csv", "list.xlsx"])
def test_a_link_left_where_the_partial_file_goes_is_removed_not_followed(store, tmp_path, name):
    # Another account's symlink under the temporary name must not let the export cut or chmod its target.
    campaign = campaign_with_fates()
    victim = tmp_path / "victim.txt"
    victim.write_text("not the product's")
    victim.chmod(0o644)
    (tmp_path / f".{name}.partial").symlink_to(victim)
    assert export_recipients(campaign.id, "all", tmp_path / name) == 4
    assert victim.read_text() == "not the product's" and victim.stat().st_mode & 0o777 == 0o644
    assert not (tmp_path / f".{name}.partial").exists()
