"""Quiet hours and days in the center's time zone: the rule the send engine and the ETA will ask.

Times are naive UTC, as the database keeps them; Europe/Rome is UTC+1 in winter, UTC+2 in summer, and
changes on the last Sundays of March (2026-03-29, 02:00 → 03:00) and October (2026-10-25, 03:00 → 02:00)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from store.quiet_hours import QuietHoursError, parse_window, quiet_hours

ROME = "Europe/Rome"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_an_evening_in_winter_is_quiet_until_nine_the_next_morning():
    nights = quiet_hours(ROME, "20:00-09:00")
    assert not nights.is_quiet(utc("2026-12-01 18:59"))  # 19:59 in Rome
    assert nights.is_quiet(utc("2026-12-01 19:00"))  # 20:00
    assert nights.quiet_until(utc("2026-12-01 23:30")) == utc("2026-12-02 08:00")  # 09:00 in Rome
    assert nights.next_quiet(utc("2026-12-01 10:00")) == utc("2026-12-01 19:00")
    assert nights.quiet_until(utc("2026-12-02 08:00")) is None  # 09:00 sharp: it may send


def test_a_window_within_a_day_and_no_window_at_all():
    lunch = quiet_hours(ROME, "13:00-14:30")
    assert lunch.quiet_until(utc("2026-12-01 12:10")) == utc("2026-12-01 13:30")
    assert not lunch.is_quiet(utc("2026-12-01 11:59"))
    always = quiet_hours(ROME, "")
    assert always.never and always.next_quiet(utc("2026-12-01 12:00")) is None


def test_a_quiet_sunday_joins_the_nights_around_it():
    weekend = quiet_hours(ROME, "20:00-09:00", ["sun", "2026-12-08"])  # and the Immaculate Conception
    saturday_night = utc("2026-12-05 21:00")  # Saturday 22:00 in Rome
    assert weekend.quiet_until(saturday_night) == utc("2026-12-07 08:00")  # Monday 09:00
    assert weekend.quiet_until(utc("2026-12-07 12:00")) is None
    assert weekend.quiet_until(utc("2026-12-07 20:00")) == utc("2026-12-09 08:00")  # through the holiday
    assert weekend.is_quiet(utc("2026-12-06 12:00"))


def test_spring_forward_neither_skips_nor_doubles_a_night():
    nights = quiet_hours(ROME, "20:00-09:00")
    # Saturday 28 March 20:00 CET (19:00 UTC) to Sunday 09:00 CEST (07:00 UTC): one hour shorter in UTC.
    assert nights.next_quiet(utc("2026-03-28 12:00")) == utc("2026-03-28 19:00")
    assert nights.quiet_until(utc("2026-03-28 19:00")) == utc("2026-03-29 07:00")
    assert nights.next_quiet(utc("2026-03-29 07:00")) == utc("2026-03-29 18:00")  # 20:00 CEST
    assert nights.quiet_until(utc("2026-03-29 18:00")) == utc("2026-03-30 07:00")


def test_fall_back_neither_skips_nor_doubles_a_night():
    nights = quiet_hours(ROME, "20:00-09:00")
    # Saturday 24 October 20:00 CEST (18:00 UTC) to Sunday 09:00 CET (08:00 UTC): one hour longer.
    assert nights.quiet_until(utc("2026-10-24 18:00")) == utc("2026-10-25 08:00")
    assert nights.next_quiet(utc("2026-10-25 08:00")) == utc("2026-10-25 19:00")  # 20:00 CET


def test_edges_in_the_hours_the_clocks_skip_or_repeat():
    early = quiet_hours(ROME, "02:30-05:00")
    # 29 March: 02:30 never comes; the quiet starts when the clocks jump (01:00 UTC, 03:00 CEST).
    assert early.next_quiet(utc("2026-03-28 23:00")) == utc("2026-03-29 01:00")
    assert early.quiet_until(utc("2026-03-29 01:00")) == utc("2026-03-29 03:00")  # 05:00 CEST
    # 25 October: 02:30 comes twice; the quiet starts at the first (00:30 UTC) and ends at 05:00 CET.
    assert early.next_quiet(utc("2026-10-24 22:00")) == utc("2026-10-25 00:30")
    assert early.quiet_until(utc("2026-10-25 00:30")) == utc("2026-10-25 04:00")


def test_a_whole_year_of_nights_has_one_window_each():
    nights = quiet_hours(ROME, "20:00-09:00")
    moment, starts = utc("2026-01-01 12:00"), []
    while moment < utc("2027-01-01 12:00"):
        start = nights.next_quiet(moment)
        assert start is not None
        end = nights.quiet_until(start)
        assert end is not None and timedelta(hours=12) <= end - start <= timedelta(hours=14)
        starts.append(start)
        moment = end
    evenings = [start for start in starts if start < utc("2027-01-01 12:00")]
    assert len(evenings) == len({start.date() for start in evenings}) == 365  # each evening of 2026, once


@pytest.mark.parametrize(
    ("text", "said"),
    [("8pm-9am", "HH:MM-HH:MM"), ("25:00-09:00", "not a time of day"), ("09:00-09:00", "same time")],
)
def test_a_window_that_cannot_be_read_is_one_line(text, said):
    with pytest.raises(QuietHoursError, match=said):
        parse_window(text, "[sms] quiet_hours")


def test_days_and_zones_that_cannot_be_read_say_so():
    with pytest.raises(QuietHoursError, match="neither a weekday"):
        quiet_hours(ROME, "", ["Domenica"])
    with pytest.raises(QuietHoursError, match="not a time zone name"):
        quiet_hours("Europe/Atlantis")
    assert quiet_hours(ROME, "", ["Sunday", "sat"]).weekdays == {5, 6}
    assert parse_window("22:00-24:00") is not None


def test_the_centers_zone_is_set_or_the_systems(tmp_path):
    from store.config import load_config, system_timezone
    from store.errors import ConfigError

    assert load_config(env={"CAMPAIGNS_CENTER_TIMEZONE": "Europe/Rome"}).timezone == "Europe/Rome"
    with pytest.raises(ConfigError, match=r"\[center\] timezone: 'Mars/Base' is not a time zone name"):
        load_config(env={"CAMPAIGNS_CENTER_TIMEZONE": "Mars/Base"})
    assert system_timezone({"TZ": "America/New_York"}) == "America/New_York"
    zoneinfo = tmp_path / "usr/share/zoneinfo/Europe"
    zoneinfo.mkdir(parents=True)
    (zoneinfo / "Rome").write_bytes(b"TZif")
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/localtime").symlink_to(zoneinfo / "Rome")
    assert system_timezone({}, tmp_path / "etc/localtime") == "Europe/Rome"
    (tmp_path / "etc/localtime").unlink()
    (tmp_path / "etc/localtime").write_bytes(b"TZif")
    (tmp_path / "etc/timezone").write_text("Europe/Rome\n")
    assert system_timezone({"TZ": "nonsense"}, tmp_path / "etc/localtime") == "Europe/Rome"
    (tmp_path / "etc/timezone").unlink()
    assert system_timezone({}, tmp_path / "etc/localtime") == "UTC"
