"""The editor says when a name in the message is no placeholder, as it is typed."""

from store.message_limits import MessageLimits
from tui.screens.editor import preview_of


def test_the_editor_counter_names_an_unknown_placeholder():
    _preview, counter, problem = preview_of(
        "sms", "Ciao {{ nome }}", "", "", ("Maria", "Rossi"), MessageLimits()
    )
    assert problem is None  # a warning, not a refusal: the contract renders it empty
    assert counter.startswith("{{ nome }} is no placeholder, it reads empty")
    _preview, counter, _problem = preview_of(
        "sms", "Ciao {{ first_name }}", "", "", ("Maria", "Rossi"), MessageLimits()
    )
    assert "placeholder" not in counter


async def test_send_now_names_an_unknown_placeholder_before_anything_goes(empty_app):
    from store.campaigns import create_campaign
    from store.models import Campaign
    from store.recipients import add_pasted
    from tests.conftest import NOW
    from tests.tui.conftest import shows_question, wait_until

    draft = create_campaign(channel="sms", name="Typo", sender="CentroMed", body="Ciao {{ nome }}", now=NOW)
    add_pasted(draft.id, "+393471111111")
    async with empty_app.run_test(size=(80, 24)) as pilot:
        summary = empty_app.screen
        await wait_until(pilot, lambda: summary.loaded_once)
        await pilot.press("s")
        await wait_until(pilot, lambda: shows_question(empty_app))
        question = str(empty_app.screen.query_one("#question").render())
        assert "{{ nome }} is not a placeholder and reads empty" in question
        await pilot.press("n")
        await wait_until(pilot, lambda: empty_app.screen is summary)
    assert Campaign.get_by_id(draft.id).state == "draft"
