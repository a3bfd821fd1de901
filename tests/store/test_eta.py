"""The honest ETA: the send rate, the quiet hours and the campaigns ahead in the queue.

Times are naive UTC; Europe/Rome is UTC+1 in winter, UTC+2 in summer (until 2026-10-25, 03:00 → 02:00).
1 December 2026 is a Tuesday."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from store.campaigns import create_campaign
from store.clock import utcnow
from store.eta import Estimate, Leg, campaign_eta, channel_rate, estimate, says
from store.models import Campaign, Message
from store.queue import pause_campaign, queue_campaign
from store.quiet_hours import quiet_hours
from store.recipients import add_pasted

ROME = "Europe/Rome"
ZONE = ZoneInfo(ROME)
NIGHTS = quiet_hours(ROME, "20:00-09:00")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text)


# -- one campaign alone: its messages through the quiet hours ---------------------------------------------


def finish(start: datetime, messages: int, per_hour: float, quiet) -> tuple[datetime | None, int]:
    """When a campaign alone in the queue ends, and the quiet periods it waits through once started."""
    found = estimate(start, [], Leg(messages, per_hour, quiet))
    return found.ends_at, found.pauses


def test_without_quiet_hours_the_messages_take_their_count_over_the_rate():
    assert finish(utc("2026-12-01 10:00"), 3_600, 3_600, None) == (utc("2026-12-01 11:00"), 0)
    assert finish(utc("2026-12-01 10:00"), 90, 60, quiet_hours(ROME, "")) == (utc("2026-12-01 11:30"), 0)
    assert finish(utc("2026-12-01 10:00"), 0, 60, NIGHTS) == (utc("2026-12-01 10:00"), 0)


def test_two_hours_of_work_from_seven_in_the_evening_end_at_ten_the_next_morning():
    # 19:00 in Rome: one hour before the quiet night, the other after it ends at 09:00.
    assert finish(utc("2026-12-01 18:00"), 200, 100, NIGHTS) == (utc("2026-12-02 09:00"), 1)


def test_work_that_ends_as_the_night_begins_waits_through_no_pause():
    assert finish(utc("2026-12-01 18:00"), 100, 100, NIGHTS) == (utc("2026-12-01 19:00"), 0)


def test_the_night_the_clocks_go_back_is_an_hour_longer_in_utc():
    # Saturday 24 October 19:00 CEST (17:00 UTC): one hour to 20:00 CEST, quiet until Sunday 09:00 CET
    # (08:00 UTC), one more hour: 10:00 CET, 09:00 UTC. A fixed offset would say 08:00 UTC.
    assert finish(utc("2026-10-24 17:00"), 200, 100, NIGHTS) == (utc("2026-10-25 09:00"), 1)


def test_a_quiet_sunday_is_skipped_with_the_nights_around_it_as_one_pause():
    weekend = quiet_hours(ROME, "20:00-09:00", ["sun"])
    # Friday 4 December 19:00: one hour, the night, Saturday 09:00-20:00 (11 hours), then one more hour
    # on Monday 7 December from 09:00.
    assert finish(utc("2026-12-04 18:00"), 1_300, 100, weekend) == (utc("2026-12-07 09:00"), 2)
    # Saturday 19:00, two hours: Saturday night, Sunday and Sunday night are one pause.
    assert finish(utc("2026-12-05 18:00"), 200, 100, weekend) == (utc("2026-12-07 09:00"), 1)


def test_starting_in_quiet_time_starts_when_it_ends_with_no_pause_of_its_own():
    # 23:00 in Rome: nothing goes until 09:00, then an hour; the line says when it starts instead.
    assert estimate(utc("2026-12-01 22:00"), [], Leg(100, 100, NIGHTS)) == Estimate(
        utc("2026-12-02 08:00"), utc("2026-12-02 09:00"), 0, unknown_rate=False
    )


def test_a_channel_quiet_every_day_never_ends_and_says_so_at_once():
    never = quiet_hours(ROME, "", ["mon", "tue", "wed", "thu", "fri", "sat", "sun"])
    started = time.perf_counter()
    found = estimate(utc("2026-12-01 10:00"), [], Leg(100, 100, never, "sms"))
    assert time.perf_counter() - started < 1.0
    assert found.never and found.ends_at is None
    assert says(found, NOW, ZONE) == "it would never end: SMS is quiet every day ([sms] quiet_days)"


def _hour_by_hour(start: datetime, hours: int, quiet) -> tuple[datetime, int]:
    """The slow reference: whole hours, each quiet or not (Rome's changes fall on whole UTC hours)."""
    moment, pauses, was_quiet = start, 0, False
    while True:
        now_quiet = quiet.is_quiet(moment)
        pauses += now_quiet and not was_quiet
        was_quiet = now_quiet
        if not now_quiet:
            hours -= 1
            if hours == 0:
                return moment + timedelta(hours=1), pauses
        moment += timedelta(hours=1)


def test_100000_messages_over_weeks_take_one_step_a_quiet_period_and_well_under_a_second():
    closed = quiet_hours(ROME, "20:00-09:00", ["sun", "2027-01-06", "2027-04-05"])
    start = utc("2027-01-04 08:00")  # Monday 09:00 in Rome; it ends past the change of 28 March
    began = time.perf_counter()
    end, pauses = finish(start, 100_000, 100, closed)
    assert time.perf_counter() - began < 0.5
    assert (end, pauses) == _hour_by_hour(start, 1_000, closed)
    assert end > utc("2027-03-28 12:00")


# -- estimate: the queue played forward ---------------------------------------------------------------------


def test_a_campaign_created_earlier_and_scheduled_takes_the_lane_when_it_joins():
    # Ours goes at 10:00 (an hour of work); one created before it joins at 10:30 with an hour of its own:
    # it takes the lane (creation order), ours waits for it and ends at 12:00, not 11:00.
    scheduled = Leg(100, 100, None, "sms", not_before=utc("2026-12-01 10:30"))
    assert estimate(utc("2026-12-01 10:00"), [scheduled], Leg(100, 100, None)) == Estimate(
        utc("2026-12-01 10:00"), utc("2026-12-01 12:00"), 0, unknown_rate=False
    )
    # One due after ours ends is no obstacle.
    later = Leg(100, 100, None, "sms", not_before=utc("2026-12-01 11:30"))
    assert estimate(utc("2026-12-01 10:00"), [later], Leg(100, 100, None)).ends_at == utc("2026-12-01 11:00")


def test_with_two_lanes_the_campaign_takes_the_lane_that_frees_first():
    ahead = [Leg(200, 100, None), Leg(300, 100, None), Leg(50, 100, None)]
    own = Leg(100, 100, None)
    start = utc("2026-12-01 10:00")
    # Lane 1: 10:00-12:00, then 12:00-12:30; lane 2: 10:00-13:00. Ours takes lane 1 at 12:30.
    assert estimate(start, ahead, own, lanes=2) == Estimate(
        utc("2026-12-01 12:30"), utc("2026-12-01 13:30"), 0, unknown_rate=False
    )
    assert estimate(start, ahead, own) == Estimate(
        utc("2026-12-01 15:30"), utc("2026-12-01 16:30"), 0, unknown_rate=False
    )
    assert estimate(start, [], own, lanes=3).starts_at == start


def test_the_pauses_are_the_campaigns_own_not_those_of_the_campaigns_ahead():
    sms_ahead = Leg(200, 100, NIGHTS)  # 19:00 in Rome: ends at 10:00 the next day, after the night
    # An email behind it goes while the SMS waits out its night: a quiet channel holds no lane.
    assert estimate(utc("2026-12-01 18:00"), [sms_ahead], Leg(100, 100, None)) == Estimate(
        utc("2026-12-01 19:00"), utc("2026-12-01 20:00"), 0, unknown_rate=False
    )
    # One that is still sending at 09:00 gives the lane back to the SMS created before it, then goes on.
    assert estimate(utc("2026-12-01 18:00"), [sms_ahead], Leg(1_400, 100, None)) == Estimate(
        utc("2026-12-01 19:00"), utc("2026-12-02 10:00"), 0, unknown_rate=False
    )
    assert estimate(utc("2026-12-01 18:00"), [sms_ahead], Leg(1_100, 100, NIGHTS)) == Estimate(
        utc("2026-12-02 09:00"), utc("2026-12-03 09:00"), 1, unknown_rate=False
    )


def test_a_scheduled_campaign_starts_at_its_time_while_the_ones_ahead_send_from_now():
    ahead = [Leg(100, 100, None)]
    now = utc("2026-12-01 10:00")
    assert estimate(now, ahead, Leg(100, 100, None), not_before=utc("2026-12-01 10:30")) == Estimate(
        utc("2026-12-01 11:00"), utc("2026-12-01 12:00"), 0, unknown_rate=False
    )
    assert estimate(now, ahead, Leg(100, 100, None), not_before=utc("2026-12-01 14:00")) == Estimate(
        utc("2026-12-01 14:00"), utc("2026-12-01 15:00"), 0, unknown_rate=False
    )


def test_no_rate_on_a_leg_with_messages_makes_the_end_unknown():
    start = utc("2026-12-01 10:00")
    unknown = estimate(start, [Leg(100, None, None)], Leg(100, 100, None))
    assert unknown.unknown_rate and unknown.ends_at is None and unknown.pauses == 0
    assert estimate(start, [], Leg(100, 0, None)).unknown_rate
    finished = estimate(start, [Leg(0, None, None)], Leg(100, 100, None))  # nothing left: no rate needed
    assert finished == Estimate(start, utc("2026-12-01 11:00"), 0, unknown_rate=False)


# -- says: the line the admin reads ---------------------------------------------------------------------

NOW = utc("2026-12-01 09:00")  # Tuesday 10:00 in Rome


def ends(at: str, pauses: int = 0, starts: datetime = NOW) -> Estimate:
    return Estimate(starts, utc(at), pauses, unknown_rate=False)


def test_says_when_it_ends_today_tomorrow_this_week_or_later_rounded_to_five_minutes():
    assert says(ends("2026-12-01 15:18"), NOW, ZONE) == "ends around 16:20"
    assert says(ends("2026-12-02 10:41", 2), NOW, ZONE) == (
        "ends tomorrow around 11:40, after 2 quiet-hour pauses"
    )
    assert says(ends("2026-12-03 08:13", 1), NOW, ZONE) == (
        "ends on Thu 3 Dec around 09:15, after 1 quiet-hour pause"
    )
    assert says(ends("2027-01-14 08:15"), NOW, ZONE) == "ends on 14 Jan around 09:15"
    assert says(ends("2026-12-01 22:58"), NOW, ZONE) == "ends tomorrow around 00:00"  # 23:58 in Rome


def test_says_when_it_starts_if_later_than_in_a_minute():
    assert says(ends("2026-12-01 15:18", starts=utc("2026-12-01 12:00")), NOW, ZONE) == (
        "starts at 13:00, ends around 16:20"
    )
    assert says(ends("2026-12-02 10:41", starts=utc("2026-12-02 08:00")), NOW, ZONE) == (
        "starts tomorrow at 09:00, ends tomorrow around 11:40"
    )
    assert says(ends("2026-12-01 15:18", starts=NOW + timedelta(seconds=50)), NOW, ZONE) == (
        "ends around 16:20"
    )
    # A start and an end in the same five minutes: "starts at 10:05, ends around 10:05" says nothing more.
    assert says(ends("2026-12-01 09:06", starts=NOW + timedelta(minutes=4)), NOW, ZONE) == (
        "ends around 10:05"
    )


def test_a_line_too_long_drops_the_weekdays_and_says_pauses_alone():
    line = says(ends("2026-12-02 10:41", 1, starts=utc("2026-12-02 08:00")), NOW, ZONE)
    assert line == "starts tomorrow at 09:00, ends tomorrow around 11:40, after 1 pause"
    line = says(ends("2026-12-03 08:13", 1, starts=utc("2026-12-01 12:00")), NOW, ZONE)
    assert line == "starts at 13:00, ends on 3 Dec around 09:15, after 1 pause"
    line = says(ends("2026-12-05 10:40", 3, starts=utc("2026-12-03 08:00")), NOW, ZONE)
    assert line == "starts on 3 Dec at 09:00, ends on 5 Dec around 11:40, after 3 pauses"
    assert len(line) <= 70


def test_says_no_estimate_without_a_rate():
    assert says(Estimate(NOW, None, 0, unknown_rate=True), NOW, ZONE) == (
        "no estimate yet: no send rate measured on this channel"
    )


# -- from the database ------------------------------------------------------------------------------------


def campaign(name: str, channel: str = "email", created: datetime | None = None) -> int:
    draft = create_campaign(
        channel=channel, name=name, sender="CentroMed", subject="Promemoria", body="Ciao", now=created
    )
    return draft.id


def with_recipients(campaign_id: int, count: int, prefix: str) -> int:
    add_pasted(campaign_id, ", ".join(f"{prefix}{i}@example.org" for i in range(count)))
    return campaign_id


def sent(campaign_id: int, first: datetime, count: int, every: timedelta) -> None:
    """Seeds `count` messages already sent, `every` apart from `first`."""
    rows = [
        {"campaign": campaign_id, "address": f"r{campaign_id}-{i}@example.org", "state": "sent",
         "sent_at": first + every * i}
        for i in range(count)
    ]  # fmt: skip
    for page in range(0, len(rows), 500):
        Message.insert_many(rows[page : page + 500]).execute()
    Campaign.update(first_sent_at=first, last_sent_at=first + every * (count - 1)).where(
        Campaign.id == campaign_id
    ).execute()


def test_the_rate_is_the_configured_one_or_measured_from_the_channels_last_campaign(store):
    sms, email = campaign("Flu shots", "sms"), campaign("Recall")
    assert channel_rate("sms", 0) is None  # nothing sent yet
    sent(sms, utc("2026-12-01 08:00"), 101, timedelta(seconds=36))  # 100 gaps in an hour
    sent(email, utc("2026-12-01 08:00"), 50, timedelta(seconds=1))
    assert channel_rate("sms", 0) == pytest.approx(100.0)
    assert channel_rate("email", 0) == pytest.approx(49 / 49 * 3_600)
    assert channel_rate("sms", 250) == 250.0
    assert channel_rate("push", 0) is None


def test_a_measured_rate_leaves_out_the_night_and_the_pauses_between_sends(store):
    reminder = campaign("Reminder", "sms")
    sent(reminder, utc("2026-12-01 18:00"), 60, timedelta(seconds=36))  # 19:00-19:36 in Rome
    rows = [{"campaign": reminder, "address": f"late{i}", "state": "sent",
             "sent_at": utc("2026-12-02 08:00") + timedelta(seconds=36 * i)} for i in range(60)]  # fmt: skip
    Message.insert_many(rows).execute()  # and 09:00-09:36 the next morning
    assert channel_rate("sms", 0) == pytest.approx(100.0)  # not 118 sends over 14 hours


def test_a_measured_rate_needs_twenty_sends_five_seconds_apart_from_the_last_campaigns_last_2000(store):
    few, close, many = campaign("Few", "sms"), campaign("Close", "push"), campaign("Many")
    sent(few, utc("2026-12-01 08:00"), 19, timedelta(minutes=1))
    sent(close, utc("2026-12-01 08:00"), 40, timedelta(milliseconds=100))
    assert channel_rate("sms", 0) is None and channel_rate("push", 0) is None
    sent(many, utc("2026-12-01 06:00"), 300, timedelta(seconds=10))  # slow and older: left out
    sent(campaign("More"), utc("2026-12-01 08:00"), 2_000, timedelta(seconds=2))
    assert channel_rate("email", 0) == pytest.approx(1_999 / 3_998 * 3_600)


def test_the_eta_waits_for_the_queued_campaigns_created_before_it(store):
    first = with_recipients(campaign("Flu shots", created=utc("2026-11-30 09:00")), 903, "flu")
    queue_campaign(first)
    Message.update(state="sent").where(
        (Message.campaign == first) & (Message.address << ["flu0@example.org", "flu1@example.org",
                                                            "flu2@example.org"])
    ).execute()  # fmt: skip
    second = with_recipients(campaign("Recall", created=utc("2026-11-30 10:00")), 200, "rec")
    queue_campaign(second)
    paused = with_recipients(campaign("Paused", created=utc("2026-11-30 10:30")), 500, "pau")
    queue_campaign(paused)
    pause_campaign(paused)
    ours = with_recipients(campaign("Checkup", created=utc("2026-11-30 11:00")), 100, "chk")
    later = with_recipients(campaign("Later", created=utc("2026-11-30 12:00")), 400, "lat")
    queue_campaign(later)
    rates, quiet = {"email": 100.0}, {"email": NIGHTS}
    now = utc("2026-12-01 08:00")  # 09:00 in Rome
    # 900 left of the first: 09:00-18:00; the second: 18:00-20:00; the night; ours starts at 09:00.
    assert campaign_eta(ours, rates, quiet, now=now) == Estimate(
        utc("2026-12-02 08:00"), utc("2026-12-02 09:00"), 0, unknown_rate=False
    )
    # Two lanes: the second runs beside the first, 09:00-11:00; ours takes its lane.
    assert campaign_eta(ours, rates, quiet, lanes=2, now=now) == Estimate(
        utc("2026-12-01 10:00"), utc("2026-12-01 11:00"), 0, unknown_rate=False
    )
    assert campaign_eta(first, rates, quiet, now=now) == Estimate(
        now, utc("2026-12-01 17:00"), 0, unknown_rate=False
    )
    assert campaign_eta(ours, {}, quiet, now=now).unknown_rate


def test_a_scheduled_campaign_and_the_databases_clock(store):
    ours = with_recipients(campaign("Checkup"), 100, "chk")
    scheduled = campaign_eta(ours, {"email": 100.0}, {}, now=utc("2026-12-01 08:00"),
                             starts_at=utc("2026-12-01 14:00"))  # fmt: skip
    assert scheduled == Estimate(utc("2026-12-01 14:00"), utc("2026-12-01 15:00"), 0, unknown_rate=False)
    right_now = campaign_eta(ours, {"email": 100.0}, {})
    assert abs(right_now.starts_at - utcnow()) < timedelta(minutes=1)
    assert Campaign.get_by_id(ours).state == "draft"
