"""Handoff tickets and their live messages in SQL (SQLAlchemy 1.4 Core): SQLite by
default, PostgreSQL by URL.

Tables are created on first use, and columns added since a database was made are added
then too (`_add_missing_columns`). Times are stored and returned in UTC.

A ticket is open (waiting for a person), claimed (a member of staff has it) or closed.
Its transcript is the conversation up to the handoff; what is written after it (the
person's messages while waiting, staff replies, the assistant's emergency replies) are
rows of `helpline_messages`, redacted. A staff reply's original text is kept only until
it is delivered (`pending_text`), because the person must receive it as written.
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
CLAIMED = "claimed"
CLOSED = "closed"
STATUSES = (OPEN, CLAIMED, CLOSED)
ACTIVE = (OPEN, CLAIMED)  # not closed: the conversation still waits for, or talks to, staff

# Why a ticket was made.
REQUESTED = "requested"          # the person asked for a person
AFTER_REFUSAL = "after_refusal"  # ... right after a settings refusal (the refusal's button or in words)
EMERGENCY = "emergency"          # made silently after the 112 reply
CALLBACK = "callback"            # the person asked to be called back, and agreed to leave a number
REASONS = (REQUESTED, AFTER_REFUSAL, EMERGENCY, CALLBACK)
EMERGENCY_TRIAGE = "emergency"

# Channels, from the conversation ID's prefix (bot/channels/).
CHANNELS = ("widget", "messenger", "rest")

# Who wrote a live message.
USER, BOT, STAFF = "user", "bot", "staff"
SPEAKERS = (USER, BOT, STAFF)

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


def channel_of(conversation_id: str) -> str:
    """widget (web:...), messenger (fb:...) or rest (anything else)."""
    if conversation_id.startswith("web:"):
        return "widget"
    if conversation_id.startswith("fb:"):
        return "messenger"
    return "rest"


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
        sa.Column("channel", sa.String(16), nullable=True, index=True),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("claimed_at", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=True, index=True),
        sa.Column("callback_number", sa.String(64), nullable=True),
        # Counts every change (live updates compare the sum; clocks may disagree).
        sa.Column("revision", sa.Integer, nullable=True, default=0),
    )


def _messages_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        "helpline_messages",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("ticket_id", sa.Integer, nullable=False, index=True),
        sa.Column("speaker", sa.String(8), nullable=False),
        sa.Column("staff_name", sa.String(64), nullable=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("pending_text", sa.Text, nullable=True),
        sa.Column("decision", sa.JSON, nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("delivered_at", UTCDateTime(), nullable=True),
    )


@dataclass
class LiveMessage:
    """A message written after the handoff (redacted; `pending_text` only until delivered)."""

    ticket_id: int
    speaker: str
    text: str
    created_at: datetime
    id: int = 0
    staff_name: Optional[str] = None
    pending_text: Optional[str] = field(default=None, repr=False)
    decision: Optional[Dict[str, Any]] = None
    delivered_at: Optional[datetime] = None

    def as_dict(self) -> Dict[str, Any]:
        """JSON-ready, without the undelivered original."""
        data = {k: v for k, v in asdict(self).items() if k != "pending_text"}
        for key, value in data.items():
            if isinstance(value, datetime):
                data[key] = iso(value)
        return data


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
    callback_number: Optional[str] = field(default=None, repr=False)

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
    channel: Optional[str] = None
    claimed_by: Optional[str] = None
    claimed_at: Optional[datetime] = None
    updated_at: Optional[datetime] = None
    revision: Optional[int] = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        self.channel = self.channel or channel_of(self.conversation_id)

    @property
    def is_open(self) -> bool:
        """Not closed (open or claimed)."""
        return self.status in ACTIVE

    @property
    def state(self) -> str:
        return self.status

    @property
    def is_emergency(self) -> bool:
        return self.triage == EMERGENCY_TRIAGE or self.reason == EMERGENCY

    def waiting_seconds(self, now: Optional[datetime] = None) -> int:
        """How long the person has waited: until the ticket was claimed or closed, or until now."""
        end = self.claimed_at or self.closed_at or now or utcnow()
        return max(0, int((end - self.created_at).total_seconds()))

    def as_dict(self) -> Dict[str, Any]:
        """JSON-ready: times as ISO 8601 UTC ("...Z"); `state` and `created` as the CLI
        documents them; no callback number (shown only on the ticket itself)."""
        data = asdict(self)
        data.pop("callback_number", None)
        for key, value in data.items():
            if isinstance(value, datetime):
                data[key] = iso(value)
        data["state"] = self.status
        data["created"] = data["created_at"]
        data["emergency"] = self.is_emergency
        data["waiting_seconds"] = self.waiting_seconds()
        return data


def iso(value: datetime) -> str:
    return value.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


class Database:
    """The helpline database for one set of tables: connects, and creates the tables
    (adding columns an older database lacks), on first use. Safe to share between threads."""

    def __init__(self, url: str, schema: Optional[str] = None, timeout: float = 5.0) -> None:
        self.url = url
        self.timeout = timeout
        self.metadata = sa.MetaData(schema=schema)
        self._engine: Optional[Engine] = None
        self._lock = threading.Lock()

    @property
    def engine(self) -> Engine:
        with self._lock:
            if self._engine is None:
                engine = _create_engine(self.url, self.timeout)
                self.metadata.create_all(engine, checkfirst=True)
                for table in self.metadata.sorted_tables:
                    _add_missing_columns(engine, table)
                self._engine = engine
            return self._engine

    def dispose(self) -> None:
        with self._lock:
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None


class TicketStore(Database):
    """Creates, lists, shows, claims and closes tickets, and keeps their live messages."""

    def __init__(self, url: str, schema: Optional[str] = None, timeout: float = 5.0) -> None:
        super().__init__(url, schema, timeout)
        self.table = _table(self.metadata)
        self.messages_table = _messages_table(self.metadata)

    def create(self, new: NewTicket) -> Ticket:
        values = asdict(new)
        values["delivery"] = NOT_SENT
        values["status"] = OPEN
        values["channel"] = channel_of(new.conversation_id)
        values["updated_at"] = new.created_at
        values["revision"] = 0
        with self.engine.begin() as connection:
            result = connection.execute(self.table.insert().values(**values))
            ticket_id = result.inserted_primary_key[0]
        return Ticket(**asdict(new), id=int(ticket_id), updated_at=new.created_at)

    def get(self, ticket_id: int) -> Optional[Ticket]:
        with self.engine.connect() as connection:
            row = connection.execute(self.table.select().where(self.table.c.id == int(ticket_id))).mappings().first()
        return _ticket(row) if row else None

    def list(self, status: Optional[str] = OPEN) -> List[Ticket]:
        """Tickets with this status (all when None; "active" for open and claimed), oldest first."""
        query = self.table.select().order_by(self.table.c.created_at, self.table.c.id)
        query = self._where_status(query, status)
        with self.engine.connect() as connection:
            return [_ticket(row) for row in connection.execute(query).mappings()]

    def queue(
        self,
        status: Optional[str] = "active",
        triage: Optional[str] = None,
        language: Optional[str] = None,
        channel: Optional[str] = None,
        offset: int = 0,
        limit: int = 25,
    ) -> "tuple[List[Ticket], int]":
        """One page of tickets in triage order, and how many match in all.

        Emergencies first, then the longest waiting (oldest) first; closed tickets
        (status "closed"), which nobody waits on, newest first."""
        t = self.table
        query = self._where_status(t.select(), status)
        if triage:
            query = query.where(t.c.triage == triage)
        if language:
            query = query.where(t.c.language == language)
        if channel:
            query = query.where(t.c.channel == channel)
        urgent = sa.case(((t.c.triage == EMERGENCY_TRIAGE) | (t.c.reason == EMERGENCY), 0), else_=1)
        if status == CLOSED:
            ordered = query.order_by(t.c.closed_at.desc(), t.c.id.desc())
        else:
            ordered = query.order_by(urgent, t.c.created_at, t.c.id)
        count = sa.select(sa.func.count()).select_from(query.subquery())
        with self.engine.connect() as connection:
            total = int(connection.execute(count).scalar() or 0)
            rows = connection.execute(ordered.offset(max(0, offset)).limit(max(1, limit))).mappings()
            return [_ticket(row) for row in rows], total

    def version(self) -> str:
        """Changes whenever a ticket or a live message is added or changed (live updates)."""
        t, m = self.table, self.messages_table
        with self.engine.connect() as connection:
            tickets = connection.execute(sa.select(sa.func.count(), sa.func.max(t.c.id), sa.func.sum(t.c.revision))).first()
            messages = connection.execute(sa.select(sa.func.max(m.c.id))).scalar()
        return f"{tickets[0]}:{tickets[1] or 0}:{tickets[2] or 0}:{messages or 0}"

    def claim(self, ticket_id: int, staff_name: str, when: Optional[datetime] = None) -> Optional[Ticket]:
        """The ticket is this staff member's (also when another had it: assigning). A closed
        ticket stays closed. None when there is no such ticket."""
        when = when or utcnow()
        with self.engine.begin() as connection:
            connection.execute(
                self.table.update()
                .where(self.table.c.id == int(ticket_id), self.table.c.status.in_(ACTIVE))
                .values(status=CLAIMED, claimed_by=staff_name, claimed_at=sa.func.coalesce(self.table.c.claimed_at, when),
                        updated_at=when, revision=self._next_revision())
            )
        return self.get(ticket_id)

    def close(self, ticket_id: int, when: Optional[datetime] = None) -> Optional[Ticket]:
        """Closes an open or claimed ticket; a closed one stays as it was. None when there is no such ticket."""
        when = when or utcnow()
        with self.engine.begin() as connection:
            connection.execute(
                self.table.update()
                .where(self.table.c.id == int(ticket_id), self.table.c.status.in_(ACTIVE))
                .values(status=CLOSED, closed_at=when, updated_at=when, revision=self._next_revision())
            )
        return self.get(ticket_id)

    # -- live messages ------------------------------------------------------------------

    def add_message(
        self,
        ticket_id: int,
        speaker: str,
        text: str,
        *,
        staff_name: Optional[str] = None,
        pending_text: Optional[str] = None,
        decision: Optional[Dict[str, Any]] = None,
        when: Optional[datetime] = None,
    ) -> LiveMessage:
        """Adds a message (`text` already redacted) and marks the ticket changed."""
        if speaker not in SPEAKERS:
            raise ValueError(f"unknown speaker {speaker!r}")
        message = LiveMessage(
            ticket_id=int(ticket_id), speaker=speaker, text=text, created_at=when or utcnow(),
            staff_name=staff_name, pending_text=pending_text, decision=decision,
            delivered_at=None if pending_text is not None else (when or utcnow()),
        )
        values = {k: v for k, v in asdict(message).items() if k != "id"}
        with self.engine.begin() as connection:
            result = connection.execute(self.messages_table.insert().values(**values))
            message.id = int(result.inserted_primary_key[0])
            connection.execute(
                self.table.update().where(self.table.c.id == int(ticket_id))
                .values(updated_at=message.created_at, revision=self._next_revision())
            )
        return message

    def messages(self, ticket_id: int) -> List[LiveMessage]:
        """The ticket's live messages, in order."""
        m = self.messages_table
        query = m.select().where(m.c.ticket_id == int(ticket_id)).order_by(m.c.id)
        with self.engine.connect() as connection:
            return [LiveMessage(**dict(row)) for row in connection.execute(query).mappings()]

    def take_pending(self, conversation_id: str) -> List[LiveMessage]:
        """Staff replies to this conversation not yet delivered, oldest first; each is marked
        delivered and its original text dropped, in one transaction (delivered once)."""
        t, m = self.table, self.messages_table
        with self.engine.begin() as connection:
            ids = [row[0] for row in connection.execute(sa.select(t.c.id).where(t.c.conversation_id == conversation_id))]
            if not ids:
                return []
            rows = list(connection.execute(
                m.select().where(m.c.ticket_id.in_(ids), m.c.pending_text.isnot(None)).order_by(m.c.id)
            ).mappings())
            found = [LiveMessage(**dict(row)) for row in rows]
            if found:
                connection.execute(
                    m.update().where(m.c.id.in_([x.id for x in found])).values(pending_text=None, delivered_at=utcnow())
                )
        return found

    def active_for(self, conversation_id: str) -> Optional[Ticket]:
        """The latest open or claimed ticket that pauses this conversation, if any."""
        query = (
            self.table.select()
            .where(
                self.table.c.conversation_id == conversation_id,
                self.table.c.status.in_(ACTIVE),
                self.table.c.pauses_conversation.is_(True),
            )
            .order_by(self.table.c.id.desc())
            .limit(1)
        )
        with self.engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        return _ticket(row) if row else None

    def mark_emergency(self, ticket_id: int) -> None:
        """An emergency came up while a person was awaited: the ticket goes to the top."""
        self._update(ticket_id, triage=EMERGENCY_TRIAGE)

    def _where_status(self, query: Any, status: Optional[str]) -> Any:
        if status == "active":
            return query.where(self.table.c.status.in_(ACTIVE))
        if status is not None:
            return query.where(self.table.c.status == status)
        return query

    def mark_resumed(self, ticket_id: int, when: Optional[datetime] = None) -> None:
        self._update(ticket_id, resumed_at=when or utcnow())

    def mark_delivery(self, ticket_id: int, delivery: str) -> None:
        self._update(ticket_id, delivery=delivery)

    def open_pausing(self, conversation_id: str) -> List[int]:
        """Open tickets that keep this conversation paused."""
        query = sa.select(self.table.c.id).where(
            self.table.c.conversation_id == conversation_id,
            self.table.c.status.in_(ACTIVE),
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
                self.table.c.status.in_(ACTIVE),
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
        self._update(ticket_id, summary=summary, transcript=transcript, updated_at=utcnow())

    def delete_created_before(self, cutoff: datetime, dry_run: bool = False) -> Dict[str, int]:
        """Deletes tickets created before `cutoff` (retention); counts them, and the open ones among them."""
        old = self.table.c.created_at < cutoff
        with self.engine.begin() as connection:
            total = connection.execute(sa.select(sa.func.count()).where(old)).scalar() or 0
            still_open = connection.execute(
                sa.select(sa.func.count()).where(old, self.table.c.status.in_(ACTIVE))
            ).scalar() or 0
            if not dry_run:
                doomed = sa.select(self.table.c.id).where(old)
                connection.execute(self.messages_table.delete().where(self.messages_table.c.ticket_id.in_(doomed)))
                connection.execute(self.table.delete().where(old))
        return {"tickets": int(total), "open_tickets": int(still_open)}

    def _next_revision(self) -> Any:
        return sa.func.coalesce(self.table.c.revision, 0) + 1

    def _update(self, ticket_id: int, **values: Any) -> None:
        values.setdefault("revision", self._next_revision())
        with self.engine.begin() as connection:
            connection.execute(self.table.update().where(self.table.c.id == int(ticket_id)).values(**values))


def _ticket(row: Any) -> Ticket:
    data = dict(row)
    data["pauses_conversation"] = bool(data["pauses_conversation"])
    return Ticket(**data)


def _add_missing_columns(engine: Engine, table: sa.Table) -> None:
    """Adds columns this version defines that an older database lacks (all nullable)."""
    present = {column["name"] for column in sa.inspect(engine).get_columns(table.name, schema=table.schema)}
    missing = [column for column in table.columns if column.name not in present]
    if not missing:
        return
    preparer = engine.dialect.identifier_preparer
    with engine.begin() as connection:
        for column in missing:
            kind = column.type.compile(dialect=engine.dialect)
            connection.execute(sa.text(f"ALTER TABLE {preparer.format_table(table)} ADD COLUMN {preparer.quote(column.name)} {kind}"))


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
