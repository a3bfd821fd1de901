from datetime import timedelta

import pytest

from store.campaigns import create_campaign
from store.contacts import import_contacts
from store.errors import ImportRefused, InvalidState
from store.forecast import forecast
from store.models import Campaign, Contact, Message, SentLedger
from store.recipients import CSV_LIMIT, PASTE_LIMIT, add_all_patients, add_contacts, add_from_csv, add_pasted
from store.report import RefusedRow
from store.templates import render
from store.window import body_hash
from tests.conftest import NOW

CONTACTS = (
    "id,kind,first_name,last_name,email,phone,push_token,consent\n"
    "1,patient,Maria,Rossi,maria@example.org,3471234567,tok-1,yes\n"
    "2,patient,Luca,Bianchi,luca@example.org,3337654321,,yes\n"
    "3,patient,Anna,Verdi,anna@example.org,,tok-3,no\n"
    "4,resource,Dott. Ugo,Neri,ugo@example.org,3201112223,,yes\n"
    "5,patient,Sara,Gialli,,3281234567,tok-5,yes\n"
)


@pytest.fixture
def center(store, write_csv):
    import_contacts(write_csv("contacts.csv", CONTACTS))


def campaign(channel="email", body="Ciao {{ first_name }}"):
    sender = "Centro" if channel != "email" else "Centro Medico"
    return create_campaign(channel=channel, name="Test", sender=sender, body=body)


def recipients(draft):
    query = Message.select().where(Message.campaign == draft.id).order_by(Message.id)
    return [(m.address, m.contact_id, m.first_name, m.source) for m in query]


def test_paste_normalises_matches_contacts_and_reports(center):
    draft = campaign()
    report = add_pasted(
        draft.id, "Maria@Example.org; new@example.org,\nnot-an-email ; maria@example.org,anna@example.org"
    )
    assert (report.added, report.duplicates, report.invalid, report.opted_out) == (2, 1, 1, 1)
    assert report.shown_errors()[0].row == 3 and report.shown_errors()[0].value == "not-an-email"
    assert recipients(draft) == [
        ("maria@example.org", 1, "Maria", "paste"),
        ("new@example.org", None, "", "paste"),
    ]
    again = add_pasted(draft.id, "maria@example.org, luca@example.org")
    assert (again.added, again.already_present) == (1, 1)


def test_sms_refuses_landlines(center):
    draft = campaign("sms")
    report = add_pasted(draft.id, "02 1234 5678; 800 123456; 347 123 4567")
    assert report.added == 1
    assert [e.reason for e in report.shown_errors()] == ["not a mobile number: an SMS cannot reach it"] * 2


def test_sms_paste_takes_phone_numbers_as_people_write_them(center):
    draft = campaign("sms")
    report = add_pasted(draft.id, "347 123 4567; +39 333 765 4321, 0039 3281234567; 12")
    assert (report.added, report.invalid) == (3, 1)
    assert {a for a, *_ in recipients(draft)} == {"+393471234567", "+393337654321", "+393281234567"}


def test_paste_over_the_limit_adds_nothing(center):
    draft = campaign()
    text = ",".join(f"p{i}@example.org" for i in range(PASTE_LIMIT + 1))
    with pytest.raises(ImportRefused, match="at most 20,000 at once"):
        add_pasted(draft.id, text)
    assert recipients(draft) == []
    assert add_pasted(draft.id, text.rsplit(",", 1)[0]).added == PASTE_LIMIT


def test_csv_with_the_template_columns_personalises_and_matches(center, write_csv):
    draft = campaign()
    path = write_csv(
        "r.csv",
        "\ufeffFirst Name;Cognome;E-Mail;Phone\r\n"
        "Mariella;;MARIA@example.org;\r\n"
        ";;luca@example.org;\r\n"
        "Piero;Blu;piero@example.org;\r\n"
        "Senza;Email;;3471234567\r\n",
    )
    report = add_from_csv(draft.id, path)
    assert (report.added, report.invalid) == (3, 1)
    assert report.shown_errors() == [RefusedRow(5, "", "no email")]
    assert recipients(draft) == [
        ("maria@example.org", 1, "Mariella", "csv"),
        ("luca@example.org", 2, "Luca", "csv"),
        ("piero@example.org", None, "Piero", "csv"),
    ]


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("first_name,phone\nMaria,3471234567\n", "has no email column for an EMAIL campaign"),
        (b"PK\x03\x04\x00\x00binary", "is not a CSV file"),
        (b"email\n\xff\xfe\x00m", "is not a CSV file"),
    ],
)
def test_refused_csv_files_add_nothing(center, write_csv, content, says):
    draft = campaign()
    with pytest.raises(ImportRefused, match=None) as caught:
        add_from_csv(draft.id, write_csv("bad.csv", content))
    assert says in str(caught.value)
    assert recipients(draft) == []


def test_csv_over_the_limit_is_refused(center, write_csv):
    draft = campaign()
    rows = "\n".join(f"p{i}@example.org" for i in range(CSV_LIMIT + 1))
    with pytest.raises(ImportRefused, match="has 100,001 rows; import at most 100,000 at once"):
        add_from_csv(draft.id, write_csv("big.csv", "email\n" + rows))
    assert recipients(draft) == []


def test_picked_contacts_and_all_patients(center):
    draft = campaign("sms")
    report = add_contacts(draft.id, [2, 3, 4, 99, 2])
    assert (report.added, report.opted_out, report.invalid, report.duplicates) == (2, 0, 2, 1)
    assert [e.reason for e in report.shown_errors()] == [
        "the contact has no mobile number",
        "no contact has this id",
    ]
    everyone = add_all_patients(draft.id)
    assert (everyone.added, everyone.already_present, everyone.invalid) == (2, 1, 1)
    picked_resource = "+393201112223"
    assert {a for a, *_ in recipients(draft)} == {
        picked_resource,
        "+393337654321",
        "+393471234567",
        "+393281234567",
    }


def test_push_goes_to_the_contacts_device(center):
    draft = campaign("push")
    Contact.update(push_token_dead_at=NOW).where(Contact.id == 5).execute()
    report = add_pasted(draft.id, "maria@example.org, luca@example.org, 3281234567, nobody@example.org")
    assert report.added == 1
    assert [e.reason for e in report.shown_errors()] == [
        "the contact has not installed the app",
        "the contact's app no longer receives push messages",
        "no contact with this address has the app",
    ]
    assert recipients(draft) == [("tok-1", 1, "Maria", "paste")]


def test_recipients_only_go_into_drafts(center):
    draft = campaign()
    Campaign.update(state="queued").execute()
    with pytest.raises(InvalidState, match="recipients can be added to drafts only"):
        add_pasted(draft.id, "x@example.org")


def test_forecast_names_what_the_window_and_consent_will_skip(center):
    draft = campaign(body="Ciao {{ first_name }}")
    add_pasted(draft.id, "maria@example.org, luca@example.org, new@example.org")
    sent = body_hash(render(draft.body, {"first_name": "Maria"}))
    SentLedger.create(
        channel="email", address="maria@example.org", body_hash=sent, sent_at=NOW - timedelta(days=6)
    )
    other = body_hash(render(draft.body, {"first_name": "Luca"}))
    SentLedger.create(
        channel="email", address="luca@example.org", body_hash=other, sent_at=NOW - timedelta(days=8)
    )
    Contact.update(consent=False).where(Contact.id == 2).execute()
    found = forecast(Campaign.get_by_id(draft.id), "7d", now=NOW)
    assert (found.pending, found.will_send, found.skipped_window, found.skipped_opted_out) == (3, 1, 1, 1)
    assert found.blank_names == 1  # new@example.org has no first name: "Ciao ,"
    assert "one has no name for {{ first_name }}" in found.blank_names_note()


@pytest.mark.parametrize(
    ("body", "blank"),
    [
        ("Ciao {{ first_name }}, a presto", 2),
        ("Gentile {{ first_name }} {{ last_name }}", 2),
        ("Ciao {{ first_name or 'Gentile paziente' }},", 0),
        ("{% if first_name %}Ciao {{ first_name }},{% else %}Salve,{% endif %}", 0),
        ("Buongiorno, ecco il coupon {{ coupon }}", 0),
    ],
)
def test_forecast_counts_who_would_read_an_empty_name(center, body, blank):
    draft = campaign(body=body)
    add_pasted(draft.id, "maria@example.org, new@example.org, other@example.org")
    found = forecast(Campaign.get_by_id(draft.id), "7d", now=NOW)
    assert found.will_send == 3 and found.blank_names == blank
    assert bool(found.blank_names_note()) == bool(blank)
