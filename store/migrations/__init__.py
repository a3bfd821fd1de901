"""The schema's history: one module per version, each with the tables as they were at its version.

A module `vN_*` has `upgrade(migrator)`, which takes a database from version N-1 to N with
playhouse.migrate, and may have `create(db)`, which creates the whole schema of version N in an empty
database. None imports `store.models`: each declares what it creates with field and model classes of
its own, frozen at its version, so it keeps its meaning when the models change. A new version is a new
module registered below; tests/store/test_migrations.py checks that the result is what the models declare.
"""

from __future__ import annotations

from collections.abc import Callable

from peewee import Database
from playhouse.migrate import SchemaMigrator

from store.migrations import (
    v1_initial,
    v2_sending,
    v3_send_journal,
    v4_feedback,
    v5_workers,
    v6_registry_ids,
    v7_suppressions,
    v8_scheduled,
    v9_experiments,
    v10_email_options,
)

Upgrade = Callable[[SchemaMigrator], None]
Create = Callable[[Database], None]

# (N, upgrade): each takes the schema from version N-1 to N.
UPGRADES: list[tuple[int, Upgrade]] = [
    (v2_sending.VERSION, v2_sending.upgrade),
    (v3_send_journal.VERSION, v3_send_journal.upgrade),
    (v4_feedback.VERSION, v4_feedback.upgrade),
    (v5_workers.VERSION, v5_workers.upgrade),
    (v6_registry_ids.VERSION, v6_registry_ids.upgrade),
    (v7_suppressions.VERSION, v7_suppressions.upgrade),
    (v8_scheduled.VERSION, v8_scheduled.upgrade),
    (v9_experiments.VERSION, v9_experiments.upgrade),
    (v10_email_options.VERSION, v10_email_options.upgrade),
]
# (N, create): whole schemas; an empty database starts from the newest and takes the upgrades after it.
CREATES: list[tuple[int, Create]] = [
    (v1_initial.VERSION, v1_initial.create),
    (v5_workers.VERSION, v5_workers.create),
    (v6_registry_ids.VERSION, v6_registry_ids.create),
]

LATEST = UPGRADES[-1][0]
