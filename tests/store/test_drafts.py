import pytest

from store.campaigns import create_campaign
from store.drafts import clone_campaign, delete_draft
from store.errors import InvalidState
from store.models import Campaign, Message
from store.queue import queue_campaign
from store.recipients import add_pasted


def test_clone_copies_content_and_recipients_into_a_new_draft(store):
    source = create_campaign(channel="sms", name="Vaccini", sender="CentroMed", body="Ciao", coupon="FLU")
    add_pasted(source.id, "3471234567, 3479876543")
    queue_campaign(source.id)
    Message.update(state="sent").execute()
    draft, recipients = clone_campaign(source.id)
    assert (draft.state, draft.name, draft.coupon, recipients) == ("draft", "Vaccini (copy)", "FLU", 2)
    copied = Message.select().where(Message.campaign == draft.id)
    assert {m.state for m in copied} == {"pending"} and {m.source for m in copied} == {"paste"}
    assert Campaign.get_by_id(source.id).state == "queued"  # the original is untouched


def test_only_drafts_can_be_deleted_and_their_recipients_go_with_them(store):
    draft = create_campaign(channel="email", name="Bozza", sender="Centro", body="Ciao")
    add_pasted(draft.id, "a@example.org")
    queued = create_campaign(channel="email", name="In coda", sender="Centro", body="Ciao")
    add_pasted(queued.id, "b@example.org")
    queue_campaign(queued.id)
    assert delete_draft(draft.id) == draft.id
    assert not Campaign.select().where(Campaign.id == draft.id).exists()
    assert Message.select().count() == 1
    with pytest.raises(InvalidState, match="only drafts can be deleted"):
        delete_draft(queued.id)
    assert Campaign.get_by_id(queued.id).state == "queued"
