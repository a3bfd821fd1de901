"""The editor says when a name in the message is no placeholder, as it is typed."""

from store.message_limits import MessageLimits
from tui.editor import preview_of


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
