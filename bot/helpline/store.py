"""Handoff tickets in SQL (SQLAlchemy 1.4 Core): SQLite by default, PostgreSQL by URL.

The table is created on first use. Times are stored and returned in UTC.
"""
from __future__ import annotations

import os
import threading
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

OPEN = "open"
CLOSED = "closed"
STATUSES = (OPEN, CLOSED)

# Why a ticket was made.
REQUESTED = "requested"          # the person asked for a person
AFTER_REFUSAL = "after_refusal"  # ... right after a settings refusal (the refusal's button or in words)
EMERGENCY = "emergency"          # made silently after the 112 reply
REASONS = (REQUESTED, AFTER_REFUSAL, EMERGENCY)

# Webhook delivery.
NOT_SENT = "not_sent"  # no webhook configured
DELIVERED = "delivered"
FAILED = "failed"
PENDING = "pending"


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(sa.types.TypeDecorator):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite (naive text) and PostgreSQL alike."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Optional[datetime], dialect) -> Optional[datetime]:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("helpline times must be timezone-aware")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Optional[datetime], dialect) -> Optional[datetime]:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        "helpline_tickets",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("conversation_id", sa.String(255), nullable=False, index=True),
        sa.Column("status", sa.String(16), nullable=False, default=OPEN, index=True),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("triage", sa.String(32), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("topic", sa.String(64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("transcript", sa.JSON, nullable=False),
        sa.Column("pauses_conversation", sa.Boolean, nullable=False, default=False),
        sa.Column("delivery", sa.String(16), nullable=False, default=NOT_SENT),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("resumed_at", UTCDateTime(), nullable=True),
    )


@dataclass
class NewTicket:
    """What the assistant knows when it hands a conversation over (already redacted)."""

    conversation_id: str
    reason: str
    triage: str
    language: str
    topic: Optional[str]
    summary: str
    transcript: List[Dict[str, Any]]
    pauses_conversation: bool
    created_at: datetime = field(default_factory=utcnow)

    def __post_init__(self) -> None:
        if self.reason not in REASONS:
            raise ValueError(f"unknown reason {self.reason!r}")


@dataclass
class Ticket(NewTicket):
    id: int = 0
    status: str = OPEN
    delivery: str = NOT_SENT
    closed_at: Optional[datetime] = None
    resumed_at: Optional[datetime] = None

    @property
    def is_open(self) -> bool:
        return self.status == OPEN

    def as_dict(self) -> Dict[str, Any]:
        """JSON-ready: times as ISO 8601 UTC ("...Z")."""
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, datetime):
                data[key] = iso(value)
        return data


def iso(value: datetime) -> str:
    return value.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


class TicketStore:
    """Creates, lists, shows and closes tickets. Safe to share between threads."""

    def __init__(self, url: str, schema: Optional[str] = None, timeout: float = 5.0) -> None:
        self.url = url
        self.timeout = timeout
        self.metadata = sa.MetaData(schema=schema)
        self.table = _table(self.metadata)
        self._engine: Optional[Engine] = None
        self._lock = threading.Lock()

    @property
    def engine(self) -> Engine:
        """Connects (and creates the table) on first use."""
        with self._lock:
            if self._engine is None:
                engine = _create_engine(self.url, self.timeout)
                self.metadata.create_all(engine, checkfirst=True)
                self._engine = engine
            return self._engine

    def create(self, new: NewTicket) -> Ticket:
        values = asdict(new)
        values["delivery"] = NOT_SENT
        values["status"] = OPEN
        with self.engine.begin() as connection:
            result = connection.execute(self.table.insert().values(**values))
            ticket_id = result.inserted_primary_key[0]
        return Ticket(**asdict(new), id=int(ticket_id))

    def get(self, ticket_id: int) -> Optional[Ticket]:
        with self.engine.connect() as connection:
            row = connection.execute(self.table.select().where(self.table.c.id == int(ticket_id))).mappings().first()
        return _ticket(row) if row else None

    def list(self, status: Optional[str] = OPEN) -> List[Ticket]:
        """Tickets with this status (all when None), oldest first."""
        query = self.table.select().order_by(self.table.c.created_at, self.table.c.id)
        if status is not None:
            query = query.where(self.table.c.status == status)
        with self.engine.connect() as connection:
            return [_ticket(row) for row in connection.execute(query).mappings()]

    def close(self, ticket_id: int, when: Optional[datetime] = None) -> Optional[Ticket]:
        """Closes an open ticket; a closed one stays as it was. None when there is no such ticket."""
        with self.engine.begin() as connection:
            connection.execute(
                self.table.update()
                .where(self.table.c.id == int(ticket_id), self.table.c.status == OPEN)
                .values(status=CLOSED, closed_at=when or utcnow())
            )
        return self.get(ticket_id)

    def mark_resumed(self, ticket_id: int, when: Optional[datetime] = None) -> None:
        self._update(ticket_id, resumed_at=when or utcnow())

    def mark_delivery(self, ticket_id: int, delivery: str) -> None:
        self._update(ticket_id, delivery=delivery)

    def open_pausing(self, conversation_id: str) -> List[int]:
        """Open tickets that keep this conversation paused."""
        query = sa.select(self.table.c.id).where(
            self.table.c.conversation_id == conversation_id,
            self.table.c.status == OPEN,
            self.table.c.pauses_conversation.is_(True),
        )
        with self.engine.connect() as connection:
            return [row[0] for row in connection.execute(query)]

    def open_for(self, conversation_id: str, reason: str) -> Optional[Ticket]:
        """The latest open ticket of this conversation made for this reason, if any."""
        query = (
            self.table.select()
            .where(
                self.table.c.conversation_id == conversation_id,
                self.table.c.status == OPEN,
                self.table.c.reason == reason,
            )
            .order_by(self.table.c.id.desc())
            .limit(1)
        )
        with self.engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        return _ticket(row) if row else None

    def update_content(self, ticket_id: int, summary: str, transcript: List[Dict[str, Any]]) -> None:
        """A newer summary and transcript for an open ticket (the same incident, later)."""
        self._update(ticket_id, summary=summary, transcript=transcript)

    def delete_created_before(self, cutoff: datetime, dry_run: bool = False) -> Dict[str, int]:
        """Deletes tickets created before `cutoff` (retention); counts them, and the open ones among them."""
        old = self.table.c.created_at < cutoff
        with self.engine.begin() as connection:
            total = connection.execute(sa.select(sa.func.count()).where(old)).scalar() or 0
            still_open = connection.execute(
                sa.select(sa.func.count()).where(old, self.table.c.status == OPEN)
            ).scalar() or 0
            if not dry_run:
                connection.execute(self.table.delete().where(old))
        return {"tickets": int(total), "open_tickets": int(still_open)}

    def dispose(self) -> None:
        with self._lock:
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None

    def _update(self, ticket_id: int, **values: Any) -> None:
        with self.engine.begin() as connection:
            connection.execute(self.table.update().where(self.table.c.id == int(ticket_id)).values(**values))


def _ticket(row: Any) -> Ticket:
    data = dict(row)
    data["pauses_conversation"] = bool(data["pauses_conversation"])
    return Ticket(**data)


def _create_engine(url: str, timeout: float) -> Engine:
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            _prepare_sqlite_file(Path(parsed.database))
        return sa.create_engine(url, future=True, connect_args={"timeout": timeout})
    if backend == "postgresql":
        return sa.create_engine(
            url, future=True, pool_pre_ping=True, connect_args={"connect_timeout": max(1, int(timeout))}
        )
    return sa.create_engine(url, future=True, pool_pre_ping=True)


def _prepare_sqlite_file(path: Path) -> None:
    """Tickets hold health-related conversations: the file is readable by its owner only."""
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
