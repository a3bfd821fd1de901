"""The secret that signs links: from the configuration, else generated once and kept in the database."""

from __future__ import annotations

import secrets

from store.models import Setting

KEY = "link_secret"


def link_secret(configured: str = "") -> str:
    if configured:
        return configured
    found = Setting.get_or_none(Setting.key == KEY)
    if found is not None:
        return found.value
    Setting.insert(key=KEY, value=secrets.token_urlsafe(32)).on_conflict_ignore().execute()
    return Setting.get(Setting.key == KEY).value
