"""The summary and the details go on refreshing after a read that failed, and never show a read that a
newer one overtook."""

from __future__ import annotations

from dataclasses import replace

import store.figures
from store.errors import DatabaseError
from store.models import Campaign
from tests.tui.conftest import wait_until


def fail_reads(monkeypatch, times: int) -> list[int]:
    """The next `times` reads of figures fail as a busy database does; returns the count of failures."""
    failed: list[int] = []
    real = store.figures.figures_of

    def busy_then_real(*args, **kwargs):
        if len(failed) < times:
            failed.append(1)
            raise DatabaseError("database is locked")
        return real(*args, **kwargs)

    monkeypatch.setattr(store.figures, "figures_of", busy_then_real)
    return failed


async def test_the_summary_refreshes_again_after_a_read_that_failed(demo_app, monkeypatch):
    async with demo_app.run_test(size=(80, 24)) as pilot:
        summary = demo_app.screen
        await wait_until(pilot, lambda: summary.loaded_once)
        failed = fail_reads(monkeypatch, 2)
        name = Campaign.select().order_by(Campaign.created_at.desc()).first().name
        Campaign.update(name="Renamed while the database was busy").where(Campaign.name == name).execute()
        await wait_until(pilot, lambda: len(failed) == 2, timeout=15)  # two rounds failed...
        # ...and the one after shows the change: the timer was armed again each time
        await wait_until(
            pilot, lambda: any(f.name.startswith("Renamed") for f in summary.figures.values()), timeout=15
        )


async def test_the_details_refresh_again_after_a_read_that_failed(demo_app, monkeypatch):
    async with demo_app.run_test(size=(80, 24)) as pilot:
        summary = demo_app.screen
        await wait_until(pilot, lambda: summary.loaded_once)
        await pilot.press("enter")
        await wait_until(pilot, lambda: demo_app.screen is not summary and demo_app.screen.stats is not None)
        detail = demo_app.screen
        failed = fail_reads(monkeypatch, 2)
        Campaign.update(name="Renamed meanwhile").where(Campaign.id == detail.campaign_id).execute()
        await wait_until(pilot, lambda: len(failed) == 2, timeout=15)
        await wait_until(
            pilot, lambda: "Renamed meanwhile" in str(detail.query_one("#detail-title").render())
        )


async def test_the_details_never_show_a_read_a_newer_one_overtook(demo_app):
    from tui.screens.detail import DetailLoaded

    async with demo_app.run_test(size=(80, 24)) as pilot:
        summary = demo_app.screen
        await wait_until(pilot, lambda: summary.loaded_once)
        await pilot.press("enter")
        await wait_until(pilot, lambda: demo_app.screen is not summary and demo_app.screen.stats is not None)
        detail = demo_app.screen
        shown = detail.stats
        late = replace(shown, name="An older read, landing late")
        rounds = detail.rounds
        detail.post_message(DetailLoaded(late, None, None, None, ("all", ""), 0, None, detail.reads - 1))
        await pilot.pause(0.2)
        assert "An older read" not in str(detail.query_one("#detail-title").render())
        assert detail.rounds >= rounds and detail.stats.name == shown.name
