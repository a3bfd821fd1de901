"""A recipient whose own message is over its channel's limits fails alone at the claim, with the reason."""

from store.campaigns import create_campaign
from store.forecast import forecast
from store.message_limits import MessageLimits, message_problem, one_line
from store.models import Message
from store.queue import queue_campaign
from store.recipients import add_pasted
from store.sending import claim


def test_one_line_leaves_ordinary_text_alone_and_flattens_breaks():
    assert one_line("Ciao  Maria, à bientôt") == "Ciao  Maria, à bientôt"
    assert one_line("Maria\r\nReply-To: x@y.z") == "Maria Reply-To: x@y.z"
    assert one_line("\nMaria \u2028 Rossi\x00") == "Maria Rossi"
    assert one_line("Referto \u202efdp.exe") == "Referto fdp.exe"  # read in the order it is stored


def test_each_channel_has_its_limits():
    assert message_problem("sms", "x" * 918, None) is None  # six GSM-7 parts of 153
    assert "needs 7 parts" in message_problem("sms", "x" * 919, None)
    assert "needs 2 parts, over the limit of 1" in message_problem("sms", "x" * 161, None, MessageLimits(1))
    assert message_problem("email", "Ciao", "à" * 100) is None
    assert "998 bytes" in message_problem("email", "Ciao", "à" * 400)
    assert "title" in message_problem("push", "Ciao", "T" * 201)


def test_a_message_over_its_limit_fails_at_the_claim_and_the_forecast_says_so(store):
    draft = create_campaign(
        channel="sms", name="Lungo", sender="CentroMed", body="Ciao {{ first_name }}! " + "x" * 880
    )
    add_pasted(draft.id, "+393471111111, +393472222222")
    Message.update(first_name="Massimiliano" * 8).where(Message.address == "+393472222222").execute()
    found = forecast(draft)
    assert (found.will_send, found.will_fail) == (1, 1)
    assert "one recipient's message cannot be made" in found.will_fail_note()
    queue_campaign(draft.id)
    taken = claim(draft.id, "engine", 10)
    assert [m.address for m in taken.messages] == ["+393471111111"]
    refused = Message.get(Message.address == "+393472222222")
    assert refused.state == "failed" and "the SMS needs 7 parts, over the limit of 6" in refused.error
    assert (
        claim(draft.id, "engine", 10, limits=MessageLimits(sms_parts=10)).messages == []
    )  # failed stays failed


def test_a_clone_is_checked_against_the_configured_limits_not_the_default(store):
    from store.drafts import clone_campaign

    ten = MessageLimits(sms_parts=10)
    long_sms = "x" * (153 * 8)  # eight parts: over the default of 6, within a center's 10
    draft = create_campaign(channel="sms", name="Lungo", sender="CentroMed", body=long_sms, limits=ten)
    copy, _recipients = clone_campaign(draft.id, limits=ten)
    assert copy.body == long_sms


def test_an_imported_name_holds_no_control_character():
    from store.limits import clean_name

    assert (
        clean_name("Ma\x00ria \x1b]8;;https://evil.example\x07Rossi\r\n")
        == "Ma ria ]8;;https://evil.example Rossi"
    )
