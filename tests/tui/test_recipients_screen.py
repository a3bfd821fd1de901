import csv
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, Static, TextArea

from store.campaigns import create_campaign
from store.models import Contact, Message, Suppression
from tests.tui.conftest import wait_until
from tui.dialogs.imports import CsvDialog, PasteDialog
from tui.dialogs.report import RefusedScreen, ReportScreen
from tui.screens.contact_picker import ContactPicker
from tui.screens.recipients import RecipientsScreen


def text_of(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def recipients_of(draft) -> int:
    return Message.select().where(Message.campaign == draft.id).count()


@pytest.fixture
def draft(demo_app):
    return create_campaign(
        channel="email", name="Check-up", sender="Centro Medico", body="Ciao {{ first_name }}"
    )


async def open_recipients(app, pilot, draft) -> RecipientsScreen:
    await pilot.pause()
    app.push_screen(RecipientsScreen(draft.id))
    await wait_until(pilot, lambda: isinstance(app.screen, RecipientsScreen))
    screen = app.screen
    await wait_until(pilot, lambda: bool(screen.campaign))
    return screen


async def close_report(app, pilot, screen) -> ReportScreen:
    await wait_until(pilot, lambda: isinstance(app.screen, ReportScreen))
    report = app.screen
    await pilot.press("escape")
    await wait_until(pilot, lambda: app.screen is screen)
    return report


async def test_paste_shows_the_report_and_the_forecast(demo_app, draft):
    async with demo_app.run_test(size=(80, 24)) as pilot:
        screen = await open_recipients(demo_app, pilot, draft)
        assert "No recipients yet" in text_of(screen, "#totals")
        await pilot.press("p")
        await wait_until(pilot, lambda: isinstance(demo_app.screen, PasteDialog))
        demo_app.screen.query_one(TextArea).text = "a@example.org; b@example.org,\nnot-an-email"
        await pilot.pause()
        assert "3 addresses" in text_of(demo_app.screen, "#count")
        await pilot.press("ctrl+s")
        report = await close_report(demo_app, pilot, screen)
        assert (report.report.added, report.report.invalid) == (2, 1)
        assert recipients_of(draft) == 2
        await wait_until(pilot, lambda: "2 recipients (2 pasted)" in text_of(screen, "#totals"))
        assert "Send Now would send 2" in text_of(screen, "#forecast")
        assert "2 added, 1 invalid" in text_of(screen, "#outcome")


async def test_a_paste_over_the_limit_adds_nothing_and_keeps_the_text_to_trim(demo_app, draft):
    pasted = "; ".join(f"p{i}@example.org" for i in range(20_001))
    async with demo_app.run_test(size=(80, 24)) as pilot:
        await open_recipients(demo_app, pilot, draft)
        await pilot.press("p")
        await wait_until(pilot, lambda: isinstance(demo_app.screen, PasteDialog))
        dialog = demo_app.screen
        dialog.query_one(TextArea).text = pasted
        await pilot.pause()
        assert "at most 20,000 at once" in text_of(dialog, "#count")
        await pilot.press("ctrl+s")
        await pilot.pause(0.2)
        assert demo_app.screen is dialog and dialog.query_one(TextArea).text == pasted
        assert recipients_of(draft) == 0


async def test_csv_file_with_path_completion(demo_app, draft, tmp_path):
    (tmp_path / "lista-pazienti.csv").write_text("Nome;Cognome;E-mail\nAnna;Blu;anna.blu@example.org\n")
    async with demo_app.run_test(size=(80, 24)) as pilot:
        screen = await open_recipients(demo_app, pilot, draft)
        await pilot.press("f")
        await wait_until(pilot, lambda: isinstance(demo_app.screen, CsvDialog))
        await pilot.press(*"lista")
        await pilot.pause(0.2)
        await pilot.press("right")  # accepts the suggested completion
        assert demo_app.screen.query_one(Input).value == "lista-pazienti.csv"
        await pilot.press("enter")
        report = await close_report(demo_app, pilot, screen)
        assert report.report.added == 1
        assert Message.get(Message.campaign == draft.id).first_name == "Anna"


async def test_a_refused_csv_adds_nothing_and_says_why(demo_app, draft, tmp_path):
    (tmp_path / "phones.csv").write_text("name,phone\nMaria,3471234567\n")
    async with demo_app.run_test(size=(80, 24)) as pilot:
        screen = await open_recipients(demo_app, pilot, draft)
        await pilot.press("f")
        await wait_until(pilot, lambda: isinstance(demo_app.screen, CsvDialog))
        demo_app.screen.query_one(Input).value = "phones.csv"
        await pilot.press("enter")
        # In a box, as a report would be: the next Esc closes it, it does not leave the screen unread.
        await wait_until(pilot, lambda: isinstance(demo_app.screen, RefusedScreen))
        box = demo_app.screen
        assert "phones.csv: nothing added" in text_of(box, "Static")
        assert "has no email column for an EMAIL campaign" in text_of(box, "#reason")
        assert "t on the recipients screen" in text_of(box, "#reason")
        await pilot.press("escape")
        await wait_until(pilot, lambda: demo_app.screen is screen)
        assert "Nothing added" in text_of(screen, "#outcome")  # still said once the box is closed
        assert recipients_of(draft) == 0


async def test_pick_contacts_by_typing_and_selecting(demo_app, draft):
    maria = (
        Contact.select()
        .where((Contact.kind == "patient") & Contact.email.is_null(False) & Contact.consent)
        .first()
    )
    async with demo_app.run_test(size=(80, 24)) as pilot:
        screen = await open_recipients(demo_app, pilot, draft)
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(demo_app.screen, ContactPicker))
        picker = demo_app.screen
        await wait_until(pilot, lambda: picker.directory is not None)
        await pilot.press(*maria.email)
        await wait_until(pilot, lambda: len(picker.matches) == 1)
        await pilot.press("enter")
        assert picker.selected == {maria.id}
        assert "1 selected" in text_of(picker, "#counts")
        await pilot.press("ctrl+s")
        report = await close_report(demo_app, pilot, screen)
        assert report.report.added == 1
        assert Message.get(Message.campaign == draft.id).contact_id == maria.id


async def test_select_all_shown_and_the_kind_filter(demo_app, draft):
    async with demo_app.run_test(size=(80, 24)) as pilot:
        await open_recipients(demo_app, pilot, draft)
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(demo_app.screen, ContactPicker))
        picker = demo_app.screen
        await wait_until(pilot, lambda: picker.directory is not None)
        patients = len(picker.matches)
        assert patients == Contact.select().where(Contact.kind == "patient").count()
        await pilot.press("ctrl+k")  # resources
        assert len(picker.matches) == Contact.select().where(Contact.kind == "resource").count()
        await pilot.press("ctrl+a")
        assert len(picker.selected) == len(picker.matches)
        await pilot.press("ctrl+u")
        assert not picker.selected


async def test_all_patients_after_confirmation(demo_app, draft):
    async with demo_app.run_test(size=(80, 24)) as pilot:
        screen = await open_recipients(demo_app, pilot, draft)
        await pilot.press("a")
        await wait_until(pilot, lambda: demo_app.screen is not screen)
        await pilot.press("y")
        await wait_until(pilot, lambda: isinstance(demo_app.screen, ReportScreen))
        without_email = Contact.select().where((Contact.kind == "patient") & Contact.email.is_null()).count()
        assert without_email and demo_app.screen.query_one(DataTable).columns  # the demo has some
        headers = [str(column.label) for column in demo_app.screen.query_one(DataTable).columns.values()]
        assert headers == ["Contact", "Why"]
        assert f"{without_email:,} unreachable by this channel" in text_of(screen, "#outcome")
        report = await close_report(demo_app, pilot, screen)
        with_email = (
            Contact.select()
            .where((Contact.kind == "patient") & Contact.email.is_null(False) & Contact.consent)
            .count()
        )
        bounced = (
            Contact.select()
            .join(Suppression, on=Suppression.address == Contact.email)
            .where((Contact.kind == "patient") & Contact.consent)
            .count()
        )
        assert bounced and report.report.suppressed == bounced  # the demo's past hard bounces
        assert report.report.added == with_email - bounced == recipients_of(draft)


async def test_template_and_refused_rows_are_saved_as_files(demo_app, draft, tmp_path):
    async with demo_app.run_test(size=(80, 24)) as pilot:
        screen = await open_recipients(demo_app, pilot, draft)
        await pilot.press("t")
        await pilot.pause()
        assert (
            (tmp_path / "recipients-template.csv").read_text().startswith("first_name,last_name,email,phone")
        )
        await pilot.press("p")
        await wait_until(pilot, lambda: isinstance(demo_app.screen, PasteDialog))
        demo_app.screen.query_one(TextArea).text = "=cmd|'/c calc'!A1; ok@example.org"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(demo_app.screen, ReportScreen))
        await pilot.press("s")
        await pilot.pause()
        saved = next(Path(tmp_path).glob("refused-rows-*.csv"))
        rows = list(csv.reader(saved.open(encoding="utf-8-sig"), delimiter=";"))
        assert rows[0] == ["row", "value", "reason"]
        assert rows[1][1].startswith("'=")  # never a formula in a spreadsheet
        await pilot.press("escape")
        await wait_until(pilot, lambda: demo_app.screen is screen)


async def test_a_suppressed_contact_says_why_in_the_picker_and_in_the_report(demo_app, draft):
    from store.suppressions import add_suppression
    from tui.widgets.contact_list import ContactList

    maria = (
        Contact.select()
        .where((Contact.kind == "patient") & Contact.email.is_null(False) & Contact.consent)
        .first()
    )
    add_suppression(maria.email, "hard bounce")
    async with demo_app.run_test(size=(80, 24)) as pilot:
        screen = await open_recipients(demo_app, pilot, draft)
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(demo_app.screen, ContactPicker))
        picker = demo_app.screen
        await wait_until(pilot, lambda: picker.directory is not None)
        await pilot.press(*maria.email)
        await wait_until(pilot, lambda: len(picker.matches) == 1)
        line = picker.query_one(ContactList).render_line(0).text
        assert maria.email[:20] in line and "suppressed: hard bounce" in line
        await pilot.press("enter", "ctrl+s")
        report = await close_report(demo_app, pilot, screen)
        assert (report.report.added, report.report.suppressed) == (0, 1)
        assert report.report.errors[0].reason == "suppressed: hard bounce"
        assert recipients_of(draft) == 0
