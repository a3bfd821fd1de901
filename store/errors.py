"""Precise exceptions the core raises; the CLI and the screens turn them into one clear line."""

from peewee import DatabaseError as DatabaseError  # what the database itself raises (lost, locked, full)


class CampaignsError(Exception):
    """Base of every error the product explains to its user."""


class BadInput(CampaignsError):
    """The user asked for something invalid (exit status 2)."""


class NotFound(BadInput):
    """No such campaign, contact or file."""


class InvalidState(BadInput):
    """The action does not apply to the campaign in its current state."""


class ImportRefused(BadInput):
    """A whole import was refused; nothing was added."""


class TemplateError(BadInput):
    """A body, subject or title does not render."""


class ConfigError(BadInput):
    """The configuration file or an environment override is wrong."""
