"""Which of a campaign's recipients a new draft should target: those who did not open it, and so on."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from store.figures import CampaignFigures


@dataclass(frozen=True)
class Audience:
    key: str  # store.audiences.WHO
    label: str  # completes "those who …"


def audiences(figures: CampaignFigures) -> list[tuple[Audience, int | None]]:
    """The audiences that make sense for the campaign, with how many people each holds (None: unknown)."""
    counts, opens = figures.counts, figures.opens
    found: list[tuple[Audience, int | None]] = []
    if opens is not None and opens.opened is not None:  # None: sent without the open-tracking image
        found.append((Audience("not-opened", "did not open it"), counts.sent - opens.opened))
        found.append((Audience("opened", "opened it"), opens.opened))
    if opens is not None:
        found.append((Audience("clicked", "clicked a link"), opens.clicked))
    found.append((Audience("failed", "it failed to reach"), counts.failed))
    found.append((Audience("converted", "booked after it"), None))
    found.append((Audience("sent", "it reached"), counts.sent))
    found.append((Audience("all", "were its recipients"), counts.recipients))
    return found


class AudienceDialog(ModalScreen[Audience | None]):
    DEFAULT_CSS = """
    AudienceDialog { align: center middle; }
    AudienceDialog > Vertical {
        width: 56; max-width: 95%; height: auto; padding: 1 2; border: round $accent; background: $panel;
    }
    AudienceDialog OptionList { height: auto; max-height: 10; margin-top: 1; }
    AudienceDialog #keys { margin-top: 1; color: $text-muted; }
    """
    BINDINGS = [Binding("escape", "dismiss_none", "Cancel")]

    def __init__(self, figures: CampaignFigures) -> None:
        super().__init__()
        self.choices = audiences(figures)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("A new draft for those who…")
            yield OptionList(
                *(
                    Option(f"{a.label}" + (f"  ({n:,})" if n is not None else ""), id=a.key)
                    for a, n in self.choices
                )
            )
            yield Static("[b]↑↓[/b] choose · [b]Enter[/b] next · [b]Escape[/b] cancel", id="keys")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(next(a for a, _n in self.choices if a.key == event.option.id))

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
