import time
from datetime import date, datetime, timedelta

import pytest

from store.campaigns import campaigns_in_period, create_campaign, edit_campaign
from store.errors import BadInput, InvalidState, NotFound, TemplateError
from store.models import Campaign
from store.period import Period


def draft(**changes):
    fields = {"channel": "sms", "name": "Flu shots", "sender": "CentroMed", "body": "Hi {{ first_name }}"}
    return create_campaign(**(fields | changes))


def test_a_draft_keeps_its_content(store):
    campaign = draft(
        channel=" EMAIL ", subject="For {{ first_name }}", coupon=" FLU10 ", sender="Centro Medico"
    )
    stored = Campaign.get_by_id(campaign.id)
    assert (stored.channel, stored.state, stored.coupon, stored.sender) == (
        "email",
        "draft",
        "FLU10",
        "Centro Medico",
    )


@pytest.mark.parametrize(
    ("changes", "error", "says"),
    [
        ({"channel": "fax"}, BadInput, "unknown channel 'fax'"),
        ({"body": "   "}, BadInput, "body is missing"),
        ({"name": ""}, BadInput, "name is missing"),
        ({"sender": "CentroMedicoMilano"}, BadInput, "at most 11 letters and digits"),
        ({"sender": "Centro Med"}, BadInput, "at most 11 letters and digits"),
        ({"body": "Hi {{ first_name "}, TemplateError, "template error on line 1"),
        ({"body": "{{ ''.__class__.__mro__ }}"}, TemplateError, "uses an attribute on line 1"),
        (
            {"body": "{{ first_name.__class__.__base__.__subclasses__() }}"},
            TemplateError,
            "uses a function call on line 1",
        ),
        ({"body": "{{ cycler.__init__.__globals__ }}"}, TemplateError, "uses an attribute on line 1"),
        (
            {"body": "{% for x in range(10**9) %}{% endfor %}"},
            TemplateError,
            "uses a loop or macro on line 1",
        ),
        ({"body": "{{ 1 / 0 }}"}, TemplateError, "uses arithmetic on line 1"),
        # Unbounded templates: each would take gigabytes or minutes; each is refused as it is read.
        ({"body": "{{ 'x' * 10**9 }}"}, TemplateError, "uses arithmetic on line 1"),
        ({"body": "Ciao\n{{ lipsum(10**6) }}"}, TemplateError, "uses a function call on line 2"),
        ({"body": "{{ first_name|center(10**9) }}"}, TemplateError, "uses the filter |center on line 1"),
        ({"body": "{{ '%*s'|format(10**9, 'x') }}"}, TemplateError, "uses the filter |format on line 1"),
        ({"body": "{{ x }}" * 30_000}, TemplateError, "over 100,000"),
        (
            {"channel": "sms", "body": "Ciao " * 1_000},
            TemplateError,
            "the SMS needs 33 parts, over the limit of 6",
        ),
        ({"channel": "email", "subject": "Ciao\r\nBcc: a@b.c"}, BadInput, "the subject must be on one line"),
        (
            {"channel": "email", "subject": "à" * 400},
            TemplateError,
            "the subject is over 998 bytes once encoded",
        ),
        ({"channel": "push", "subject": "Ciao\nMaria"}, BadInput, "the title must be on one line"),
        ({"channel": "push", "body": "é" * 2_000}, TemplateError, "the push message is 4,"),
        ({"sender": "Centro\x0bMed"}, BadInput, "the sender name must be on one line"),
    ],
)
def test_bad_drafts_are_refused_with_a_reason(store, changes, error, says):
    started = time.monotonic()
    with pytest.raises(error, match=None) as caught:
        draft(**changes)
    assert says in str(caught.value)
    assert time.monotonic() - started < 2  # refused as it is read, never after rendering gigabytes
    assert Campaign.select().count() == 0


def test_the_sandbox_hands_out_nothing_unsafe():
    from store.templates import render

    with pytest.raises(TemplateError, match=r"uses the filter \|attr on line 1"):
        render("{{ coupon|attr('__class__') }}", {"coupon": "X"})
    assert render("Ciao {{ nickname }}!", {"first_name": "Maria"}) == "Ciao !"  # unknown names render empty
    assert render("{{ range }}{{ lipsum }}{{ cycler }}", {}) == ""  # Jinja2's globals are not there
    # What a message needs still works: conditions, fallbacks, a few filters, a first letter.
    source = "{% if coupon %}{{ coupon|upper }} {% endif %}"
    source += "{{ first_name or 'Gentile paziente' }} {{ last_name[0] }}."
    assert render(source, {"first_name": "", "last_name": "Rossi", "coupon": "x"}) == "X Gentile paziente R."


def test_sms_sender_may_be_a_phone_number(store):
    assert draft(sender="+393471234567").sender == "+393471234567"


def test_only_drafts_can_be_edited(store):
    campaign = draft()
    edited = edit_campaign(campaign.id, name="Flu shots 2026", body="New {{ coupon }}")
    assert (edited.name, edited.body, edited.sender) == ("Flu shots 2026", "New {{ coupon }}", "CentroMed")
    Campaign.update(state="queued").execute()
    with pytest.raises(InvalidState, match="is queued; only drafts can be edited"):
        edit_campaign(campaign.id, name="Too late")
    assert Campaign.get_by_id(campaign.id).name == "Flu shots 2026"
    with pytest.raises(NotFound, match="no campaign has id 999"):
        edit_campaign(999, name="x")


def test_period_holds_campaigns_created_or_sent_in_it(store):
    today = date(2026, 11, 27)
    noon = datetime(2026, 11, 27, 12)
    draft(name="recent", now=noon - timedelta(days=3))
    draft(name="old draft", now=noon - timedelta(days=60))
    old_sent = draft(name="old but sent lately", now=noon - timedelta(days=60))
    Campaign.update(first_sent_at=noon - timedelta(days=40), last_sent_at=noon - timedelta(days=10)).where(
        Campaign.id == old_sent.id
    ).execute()
    period = Period.last_days(30, today=today)
    assert [c.name for c in campaigns_in_period(period)] == ["recent", "old but sent lately"]
    assert [c.name for c in campaigns_in_period(period.shifted(-2))] == ["old but sent lately", "old draft"]
    assert campaigns_in_period(period.shifted(1)) == []


def test_period_parsing():
    period = Period.parse("2026-10-01", "2026-10-31")
    assert period.days == 31
    assert period.shifted(-1) == Period(date(2026, 8, 31), date(2026, 9, 30))
    assert Period.parse(None, "2026-11-30").start == date(2026, 11, 1)
    with pytest.raises(BadInput, match="is not a date"):
        Period.parse("31/10/2026", None)
    with pytest.raises(BadInput, match="starts"):
        Period.parse("2026-11-02", "2026-11-01")
