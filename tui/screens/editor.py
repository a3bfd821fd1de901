"""The create / edit screen of a draft: content with live checks, SMS counter and a real preview; and a
second body and subject, B of an A/B test (issue 19), edited in the same fields: f3 shows the other one. An
email also says whether it carries the open-tracking image and the language of its footer (schema 10)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Checkbox, Footer, Input, Label, Select, Static, TextArea

from store.campaign_view import CampaignView
from store.db import off_loop
from store.errors import CampaignsError
from store.message_limits import MessageLimits
from tui.context import config_of
from tui.dialogs.confirm import ConfirmDialog
from tui.textout import escape

CHANNEL_OPTIONS = [("SMS", "sms"), ("Email", "email"), ("Push", "push")]
FIELDS = ("name", "sender", "subject", "coupon")
PREVIEW_CHARACTERS = 4_000  # far more than the pane shows; the preview is drawn again on every key
LANGUAGE_NAMES = {"it": "Italiano", "en": "English"}  # each footer language in its own words
# Beside the open-tracking box: what the image costs when on (SpamAssassin's HTML_IMAGE_ONLY_NN in an
# email of few words), what goes without it when off. Each fits the row at 80 columns.
TRACKING_HINTS = {True: "costs spam points if short", False: "clicks counted, opens not"}


def language_options(center: str) -> list[tuple[str, str]]:
    """The footer's languages an email may have: the center's ([email] language, stored as none: "")
    first, then each of store.config.LANGUAGES by name."""
    from store.config import LANGUAGES

    return [
        (f"Center ({LANGUAGE_NAMES.get(center, center)})", ""),
        *((LANGUAGE_NAMES.get(code, code), code) for code in LANGUAGES),
    ]


def preview_of(
    channel: str, body: str, subject: str, coupon: str, person: tuple[str, str], limits: MessageLimits
) -> tuple[str, str, str | None]:
    """(preview, counter line, error) for the content as typed, rendered for a real recipient, by the
    same rule the send applies (a subject on one line, the channel's limits). The preview and the
    counter are markup; the error is plain text."""
    from store.message_limits import has_line_break, message_problem
    from store.sms import count_sms
    from store.templates import Personaliser, unknown_names_in

    what = "title" if channel == "push" else "subject"
    if has_line_break(subject):
        return "", "", f"the {what} must be on one line"
    try:
        rendered, title = Personaliser(body, subject or None, coupon, channel, limits).rendered(*person)
    except CampaignsError as exc:
        return "", "", str(exc)
    problem = message_problem(channel, rendered, title, limits)
    who = f"{person[0]} {person[1]}".strip()
    if channel == "sms":
        counter = f"For {who}: {count_sms(rendered).describe()}"
    elif channel == "email":
        counter = f"For {who}: {len(rendered):,} characters · plain text and HTML, links clickable"
    else:
        counter = f"For {who}: {len(rendered):,} characters · kept in the app's inbox"
    unknown = unknown_names_in(body, subject)
    if unknown:  # first on the line: the counter's line is one row, and this is the news
        counter = f"{{{{ {unknown[0]} }}}} is no placeholder, it reads empty · {counter}"
    heading = f"[b]{escape(title)}[/b]\n" if title else ""
    # The counter names an imported recipient and may quote characters of the message.
    return heading + escape(rendered, PREVIEW_CHARACTERS, lines=True), escape(counter), problem


@dataclass(frozen=True)
class VariantText:
    """One variant's body and subject (push title) as typed; B's subject empty: A's is used."""

    body: str = ""
    subject: str = ""


@dataclass(frozen=True)
class DraftContent:
    """The form's fields as typed: the keywords a save gives create_campaign or edit_campaign."""

    name: str = ""
    sender: str = ""
    subject: str = ""
    coupon: str = ""
    channel: str = "sms"
    body: str = ""
    # Emails only; None for the other channels, whose save leaves them as they are
    open_tracking: bool | None = None
    language: str | None = None  # "" the center's, "it", "en"

    def fields(self) -> dict[str, object]:
        """The keywords of a save: those the form does not set (None) are left out."""
        return {key: value for key, value in asdict(self).items() if value is not None}


class DraftLoaded(Message):
    """The draft being edited (None for a new one) and the person its preview shows, read off the loop."""

    def __init__(self, person: tuple[str, str], draft: CampaignView | None) -> None:
        super().__init__()
        self.person = person
        self.draft = draft


class EditorScreen(Screen[int | None]):
    """Channel, name, sender, subject or title, coupon and body of a draft; dismisses with its id.

    Body and subject show one variant at a time: A, or B of an A/B test (f3 switches; the other's text
    waits in `hidden`). Name, sender, coupon and channel are the draft's, shared by both."""

    # F-keys, not ctrl+b: over SSH the editor often runs inside tmux, whose prefix ctrl+b is.
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("f2", "recipients", "Recipients", priority=True),
        Binding("f3", "show_variant('b')", "Variant B", priority=True),
        Binding("f3", "show_variant('a')", "Variant A", priority=True),
        Binding("f4", "drop_variant", "Drop B", priority=True),
        Binding("escape", "leave", "Back"),
    ]

    def __init__(self, campaign_id: int | None = None) -> None:
        super().__init__()
        self.campaign_id = campaign_id
        self.person: tuple[str, str] = ("Maria", "Rossi")
        self.saved = DraftContent()  # as last read or saved; a new draft starts empty
        self.saved_b: VariantText | None = None  # B as last read or saved; None: the draft has none
        self.variant = "a"  # the variant the body and subject fields show
        self.hidden = VariantText()  # the other variant's body and subject, as last typed
        self.loading_draft = campaign_id is not None
        self.saving = False

    def compose(self) -> ComposeResult:
        yield Static(id="title")
        with Horizontal(classes="row"):
            yield Label("Channel", classes="label")
            yield Select(CHANNEL_OPTIONS, value="sms", allow_blank=False, compact=True, id="channel")
            yield Label("Name", classes="label short")
            yield Input(placeholder="what the summary calls it", compact=True, id="name")
        with Horizontal(classes="row"):
            yield Label("Sender", classes="label")
            yield Input(placeholder="who it is from, e.g. CentroMed", compact=True, id="sender")
            yield Label("Coupon", classes="label short")
            yield Input(placeholder="optional: {{ coupon }}", compact=True, id="coupon")
        with Horizontal(classes="row", id="email-row"):  # between coupon and subject, for Tab as for the eye
            config = config_of(self)
            yield Label("Language", classes="label")
            yield Select(
                language_options(config.email.language),
                value="",
                allow_blank=False,
                compact=True,
                id="language",
            )
            yield Checkbox(value=config.email.open_tracking, compact=True, id="open-tracking")
            yield Label(id="tracking-hint")
        with Horizontal(classes="row", id="subject-row"):
            yield Label("Subject", classes="label", id="subject-label")
            yield Input(placeholder="optional; the sender name when empty", compact=True, id="subject")
        yield Label(id="body-label")
        yield TextArea(soft_wrap=True, compact=True, id="body", placeholder="Ciao {{ first_name }}, ...")
        yield Static(id="counter")
        yield Static(id="preview")
        yield Static(id="status")
        yield Footer(show_command_palette=False, compact=True)  # fits 80 columns; ctrl+p still works

    def on_mount(self) -> None:
        # At once, not on a later callback as focus() would: the field has the focus before the draft
        # is read into it. A focus that came after would select the whole name, and a key typed ahead
        # would replace it instead of adding to it.
        self.set_focus(self.query_one("#channel" if self.campaign_id is None else "#name"))
        self.show_title()
        self.show_email_options(False)  # until the channel is known: a new draft starts as SMS
        self.load(self.campaign_id)

    # -- data -----------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="editor-load", exit_on_error=False)
    def load(self, campaign_id: int | None) -> None:
        """Reads the draft and the person its preview shows in a thread, which hands them over in a
        message: only the message's handler touches the fields."""
        from store.campaign_view import read_campaign
        from store.db import connection
        from store.recipients import sample_person

        with connection():
            person = sample_person(campaign_id)
            draft = read_campaign(campaign_id) if campaign_id is not None else None
        self.post_message(DraftLoaded(person, draft))

    @on(DraftLoaded)
    def show_draft(self, event: DraftLoaded) -> None:
        self.person = event.person
        if event.draft is not None:
            self.fill(event.draft)
        self.loading_draft = False
        self.show_title()
        self.refresh_bindings()
        self.check()

    def fill(self, draft: CampaignView) -> None:
        self.query_one("#channel", Select).value = draft.channel
        for field in FIELDS:
            self.query_one(f"#{field}", Input).value = getattr(draft, field) or ""
        self.query_one("#body", TextArea).text = draft.body
        self.query_one("#open-tracking", Checkbox).value = draft.open_tracking
        # A value stored by another tool ("IT", "fr"): its nearest known one, else the center's
        stored = (draft.language or "").strip().lower()
        self.query_one("#language", Select).value = stored if stored in LANGUAGE_NAMES else ""
        self.variant = "a"
        self.saved = self.content()
        if draft.variant_body is not None:
            self.saved_b = VariantText(draft.variant_body, draft.variant_subject or "")
        self.hidden = self.saved_b or VariantText()

    def shown(self) -> VariantText:
        """The body and subject as the fields show them: the variant shown."""
        return VariantText(self.query_one("#body", TextArea).text, self.query_one("#subject", Input).value)

    def content(self) -> DraftContent:
        """The draft as typed, with A's body and subject whichever variant is shown."""

        def typed(field: str) -> str:
            return self.query_one(f"#{field}", Input).value

        a = self.shown() if self.variant == "a" else self.hidden
        channel = str(self.query_one("#channel", Select).value)  # never blank: allow_blank=False
        email = channel == "email"
        return DraftContent(
            name=typed("name"),
            sender=typed("sender"),
            subject=a.subject,
            coupon=typed("coupon"),
            channel=channel,
            body=a.body,
            open_tracking=self.query_one("#open-tracking", Checkbox).value if email else None,
            language=str(self.query_one("#language", Select).value) if email else None,
        )

    def variant_b(self) -> VariantText | None:
        """B as typed; None while the draft has none and B's fields were left empty."""
        b = self.shown() if self.variant == "b" else self.hidden
        if self.saved_b is None and not b.body.strip() and not b.subject.strip():
            return None
        return b

    @property
    def has_b(self) -> bool:
        return self.variant_b() is not None or self.variant == "b"

    @property
    def dirty(self) -> bool:
        return not self.loading_draft and (self.content() != self.saved or self.variant_b() != self.saved_b)

    # -- live checks ----------------------------------------------------------------------------

    @on(Input.Changed)
    @on(TextArea.Changed)
    @on(Select.Changed)
    @on(Checkbox.Changed)
    def changed(self) -> None:
        if not self.loading_draft:
            self.check()

    def check(self) -> str | None:
        """Redraws counter, preview and status; returns the first problem, if any."""
        from store.campaigns import check_sender

        content, shown = self.content(), self.shown()
        channel = content.channel
        subject_row = self.query_one("#subject-row")
        subject_row.display = channel != "sms"
        self.show_email_options(channel == "email")
        self.query_one("#subject-label", Label).update("Title" if channel == "push" else "Subject")
        # B's subject (title) empty: B goes with A's, as the send does
        subject = shown.subject if self.variant == "a" or shown.subject.strip() else content.subject
        preview, counter, problem = preview_of(
            channel, shown.body, subject, content.coupon, self.person, config_of(self).limits
        )
        if problem is None and content.sender.strip():
            try:
                check_sender(channel, content.sender)
            except CampaignsError as exc:
                problem = str(exc)
        self.query_one("#counter", Static).update(counter)
        self.query_one("#preview", Static).update(preview or "[dim]The preview shows here.[/dim]")
        self.show_status(problem)
        return problem

    def show_email_options(self, email: bool) -> None:
        """The row of an email's own options, and what open tracking on or off means."""
        self.query_one("#email-row").display = email
        tracking = self.query_one("#open-tracking", Checkbox)
        tracking.label = f"Open tracking {'on' if tracking.value else 'off'}"  # not only the box's colour
        self.query_one("#tracking-hint", Label).update(TRACKING_HINTS[tracking.value])

    def show_status(self, problem: str | None, note: str | None = None) -> None:
        status = self.query_one("#status", Static)
        status.set_class(problem is not None, "error")
        if problem is not None:
            status.update(escape(problem, lines=True))  # it may quote the template as typed
        elif note:
            status.update(note)
        else:
            status.update("Unsaved changes · ctrl+s saves" if self.dirty else "")

    def show_title(self) -> None:
        """The title says which draft, and which of its variants the body and subject are."""
        title = "New campaign" if self.campaign_id is None else f"Edit draft #{self.campaign_id}"
        label = "Message"
        if self.has_b:
            title += f" · Variant {self.variant.upper()} of 2"
            label = f"Message {self.variant.upper()}"
        self.query_one("#title", Static).update(f"[b]{title}[/b]")
        self.query_one("#body-label", Label).update(
            f"{label}  [dim]{{{{ first_name }}}} {{{{ last_name }}}} {{{{ coupon }}}} are replaced[/dim]"
        )
        placeholder = "optional; the sender name when empty"
        if self.variant == "b":
            placeholder = "optional; A's when empty"
        self.query_one("#subject", Input).placeholder = placeholder

    # -- actions --------------------------------------------------------------------------------

    async def save(self) -> bool:
        """Saves A (the draft), then B when it changed: B of a new draft needs the draft first."""
        from store.campaign_view import viewed
        from store.campaigns import create_campaign, edit_campaign
        from store.experiments import edit_variant_b

        if self.saving:
            return False  # a second ctrl+s while the first is on its way must not make a second draft
        self.saving = True
        content, b = self.content(), self.variant_b()
        limits = config_of(self).limits
        doing = ""  # what a refusal is about: B's is said as B's
        try:
            if self.campaign_id is None:
                campaign = await off_loop(viewed(create_campaign), **content.fields(), limits=limits)
                self.campaign_id = campaign.id
            else:
                await off_loop(viewed(edit_campaign), self.campaign_id, limits, **content.fields())
            self.saved = content
            if b is not None and b != self.saved_b:
                doing = "variant B: "
                # An empty subject drops B's own: B goes with A's
                await off_loop(
                    viewed(edit_variant_b), self.campaign_id, body=b.body, subject=b.subject, limits=limits
                )
                self.saved_b = b
        except CampaignsError as exc:
            self.show_title()
            self.show_status(f"{doing}{exc}")
            return False
        finally:
            self.saving = False
        self.show_title()
        self.show_status(None, f"Saved draft #{self.campaign_id}")
        return True

    @work(group="editor-save", exit_on_error=False)
    async def action_save(self) -> None:
        if await self.save():
            self.notify(f"Draft #{self.campaign_id} saved")

    @work(group="editor-save", exit_on_error=False)
    async def action_recipients(self) -> None:
        from tui.screens.recipients import RecipientsScreen

        if (self.dirty or self.campaign_id is None) and not await self.save():
            return
        self.app.push_screen(RecipientsScreen(self.campaign_id))  # type: ignore[arg-type]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The footer offers the variant not shown, and Drop B while there is a B."""
        if action == "show_variant":
            return parameters[0] != self.variant
        if action == "drop_variant":
            return self.has_b
        return True

    def action_show_variant(self, which: str) -> None:
        """Shows the other variant's body and subject in the fields; what was typed in them waits."""
        if which == self.variant or which not in ("a", "b"):
            return
        shown = self.shown()
        body, subject = self.query_one("#body", TextArea), self.query_one("#subject", Input)
        body.text, subject.value = self.hidden.body, self.hidden.subject
        self.hidden, self.variant = shown, which
        body.move_cursor(body.document.end)  # to go on where the text ends
        body.focus()
        self.show_title()
        self.refresh_bindings()
        self.check()

    @work(exclusive=True, group="editor-leave", exit_on_error=False)
    async def action_drop_variant(self) -> None:
        """Drops B, after a question: its text is deleted, the draft keeps one body."""
        from store.campaign_view import viewed
        from store.experiments import edit_variant_b

        if not self.has_b:
            return
        draft = "this draft" if self.campaign_id is None else f"draft #{self.campaign_id}"
        if not await self.app.push_screen_wait(
            ConfirmDialog(
                f"Drop variant B of {draft}? Its message is deleted; the draft keeps one body, A.",
                yes="drop B",
                no="keep B",
            )
        ):
            return
        if self.saved_b is not None and self.campaign_id is not None:
            try:
                await off_loop(viewed(edit_variant_b), self.campaign_id, remove=True)
            except CampaignsError as exc:
                self.show_status(str(exc))
                return
        self.saved_b = None
        if self.variant == "b":
            self.action_show_variant("a")  # B's text goes to `hidden`, and is forgotten there
        self.hidden = VariantText()
        self.show_title()
        self.refresh_bindings()
        self.show_status(None, "Variant B dropped")

    @work(exclusive=True, group="editor-leave", exit_on_error=False)
    async def action_leave(self) -> None:
        if self.dirty and not await self.app.push_screen_wait(
            ConfirmDialog(
                "Leave without saving? Your changes to this draft will be lost.",
                yes="discard the changes",
                no="keep editing",
            )
        ):
            return
        self.dismiss(self.campaign_id)
