"""Hold-out groups and A/B variants (issue 19): who is kept out, who gets B, drawn once at Send Now.

At Send Now the campaign's eligible recipients (those the claim would send to now: store.eligibility)
are drawn at random with a seed kept on the campaign, so the draw can be made again: `holdout_percent`
of them (rounded to the nearest whole recipient) go to state `held_out` and are never sent; of the
others, `variant_share` get body B when the campaign has one. Both draws are stratified by the kind of
contact (patient, resource, user, or none: a pasted address), so every group has the same mix: each
kind gets its share of the total by the largest remainders, the total stays exactly the rounded share.

A held-out message has no send time; its 28 days of reservations count from when the campaign sent its
others: when the campaign is done (sent, or cancelled after sending), each held-out message gets one of
the campaign's send times, spread evenly over them (`stamp_held_out`), so both groups' windows start
alike over a campaign that took hours or days.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from peewee import chunked, fn

from store.bulk import sql_value, stored_time, update_rows
from store.db import database, rows_of
from store.eligibility import SEND, Eligibility
from store.message_limits import MessageLimits
from store.models import ACCEPTED_STATES, Campaign, Message

VARIANTS = ("a", "b")
HELD_OUT = "held_out"
DEFAULT_B_SHARE = 0.5
_PAGE = 10_000
NO_KIND = "none"  # a recipient with no contact behind its address
NOT_DRAWN = "n"  # message.variant of a recipient not eligible at the draw: sent as A if at all, in no group


@dataclass(frozen=True)
class Draw:
    """What Send Now drew: how many recipients went to each group, and the seed that makes it again."""

    held_out: int
    a: int
    b: int
    seed: int


def edit_variant_b(
    campaign_id: int,
    body: str | None = None,
    subject: str | None = None,
    remove: bool = False,
    limits: MessageLimits | None = None,
) -> Campaign:
    """Sets (or, with `remove`, drops) a draft's second body and subject, B of an A/B test; B's subject
    (push title) is A's unless given. Checked as A's content is: templates, the channel's limits."""
    from store.campaigns import CONTENT_FIELDS, check_content, editable_draft, save_draft
    from store.errors import BadInput

    campaign = editable_draft(campaign_id)
    if remove:
        changes: dict[str, Any] = {"variant_body": None, "variant_subject": None}
    else:
        new_body = body if body is not None else campaign.variant_body
        if new_body is None:
            raise BadInput("variant B needs its own --body (its subject is A's unless --subject gives one)")
        new_subject = subject if subject is not None else campaign.variant_subject
        merged = {f: getattr(campaign, f) for f in CONTENT_FIELDS} | {"body": new_body}
        if new_subject is not None:
            merged["subject"] = new_subject
        clean = check_content(merged, limits)
        changes = {
            "variant_body": clean["body"],
            "variant_subject": clean["subject"] if new_subject else None,
        }
    return save_draft(campaign_id, changes)


def quotas(sizes: Mapping[str, int], share: float) -> dict[str, int]:
    """How many of each stratum to take so the total is `share` of all, rounded to the nearest whole
    one (half up), each stratum as close to its own share as can be: the largest remainders get the
    units left."""
    total = sum(sizes.values())
    wanted = math.floor(total * share + 0.5)
    exact = {kind: size * share for kind, size in sizes.items()}
    taken = {kind: min(sizes[kind], math.floor(value)) for kind, value in exact.items()}
    by_remainder = sorted(sizes, key=lambda kind: (-(exact[kind] - taken[kind]), kind))
    left = wanted - sum(taken.values())
    for kind in by_remainder:
        if left <= 0:
            break
        if taken[kind] < sizes[kind]:
            taken[kind] += 1
            left -= 1
    return taken


def split(
    by_kind: Mapping[str, Sequence[int]], holdout: float, b_share: float | None, seed: int
) -> tuple[list[int], list[int], list[int]]:
    """The draw itself, from the eligible recipients' message ids by kind: (held out, a, b); without a
    B (`b_share` None) every one not held out is in a. The same ids and seed always give the same draw:
    the ids are the campaign's messages held out or with variant a or b (those not drawn have
    `NOT_DRAWN`), by their contact's kind, with `draw_seed`."""
    rng = random.Random(seed)
    pools = {kind: sorted(ids) for kind, ids in sorted(by_kind.items())}
    for ids in pools.values():
        rng.shuffle(ids)
    keep = quotas({kind: len(ids) for kind, ids in pools.items()}, holdout)
    held = [i for kind, ids in pools.items() for i in ids[: keep[kind]]]
    rest = {kind: ids[keep[kind] :] for kind, ids in pools.items()}
    if b_share is None:
        return sorted(held), sorted(i for ids in rest.values() for i in ids), []
    to_b = quotas({kind: len(ids) for kind, ids in rest.items()}, b_share)
    b = [i for kind, ids in rest.items() for i in ids[: to_b[kind]]]
    a = [i for kind, ids in rest.items() for i in ids[to_b[kind] :]]
    return sorted(held), sorted(a), sorted(b)


def draw_groups(
    campaign: Campaign,
    holdout_percent: float,
    b_share: float | None,
    window: str,
    now: datetime,
    limits: MessageLimits | None = None,
    seed: int | None = None,
) -> Draw:
    """Draws the hold-out and the variants among the campaign's eligible recipients and writes them
    (inside Send Now's transaction, or the scheduled campaign's joining the queue): held-out messages to
    `held_out`, the others drawn `a` or `b`, those not eligible now `NOT_DRAWN`."""
    seed = seed if seed is not None else random.SystemRandom().randrange(1, 2**62)
    by_kind = _eligible_by_kind(campaign, window, now, limits)
    held, a, b = split(by_kind, holdout_percent / 100, b_share, seed)
    for batch in chunked(held, 900):
        Message.update(state=HELD_OUT).where(Message.id.in_(batch) & (Message.state == "pending")).execute()
    # Those not eligible now are not in the draw: were they to go after all (a window that ran out), they
    # go as A and stay out of every group, so the groups hold only whom the draw shared out at random.
    Message.update(variant=NOT_DRAWN).where(
        (Message.campaign == campaign.id) & (Message.state == "pending")
    ).execute()
    for variant, ids in (("a", a), ("b", b)):
        for batch in chunked(ids, 900):
            Message.update(variant=variant).where(Message.id.in_(batch)).execute()
    campaign.holdout_percent = holdout_percent or None
    campaign.variant_share = b_share
    campaign.draw_seed = seed
    return Draw(len(held), len(a), len(b), seed)


def undraw(campaign: Campaign) -> None:
    """A scheduled campaign back to draft: the hold-out it asked for is forgotten, and so is any draw
    (none is made before it joins the queue; this keeps a draft clean whatever came before)."""
    Message.update(state="pending").where(
        (Message.campaign == campaign.id) & (Message.state == HELD_OUT)
    ).execute()
    Message.update(variant=None).where(
        (Message.campaign == campaign.id) & Message.variant.is_null(False)
    ).execute()
    Campaign.update(holdout_percent=None, variant_share=None, draw_seed=None).where(
        Campaign.id == campaign.id
    ).execute()


def _eligible_by_kind(
    campaign: Campaign, window: str, now: datetime, limits: MessageLimits | None
) -> dict[str, list[int]]:
    """The ids of the messages a claim would send now, by their contact's kind."""
    from store.forecast import pending_pages

    kinds = dict(_kinds_of(campaign.id))
    policy = Eligibility(campaign, window, now, limits)
    found: dict[str, list[int]] = defaultdict(list)
    for page in pending_pages(campaign.id):
        for verdict in policy.judge(page):
            if verdict.outcome == SEND:
                found[kinds.get(verdict.message_id, NO_KIND)].append(verdict.message_id)
    return dict(found)


def _kinds_of(campaign_id: int) -> Iterator[tuple[int, str]]:
    p = database.param
    rows = database.execute_sql(
        f"SELECT m.id, COALESCE(c.kind, '{NO_KIND}') FROM message m "
        f"LEFT JOIN contact c ON c.id = m.contact_id WHERE m.campaign_id = {p} AND m.state = 'pending'",
        [campaign_id],
    )
    yield from rows


def stamp_held_out(campaign_id: int) -> int:
    """Gives each held-out message without one the time its 28 days count from: one of the campaign's
    send times, spread evenly over them in the order of the messages. None sent, none stamped. Returns
    how many were stamped."""
    waiting = (
        Message.select(Message.id)
        .where(
            (Message.campaign == campaign_id) & (Message.state == HELD_OUT) & Message.held_out_at.is_null()
        )
        .order_by(Message.id)
    )
    held = [int(row[0]) for row in rows_of(waiting)]
    if not held:
        return 0
    sent = (
        Message.select(Message.sent_at)
        .where(
            (Message.campaign == campaign_id)
            & Message.state.in_(ACCEPTED_STATES)
            & Message.sent_at.is_null(False)
        )
        .order_by(Message.sent_at)
    )
    times = [moment for (value,) in rows_of(sent) if (moment := stored_time(value)) is not None]
    if not times:
        return 0
    rows = [
        (message_id, times[(2 * k + 1) * len(times) // (2 * len(held))]) for k, message_id in enumerate(held)
    ]
    update_rows(
        database.cursor(), "message", ("id", "at"), "held_out_at = v.at",
        [(message_id, sql_value(at)) for message_id, at in rows], casts={"at": "timestamp"},
    )  # fmt: skip
    return len(rows)


def drawn(campaign_id: int) -> dict[str, int]:
    """What the draw put in each group, as Send Now reports it: held out, and the pending per variant."""
    query = (
        Message.select(Message.state, Message.variant, fn.COUNT(Message.id))
        .where((Message.campaign == campaign_id) & Message.state.in_((HELD_OUT, "pending")))
        .group_by(Message.state, Message.variant)
    )
    found = {"holdout": 0, "a": 0, "b": 0}
    for state, variant, count in rows_of(query):
        group = group_of(state, variant)
        if group:
            found[group] += int(count)
    return found


def group_of(state: str, variant: str | None) -> str:
    """A message's group in the figures: `holdout`, else its variant (a when the campaign has one body);
    "" for one left out of the draw."""
    if state == HELD_OUT:
        return "holdout"
    return "" if variant == NOT_DRAWN else (variant or "a")
