"""The recipients screen of a draft: the manual's four ways to add them, and what Send Now would do."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, ProgressBar, Static

from store.campaign_view import CampaignView
from store.db import off_loop
from store.errors import CampaignsError
from store.forecast import Forecast
from store.report import ImportReport
from tui.context import config_of
from tui.dialogs.confirm import ConfirmDialog
from tui.dialogs.imports import CsvDialog, PasteDialog
from tui.dialogs.report import RefusedScreen, ReportScreen
from tui.textout import escape, plain

SOURCES = {"paste": "pasted", "csv": "from CSV files", "contacts": "picked", "all_patients": "all patients"}
WAYS = (
    ("p", "Paste addresses, separated by , or ; (up to 20,000 at once)"),
    ("f", "Import a CSV file (up to 100,000 rows at once)"),
    ("t", "Write the CSV template (first_name, last_name, email, phone)"),
    ("c", "Pick from your contacts"),
    ("a", "Add all patients"),
)


class RecipientsRead(Message):
    """The draft, its recipients by source and what Send Now would do, read off the loop."""

    def __init__(
        self, number: int, campaign: CampaignView, by_source: dict[str, int], forecast: Forecast
    ) -> None:
        super().__init__()
        self.number = number  # the read's number: an older read that lands late is not shown
        self.campaign = campaign
        self.by_source = by_source
        self.forecast = forecast


class RecipientsScreen(Screen[None]):
    """Who a draft goes to; every add ends with its import report."""

    BINDINGS = [
        Binding("p", "paste", "Paste"),
        Binding("f", "csv", "CSV"),
        Binding("t", "template", "Template"),
        Binding("c", "contacts", "Contacts"),
        Binding("a", "all_patients", "Patients"),
        Binding("v", "last_report", "Last report", show=False),
        Binding("escape", "back", "Back"),
    ]

    def __init__(self, campaign_id: int) -> None:
        super().__init__()
        self.campaign_id = campaign_id
        self.campaign: CampaignView | None = None
        self.reads = 0
        self.last_report: tuple[str, ImportReport] | None = None
        self.busy = False

    def compose(self) -> ComposeResult:
        yield Static(id="title")
        yield Static(id="totals")
        yield Static(id="forecast")
        yield Static("\n".join(f"  [b]{key}[/b]  {text}" for key, text in WAYS), id="ways")
        yield Static(id="working")
        yield ProgressBar(total=None, show_eta=False, show_percentage=False, id="progress")
        yield Static(id="outcome")
        yield Footer(show_command_palette=False, compact=True)  # fits 80 columns; ctrl+p still works

    def on_mount(self) -> None:
        self.query_one("#progress").display = False
        self.refresh_summary()

    # -- what the draft holds -------------------------------------------------------------------

    def refresh_summary(self) -> None:
        self.reads += 1
        self.read_summary(self.reads)

    @work(thread=True, exclusive=True, group="recipients-summary", exit_on_error=False)
    def read_summary(self, number: int) -> None:
        """Reads the draft, its recipients by source and what Send Now would do, in a thread that hands
        them over in a message: only the message's handler touches the screen."""
        from store.campaigns import get_campaign
        from store.db import connection
        from store.forecast import forecast
        from store.recipients import recipients_by_source

        window = config_of(self).dedup.campaign_window
        limits = config_of(self).limits
        with connection():
            campaign = get_campaign(self.campaign_id)
            by_source = recipients_by_source(self.campaign_id)
            found = forecast(campaign, window, None, limits)
        self.post_message(RecipientsRead(number, CampaignView.of(campaign), by_source, found))

    @on(RecipientsRead)
    def show_summary(self, event: RecipientsRead) -> None:
        if event.number != self.reads:
            return
        self.campaign = event.campaign
        by_source, found = event.by_source, event.forecast
        self.query_one("#title", Static).update(
            f"[b]Recipients[/b] · #{self.campaign_id} {escape(self.campaign.name)} "
            f"({self.campaign.channel.upper()}, {self.campaign.state})"
        )
        total = sum(by_source.values())
        parts = ", ".join(f"{n:,} {SOURCES.get(s, s)}" for s, n in sorted(by_source.items()) if n)
        totals = f"{total:,} recipients" + (f" ({parts})" if parts else "")
        if not total:
            totals = "No recipients yet: add them one of the ways below."
        self.query_one("#totals", Static).update(totals)
        self.query_one("#forecast", Static).update(
            f"Send Now would send [b]{found.will_send:,}[/b] · skip {found.skipped_window:,} "
            f"(same message in the last {found.window}) · skip {found.skipped_opted_out:,} (no consent)"
            + (f" · skip {found.skipped_suppressed:,} (suppressed)" if found.skipped_suppressed else "")
            if total
            else ""
        )

    # -- the four ways --------------------------------------------------------------------------

    def still_busy(self) -> bool:
        """Says so, before any dialog is opened, when the previous add has not finished."""
        if self.busy:
            self.notify("Still adding the previous recipients…", severity="warning")
        return self.busy

    def start(self, what: str) -> bool:
        if self.still_busy():
            return False
        self.busy = True
        self.query_one("#working", Static).update(escape(what))  # a file's name, brackets and all
        self.query_one("#progress").display = True
        return True

    def finish(self) -> None:
        self.busy = False
        self.query_one("#working", Static).update("")
        self.query_one("#progress").display = False

    async def add(self, what: str, function: Any, *args: Any) -> None:
        """Runs one add off the loop and shows its report, or the box saying why it was refused whole."""
        if not self.start(f"{what}…"):
            return
        outcome = self.query_one("#outcome", Static)
        try:
            report = await off_loop(function, self.campaign_id, *args)
        except CampaignsError as exc:
            outcome.set_class(True, "error")
            outcome.update(f"Nothing added: {escape(exc, lines=True)}")  # it may quote the file
            # A box, not only the line: an Esc typed next closes it instead of leaving the screen unread.
            self.app.push_screen(RefusedScreen(what, str(exc)))
            return
        finally:
            self.finish()
        outcome.set_class(False, "error")
        outcome.update(
            f"{escape(what)}: {escape(report.summary())}"
            + (" · [b]v[/b] shows the refused rows" if report.errors else "")
        )
        self.last_report = (what, report)
        self.refresh_summary()
        self.app.push_screen(ReportScreen(what, report))

    @property
    def phone_region(self) -> str:
        return config_of(self).contacts.default_region

    @work(group="recipients-add", exit_on_error=False)
    async def action_paste(self) -> None:
        from store.recipients import add_pasted

        if self.still_busy():
            return
        text = await self.app.push_screen_wait(PasteDialog())
        if text:
            await self.add("Pasted addresses", add_pasted, text, self.phone_region)

    @work(group="recipients-add", exit_on_error=False)
    async def action_csv(self) -> None:
        from store.recipients import add_from_csv

        if self.still_busy():
            return
        path = await self.app.push_screen_wait(CsvDialog())
        if path:
            await self.add(
                Path(path).name, add_from_csv, path, self.phone_region
            )  # "name.csv…", then its report

    @work(group="recipients-add", exit_on_error=False)
    async def action_contacts(self) -> None:
        from store.recipients import add_contacts
        from tui.screens.contact_picker import ContactPicker

        if self.still_busy():
            return
        ids = await self.app.push_screen_wait(ContactPicker(self.campaign.channel if self.campaign else None))
        if ids:
            await self.add(f"Picked {len(ids):,} contacts", add_contacts, ids)

    @work(group="recipients-add", exit_on_error=False)
    async def action_all_patients(self) -> None:
        from store.recipients import add_all_patients

        if self.still_busy():
            return
        question = (
            "Add every patient of the center to this draft?\n"
            "Patients without an address for this channel or without consent are left out."
        )
        if await self.app.push_screen_wait(ConfirmDialog(question, yes="add all patients")):
            await self.add("All patients", add_all_patients)

    def action_template(self) -> None:
        from fixtures.template import recipients_template
        from store.private_files import write_private_text

        path = Path.cwd() / "recipients-template.csv"
        counter = 1
        while path.exists():
            path = Path.cwd() / f"recipients-template-{counter}.csv"
            counter += 1
        try:
            write_private_text(path, recipients_template())
        except OSError as exc:
            self.notify(f"Cannot write {plain(path)}: {exc.strerror}", severity="error", markup=False)
            return
        self.notify(f"Wrote {plain(path)}", title="CSV template", markup=False)  # a folder may have brackets

    def action_back(self) -> None:
        self.dismiss(None)

    def action_last_report(self) -> None:
        if self.last_report is not None:
            self.app.push_screen(ReportScreen(*self.last_report))
