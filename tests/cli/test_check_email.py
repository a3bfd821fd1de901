"""`campaigns check-email`: what spam filters would hold against a campaign's email, read from the bytes
the engine would send (links, open-tracking image, DKIM, envelope), with SpamAssassin's score where it is
installed. Nothing is sent."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

FROM = "noreply@centromedico.example"
TRACKER = "https://track.centromedico.example"
SHORT = "Ciao {{ first_name }}, è ora del controllo annuale: ti aspettiamo."
CHECKS = {"headers", "size", "parts", "links", "open-tracking", "dkim", "return-path", "spamassassin"}
LEVELS = ("problem", "warning", "ok")
WORDS = {"problem": "PROBLEM", "warning": "warning", "ok": "ok"}

needs_spamassassin = pytest.mark.skipif(
    shutil.which("spamassassin") is None, reason="SpamAssassin is not installed (apt install spamassassin)"
)


@pytest.fixture
def centre(monkeypatch):
    """The center's own From domain, and its feedback links at https under it: no links finding."""
    monkeypatch.setenv("CAMPAIGNS_EMAIL_FROM_ADDRESS", FROM)
    monkeypatch.setenv("CAMPAIGNS_FEEDBACK_PUBLIC_URL", TRACKER)


def draft(
    campaigns, *options: str, body: str = SHORT, to: str | None = "anna@example.org, bruno@example.org"
) -> str:
    made = campaigns("create", "--channel", "email", "--name", "Richiamo", "--sender", "Centro Medico",
                     "--subject", "Controllo annuale", "--body", body, *options, "--json")  # fmt: skip
    assert made.code == 0, made.err
    campaign_id = str(made.json["id"])
    if to:
        assert campaigns("recipients", "add", campaign_id, "--paste", to).code == 0
    return campaign_id


def checked(campaigns, campaign_id: str, *options: str) -> dict:
    """The document; the report is printed whatever it finds (the exit status: see the links test)."""
    result = campaigns("check-email", campaign_id, *options, "--json")
    assert result.code in (0, 1) and result.err == "", result.err
    return result.json


def of(document: dict, check: str) -> list[dict]:
    return [f for f in document["findings"] if f["check"] == check]


def image_rule(document: dict) -> dict | None:
    rules = [r for r in document["spamassassin"]["rules"] if r["name"].startswith("HTML_IMAGE_ONLY")]
    assert len(rules) <= 1
    return rules[0] if rules else None


def test_the_json_document_of_a_draft_with_recipients(campaigns, centre):
    campaign_id = draft(campaigns)
    document = checked(campaigns, campaign_id, "--no-spamassassin")
    assert list(document) == [
        "id", "variant", "recipient", "size", "problems", "warnings", "findings", "spamassassin",
    ]  # fmt: skip
    assert (document["id"], document["variant"]) == (int(campaign_id), "a")
    assert document["recipient"] == "anna@example.org"  # the first recipient's own copy
    assert isinstance(document["size"], int) and 1_000 < document["size"] < 10_000
    assert document["spamassassin"] is None
    findings = document["findings"]
    assert all(list(f) == ["check", "level", "text", "points"] for f in findings)
    assert {f["check"] for f in findings} <= CHECKS
    assert {"headers", "size", "parts", "links", "open-tracking", "dkim"} <= {f["check"] for f in findings}
    assert all(f["level"] in LEVELS and f["text"] and "\n" not in f["text"] for f in findings)
    levels = [LEVELS.index(f["level"]) for f in findings]
    assert levels == sorted(levels)  # problems first, then warnings, then what is fine
    assert document["problems"] == sum(f["level"] == "problem" for f in findings)
    assert document["warnings"] == sum(f["level"] == "warning" for f in findings)
    assert of(document, "headers")[0]["level"] == "ok"


@needs_spamassassin
def test_spamassassins_report_is_in_the_document_and_its_score_is_a_finding(campaigns, centre):
    document = checked(campaigns, draft(campaigns))
    report = document["spamassassin"]
    assert list(report) == ["score", "version", "rules"]
    assert re.fullmatch(r"\d+(\.\d+)+", report["version"])
    assert report["rules"] and all(list(r) == ["name", "points", "description"] for r in report["rules"])
    assert all(re.fullmatch(r"[A-Z0-9_]+", r["name"]) for r in report["rules"])
    [finding] = of(document, "spamassassin")
    assert finding["points"] == report["score"]
    assert finding["text"].startswith(f"SpamAssassin {report['version']} (local rules): ")
    assert report["score"] == pytest.approx(sum(r["points"] for r in report["rules"]), abs=0.15)


def test_links_to_the_default_public_url_are_a_problem(campaigns, monkeypatch):
    monkeypatch.setenv("CAMPAIGNS_EMAIL_FROM_ADDRESS", FROM)  # [feedback] public_url left at its default
    campaign_id = draft(campaigns)
    document = checked(campaigns, campaign_id, "--no-spamassassin")
    [links] = of(document, "links")
    assert links["level"] == "problem" and document["problems"] >= 1
    assert "127.0.0.1" in links["text"] and "[feedback] public_url" in links["text"]
    assert document["findings"][0] == links
    text = campaigns("check-email", campaign_id, "--no-spamassassin")
    assert text.code == 1  # a PROBLEM: a script stops here, the report printed all the same
    last = text.out.splitlines()[-1]
    assert last.startswith("Email check: 1 problem") and links["text"] in last


@pytest.mark.parametrize(
    ("public_url", "level", "said"),
    [
        (TRACKER, "ok", "goes to track.centromedico.example"),
        ("https://centromedico.example/campagne", "ok", "goes to centromedico.example"),
        ("http://track.centromedico.example", "warning", "over http"),
        ("https://clicks.mailer.example", "warning", "not the From domain centromedico.example"),
    ],
    ids=["https-subdomain", "https-from-domain", "http", "another-domain"],
)
def test_the_links_finding_follows_public_url(campaigns, monkeypatch, public_url, level, said):
    monkeypatch.setenv("CAMPAIGNS_EMAIL_FROM_ADDRESS", FROM)
    monkeypatch.setenv("CAMPAIGNS_FEEDBACK_PUBLIC_URL", public_url)
    document = checked(campaigns, draft(campaigns), "--no-spamassassin")
    [links] = of(document, "links")
    assert links["level"] == level and said in links["text"]
    assert document["problems"] == 0


def test_shortened_and_plain_http_links_in_the_body_are_warnings(campaigns, centre):
    body = "Prenota qui: https://bit.ly/prenota oppure http://centromedico.example/prenota"
    document = checked(campaigns, draft(campaigns, body=body), "--no-spamassassin")
    said = sorted(f["text"] for f in of(document, "links"))
    assert [f["level"] for f in of(document, "links")] == ["warning", "warning"]
    assert said[0] == "1 of the body's links use http, not https"
    assert said[1].startswith("link shorteners (bit.ly) are a spam sign")
    fine = checked(campaigns, draft(campaigns, body="Prenota qui: https://centromedico.example/prenota"),
                   "--no-spamassassin")  # fmt: skip
    [link] = of(fine, "links")
    assert link["level"] == "ok" and link["text"].startswith("1 link")


def test_an_html_part_past_gmails_clipping_size_is_a_problem(campaigns, centre):
    body = "Però è già così. " * 5_000  # 85,000 characters (the limit is 100,000), 105 KB of UTF-8
    long = checked(campaigns, draft(campaigns, body=body), "--no-spamassassin")
    [size] = of(long, "size")
    assert size["level"] == "problem" and "Gmail clips it" in size["text"]
    short = checked(campaigns, draft(campaigns), "--no-spamassassin")
    assert of(short, "size")[0]["level"] == "ok"


def test_a_dkim_key_made_by_keygen_signs_and_verifies(campaigns, centre, monkeypatch):
    campaign_id = draft(campaigns)
    unsigned = checked(campaigns, campaign_id, "--no-spamassassin")
    [dkim] = of(unsigned, "dkim")
    assert dkim["level"] == "warning" and "not DKIM-signed" in dkim["text"]
    record = campaigns("dkim", "keygen", "--selector", "s2026", "--json").json
    monkeypatch.setenv("CAMPAIGNS_EMAIL_DKIM_SELECTOR", "s2026")
    monkeypatch.setenv("CAMPAIGNS_EMAIL_DKIM_PRIVATE_KEY", record["key_file"])
    signed = checked(campaigns, campaign_id, "--no-spamassassin")
    [dkim] = of(signed, "dkim")
    assert dkim["level"] == "ok"
    assert "signed by centromedico.example (selector s2026)" in dkim["text"] and "verifies" in dkim["text"]
    assert signed["size"] > unsigned["size"] + 300  # the DKIM-Signature header is in the bytes checked
    assert signed["warnings"] == unsigned["warnings"] - 1


def test_a_key_in_the_config_file_signing_for_another_domain_is_a_warning(campaigns, centre, monkeypatch):
    record = campaigns("dkim", "keygen", "--selector", "s1", "--json").json
    config = Path("campaigns-dkim.toml").resolve()
    config.write_text(
        f'[email]\ndkim_selector = "s1"\ndkim_private_key = "{record["key_file"]}"\n'
        'dkim_domain = "mailer.example"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("CAMPAIGNS_CONFIG", str(config))
    [dkim] = of(checked(campaigns, draft(campaigns), "--no-spamassassin"), "dkim")
    assert dkim["level"] == "warning"
    assert "signed by mailer.example, not the From domain centromedico.example" in dkim["text"]


@pytest.mark.parametrize(
    ("return_path", "finding"),
    [
        ("", None),
        ("bounces@centromedico.example", None),
        ("bounces@mailer.example", "bounces go to mailer.example, not the From domain centromedico.example"),
    ],
    ids=["none", "same-domain", "another-domain"],
)
def test_a_return_path_off_the_from_domain_is_a_warning(campaigns, centre, monkeypatch, return_path, finding):
    monkeypatch.setenv("CAMPAIGNS_EMAIL_RETURN_PATH", return_path)
    found = of(checked(campaigns, draft(campaigns), "--no-spamassassin"), "return-path")
    if finding is None:
        assert found == []
    else:
        assert [f["level"] for f in found] == ["warning"] and found[0]["text"].startswith(finding)


@needs_spamassassin
def test_without_open_tracking_no_image_and_no_image_only_rule(campaigns, centre):
    document = checked(campaigns, draft(campaigns, "--no-open-tracking"))
    [tracking] = of(document, "open-tracking")
    assert tracking["level"] == "ok" and tracking["points"] is None
    assert "no open-tracking image" in tracking["text"]
    assert image_rule(document) is None


@needs_spamassassin
def test_a_short_tracked_email_costs_what_spamassassin_gives_the_image(campaigns, centre):
    document = checked(campaigns, draft(campaigns))
    [tracking] = of(document, "open-tracking")
    rule = image_rule(document)
    assert rule is not None and rule["points"] > 0
    assert tracking["level"] == "warning" and tracking["points"] == rule["points"] > 0
    assert rule["name"] in tracking["text"] and "--no-open-tracking" in tracking["text"]


def test_without_spamassassin_the_image_costs_what_its_score_table_says(campaigns, centre):
    document = checked(campaigns, draft(campaigns), "--no-spamassassin")
    assert document["spamassassin"] is None and of(document, "spamassassin") == []
    [tracking] = of(document, "open-tracking")
    assert tracking["level"] == "warning" and tracking["points"] == 0.585
    assert "HTML_IMAGE_ONLY_08" in tracking["text"]


def fallback_rule(document: dict) -> str | None:
    [tracking] = of(document, "open-tracking")
    named = re.search(r"\((HTML_IMAGE_ONLY_\d\d)\)", tracking["text"])
    return named.group(1) if named else None


@needs_spamassassin
@pytest.mark.parametrize("words", [60, 200, 500])
def test_the_score_table_names_the_rule_spamassassin_gives(campaigns, centre, words):
    campaign_id = draft(campaigns, body=" ".join(["Visita"] * words))
    report = image_rule(checked(campaigns, campaign_id))
    table = fallback_rule(checked(campaigns, campaign_id, "--no-spamassassin"))
    assert table == (report["name"] if report else None)
    if words == 500:
        assert table is None  # past 3,200 bytes of HTML, the image costs nothing


def test_no_spamassassin_installed_says_how_to_add_it(campaigns, centre, monkeypatch):
    monkeypatch.setattr("senders.email_check.spamassassin_path", lambda: None)
    campaign_id = draft(campaigns)
    assert checked(campaigns, campaign_id)["spamassassin"] is None
    hint = "  (SpamAssassin is not installed: apt install spamassassin adds its score)"
    assert hint in campaigns("check-email", campaign_id).out.splitlines()
    assert hint not in campaigns("check-email", campaign_id, "--no-spamassassin").out.splitlines()


def test_the_text_has_one_line_per_finding_and_ends_with_the_verdict(campaigns, centre):
    campaign_id = draft(campaigns, body="Prenota: https://bit.ly/prenota")
    document = checked(campaigns, campaign_id, "--no-spamassassin")
    text = campaigns("check-email", campaign_id, "--no-spamassassin")
    assert text.code == 0 and text.err == ""  # warnings only
    lines = text.out.splitlines()
    assert lines[0] == f"Campaign {campaign_id}'s email for anna@example.org: {document['size']:,} bytes"
    assert len(lines) == len(document["findings"]) + 2
    for line, finding in zip(lines[1:-1], document["findings"], strict=True):
        assert line.split(maxsplit=2) == [WORDS[finding["level"]], finding["check"], finding["text"]]
    worst = document["findings"][0]
    assert worst["level"] == "warning"
    assert lines[-1] == f"Email check: {document['warnings']} warnings; {worst['text']}"


def test_a_draft_without_recipients_is_checked_for_a_sample_one(campaigns, centre):
    campaign_id = draft(campaigns, to=None)
    document = checked(campaigns, campaign_id, "--no-spamassassin")
    assert document["recipient"] == FROM
    assert of(document, "headers")[0]["level"] == "ok" and of(document, "parts")[0]["level"] == "ok"


def test_variant_b_is_checked_and_refused_without_one(campaigns, centre):
    campaign_id = draft(campaigns)
    refused = campaigns("check-email", campaign_id, "--variant", "b", "--no-spamassassin")
    assert (refused.code, refused.out, refused.err) == (
        2, "", f"campaigns: campaign {campaign_id} has no variant B\n",
    )  # fmt: skip
    assert campaigns("edit", campaign_id, "--variant", "b", "--body", "B: https://bit.ly/prenota").code == 0
    b = checked(campaigns, campaign_id, "--variant", "b", "--no-spamassassin")
    assert b["variant"] == "b"
    assert any("bit.ly" in f["text"] for f in of(b, "links"))  # B's own body, not A's
    a = checked(campaigns, campaign_id, "--no-spamassassin")
    assert a["variant"] == "a" and [f["level"] for f in of(a, "links")] == ["ok"]


def test_an_sms_campaign_is_refused_in_one_line(campaigns):
    made = campaigns("create", "--channel", "sms", "--name", "Richiamo", "--sender", "CentroMed",
                     "--body", "Ciao", "--json")  # fmt: skip
    result = campaigns("check-email", str(made.json["id"]), "--json")
    assert (result.code, result.out) == (2, "")
    assert result.err == f"campaigns: campaign {made.json['id']} is SMS: check-email is for email\n"


def test_an_unknown_campaign_is_refused_in_one_line(campaigns):
    result = campaigns("check-email", "99", "--json")
    assert (result.code, result.out, result.err) == (2, "", "campaigns: no campaign has id 99\n")


@needs_spamassassin
def test_a_clean_email_reads_a_spam_score_of_0_not_minus_0(campaigns, centre):
    campaign_id = draft(campaigns, "--no-open-tracking")
    text = campaigns("check-email", campaign_id)
    assert text.code == 0
    assert '"score": 0.0,' in campaigns("check-email", campaign_id, "--json").out  # not -0.0
    verdict = text.out.splitlines()[-1]
    assert verdict.startswith("Email check: spam score 0, ")
    assert "-0 points" not in text.out


def test_an_odd_first_recipient_is_passed_over_for_the_next(campaigns, centre, sqlite_url):
    from store.db import open_database
    from store.models import Message

    campaign_id = draft(campaigns)
    open_database(sqlite_url)  # another tool's row: an address the import would have refused
    Message.update(address="x y@z.example").where(Message.address == "anna@example.org").execute()
    document = checked(campaigns, campaign_id, "--no-spamassassin")
    assert document["recipient"] == "bruno@example.org"


def fake_spamassassin(folder: Path, script: str) -> None:
    path = folder / "spamassassin"
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(0o755)


def test_spamassassin_failing_or_hanging_is_said_not_taken_for_missing(
    campaigns, centre, monkeypatch, tmp_path
):
    campaign_id = draft(campaigns)
    fake_spamassassin(tmp_path, "echo 'config: cannot read rules' >&2; exit 2")
    monkeypatch.setenv("PATH", f"{tmp_path}:{__import__('os').environ['PATH']}")
    document = checked(campaigns, campaign_id)
    assert document["spamassassin"] is None
    (finding,) = of(document, "spamassassin")
    assert finding["level"] == "warning"
    assert finding["text"] == "SpamAssassin failed (exit 2: config: cannot read rules): no score"
    assert "not installed" not in campaigns("check-email", campaign_id).out
    fake_spamassassin(tmp_path, "sleep 30")
    monkeypatch.setattr("senders.email_check.SPAMASSASSIN_TIMEOUT", 0.5)
    import time

    started = time.monotonic()
    document = checked(campaigns, campaign_id)
    assert time.monotonic() - started < 10
    assert of(document, "spamassassin")[0]["text"] == "SpamAssassin gave no answer in 0.5 s: no score"


@pytest.mark.parametrize(
    "public_url",
    ["https://[::1", "ftp://campagne.example.org", "https://campagne.example.org/?a=1", "campagne"],
)
def test_a_public_url_links_cannot_start_with_is_refused_at_start(campaigns, monkeypatch, public_url):
    monkeypatch.setenv("CAMPAIGNS_FEEDBACK_PUBLIC_URL", public_url)
    result = campaigns("list")
    assert result.code == 2 and result.err.startswith("campaigns: [feedback] public_url must be")
    assert result.err.count("\n") == 1
