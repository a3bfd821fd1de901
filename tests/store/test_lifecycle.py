"""What each campaign state allows (store.lifecycle), and the store refusing exactly what it forbids."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from store import lifecycle
from store.campaigns import create_campaign, edit_campaign
from store.drafts import delete_draft
from store.errors import InvalidState
from store.models import CAMPAIGN_STATES, Campaign
from store.queue import (
    cancel_campaign,
    pause_campaign,
    queue_campaign,
    resume_campaign,
    unschedule_campaign,
)
from store.recipients import add_pasted

RULES: dict[str, Callable[[str | None], bool]] = {
    "edit": lifecycle.can_edit,
    "recipients": lifecycle.can_add_recipients,
    "test": lifecycle.can_test,
    "send": lifecycle.can_send_now,
    "delete": lifecycle.can_delete,
    "pause": lifecycle.can_pause,
    "resume": lifecycle.can_resume,
    "cancel": lifecycle.can_cancel,
    "unschedule": lifecycle.can_unschedule,
    "queue": lifecycle.is_in_queue,
    "live": lifecycle.is_live,
    "gone": lifecycle.may_have_gone_out,
    "final": lifecycle.is_final,
}
# The product's rules, one row a state; Y where the state allows it (or is it).
TABLE = """
            edit recipients test send delete pause resume cancel unschedule queue live gone final
draft        Y       Y       Y    Y     Y      .     .      Y       .        .    .    .    .
scheduled    .       .       .    .     .      .     .      Y       Y        .    .    .    .
queued       .       .       .    .     .      Y     .      Y       .        Y    Y    .    .
sending      .       .       .    .     .      Y     .      Y       .        Y    Y    Y    .
paused       .       .       .    .     .      .     Y      Y       .        .    Y    Y    .
sent         .       .       .    .     .      .     .      .       .        .    .    Y    .
completed    .       .       .    .     .      .     .      .       .        .    .    .    Y
cancelled    .       .       .    .     .      .     .      .       .        .    .    Y    .
"""


def allowed() -> dict[tuple[str, str], bool]:
    header, *rows = TABLE.strip().splitlines()
    actions = header.split()
    table = {}
    for row in rows:
        state, *marks = row.split()
        table.update({(state, action): mark == "Y" for action, mark in zip(actions, marks, strict=True)})
    return table


def test_the_table_covers_every_state_and_rule():
    states = {state for state, _action in allowed()}
    assert lifecycle.STATES == CAMPAIGN_STATES and states == set(CAMPAIGN_STATES)
    assert {action for _state, action in allowed()} == set(RULES)


@pytest.mark.parametrize(("state", "action"), sorted(allowed()))
def test_each_state_allows_what_the_table_says(state, action):
    assert RULES[action](state) is allowed()[state, action]


@pytest.mark.parametrize("action", sorted(RULES))
def test_no_campaign_allows_nothing(action):
    assert RULES[action](None) is False


def test_a_paused_campaign_resumes_as_sending_once_a_message_went_out():
    assert (lifecycle.resumes_as(has_sent=True), lifecycle.resumes_as(has_sent=False)) == (
        "sending",
        "queued",
    )


# -- the store refuses what the table forbids, in its own words ------------------------------------------

STORE_ACTIONS: dict[str, tuple[Callable[[int], Any], str]] = {
    "edit": (
        lambda i: edit_campaign(i, name="Renamed"),
        "campaign {id} is {state}; only drafts can be edited (clone it to make a new draft)",
    ),
    "recipients": (
        lambda i: add_pasted(i, "3479876543"),
        "campaign {id} is {state}; recipients can be added to drafts only",
    ),
    "send": (queue_campaign, "campaign {id} is {state}; only a draft can be sent"),
    "delete": (delete_draft, "campaign {id} is {state}: only drafts can be deleted"),
    "pause": (pause_campaign, "campaign {id} is {state}; only a queued or sending one pauses"),
    "resume": (resume_campaign, "campaign {id} is {state}, not paused"),
    "cancel": (cancel_campaign, "campaign {id} is {state}; it can no longer be cancelled"),
    "unschedule": (unschedule_campaign, "campaign {id} is {state}; only a scheduled one is unscheduled"),
}


@pytest.mark.parametrize("action", sorted(STORE_ACTIONS))
def test_the_store_refuses_exactly_what_the_table_forbids(store, action):
    change, refusal = STORE_ACTIONS[action]
    for state in CAMPAIGN_STATES:
        campaign = create_campaign(channel="sms", name=f"In {state}", sender="CentroMed", body="Ciao")
        add_pasted(campaign.id, "3471234567")
        Campaign.update(state=state).where(Campaign.id == campaign.id).execute()
        if allowed()[state, action]:
            change(campaign.id)
            continue
        with pytest.raises(InvalidState) as refused:
            change(campaign.id)
        assert str(refused.value) == refusal.format(id=campaign.id, state=state)
        assert Campaign.get_by_id(campaign.id).state == state
