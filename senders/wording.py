"""What the product itself says to recipients, in the campaign's language (`[email] language` unless
the campaign names its own): the email's footer and the pages of the unsubscribe link (the question,
then the answer). The campaign's own text is the author's; only these few words are ours."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Wording:
    language: str
    # The footer of both parts, the same words: why the recipient gets the message ({center} is the name
    # it came from), then how to stop: `link` is the HTML part's link and, followed by ": {url}", the
    # plain part's last line. Worded so that spam filters do not read it as a bulk mailer's opt-out
    # (SpamAssassin's END_FUTURE_EMAILS matches "stop receiving these messages").
    reason: str
    link: str
    confirm_title: str
    confirm: str  # {center} is the name the mail came from
    confirm_button: str
    unsubscribed_title: str
    unsubscribed: str
    invalid_title: str
    invalid: str


WORDINGS = {
    "en": Wording(
        "en",
        reason="You are receiving this email because you are in the contacts of {center}.",
        link="Unsubscribe",
        confirm_title="Unsubscribe",
        confirm="Do you want to stop receiving campaigns from {center}?",
        confirm_button="Yes, unsubscribe",
        unsubscribed_title="Unsubscribed",
        unsubscribed="You are unsubscribed: you will receive no more campaigns.",
        invalid_title="Link not valid",
        invalid="This unsubscribe link is not valid.",
    ),
    "it": Wording(
        "it",
        reason="Riceve questa email perché è tra i contatti di {center}.",
        link="Annulla l'iscrizione",
        confirm_title="Annulla l'iscrizione",
        confirm="Vuoi smettere di ricevere le campagne di {center}?",
        confirm_button="Sì, annulla l'iscrizione",
        unsubscribed_title="Iscrizione annullata",
        unsubscribed="Iscrizione annullata: non riceverai più le nostre campagne.",
        invalid_title="Link non valido",
        invalid="Questo link per annullare l'iscrizione non è valido.",
    ),
}


def wording_for(language: str | None, default: str = "en") -> Wording:
    """The words for a campaign's language as stored (any case, stray spaces; None or another value:
    the center's `default`): never a KeyError that would stop a send."""
    found = WORDINGS.get((language or "").strip().lower())
    return found or WORDINGS.get(default, WORDINGS["en"])
