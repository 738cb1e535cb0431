"""Rollbacks and the evidence guards judge, kept in the parity store's database for everyone.

Two tables beside the parity tables, so every worker and gateway instance sharing the store
sees the same state (SQLAlchemy Core; SQLite, MariaDB/MySQL or PostgreSQL):

- `strangler_rollbacks` (route): whether a guard has rolled the route back to legacy, since
  when, why, and the `epoch` of its evidence. A resume (the operator's, or a reload that
  changed the route) sets it back and starts a new epoch, so the guard judges only what the
  native side did since. A rollback records the route's `fingerprint` (its configuration as
  the table had it): a table that changes the route clears the rollback, one that does not
  keeps it, however often it is reloaded.
- `strangler_answers` (route, epoch, bucket, side, slot): how many answers each side gave per
  5-second bucket, per latency slot of `proxy.modes.guard.BOUNDS` (errors under slot -1).
  Every process adds its own counts (`n = n + excluded.n`), never reading them back first.

Writes are conditional updates, so of several processes tripping (or clearing) one rollback at
once exactly one succeeds, and only that one records the flip. Synchronous: call it from a
worker thread or from the CLI.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    Float,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    func,
    select,
)
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from proxy.modes.guard import SideEvidence
from proxy.table.model import Route
from shadow.tables import create_missing, key_string

BUCKET = 5  # seconds: the width of an evidence bucket
# (engine, route, old mode, new mode, trigger, at, table digest): writes one flip to the history
FlipWriter = Callable[[Engine, str, "str | None", "str | None", str, float, str], None]


metadata = MetaData()
rollbacks = Table(
    "strangler_rollbacks",
    metadata,
    Column("route", key_string(200), primary_key=True),
    Column("state", String(16), nullable=False),
    Column("epoch", Integer, nullable=False),
    Column("at", Float, nullable=False),
    Column("reason", Text, nullable=False),
    Column("mode", String(16), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("digest", String(64), nullable=False),
    Column("trigger", String(16), nullable=False),
    mysql_charset="utf8mb4",
)
answers = Table(
    "strangler_answers",
    metadata,
    Column("route", key_string(200), primary_key=True),
    Column("epoch", Integer, primary_key=True, autoincrement=False),
    Column("bucket", BigInteger, primary_key=True, autoincrement=False),
    Column("side", String(8), primary_key=True),
    Column("slot", SmallInteger, primary_key=True, autoincrement=False),
    Column("n", BigInteger, nullable=False),
    mysql_charset="utf8mb4",
)
Index("strangler_answers_bucket", answers.c.bucket)


class State(enum.Enum):
    ROLLED_BACK = "rolled_back"
    RESUMED = "resumed"


@dataclass(frozen=True, slots=True)
class Rollback:
    route: str
    state: State
    epoch: int
    at: float  # epoch seconds of the rollback (or of the resume)
    reason: str  # the guard's words ("error rate 7.1 % > 2 % over 5m, 412 requests")
    mode: str  # the mode the route was rolled back from: native or canary
    fingerprint: str
    digest: str  # of the table in force then
    trigger: str  # guard, resume, or the reload's trigger (file, sighup, admin, startup)

    @property
    def active(self) -> bool:
        return self.state is State.ROLLED_BACK


def fingerprint(route: Route | None) -> str:
    """The route's configuration, as a hash: equal for an unchanged route whatever its line."""
    if route is None:
        return ""
    methods = sorted(route.methods) if route.methods is not None else None
    text = repr((methods, dataclasses.replace(route, line=0, methods=None)))
    return hashlib.sha256(text.encode()).hexdigest()


def bucket_of(at: float) -> int:
    return int(at // BUCKET) * BUCKET


AnswerKey = tuple[str, int, int, str]  # route, epoch, bucket, side


class RollbackStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def on(cls, engine: Engine) -> RollbackStore:
        create_missing(metadata, engine)
        return cls(engine)

    def read(self, route: str | None = None) -> dict[str, Rollback]:
        query = select(rollbacks)
        if route is not None:
            query = query.where(rollbacks.c.route == route)
        with self.engine.connect() as conn:
            return {row.route: _rollback(row) for row in conn.execute(query)}

    def trip(self, rollback: Rollback) -> bool:
        """Roll the route back unless it is already, or its evidence is of an older epoch.
        True: this call did it (the caller records the flip)."""
        values = _values(rollback)
        for _ in range(2):
            try:
                with self.engine.begin() as conn:
                    found = conn.execute(
                        select(rollbacks.c.state).where(rollbacks.c.route == rollback.route)
                    ).first()
                    if found is None:
                        conn.execute(rollbacks.insert().values(**values))
                        return True
                    done = conn.execute(
                        rollbacks.update()
                        .where(rollbacks.c.route == rollback.route)
                        .where(rollbacks.c.state == State.RESUMED.value)
                        .where(rollbacks.c.epoch == rollback.epoch)
                        .values({k: v for k, v in values.items() if k != "route"})
                    )
                    return bool(done.rowcount)
            except IntegrityError:
                continue  # another process wrote the route's first row meanwhile: look again
        return False

    def resume(
        self, route: str, at: float, trigger: str, *, unless: str | None = None
    ) -> Rollback | None:
        """Lift the route's rollback and start a new epoch; the rollback lifted, or None when
        there was none (or it was made under the configuration `unless` fingerprints)."""
        with self.engine.begin() as conn:
            row = conn.execute(select(rollbacks).where(rollbacks.c.route == route)).first()
            if row is None or row.state != State.ROLLED_BACK.value:
                return None
            if unless is not None and row.fingerprint == unless:
                return None
            done = conn.execute(
                rollbacks.update()
                .where(rollbacks.c.route == route)
                .where(rollbacks.c.state == State.ROLLED_BACK.value)
                .where(rollbacks.c.epoch == row.epoch)
                .values(state=State.RESUMED.value, epoch=row.epoch + 1, at=at, trigger=trigger)
            )
            return _rollback(row) if done.rowcount else None

    def add(self, counts: Mapping[AnswerKey, SideEvidence]) -> None:
        """Add a process's answers to everyone's (in key order: two writers lock alike)."""
        rows = [
            {"route": r, "epoch": e, "bucket": b, "side": s, "slot": slot, "n": n}
            for (r, e, b, s), evidence in sorted(counts.items())
            for slot, n in evidence.rows()
        ]
        if rows:
            with self.engine.begin() as conn:
                conn.execute(_adding(conn), rows)

    def evidence(self, route: str, epoch: int, since: float) -> dict[str, SideEvidence]:
        """Per side, the route's answers of one epoch in the buckets from `since` on."""
        query = (
            select(answers.c.side, answers.c.slot, func.sum(answers.c.n))
            .where(answers.c.route == route)
            .where(answers.c.epoch == epoch)
            .where(answers.c.bucket > since - BUCKET)
            .group_by(answers.c.side, answers.c.slot)
        )
        found: dict[str, SideEvidence] = {}
        with self.engine.connect() as conn:
            for side, slot, n in conn.execute(query):
                found.setdefault(side, SideEvidence()).count(int(slot), int(n))
        return found

    def prune(self, before: float) -> int:
        with self.engine.begin() as conn:
            return int(conn.execute(answers.delete().where(answers.c.bucket < before)).rowcount)


def _rollback(row: Any) -> Rollback:
    return Rollback(
        row.route, State(row.state), int(row.epoch), float(row.at), row.reason, row.mode,
        row.fingerprint, row.digest, row.trigger,
    )  # fmt: skip


def _values(r: Rollback) -> dict[str, Any]:
    return {
        "route": r.route, "state": r.state.value, "epoch": r.epoch, "at": r.at,
        "reason": r.reason, "mode": r.mode, "fingerprint": r.fingerprint, "digest": r.digest,
        "trigger": r.trigger,
    }  # fmt: skip


def _adding(conn: Connection) -> Any:
    """INSERT ... n = n + the new n, in each dialect's words."""
    name = conn.dialect.name
    if name in ("mysql", "mariadb"):
        mine = mysql.insert(answers)
        return mine.on_duplicate_key_update(n=answers.c.n + mine.inserted.n)
    if name not in ("postgresql", "sqlite"):
        raise NotImplementedError(f"rollbacks on {name}: use SQLite, MariaDB/MySQL or PostgreSQL")
    ins = (postgresql.insert if name == "postgresql" else sqlite.insert)(answers)
    keys = [c.name for c in answers.primary_key.columns]
    return ins.on_conflict_do_update(index_elements=keys, set_={"n": answers.c.n + ins.excluded.n})


def lift(
    store: RollbackStore,
    route: str,
    *,
    at: float,
    trigger: str,
    mode: str | None,
    digest: str,
    flips: FlipWriter | None,
    unless: str | None = None,
) -> Rollback | None:
    """Resume a route (the operator's command, or a reload): the rollback lifted, its flip
    recorded (legacy → `mode`, the route's configured mode now)."""
    lifted = store.resume(route, at, trigger, unless=unless)
    if lifted is not None and flips is not None:
        flips(store.engine, route, "legacy", mode or lifted.mode, trigger, at, digest)
    return lifted


def active(rows: Iterable[Rollback]) -> dict[str, Rollback]:
    return {r.route: r for r in rows if r.active}
