"""What each campaign state allows: the one place the queue, the screens and the command line ask.

A campaign goes `draft` (→ `scheduled`) → `queued` → `sending` ⇄ `paused` → `sent` → `completed` (48 hours
after its last message, store.queue); `cancelled` from any state before `sent` (docs/states.md). A scheduled
campaign joins the queue at its time, in creation order like any other, or goes back to draft. Pure names
and rules, no database: the footers ask them for every highlighted row, the store before every change of
state.
"""

from __future__ import annotations

DRAFT = "draft"
SCHEDULED = "scheduled"
QUEUED = "queued"
SENDING = "sending"
PAUSED = "paused"
SENT = "sent"
COMPLETED = "completed"
CANCELLED = "cancelled"
STATES = (DRAFT, SCHEDULED, QUEUED, SENDING, PAUSED, SENT, COMPLETED, CANCELLED)

# What only a draft allows, as the store's conditional statements ask it (a Send Now may come in between).
EDITABLE = (DRAFT,)
DELETABLE = (DRAFT,)
ADDING_RECIPIENTS = (DRAFT,)
# The queue: its campaigns claim messages in turn, the first created first.
IN_QUEUE = (QUEUED, SENDING)
# Going out, or to go on when resumed: its figures move by the second.
LIVE = (QUEUED, SENDING, PAUSED)
# Out of the queue, a paused or cancelled campaign may still have messages with a provider, being answered.
MAY_HAVE_IN_FLIGHT = (QUEUED, SENDING, PAUSED, CANCELLED)
# Some of its messages may have gone out, and their opens, clicks and bookings still come in.
MAY_HAVE_GONE_OUT = (SENDING, PAUSED, SENT, CANCELLED)
BEFORE_SENT = (DRAFT, SCHEDULED, QUEUED, SENDING, PAUSED)
# Will send again: what an engine that vanished held of theirs goes back to pending (a cancelled
# campaign's never goes).
TAKES_BACK_LEASES = LIVE


def is_draft(state: str | None) -> bool:
    return state == DRAFT


def can_edit(state: str | None) -> bool:
    """Its content changes: only a draft's (a campaign that went out is cloned instead)."""
    return state in EDITABLE


def can_add_recipients(state: str | None) -> bool:
    return state in ADDING_RECIPIENTS


def can_test(state: str | None) -> bool:
    """A test to a few addresses typed on the spot: a draft's, before it goes to its recipients."""
    return is_draft(state)


def can_send_now(state: str | None) -> bool:
    """Send Now queues a draft, or schedules it (one with recipients: store.queue says so)."""
    return is_draft(state)


def is_scheduled(state: str | None) -> bool:
    return state == SCHEDULED


def can_unschedule(state: str | None) -> bool:
    """A scheduled campaign goes back to draft (to be edited, or sent at another time)."""
    return is_scheduled(state)


def can_delete(state: str | None) -> bool:
    """Only a draft is deleted: a campaign that was queued is history, in the ledger."""
    return state in DELETABLE


def is_in_queue(state: str | None) -> bool:
    return state in IN_QUEUE


def can_pause(state: str | None) -> bool:
    """A queued or sending campaign pauses; messages already with a provider finish."""
    return is_in_queue(state)


def can_resume(state: str | None) -> bool:
    return state == PAUSED


def resumes_as(has_sent: bool) -> str:
    """The state a paused campaign goes back to: sending once a message of it went out, else queued."""
    return SENDING if has_sent else QUEUED


def can_cancel(state: str | None) -> bool:
    """Any state before `sent`: what was not sent yet never goes."""
    return state in BEFORE_SENT


def is_live(state: str | None) -> bool:
    """Queued, sending or paused: not done with its recipients."""
    return state in LIVE


def may_have_gone_out(state: str | None) -> bool:
    return state in MAY_HAVE_GONE_OUT


def is_final(state: str | None) -> bool:
    """Completed: its figures no longer change."""
    return state == COMPLETED
