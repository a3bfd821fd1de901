"""The details' pane of a campaign with a hold-out or a variant B (issue 19): each group's patients and
reservations, the lifts between groups with their intervals, and each group's curve of cumulative
reservations per patient over its 28 days."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from tui.screens.detail_text import groups_table, lift_text

if TYPE_CHECKING:
    from store.figures import CampaignFigures
    from store.lift import Groups, Lift


@dataclass
class CurvesLoaded(Message):
    """Cumulative reservations per patient by day after the message, days 0-27, one tuple a group with
    patients (store.lift.curves), read off the loop."""

    curves: dict[str, tuple[float, ...]]


class GroupsPane(Vertical):
    """The groups and lifts come with the figures' slow part (store.figures); the curves are read here,
    after each read of the slow figures, and no more once the figures are final."""

    def __init__(self, campaign_id: int, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.campaign_id = campaign_id
        self.groups: Groups | None = None
        self.lifts: Sequence[Lift] = ()
        self.curves: dict[str, tuple[float, ...]] = {}
        self.curves_reading = False  # a read of the curves is on its way
        self.curves_final = False  # the curves were read once the figures were final: no need again

    def compose(self) -> ComposeResult:
        yield Static(id="groups-table")
        yield Static(id="lift")

    def take(self, stats: CampaignFigures, slow: bool) -> None:
        """The groups and lifts of the figures of a round (`slow`: its slow part was read, not given from
        the cache); between two reads, those last read stand. Reads the curves after a slow read."""
        if slow or stats.groups is not None:
            self.groups, self.lifts = stats.groups, stats.lift
        self.draw()
        if self.groups is not None and slow and not self.curves_reading and not self.curves_final:
            self.curves_final = stats.final  # final figures do not move: read once more, then no more
            self.curves_reading = True
            self.read_curves()

    def draw(self) -> None:
        if self.groups is not None:
            self.query_one("#groups-table", Static).update(groups_table(self.groups, self.curves))
            self.query_one("#lift", Static).update(lift_text(self.groups, self.lifts))

    @work(thread=True, exclusive=True, group="detail-curves", exit_on_error=False)
    def read_curves(self) -> None:
        """In a thread of its own: pandas takes a moment to load the first time."""
        from store.db import connection
        from store.lift import curves

        with connection():
            frame = curves(self.campaign_id)
        found = {str(name): tuple(float(value) for value in frame[name]) for name in frame.columns}
        self.post_message(CurvesLoaded(found))

    @on(CurvesLoaded)
    def show_curves(self, event: CurvesLoaded) -> None:
        event.stop()
        self.curves_reading = False
        self.curves = event.curves
        self.draw()

    @on(Worker.StateChanged)
    def read_failed(self, event: Worker.StateChanged) -> None:
        """A read of the curves that failed (the database busy) is tried again after the next slow read."""
        if event.worker.group == "detail-curves" and event.state in (
            WorkerState.ERROR,
            WorkerState.CANCELLED,
        ):
            self.curves_reading = False
