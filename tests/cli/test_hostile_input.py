"""Issue 13, as a careless user and an attacker meet the command line: --debug keeps the exit status,
stdin that is not UTF-8, repeated columns, absurdly long names and addresses, line breaks in names."""

import csv
import io
import subprocess
import sys

import pytest

from tests.cli.test_commands import one_line_error
from tests.cli.test_recipients import draft

LONG = "x" * 100_000


def recipients_of(campaigns, campaign):
    """The recipients as a user reads them back: the export's email, first_name, last_name."""
    printed = campaigns("export", campaign, "--who", "all", "--out", "-")
    assert printed.code == 0, printed.err
    return [row[:3] for row in csv.reader(io.StringIO(printed.out))][1:]


def count(campaigns, campaign):
    return campaigns("stats", campaign, "--json").json["recipients"]


def piped(monkeypatch, data: bytes) -> None:
    """stdin as a pipe gives it: bytes, whatever they are."""
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))


# -- 1. --debug adds the traceback and nothing else ----------------------------------------------------


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (("stats", "42"), 2, "no campaign has id 42"),
        (("create", "--colour", "red"), 2, "No such option '--colour'"),
        (("list", "--from", "yesterday"), 2, "is not a date like"),
    ],
)
def test_debug_keeps_the_exit_status_of_bad_input(campaigns, args, code, says):
    plain = campaigns(*args)
    debugged = campaigns(*args, "--debug")
    assert plain.code == debugged.code == code
    assert says in one_line_error(plain, code)
    assert "Traceback" in debugged.err
    assert debugged.err.splitlines()[-1] == plain.err.strip()


# -- 2. a paste from stdin that is not UTF-8 -----------------------------------------------------------


def test_a_windows_paste_on_stdin_is_read_like_a_windows_csv(campaigns, monkeypatch):
    campaign = draft(campaigns)
    piped(monkeypatch, "maria@example.org;luca@example.org\ncafé@exa mple\n".encode("cp1252"))
    added = campaigns("recipients", "add", campaign, "--paste", "-", "--json")
    assert added.code == 0, added.err
    report = added.json  # one valid JSON document: no raw byte in it
    assert (report["added"], report["invalid"]) == (2, 1)
    assert report["errors"][0]["value"] == "café@exa mple"
    assert "\\udc" not in added.out


def test_a_utf16_paste_on_stdin_is_read(campaigns, monkeypatch):
    campaign = draft(campaigns)
    piped(monkeypatch, "maria@example.org\r\nluca@example.org\r\n".encode("utf-16"))
    assert campaigns("recipients", "add", campaign, "--paste", "-", "--json").json["added"] == 2


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"maria@example.org\x00\x01\x02\x03", "standard input is not a list of addresses"),
        (
            b"maria@example.org\n\x81\x8d@example.org\n",
            "standard input is in an encoding that cannot be read",
        ),
    ],
)
def test_stdin_that_is_no_text_is_refused_whole(campaigns, monkeypatch, data, says):
    campaign = draft(campaigns)
    piped(monkeypatch, data)
    assert says in one_line_error(campaigns("recipients", "add", campaign, "--paste", "-", "--json"))
    assert count(campaigns, campaign) == 0


def test_a_paste_argument_in_a_windows_encoding_is_read_too(campaigns):
    campaign = draft(campaigns)
    # What Python hands over for an argument that is not UTF-8: its bytes as surrogate escapes.
    typed = b"maria@example.org;caf\xe9@exa mple".decode("utf-8", "surrogateescape")
    added = campaigns("recipients", "add", campaign, "--paste", typed, "--json")
    assert added.code == 0, added.err
    assert (added.json["added"], added.json["errors"][0]["value"]) == (1, "café@exa mple")


def test_the_installed_command_reads_a_windows_paste_from_a_pipe(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "CAMPAIGNS_DB": f"sqlite:///{tmp_path / 'c.db'}",
           "LC_ALL": "C"}  # fmt: skip

    def run(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
        command = [sys.executable, "-m", "tui", *args]
        return subprocess.run(command, input=stdin, capture_output=True, env=env, timeout=60)

    made = run("create", "--channel", "email", "--name", "N", "--sender", "Centro", "--body", "Ciao")
    assert made.returncode == 0, made.stderr
    added = run("recipients", "add", "1", "--paste", "-", "--json", stdin=b"a@example.org;Jos\xe9 <x>\n")
    assert added.returncode == 0, added.stderr
    assert b"\\udc" not in added.stdout and "José <x>".encode() in added.stdout
    refused = run("recipients", "add", "1", "--paste", "-", stdin=b"\x00\x01binary")
    assert refused.returncode == 2
    assert refused.stderr == b"campaigns: standard input is not a list of addresses (it holds binary data)\n"


# -- 4. a column named twice ---------------------------------------------------------------------------


def test_a_recipient_file_naming_a_column_twice_is_refused_whole(campaigns, write_csv):
    campaign = draft(campaigns)
    path = write_csv("twice.csv", "first_name;Email; email \nMaria;maria@example.org;luca@example.org\n")
    said = one_line_error(campaigns("recipients", "add", campaign, "--csv", str(path), "--json"))
    assert "has the column email twice (columns 2 and 3: 'Email' and ' email ')" in said
    assert count(campaigns, campaign) == 0


def test_registry_and_booking_files_naming_a_column_twice_are_refused_whole(campaigns, write_csv):
    contacts = write_csv("c.csv", "id,First Name,first_name,email\n1,Maria,Anna,maria@example.org\n")
    said = one_line_error(campaigns("contacts", "import", str(contacts)))
    assert "has the column first_name twice" in said
    good = write_csv("ok.csv", "id,first_name\n1,Maria\n")
    assert campaigns("contacts", "import", str(good), "--json").json["added"] == 1
    bookings = write_csv("r.csv", "patient_id,created_at,Patient ID\n1,2026-11-02T10:00:00Z,2\n")
    said = one_line_error(campaigns("reservations", "import", str(bookings)))
    assert "has the column patient_id twice" in said
    # Nothing was added: the same file without the second column adds its one reservation.
    single = write_csv("r1.csv", "patient_id,created_at\n1,2026-11-02T10:00:00Z\n")
    assert campaigns("reservations", "import", str(single), "--json").json["added"] == 1


def test_blank_headers_of_unused_columns_are_no_repeated_column(campaigns, write_csv):
    campaign = draft(campaigns)
    path = write_csv("blank.csv", "email,,\nmaria@example.org,,\n")
    assert campaigns("recipients", "add", campaign, "--csv", str(path), "--json").json["added"] == 1


# -- 5. lengths, and line breaks in names --------------------------------------------------------------


def test_an_absurd_name_refuses_its_row_only(campaigns, write_csv):
    campaign = draft(campaigns)
    path = write_csv(
        "people.csv",
        "first_name,last_name,email\n"
        "Maria,Rossi,maria@example.org\n"
        f"{LONG},Verdi,anna@example.org\n"
        f"Luca,{'b' * 101},luca@example.org\n"
        f"Sara,{'g' * 100},sara@example.org\n",
    )
    added = campaigns("recipients", "add", campaign, "--csv", str(path), "--json")
    assert added.code == 0, added.err
    assert (added.json["added"], added.json["invalid"]) == (2, 2)
    assert added.json["errors"] == [
        {
            "row": 3,
            "value": "anna@example.org",
            "reason": "first_name is longer than 100 characters (100,000)",
        },
        {"row": 4, "value": "luca@example.org", "reason": "last_name is longer than 100 characters (101)"},
    ]
    assert len(added.out) < 2_000
    assert [r[0] for r in recipients_of(campaigns, campaign)] == ["maria@example.org", "sara@example.org"]
    text = campaigns("recipients", "add", campaign, "--csv", str(path))
    assert "row 3: 'anna@example.org': first_name is longer than 100 characters" in text.out


def test_absurd_addresses_are_refused_rows_quoted_short(campaigns):
    campaign = draft(campaigns)
    huge = "a" * 300 + "@example.org"
    added = campaigns("recipients", "add", campaign, "--paste", f"maria@example.org;{huge}", "--json").json
    assert (added["added"], added["invalid"]) == (1, 1)
    error = added["errors"][0]
    assert error["reason"] == "email is longer than 254 characters (312)"
    assert len(error["value"]) <= 80 and error["value"].startswith("aaaa") and error["value"].endswith("…")


def test_a_phone_number_padded_past_any_typed_one_is_refused(campaigns):
    campaign = draft(campaigns, "sms")
    padded = "347" + " " * 40 + "1234567"
    added = campaigns("recipients", "add", campaign, "--paste", f"333 765 4321;{padded}", "--json").json
    assert (added["added"], added["invalid"]) == (1, 1)
    assert added["errors"][0]["reason"] == "phone number is longer than 32 characters (50)"


def test_line_breaks_and_tabs_in_names_become_one_space(campaigns, write_csv):
    campaign = draft(campaigns)
    path = write_csv(
        "excel.csv",
        'first_name,last_name,email\r\n"Anna\r\nMaria","De\tRossi",anna@example.org\r\n'
        '"  Luca \n",Bianchi,luca@example.org\r\n',
    )
    assert campaigns("recipients", "add", campaign, "--csv", str(path), "--json").json["added"] == 2
    assert recipients_of(campaigns, campaign) == [
        ["anna@example.org", "Anna Maria", "De Rossi"],
        ["luca@example.org", "Luca", "Bianchi"],
    ]


def test_the_registry_import_leaves_an_absurd_name_out_and_keeps_the_rest(campaigns, write_csv):
    first = write_csv("a.csv", "id,first_name,last_name,email,consent\n1,Maria,Rossi,maria@example.org,yes\n")
    assert campaigns("contacts", "import", str(first), "--json").json["added"] == 1
    again = write_csv(
        "b.csv",
        "id,first_name,last_name,email,push_token,consent\n"
        f"1,{LONG},Rossi,maria@example.org,,no\n"  # the consent withdrawal still counts
        f"2,Luca,{LONG},luca@example.org,{'t' * 5000},yes\n"
        '3,"Anna\nMaria",Verdi,anna@example.org,,yes\n',
    )
    report = campaigns("contacts", "import", str(again), "--json")
    assert report.code == 0, report.err
    assert (report.json["added"], report.json["updated"], report.json["invalid"]) == (2, 1, 2)
    reasons = {e["row"]: e["reason"] for e in report.json["errors"]}
    assert (
        reasons[2] == "first_name is longer than 100 characters (100,000) (the rest of the row was imported)"
    )
    assert reasons[3].startswith(
        "last_name is longer than 100 characters (100,000); push_token is longer than"
    )
    assert len(report.out) < 2_000
    campaign = draft(campaigns)
    picked = campaigns("recipients", "add", campaign, "--contacts", "1,2,3", "--json").json
    assert (picked["added"], picked["opted_out"]) == (2, 1)  # Maria withdrew her consent
    assert recipients_of(campaigns, campaign) == [
        ["luca@example.org", "Luca", ""],
        ["anna@example.org", "Anna Maria", "Verdi"],
    ]


def test_picking_a_contact_stored_with_an_absurd_name_refuses_that_one(campaigns, write_csv, sqlite_url):
    people = (
        "id,first_name,last_name,email,consent\n"
        "1,Maria,Rossi,maria@example.org,yes\n"
        "2,Luca,Bianchi,luca@example.org,yes\n"
    )
    campaigns("contacts", "import", str(write_csv("c.csv", people)))
    from store.db import close_database, open_database
    from store.models import Contact

    open_database(sqlite_url)  # as an import made before the limits left them
    Contact.update(first_name=LONG).where(Contact.id == 2).execute()
    Contact.update(last_name="Rossi\r\nBianchi").where(Contact.id == 1).execute()
    close_database()
    campaign = draft(campaigns)
    picked = campaigns("recipients", "add", campaign, "--contacts", "1,2", "--json").json
    assert (picked["added"], picked["invalid"]) == (1, 1)
    assert picked["errors"][0]["reason"] == (
        "the contact's first_name is longer than 100 characters (100,000); correct it in the registry"
    )
    assert len(picked["errors"][0]["value"]) < 200
    assert recipients_of(campaigns, campaign) == [["maria@example.org", "Maria", "Rossi Bianchi"]]


# -- what the command line prints reaches a terminal: no escape sequence from a file -------------------


def test_values_quoted_from_a_file_send_no_escape_sequence_to_the_terminal(campaigns, write_csv):
    campaign = draft(campaigns)
    hostile = "\x1b]8;;https://evil.example\x07click\x1b]8;;\x07"
    path = write_csv("r.csv", f"email,first_name\r\n{hostile}@x,Maria\r\nok@example.org,\u202eAnna\r\n")
    added = campaigns("recipients", "add", campaign, "--csv", str(path))
    assert added.code == 0, added.err
    assert "\x1b" not in added.out and "\x07" not in added.out
    assert "]8;;https://evil.example" in added.out  # the value is still quoted, made harmless
    refused = campaigns("recipients", "add", campaign, "--paste", f"{hostile}@x")
    assert "\x1b" not in refused.out + refused.err
    names = [row[1] for row in recipients_of(campaigns, campaign)]
    assert names == ["Anna"]  # a direction override is not kept in a name
