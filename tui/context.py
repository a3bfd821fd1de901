"""The app's configuration as the screens and dialogs read it, typed: Textual knows only `App[Any]`."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.dom import DOMNode

from store.config import Config

if TYPE_CHECKING:
    from tui.app import CampaignsApp


def config_of(node: DOMNode) -> Config:
    """The configuration of the app this screen, dialog or widget belongs to."""
    return cast("CampaignsApp", node.app).config
