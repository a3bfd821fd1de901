"""`campaigns suppressions`: the list as an admin keeps it by hand, and what Send Now then says."""

from __future__ import annotations

from tests.cli.test_recipients import draft


def test_add_list_remove_and_what_check_then_says(campaigns):
    empty = campaigns("suppressions", "list")
    assert (empty.code, empty.out.strip()) == (
        0, "The suppression list is empty: every address with consent can be reached.",
    )  # fmt: skip
    campaign = draft(campaigns, "sms")
    assert campaigns("recipients", "add", campaign, "--paste", "3470000001, 3470000002").code == 0

    added = campaigns("suppressions", "add", "347 000 0002", "--reason", "asked at the desk", "--json")
    assert added.code == 0
    assert {k: added.json[k] for k in ("address", "channel", "reason")} == {
        "address": "+393470000002", "channel": "sms", "reason": "asked at the desk",
    }  # fmt: skip
    listed = campaigns("suppressions", "list", "--json").json["suppressions"]
    assert [s["address"] for s in listed] == ["+393470000002"]
    assert listed[0]["at"].endswith("Z")

    check = campaigns("recipients", "check", campaign)
    assert "1 will be sent" in check.out
    assert "one is on the suppression list (1 asked at the desk), so skipped" in check.out
    assert campaigns("recipients", "check", campaign, "--json").json["skipped_suppressed"] == 1

    again = campaigns("recipients", "add", campaign, "--paste", "+39 347 000 0002", "--json").json
    assert (again["added"], again["suppressed"]) == (0, 1)
    assert again["errors"] == [
        {"row": 1, "value": "+39 347 000 0002", "reason": "suppressed: asked at the desk"}
    ]

    removed = campaigns("suppressions", "remove", "+393470000002")
    assert removed.code == 0 and "off the suppression list" in removed.out
    gone = campaigns("suppressions", "remove", "+393470000002")
    assert gone.code == 2
    assert gone.err.strip() == "campaigns: +393470000002 is not on the suppression list"
    assert campaigns("recipients", "check", campaign, "--json").json["skipped_suppressed"] == 0


def test_what_is_no_address_is_one_line_and_exit_2(campaigns):
    bad = campaigns("suppressions", "add", "not an address")
    assert bad.code == 2
    assert len(bad.err.strip().splitlines()) == 1
    assert "neither an email address, a phone number nor a push token" in bad.err
    assert campaigns("suppressions", "add", "x@example.org", "--reason", "x" * 201).code == 2
