"""The base of the migrations' own model classes, and how they create their tables.

A migration declares the tables it creates as they were at its version, with classes of its own: only
what reaches the DDL (types, nulls, keys, indexes), no Python defaults and no behaviour. This module
is shared by every version, so it never changes either.
"""

from __future__ import annotations

from collections.abc import Sequence

from peewee import Database, Model


class FrozenModel(Model):
    """Bound to no database: `create_tables` binds a migration's classes to the one it migrates."""

    class Meta:
        legacy_table_names = False  # SentLedger -> sent_ledger, as the models name their tables


def create_tables(db: Database, models: Sequence[type[Model]]) -> None:
    """Creates the tables of `models` (and their indexes) that do not exist yet, as the models would."""
    with db.bind_ctx(models):
        db.create_tables(models, safe=True)
