import pytest

from store.contacts import import_contacts
from store.errors import ImportRefused
from store.models import Contact


def contact(registry_id: int | str) -> Contact:
    """The contact the registry calls `registry_id`."""
    return Contact.get(Contact.registry_id == str(registry_id))


def test_import_normalises_and_reports_each_refused_row(store, write_csv):
    path = write_csv(
        "contacts.csv",
        "id,kind,first_name,last_name,email,phone,consent\n"
        "1,patient,Maria,Rossi, Maria.Rossi@Example.ORG ,347 123 4567,yes\n"
        "2,Resource,Luca,Bianchi,,+39 02 1234 5678,no\n"
        "3,patient,Anna,Verdi,not-an-email,,yes\n"
        "4,nurse,Ugo,Neri,,,yes\n"
        " ,patient,Bad,Id,,,yes\n"
        "1,patient,Maria,Again,,,yes\n"
        "5,user,Sara,Gialli,,,maybe\n",
    )
    report = import_contacts(path)
    assert (report.added, report.invalid, report.duplicates) == (3, 4, 1)
    assert [(e.row, e.value) for e in report.shown_errors()] == [(4, "3"), (5, "4"), (6, " "), (8, "5")]
    assert (
        "invalid email" in report.shown_errors()[0].reason
        and "the rest of the row was imported" in report.shown_errors()[0].reason
    )
    assert contact(3).email is None and contact(3).first_name == "Anna"
    assert "kind must be patient, resource or user" in report.shown_errors()[1].reason
    assert "consent must be yes or no" in report.shown_errors()[3].reason
    maria = contact(1)
    assert (maria.email, maria.phone, maria.consent, maria.kind) == (
        "maria.rossi@example.org",
        "+393471234567",
        True,
        "patient",
    )
    assert (contact(2).kind, contact(2).phone, contact(2).consent) == ("resource", "+390212345678", False)
    assert Contact.select().count() == 3


def test_reimport_updates_only_the_columns_in_the_file(store, write_csv):
    import_contacts(
        write_csv("a.csv", "id,kind,first_name,email,consent\n1,resource,Maria,m@example.org,yes\n")
    )
    report = import_contacts(write_csv("b.csv", "id,kind,consent\n1,,no\n2,,yes\n"))
    assert (report.added, report.updated) == (1, 1)
    maria = contact(1)
    assert (maria.first_name, maria.email, maria.consent, maria.kind) == (
        "Maria",
        "m@example.org",
        False,
        "resource",
    )
    assert contact(2).kind == "patient"


def test_a_bad_address_never_blocks_a_consent_withdrawal(store, write_csv):
    import_contacts(write_csv("a.csv", "id,email,consent\n7,a@example.org,yes\n"))
    report = import_contacts(write_csv("b.csv", "id,email,phone,consent\n7,a@example.org,12345,no\n"))
    assert report.invalid == 1 and "not a valid phone number" in report.shown_errors()[0].reason
    assert contact(7).consent is False


def test_without_a_consent_column_new_contacts_have_no_consent(store, write_csv):
    import_contacts(write_csv("a.csv", "id,email,consent\n1,a@example.org,yes\n"))
    report = import_contacts(write_csv("b.csv", "id,email\n1,a@example.org\n2,b@example.org\n"))
    assert contact(1).consent is True  # an existing contact keeps what it had
    assert contact(2).consent is False
    assert report.notes == [
        "the file has no consent column: 1 new contacts are recorded without marketing consent"
    ]


@pytest.mark.parametrize(
    ("odd", "reason"),
    [
        ("  ", "id is blank"),
        ("P" * 65, "id is longer than 64 characters (65)"),
        ("P\x071", "id holds a control or invisible character"),
        ("P\x7f1", "id holds a control or invisible character"),
        ("P1\u200b", "id holds a control or invisible character"),  # a zero-width space: P1 to the eye
        ("\u202eP1", "id holds a control or invisible character"),  # a direction override
    ],
)
def test_odd_ids_are_refused_rows_not_crashes(store, write_csv, odd, reason):
    report = import_contacts(write_csv("c.csv", f"id,email\n{odd},a@example.org\n5,b@example.org\n"))
    assert (report.added, report.invalid) == (1, 1)
    assert report.shown_errors()[0].reason == reason


def test_an_unsubscribe_outlives_the_registry_copy(store, write_csv):
    import_contacts(write_csv("a.csv", "id,email\n1,m@example.org\n"))
    Contact.update(consent=False, consent_note="unsubscribed from campaign 3").execute()
    import_contacts(write_csv("b.csv", "id,consent\n1,yes\n"))
    assert contact(1).consent is False


def test_excel_exports_with_semicolons_bom_crlf_and_cp1252_are_read(store, write_csv):
    text = '\ufeff ID ;First Name ; E-Mail ;Extra\r\n\r\n7;Niccolò;n@example.org;x\r\n8;"Zoë; jr";;y\r\n'
    import_contacts(write_csv("excel.csv", text.replace("E-Mail", "email"), encoding="utf-8"))
    assert contact(7).first_name == "Niccolò"
    assert contact(8).first_name == "Zoë; jr"
    import_contacts(write_csv("latin.csv", "id;first_name\n9;Nicolò\n", encoding="cp1252"))
    assert contact(9).first_name == "Nicolò"


def test_utf16_and_a_stray_windows_byte_keep_every_name_right(store, write_csv):
    import_contacts(write_csv("u16.csv", "id\tfirst_name\n1\tNiccolò\n".encode("utf-16")))
    mixed = "id;first_name\n2;Niccolò\n".encode() + "3;Zoë\n".encode("cp1252")
    import_contacts(write_csv("mixed.csv", mixed))
    assert [contact(i).first_name for i in (1, 2, 3)] == ["Niccolò", "Niccolò", "Zoë"]


def test_app_tokens_are_unique_to_one_contact(store, write_csv):
    import_contacts(write_csv("a.csv", "id,app_token\n1,tok-1\n"))
    report = import_contacts(write_csv("b.csv", "id,app_token\n2,tok-1\n3,tok-3\n4,tok-3\n"))
    assert report.added == 1
    assert [e.row for e in report.shown_errors()] == [2, 4]
    assert contact(1).app_token == "tok-1"


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"first_name,email\nMaria,m@example.org\n", "lacks the column id"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "is not a CSV file"),
        (b"", "is empty"),
        (b"id,first_name\n1,\x81\x8d\n", "encoding that cannot be read"),
    ],
)
def test_a_refused_file_adds_nothing(store, write_csv, content, says):
    with pytest.raises(ImportRefused, match=says):
        import_contacts(write_csv("bad.csv", content))
    assert Contact.select().count() == 0


def test_a_missing_file_is_refused(store, tmp_path):
    with pytest.raises(ImportRefused, match="does not exist"):
        import_contacts(tmp_path / "nope.csv")


def test_a_new_push_token_from_the_registry_revives_a_contact_whose_token_died(store, write_csv):
    from datetime import datetime

    import_contacts(
        write_csv("a.csv", "id,kind,push_token,consent\n1,patient,tok-old,yes\n2,patient,tok-2,yes\n")
    )
    Contact.update(push_token_dead_at=datetime(2026, 11, 1)).execute()  # the push service said both died
    import_contacts(write_csv("b.csv", "id,push_token\n1,tok-new\n2,tok-2\n"))
    assert (contact(1).push_token, contact(1).push_token_dead_at) == ("tok-new", None)
    assert contact(2).push_token_dead_at == datetime(2026, 11, 1)  # the same dead token stays dead
    import_contacts(write_csv("c.csv", "id,first_name\n2,Anna\n"))  # a file without tokens changes none
    assert contact(2).push_token_dead_at == datetime(2026, 11, 1)


def test_an_id_written_two_ways_in_unicode_is_one_contact(store, write_csv):
    import_contacts(write_csv("a.csv", "id,first_name\nJos\u00e9,A\n"))  # é, one code point
    report = import_contacts(write_csv("b.csv", "id,first_name\nJose\u0301,B\n"))  # e and an accent
    assert (report.added, report.updated) == (0, 1)
    assert [(c.registry_id, c.first_name) for c in Contact.select()] == [("Jos\u00e9", "B")]
