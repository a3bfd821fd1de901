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


def campaign_with_groups():
    """An email with a hold-out and a B: 1 got A and opened, 2 got B, 4 got A, 5 and 6 were held out."""
    people()
    Contact.insert_many(
        [{"id": i, "registry_id": str(i), "kind": "patient", "email": f"{i}@example.org"} for i in (5, 6)]
    ).execute()
    campaign = create_campaign(channel="email", name="Richiamo", sender="Centro", body="A")
    Campaign.update(variant_body="B", variant_share=0.5, holdout_percent=40, draw_seed=7).where(
        Campaign.id == campaign.id
    ).execute()
    sent = {"state": "sent", "sent_at": NOW}
    rows = [
        (1, "a@example.org", {**sent, "variant": "a", "opened_at": NOW}),
        (2, "b@example.org", {**sent, "variant": "b"}),
        (4, "d@example.org", {**sent, "variant": "a"}),
        (5, "5@example.org", {"state": "held_out", "held_out_at": NOW}),
        (6, "6@example.org", {"state": "held_out", "held_out_at": NOW}),
    ]
    for contact, address, fields in rows:
        Message.create(campaign=campaign, contact=contact, address=address, **fields)
    return campaign


def read_workbook(path):
    import openpyxl

    sheet = openpyxl.load_workbook(path).active
    header, *rows = [[c.value or "" for c in row] for row in sheet.iter_rows()]
    return [dict(zip(header, row, strict=True)) for row in rows]


@pytest.mark.parametrize("name", ["list.csv", "list.xlsx"])
def test_the_held_out_are_their_own_audience_and_every_row_says_its_group(store, tmp_path, name):
    campaign = campaign_with_groups()
    Reservation.create(contact=5, created_at=NOW + timedelta(days=1))  # booked, but was never sent it
    out = tmp_path / name
    load = read_workbook if name.endswith(".xlsx") else read
    assert export_recipients(campaign.id, "holdout", out) == 2
    held = load(out)
    assert [(r["email"], r["state"], r["group"], r["sent_at"]) for r in held] == [
        ("5@example.org", "held_out", "holdout", ""),
        ("6@example.org", "held_out", "holdout", ""),
    ]
    assert export_recipients(campaign.id, "all", out) == 5
    everyone = load(out)
    assert list(everyone[0])[-1] == "group"  # last: the columns before it stay where they were
    assert [r["group"] for r in everyone] == ["a", "b", "a", "holdout", "holdout"]
    for who in ("sent", "not-opened", "converted", "opened"):
        export_recipients(campaign.id, who, out)
        assert "holdout" not in {r["group"] for r in load(out)}, who


def test_the_group_is_empty_when_the_campaign_has_neither_a_hold_out_nor_a_b(store, tmp_path):
    campaign = campaign_with_fates()
    out = tmp_path / "all.csv"
    export_recipients(campaign.id, "all", out)
    assert [r["group"] for r in read(out)] == ["", "", "", ""]
    assert export_recipients(campaign.id, "holdout", out) == 0
    assert out.read_text(encoding="utf-8-sig").splitlines() == [
        "email,first_name,last_name,contact_id,state,reason,sent_at,delivered_at,opened_at,clicked_at,group"
    ]


def test_a_draw_that_held_nobody_out_still_names_the_groups(store, tmp_path):
    campaign = campaign_with_fates()
    Campaign.update(holdout_percent=1, draw_seed=3).where(Campaign.id == campaign.id).execute()  # nobody out
    out = tmp_path / "all.csv"
    export_recipients(campaign.id, "all", out)
    assert [r["group"] for r in read(out)] == ["a", "a", "a", "a"]
