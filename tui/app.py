"""The Textual app: the summary first; every database call off the event loop."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from functools import partial
from typing import Any

from textual import events, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from senders.engine import Engine
from store.clock import use_center_zone
from store.config import Config
from tui.dialogs.confirm import typed_before_the_question
from tui.log_toasts import BackgroundWarning, ToastHandler
from tui.screens.summary import SummaryScreen
from tui.textout import plain
from tui.typeahead import TypeAhead


class CampaignsApp(App[None]):
    """The campaign console."""

    TITLE = "campaigns"
    # Every screen's sheet: Textual does not load a default screen's own CSS_PATH.
    CSS_PATH = [
        "app.tcss",
        "screens/summary.tcss",
        "screens/detail.tcss",
        "screens/editor.tcss",
        "screens/recipients.tcss",
        "screens/contact_picker.tcss",
    ]
    ENABLE_COMMAND_PALETTE = True
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", priority=True, id="quit"),
        # Every screen's keys, from every screen; F1 where `?` is typed (the editor's fields, a search).
        Binding("question_mark", "help", "Help", key_display="?", id="help"),
        Binding("f1", "help", "Help", id="help-f1"),
    ]

    def __init__(
        self,
        config: Config,
        today: date | None = None,
        send: bool = True,
        feedback: bool = False,
        demo: bool = False,
        watch_only: bool = False,
    ) -> None:
        super().__init__()
        use_center_zone(config.timezone)  # every time the screens show is in the center's zone
        self.config = config
        self.watch_only = watch_only  # `tui --no-send`: the titles say this app sends nothing
        self.demo = demo  # make-believe recipients open, click and receive what goes out
        self.today = today
        self.engine: Engine | None = Engine(config, feedback=feedback) if send else None
        self.toasts: ToastHandler | None = None
        self.typeahead = TypeAhead(self)

    async def on_event(self, event: events.Event) -> None:
        # A key typed ahead waits until the key before it has done its work (see tui/typeahead.py).
        if self.typeahead.keeps(event):
            return
        if typed_before_the_question(self, event):  # it cannot answer what cannot be undone
            return
        await super().on_event(event)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """The palette (ctrl+p) offers every action of the screen by name, then Textual's own."""
        yield from screen_commands(screen)
        yield from super().get_system_commands(screen)

    def get_default_screen(self) -> SummaryScreen:
        return SummaryScreen(today=self.today)

    def on_mount(self) -> None:
        from tui.log_toasts import route_logs_to_toasts

        self.toasts = route_logs_to_toasts(self)
        self.warn_if_exposed()
        if self.engine is not None:
            self.run_worker(self.engine.run(), name="engine", group="engine", exit_on_error=False)
        if self.demo:
            from senders.demo_delivery import simulate_delivery

            self.run_worker(simulate_delivery(), name="demo-delivery", group="demo", exit_on_error=False)
            self.notify(
                "A throw-away demo center: its queued campaign goes out now, to the outbox, and make-believe "
                "recipients open, click and receive over the next minutes.",
                title="Demo",
                timeout=15,
            )

    def warn_if_exposed(self) -> None:
        from store.db import exposure_warning

        exposed = exposure_warning(self.config.database_url)
        if exposed:
            # markup off: a folder named with brackets is a path, not a style
            self.notify(
                exposed, title="Database readable by others", severity="warning", timeout=30, markup=False
            )

    def action_help(self) -> None:
        from tui.dialogs.confirm import WaitScreen
        from tui.dialogs.help import HelpScreen

        if isinstance(self.screen, WaitScreen):  # it closes itself when its check ends: nothing on top of it
            return
        self.push_screen(HelpScreen())

    async def action_quit(self) -> None:
        self.quit_when_sure()  # a worker: it may ask first

    @work(exclusive=True, group="quit", exit_on_error=False)
    async def quit_when_sure(self) -> None:
        # Messages already with a provider finish; the rest stay queued for the next start or a worker.
        if self.engine is not None and self.engine.runs:
            from tui.dialogs.confirm import ConfirmDialog

            sending = ", ".join(f"#{campaign_id}" for campaign_id in self.engine.runs)
            question = (
                f"This app is sending {sending}. Quit anyway?\n\n"
                "Sending stops until the app is opened again or `campaigns worker` runs; "
                "nothing is lost and nobody gets a message twice."
            )
            if not await self.push_screen_wait(ConfirmDialog(question, yes="quit", no="stay")):
                return
        if self.engine is not None:
            self.engine.stop()
            await self.workers.wait_for_complete([w for w in self.workers if w.group == "engine"])
        self.exit()

    def on_unmount(self) -> None:
        from tui.log_toasts import stop_routing

        self.typeahead.stop()
        if self.toasts is not None:
            stop_routing(self.toasts)

    def on_background_warning(self, event: BackgroundWarning) -> None:
        # markup off: a warning quotes names, addresses and providers' answers
        text = plain(event.text, lines=True)
        severity: SeverityLevel = "error" if event.severity == "error" else "warning"
        self.notify(text, severity=severity, timeout=10, markup=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Every failed background job ends here, as one line for the user."""
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            error = event.worker.error
            text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            # markup off: an error quotes what it failed on (a name, a value), brackets and all
            self.notify(plain(text), title="Something went wrong", severity="error", timeout=8, markup=False)


def screen_commands(screen: Screen[Any]) -> Iterable[SystemCommand]:
    """A palette command for each binding of the screen that applies now (the footer's, and the hidden)."""
    seen: set[str] = set()
    for binding in getattr(screen, "BINDINGS", []):
        if not isinstance(binding, Binding) or not binding.description or binding.description in seen:
            continue
        action, _, rest = binding.action.partition("(")
        parameters = tuple(int(p) for p in rest.rstrip(")").split(",") if p.strip()) if rest else ()
        if screen.check_action(action, parameters) is not True:
            continue
        seen.add(binding.description)
        key = screen.app.get_key_display(binding)
        yield SystemCommand(binding.description, f"key: {key}", partial(screen.run_action, binding.action))


def make_app(
    config: Config,
    today: date | None = None,
    send: bool = True,
    feedback: bool = False,
    demo: bool = False,
    watch_only: bool = False,
) -> CampaignsApp:
    """The app the CLI runs and the tests drive; the database must already be open.

    With `send`, the send engine runs in the background while the app is open; with `feedback` too,
    the feedback server (opens, clicks, unsubscribes, receipts, inbox) beside it; with `demo`,
    make-believe recipients open, click and receive what the outbox "sent"; `watch_only` (with `send`
    false) puts "watch only" in the summary's title.
    """
    return CampaignsApp(config, today=today, send=send, feedback=feedback, demo=demo, watch_only=watch_only)
