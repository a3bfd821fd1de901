import csv
import subprocess
import sys

import pytest

STATS_KEYS = {
    "id", "name", "channel", "state", "recipients", "pending", "sent", "delivered", "failed",
    "skipped_duplicate", "skipped_opted_out", "opened", "clicked", "open_rate", "click_rate", "conversion",
    "queued_at", "first_sent_at", "last_sent_at", "completed_at", "final",
}  # fmt: skip


def one_line_error(result, code=2):
    assert result.code == code
    assert result.out == ""
    assert result.err.startswith("campaigns: ")
    assert result.err.count("\n") == 1, result.err
    assert "Traceback" not in result.err
    return result.err


def test_init_is_idempotent_and_prints_the_schema_version(campaigns):
    first = campaigns("init", "--json")
    assert (first.code, first.json) == (0, {"schema_version": 10})
    assert campaigns("init", "--json").json == {"schema_version": 10}
    assert "schema version 10" in campaigns("init").out


def test_fixtures_load_once(campaigns):
    loaded = campaigns("fixtures", "--patients", "300", "--seed", "3", "--json")
    assert loaded.code == 0
    assert loaded.json["patients"] == 300 and loaded.json["campaigns"] >= 10
    assert "already holds data" in one_line_error(campaigns("fixtures"))
    again = campaigns("fixtures", "--if-empty", "--json")
    assert (again.code, again.json) == (0, {"skipped": True})


def test_create_edit_list_and_stats_a_draft(campaigns, tmp_path):
    body = tmp_path / "body.txt"
    body.write_text("Ciao {{ first_name }}, il codice è {{ coupon }}")
    created = campaigns(
        "create", "--channel", "email", "--name", "Check-up", "--sender", "Centro Medico",
        "--subject", "Per te", "--coupon", "CHK10", "--body-file", str(body), "--json",
    )  # fmt: skip
    assert created.code == 0, created.err
    draft = created.json
    assert (draft["state"], draft["channel"], draft["body"]) == ("draft", "email", body.read_text())
    edited = campaigns("edit", str(draft["id"]), "--name", "Check-up 2026", "--json")
    assert edited.json["name"] == "Check-up 2026"
    listed = campaigns("list", "--json")
    assert [c["name"] for c in listed.json] == ["Check-up 2026"]
    stats = campaigns("stats", str(draft["id"]), "--json").json
    assert set(stats) >= STATS_KEYS
    assert (stats["recipients"], stats["opened"], stats["final"]) == (0, 0, False)
    assert "Check-up 2026" in campaigns("list").out


def test_body_from_standard_input(campaigns):
    created = campaigns(
        "create", "--channel", "sms", "--name", "N", "--sender", "Centro", "--body-file", "-", "--json",
        stdin="Ciao {{ first_name }}",
    )  # fmt: skip
    assert created.json["body"] == "Ciao {{ first_name }}"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (
            ("create", "--channel", "fax", "--name", "N", "--sender", "S", "--body", "b"),
            "unknown channel 'fax'",
        ),
        (("create", "--channel", "sms", "--name", "N", "--sender", "S"), "body is missing"),
        (("create", "--name", "N", "--body", "b"), "missing --channel, --sender"),
        (("create", "--channel", "sms", "--name", "N", "--sender", "S", "--body", "{{ x"), "template error"),
        (("edit", "42", "--name", "x"), "no campaign has id 42"),
        (("stats", "42"), "no campaign has id 42"),
        (("stats", "forty-two"), "is not a valid integer"),
        (("list", "--from", "yesterday"), "is not a date like"),
        (("list", "--from", "2026-11-02", "--to", "2026-11-01"), "starts (2026-11-02) after it ends"),
        (("contacts", "import", "nope.csv"), "nope.csv does not exist"),
        (("create", "--colour", "red"), "No such option '--colour'"),
        (("frobnicate",), "No such command 'frobnicate'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(campaigns, args, says):
    assert says in one_line_error(campaigns(*args))


def test_editing_a_queued_campaign_is_refused(campaigns, sqlite_url):
    draft = campaigns(
        "create", "--channel", "sms", "--name", "N", "--sender", "S", "--body", "b", "--json"
    ).json
    from store.db import close_database, open_database
    from store.models import Campaign

    open_database(sqlite_url)
    Campaign.update(state="queued").execute()
    close_database()
    assert "is queued; only drafts can be edited" in one_line_error(
        campaigns("edit", str(draft["id"]), "--name", "x")
    )


def test_imports_print_the_report_and_refusals_add_nothing(campaigns, write_csv):
    contacts = write_csv("c.csv", "id;First Name;EMAIL\n1;Maria;maria@example.org\n2;Luca;nope\n")
    report = campaigns("contacts", "import", str(contacts), "--json")
    assert report.code == 0
    assert report.json["added"] == 2 and report.json["invalid"] == 1  # Luca, without his bad email
    assert report.json["errors"] == [{"row": 3, "value": "2", "reason": report.json["errors"][0]["reason"]}]
    text = campaigns("contacts", "import", str(contacts))
    assert "row 3: '2': invalid email" in text.out
    reservations = write_csv("r.csv", "patient_id,created_at\n1,2026-11-02T10:00:00Z\n")
    assert campaigns("reservations", "import", str(reservations), "--json").json["added"] == 1
    refused = write_csv("bad.csv", "patient_id\n1\n")
    assert "lacks the column created_at" in one_line_error(campaigns("reservations", "import", str(refused)))


def test_options_are_accepted_before_the_command_too(campaigns, tmp_path):
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    assert campaigns("--db", url, "init", "--json").json == {"schema_version": 10}
    assert (tmp_path / "elsewhere.db").exists()


def test_debug_shows_the_traceback_and_keeps_the_exit_status(campaigns):
    shown = campaigns("stats", "7", "--debug")
    assert shown.code == 2  # bad input, with --debug as without
    assert "Traceback" in shown.err and "NotFound" in shown.err
    assert shown.err.endswith("campaigns: no campaign has id 7\n")


def test_the_installed_command_explains_itself(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "CAMPAIGNS_DB": f"sqlite:///{tmp_path / 'c.db'}"}
    command = [sys.executable, "-m", "tui", "--help"]
    shown = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
    assert shown.returncode == 0
    for name in ("init", "fixtures", "contacts", "reservations", "create", "edit", "list", "stats", "tui"):
        assert f"  {name}" in shown.stdout
    failed = subprocess.run(
        [sys.executable, "-m", "tui", "stats", "9", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert (failed.returncode, failed.stdout) == (2, "")
    assert failed.stderr == "campaigns: no campaign has id 9\n"


def test_export_writes_who_did_not_open_and_says_how_many(campaigns, tmp_path):
    campaigns("fixtures", "--patients", "300", "--seed", "3")
    listed = campaigns("list", "--from", "2020-01-01", "--json").json
    sent_email = next(c for c in listed if c["channel"] == "email" and c["sent"] and c["opened"] is not None)
    out = tmp_path / "not-opened.csv"
    result = campaigns("export", str(sent_email["id"]), "--who", "not-opened", "--out", str(out), "--json")
    assert result.code == 0 and result.json == {
        "rows": sent_email["sent"] - sent_email["opened"],
        "path": str(out),
    }
    assert out.read_text(encoding="utf-8-sig").startswith("email,first_name,last_name,")
    italian = campaigns(
        "export", str(sent_email["id"]), "--who", "sent", "--out", str(out), "--separator", ";"
    )
    rows = list(csv.reader(out.read_text(encoding="utf-8-sig").splitlines(), delimiter=";"))
    assert italian.code == 0 and rows[0][:3] == ["email", "first_name", "last_name"]
    assert len(rows) == sent_email["sent"] + 1 and all(len(row) == len(rows[0]) for row in rows)
    sms = next(c for c in listed if c["channel"] == "sms")
    refused = campaigns("export", str(sms["id"]), "--who", "opened", "--out", str(out))
    assert refused.code == 2 and "email only" in one_line_error(refused)


def test_export_to_standard_output(campaigns):
    campaigns("fixtures", "--patients", "300", "--seed", "3")
    email = next(
        c for c in campaigns("list", "--from", "2020-01-01", "--json").json if c["channel"] == "email"
    )
    printed = campaigns("export", str(email["id"]), "--who", "all", "--out", "-")
    assert printed.code == 0 and printed.out.startswith("email,first_name,last_name,")
    assert len(printed.out.strip().splitlines()) == email["recipients"] + 1
    refused = campaigns("export", str(email["id"]), "--who", "all", "--out", "-", "--json")
    assert refused.code == 2 and "--json cannot print" in one_line_error(refused)


def test_clone_and_delete_from_the_command_line(campaigns):
    options = ["--channel", "sms", "--name", "Flu", "--sender", "CentroMed", "--body", "Hi"]
    created = campaigns("create", *options, "--json").json
    campaigns("recipients", "add", str(created["id"]), "--paste", "3471234567")
    copy = campaigns("clone", str(created["id"]), "--json").json
    assert (copy["state"], copy["name"], copy["recipients"]) == ("draft", "Flu (copy)", 1)
    assert campaigns("delete", str(copy["id"]), "--json").json == {"deleted": copy["id"]}
    campaigns("send", str(created["id"]))
    refused = campaigns("delete", str(created["id"]))
    assert refused.code == 2 and "only drafts can be deleted" in one_line_error(refused)
