from tests.cli.test_commands import one_line_error


def draft(campaigns, channel="email"):
    sender = "Centro" if channel == "sms" else "Centro Medico"
    made = campaigns(
        "create", "--channel", channel, "--name", "N", "--sender", sender, "--body", "Ciao", "--json"
    )
    return str(made.json["id"])


def test_add_each_way_and_check(campaigns, write_csv, tmp_path):
    campaigns("fixtures", "--patients", "200")
    campaign = draft(campaigns)
    pasted = campaigns("recipients", "add", campaign, "--paste", "a@example.org; b@example.org,bad", "--json")
    assert pasted.code == 0
    assert (pasted.json["added"], pasted.json["invalid"]) == (2, 1)
    template = tmp_path / "template.csv"
    assert campaigns("recipients", "template", str(template)).code == 0
    assert template.read_text().splitlines()[0] == "first_name,last_name,email,phone"
    from_csv = campaigns("recipients", "add", campaign, "--csv", str(template), "--json").json
    assert from_csv["added"] == 2
    picked = campaigns("recipients", "add", campaign, "--contacts", "P000001, P000002;P000003", "--json").json
    assert picked["added"] + picked["opted_out"] + picked["invalid"] == 3
    everyone = campaigns("recipients", "add", campaign, "--all-patients", "--json").json
    assert everyone["added"] > 100
    check = campaigns("recipients", "check", campaign, "--json").json
    assert check["pending"] == campaigns("stats", campaign, "--json").json["recipients"]
    assert check["will_send"] == check["pending"] - check["skipped_window"] - check["skipped_opted_out"]


def test_paste_from_standard_input(campaigns):
    campaign = draft(campaigns, "sms")
    added = campaigns(
        "recipients", "add", campaign, "--paste", "-", "--json", stdin="347 123 4567\n333 765 4321\n"
    )
    assert added.json["added"] == 2


def test_template_to_standard_output(campaigns):
    shown = campaigns("recipients", "template")
    assert shown.out.startswith("first_name,last_name,email,phone\n")


def test_refusals_are_one_line(campaigns, write_csv):
    campaign = draft(campaigns)
    assert "exactly one of" in one_line_error(campaigns("recipients", "add", campaign))
    assert "exactly one of" in one_line_error(
        campaigns("recipients", "add", campaign, "--paste", "x", "--all-patients")
    )
    assert "no contacts given" in one_line_error(
        campaigns("recipients", "add", campaign, "--contacts", " ,; ")
    )
    no_column = write_csv("p.csv", "name,phone\nMaria,3471234567\n")
    said = one_line_error(campaigns("recipients", "add", campaign, "--csv", str(no_column)))
    assert "has no email column for an EMAIL campaign" in said
    assert campaigns("stats", campaign, "--json").json["recipients"] == 0
