"""What the product itself says to recipients, in the centre's language (`[email] language`): the
email's unsubscribe footer and the pages of the unsubscribe link (the question, then the answer). The
campaign's own text is the author's; only these few words are ours."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Wording:
    language: str
    footer: str  # the plain-text part's last line; {url} is the unsubscribe link
    link: str  # the HTML part's unsubscribe link
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
        footer="To stop receiving these messages: {url}",
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
        footer="Per non ricevere più questi messaggi: {url}",
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
