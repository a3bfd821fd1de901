"""Engines on the database (TUIs and `campaigns worker`): who sends what, and who stopped answering."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from store.clock import iso, utcnow
from store.db import database
from store.models import Worker

HEARTBEAT_SECONDS = 5.0
SILENT_AFTER = timedelta(seconds=3 * HEARTBEAT_SECONDS)  # three missed heartbeats


def register(name: str, now: datetime | None = None) -> None:
    """This engine starts (or starts again under the same name)."""
    now = now or utcnow()
    fields = {"host": socket.gethostname(), "pid": os.getpid(), "started_at": now, "heartbeat_at": now,
              "sending": None, "sent": 0, "stopped_at": None}  # fmt: skip
    Worker.insert(name=name, **fields).on_conflict(
        conflict_target=[Worker.name], update={getattr(Worker, k): v for k, v in fields.items()}
    ).execute()


def heartbeat(name: str, sending: list[int], sent: int, now: datetime | None = None) -> None:
    Worker.update(heartbeat_at=now or utcnow(), sending=",".join(map(str, sending)) or None, sent=sent).where(
        Worker.name == name
    ).execute()


def stopped(name: str, sent: int, now: datetime | None = None) -> None:
    """The engine stopped, having sent `sent` messages in all (its last heartbeat may be seconds old)."""
    Worker.update(stopped_at=now or utcnow(), sending=None, sent=sent).where(Worker.name == name).execute()


@dataclass(frozen=True)
class WorkerState:
    """An engine as `campaigns workers` and the details screen show it."""

    name: str
    host: str
    pid: int
    state: str  # alive, silent (no heartbeat for SILENT_AFTER) or stopped
    started_at: datetime
    heartbeat_at: datetime
    sending: tuple[int, ...]  # the campaigns it sends now
    sent: int  # messages it sent since it started, as of its last heartbeat
    silent_for_seconds: int

    @classmethod
    def of(cls, worker: Worker, now: datetime) -> WorkerState:
        silent = worker.stopped_at is None and now - worker.heartbeat_at > SILENT_AFTER
        return cls(
            name=worker.name,
            host=worker.host,
            pid=worker.pid,
            state="stopped" if worker.stopped_at else "silent" if silent else "alive",
            started_at=worker.started_at,
            heartbeat_at=worker.heartbeat_at,
            sending=tuple(int(i) for i in worker.sending.split(",")) if worker.sending else (),
            sent=worker.sent,
            silent_for_seconds=int((now - worker.heartbeat_at).total_seconds()),
        )

    def as_document(self) -> dict[str, Any]:
        """The engine's JSON document (`campaigns workers --json`, docs/cli.md)."""
        return {
            "name": self.name,
            "host": self.host,
            "pid": self.pid,
            "state": self.state,
            "started_at": iso(self.started_at),
            "heartbeat_at": iso(self.heartbeat_at),
            "sending": list(self.sending),
            "sent": self.sent,
            "silent_for_seconds": self.silent_for_seconds,
        }


def all_workers(now: datetime | None = None) -> list[WorkerState]:
    """Every engine that ever ran here, the most recent first."""
    now = now or utcnow()
    return [WorkerState.of(w, now) for w in Worker.select().order_by(Worker.heartbeat_at.desc())]


def workers_of(campaign_id: int, now: datetime | None = None) -> list[WorkerState]:
    """The engines that claimed the campaign's messages, with their state."""
    now = now or utcnow()
    sql = f"SELECT DISTINCT worker FROM message WHERE campaign_id = {database.param} AND worker IS NOT NULL"
    names = [row[0] for row in database.execute_sql(sql, [campaign_id])]
    if not names:
        return []
    query = Worker.select().where(Worker.name.in_(names)).order_by(Worker.name)
    return [WorkerState.of(w, now) for w in query]
