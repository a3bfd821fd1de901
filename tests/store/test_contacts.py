import pytest

from store.contacts import import_contacts
from store.errors import ImportRefused
from store.models import Contact


def contact(contact_id: int) -> Contact:
    return Contact.get_by_id(contact_id)


def test_import_normalises_and_reports_each_refused_row(store, write_csv):
    path = write_csv(
        "contacts.csv",
        "id,kind,first_name,last_name,email,phone,consent\n"
        "1,patient,Maria,Rossi, Maria.Rossi@Example.ORG ,347 123 4567,yes\n"
        "2,Resource,Luca,Bianchi,,+39 02 1234 5678,no\n"
        "3,patient,Anna,Verdi,not-an-email,,yes\n"
        "4,nurse,Ugo,Neri,,,yes\n"
        "x,patient,Bad,Id,,,yes\n"
        "1,patient,Maria,Again,,,yes\n"
        "5,user,Sara,Gialli,,,maybe\n",
    )
    report = import_contacts(path)
    assert (report.added, report.invalid, report.duplicates) == (2, 4, 1)
    assert [(e["row"], e["value"]) for e in report.errors] == [(4, "3"), (5, "4"), (6, "x"), (8, "5")]
    assert "email" in report.errors[0]["reason"]
    assert "kind must be patient, resource or user" in report.errors[1]["reason"]
    assert "consent must be yes or no" in report.errors[3]["reason"]
    maria = contact(1)
    assert (maria.email, maria.phone, maria.consent, maria.kind) == (
        "maria.rossi@example.org",
        "+393471234567",
        True,
        "patient",
    )
    assert (contact(2).kind, contact(2).phone, contact(2).consent) == ("resource", "+390212345678", False)
    assert Contact.select().count() == 2


def test_reimport_updates_only_the_columns_in_the_file(store, write_csv):
    import_contacts(write_csv("a.csv", "id,first_name,email,consent\n1,Maria,m@example.org,yes\n"))
    report = import_contacts(write_csv("b.csv", "id,consent\n1,no\n2,yes\n"))
    assert (report.added, report.updated) == (1, 1)
    maria = contact(1)
    assert (maria.first_name, maria.email, maria.consent) == ("Maria", "m@example.org", False)
    assert contact(2).kind == "patient"


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


def test_app_tokens_are_unique_to_one_contact(store, write_csv):
    import_contacts(write_csv("a.csv", "id,app_token\n1,tok-1\n"))
    report = import_contacts(write_csv("b.csv", "id,app_token\n2,tok-1\n3,tok-3\n4,tok-3\n"))
    assert report.added == 1
    assert [e["row"] for e in report.errors] == [2, 4]
    assert contact(1).app_token == "tok-1"


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"first_name,email\nMaria,m@example.org\n", "lacks the column id"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "is not a CSV file"),
        (b"", "is empty"),
    ],
)
def test_a_refused_file_adds_nothing(store, write_csv, content, says):
    with pytest.raises(ImportRefused, match=says):
        import_contacts(write_csv("bad.csv", content))
    assert Contact.select().count() == 0


def test_a_missing_file_is_refused(store, tmp_path):
    with pytest.raises(ImportRefused, match="does not exist"):
        import_contacts(tmp_path / "nope.csv")
