"""Issue 18 on the command line: `send --at` in the center's time zone, `unschedule`, past times refused,
a worker that leaves what cannot go now as it is, and the times of --json with the zone's offset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from store.clock import shift_clock


def draft_with_a_recipient(campaigns, channel: str = "sms", address: str = "") -> int:
    address = address or ("3471234567" if channel == "sms" else "anna@example.org")
    subject = ["--subject", "Promemoria"] if channel == "email" else []
    created = campaigns("create", "--channel", channel, "--name", "Richiamo", "--sender", "CentroMed",
                        "--body", "Ciao {{ first_name }}", *subject, "--json").json  # fmt: skip
    assert campaigns("recipients", "add", str(created["id"]), "--paste", address).code == 0
    return int(created["id"])


def at_noon_in_rome(campaigns, monkeypatch) -> None:
    """The clock says 1 December 2026, 12:00 in Rome (11:00 UTC); the center is in Rome."""
    monkeypatch.setenv("CAMPAIGNS_CENTER_TIMEZONE", "Europe/Rome")
    shift_clock(datetime(2026, 12, 1, 11, 0) - datetime.now(UTC).replace(tzinfo=None))


def test_send_at_schedules_in_the_centers_time_zone_and_unschedule_takes_it_back(campaigns, monkeypatch):
    at_noon_in_rome(campaigns, monkeypatch)
    campaign_id = draft_with_a_recipient(campaigns)
    scheduled = campaigns("send", str(campaign_id), "--at", "2026-12-03T09:30")
    assert scheduled.code == 0
    assert scheduled.out.strip() == (
        f"Campaign {campaign_id} is scheduled for Thu 3 Dec 09:30 (Europe/Rome): no estimate yet: no SMS "
        "rate measured ([sms] rate_per_hour sets one)."
    )
    stats = campaigns("stats", str(campaign_id), "--json").json
    assert (stats["state"], stats["scheduled_at"], stats["queued_at"]) == (
        "scheduled", "2026-12-03T09:30:00+01:00", None
    )  # fmt: skip
    assert campaigns("send", str(campaign_id)).code == 2  # already scheduled: unschedule it first
    back = campaigns("unschedule", str(campaign_id), "--json")
    assert (back.code, back.json["state"], back.json["scheduled_at"]) == (0, "draft", None)
    # An offset given is taken as given: 08:30 UTC is 09:30 in Rome.
    again = campaigns("send", str(campaign_id), "--at", "2026-12-03T08:30Z", "--json").json
    assert again["scheduled_at"] == "2026-12-03T09:30:00+01:00"


def test_a_past_or_unreadable_time_is_refused_in_one_line_and_changes_nothing(campaigns, monkeypatch):
    at_noon_in_rome(campaigns, monkeypatch)
    campaign_id = draft_with_a_recipient(campaigns)
    refusals = {
        "2026-12-01T11:59": "campaigns: 2026-12-01 11:59 (Europe/Rome) is in the past: a campaign is "
        "scheduled for later",
        "tomorrow": "campaigns: --at: 'tomorrow' is not a date and time (e.g. 2026-12-02T09:30)",
        "2026-12-03": "campaigns: --at: '2026-12-03' has no time of day (e.g. 2026-12-03T09:30)",
        "2027-03-28T02:30": "campaigns: --at: 2027-03-28T02:30 does not exist in Europe/Rome: the clocks "
        "skip it",
    }
    for when, said in refusals.items():
        refused = campaigns("send", str(campaign_id), "--at", when)
        assert (refused.code, refused.err.strip()) == (2, said)
    assert campaigns("stats", str(campaign_id), "--json").json["state"] == "draft"
    assert campaigns("unschedule", str(campaign_id)).code == 2  # a draft is not scheduled


def test_a_worker_until_idle_leaves_a_scheduled_campaign_and_one_in_quiet_hours_as_they_are(
    campaigns, monkeypatch
):
    at_noon_in_rome(campaigns, monkeypatch)
    monkeypatch.setenv("CAMPAIGNS_SMS_QUIET_HOURS", "11:00-13:00")  # noon is quiet for SMS
    monkeypatch.setenv("CAMPAIGNS_SMS_TRANSPORT", "outbox")
    later = draft_with_a_recipient(campaigns, "email")
    now = draft_with_a_recipient(campaigns)
    email_now = draft_with_a_recipient(campaigns, "email", "bruno@example.org")
    assert campaigns("send", str(later), "--at", "2026-12-01T12:30").code == 0
    assert campaigns("send", str(now)).code == 0
    assert campaigns("send", str(email_now)).code == 0
    finished = campaigns("worker", "--until-idle", "--json")
    assert finished.code == 0 and finished.json["sent"] == 1  # the email queued now, only
    states = [campaigns("stats", str(i), "--json").json for i in (later, now, email_now)]
    assert [s["state"] for s in states] == ["scheduled", "queued", "sent"]
    assert states[1]["waiting_reason"] == "quiet hours until 13:00"
    shift_clock(datetime(2026, 12, 1, 12, 0, 1) - datetime.now(UTC).replace(tzinfo=None))  # 13:00:01 in Rome
    assert campaigns("worker", "--until-idle", "--json").json["sent"] == 2
    assert campaigns("stats", str(later), "--json").json["queued_at"] == "2026-12-01T12:30:00+01:00"


def test_json_times_carry_the_centers_offset(campaigns, monkeypatch):
    monkeypatch.setenv("CAMPAIGNS_CENTER_TIMEZONE", "America/New_York")
    campaign_id = draft_with_a_recipient(campaigns)
    created = campaigns("stats", str(campaign_id), "--json").json
    moment = datetime.fromisoformat(created["queued_at"] or "2026-01-01T00:00:00-05:00")
    assert moment.utcoffset() in (timedelta(hours=-5), timedelta(hours=-4))
    shown = campaigns("list", "--json").json[0]
    assert datetime.fromisoformat(shown["created_at"]).utcoffset() in (
        timedelta(hours=-5),
        timedelta(hours=-4),
    )


def test_send_says_when_the_campaign_should_end_from_the_rate_and_the_quiet_hours(campaigns, monkeypatch):
    at_noon_in_rome(campaigns, monkeypatch)
    monkeypatch.setenv("CAMPAIGNS_SMS_QUIET_HOURS", "20:00-09:00")
    monkeypatch.setenv("CAMPAIGNS_SMS_RATE_PER_HOUR", "1")  # one SMS an hour: 10 take two days
    created = campaigns("create", "--channel", "sms", "--name", "Richiamo", "--sender", "CentroMed",
                        "--body", "Ciao", "--json").json  # fmt: skip
    phones = ", ".join(f"34712345{i:02d}" for i in range(10))
    assert campaigns("recipients", "add", str(created["id"]), "--paste", phones).code == 0
    sent = campaigns("send", str(created["id"]), "--json").json
    # Ten hours of sending: 12:00-20:00, the night waits, then 09:00-11:00.
    estimate = sent["estimate"]
    assert (estimate["starts_at"][:16], estimate["ends_at"][:16]) == ("2026-12-01T12:00", "2026-12-02T11:00")
    assert (estimate["quiet_pauses"], estimate["says"], estimate["warning"]) == (
        1, "ends tomorrow around 11:00, after 1 quiet-hour pause", None
    )  # fmt: skip


def test_a_test_send_in_quiet_hours_goes_and_says_so(campaigns, monkeypatch):
    at_noon_in_rome(campaigns, monkeypatch)
    monkeypatch.setenv("CAMPAIGNS_SMS_QUIET_HOURS", "11:00-13:00")
    campaign_id = draft_with_a_recipient(campaigns)
    tested = campaigns("test", str(campaign_id), "--to", "3479999999")
    assert tested.code == 0
    assert tested.out.splitlines() == [
        "3479999999: sent",
        "SMS quiet hours do not apply to a test: it went now (quiet hours until 13:00).",
    ]


def test_a_time_out_of_range_or_more_than_a_year_ahead_is_refused(campaigns, monkeypatch):
    at_noon_in_rome(campaigns, monkeypatch)
    campaign_id = draft_with_a_recipient(campaigns)
    refusals = {
        "9999-12-31T23:30Z": "campaigns: --at: 9999-12-31T23:30Z is more than a year ahead: schedule it "
        "nearer the time",
        "9999-12-31T23:30": "campaigns: --at: 9999-12-31T23:30 is more than a year ahead: schedule it nearer "
        "the time",
        "0001-01-01T00:30+01:00": "campaigns: --at: '0001-01-01T00:30+01:00' is out of range",
        "2027-12-03T12:00": "campaigns: --at: 2027-12-03T12:00 is more than a year ahead: schedule it nearer "
        "the time",
    }
    for when, said in refusals.items():
        refused = campaigns("send", str(campaign_id), "--at", when)
        assert (refused.code, refused.err.strip()) == (2, said)
    assert campaigns("list", "--json").json[0]["state"] == "draft"
    assert campaigns("send", str(campaign_id), "--at", "2027-11-30T12:00").code == 0  # within the year
