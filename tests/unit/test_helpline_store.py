"""The ticket store on SQLite (always) and PostgreSQL (when reachable; required when CI=true)."""
from __future__ import annotations

import os
import stat
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from bot.helpline import store
from bot.helpline.config import resolve_database_url
from bot.paths import ROOT

POSTGRES_URL = os.environ.get("HELPLINE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def new_ticket(conversation="conv-1", reason=store.REQUESTED, pauses=True, minutes=0, **extra):
    values = dict(
        conversation_id=conversation,
        reason=reason,
        triage="handoff",
        language="da",
        topic="responsibility",
        summary="Bad om at tale med en person. Seneste besked: »[phone]«",
        transcript=[
            {"speaker": "user", "text": "må jeg tale med en person? [phone]", "time": "2024-03-01T10:00:00Z"},
            {"speaker": "bot", "text": "Jeg giver besked videre.", "time": "2024-03-01T10:00:01Z"},
        ],
        pauses_conversation=pauses,
        created_at=datetime(2024, 3, 1, 10, 0, tzinfo=timezone.utc) + timedelta(minutes=minutes),
    )
    values.update(extra)
    return store.NewTicket(**values)


@pytest.fixture
def sqlite_store(tmp_path):
    ticket_store = store.TicketStore(f"sqlite:///{tmp_path}/var/h.db")
    yield ticket_store
    ticket_store.dispose()


@pytest.fixture
def postgres_store():
    """A store in a schema of its own, dropped afterwards."""
    engine = sa.create_engine(POSTGRES_URL, future=True, connect_args={"connect_timeout": 3})
    try:
        with engine.connect():
            pass
    except Exception as error:  # noqa: BLE001
        engine.dispose()
        message = f"PostgreSQL is not reachable at {POSTGRES_URL} ({type(error).__name__})"
        if os.environ.get("CI") == "true":
            pytest.fail(message + "; CI=true requires it")
        pytest.skip(message)
    schema = f"helpline_test_{uuid.uuid4().hex[:10]}"
    with engine.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    ticket_store = store.TicketStore(POSTGRES_URL, schema=schema)
    try:
        yield ticket_store
    finally:
        ticket_store.dispose()
        with engine.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def any_store(request):
    return request.getfixturevalue(f"{request.param}_store")


def test_create_then_show(any_store):
    created = any_store.create(new_ticket())
    assert created.id > 0
    shown = any_store.get(created.id)
    assert shown == created
    assert shown.status == store.OPEN and shown.is_open
    assert shown.created_at == datetime(2024, 3, 1, 10, 0, tzinfo=timezone.utc)
    assert shown.created_at.tzinfo is not None
    assert shown.transcript[0] == {"speaker": "user", "text": "må jeg tale med en person? [phone]", "time": "2024-03-01T10:00:00Z"}
    assert (shown.triage, shown.language, shown.topic, shown.reason) == ("handoff", "da", "responsibility", "requested")
    assert shown.delivery == store.NOT_SENT and shown.closed_at is None and shown.resumed_at is None


def test_list_open_oldest_first_then_close(any_store):
    later = any_store.create(new_ticket("b", minutes=5))
    earlier = any_store.create(new_ticket("a", minutes=1))
    assert [t.id for t in any_store.list()] == [earlier.id, later.id]
    closed = any_store.close(earlier.id, when=datetime(2024, 3, 1, 11, 0, tzinfo=timezone.utc))
    assert closed.status == store.CLOSED and not closed.is_open
    assert closed.closed_at == datetime(2024, 3, 1, 11, 0, tzinfo=timezone.utc)
    assert [t.id for t in any_store.list()] == [later.id]
    assert [t.id for t in any_store.list(store.CLOSED)] == [earlier.id]
    assert {t.id for t in any_store.list(None)} == {earlier.id, later.id}


def test_closing_twice_keeps_the_first_close_and_unknown_ids_are_none(any_store):
    ticket = any_store.create(new_ticket())
    first = any_store.close(ticket.id, when=datetime(2024, 3, 1, 11, 0, tzinfo=timezone.utc))
    again = any_store.close(ticket.id, when=datetime(2024, 3, 2, 11, 0, tzinfo=timezone.utc))
    assert again.closed_at == first.closed_at
    assert any_store.get(99999) is None
    assert any_store.close(99999) is None


def test_resume_delivery_and_pausing_tickets(any_store):
    pausing = any_store.create(new_ticket("c"))
    any_store.create(new_ticket("c", reason=store.EMERGENCY, pauses=False))
    any_store.create(new_ticket("other"))
    assert any_store.open_pausing("c") == [pausing.id]
    any_store.mark_delivery(pausing.id, store.DELIVERED)
    any_store.mark_resumed(pausing.id, when=datetime(2024, 3, 1, 12, 0, tzinfo=timezone.utc))
    shown = any_store.get(pausing.id)
    assert shown.delivery == store.DELIVERED
    assert shown.resumed_at == datetime(2024, 3, 1, 12, 0, tzinfo=timezone.utc)
    any_store.close(pausing.id)
    assert any_store.open_pausing("c") == []


def test_the_open_ticket_for_a_reason_can_be_updated(any_store):
    ticket = any_store.create(new_ticket("d", reason=store.EMERGENCY, pauses=False))
    assert any_store.open_for("d", store.EMERGENCY).id == ticket.id
    assert any_store.open_for("d", store.REQUESTED) is None
    any_store.update_content(ticket.id, "newer", [{"speaker": "user", "text": "x", "time": "t"}])
    assert any_store.get(ticket.id).summary == "newer"


def test_times_are_utc_whatever_zone_they_come_in(any_store):
    copenhagen = timezone(timedelta(hours=1))
    ticket = any_store.create(new_ticket(created_at=datetime(2024, 3, 1, 11, 0, tzinfo=copenhagen)))
    assert any_store.get(ticket.id).created_at == datetime(2024, 3, 1, 10, 0, tzinfo=timezone.utc)
    assert any_store.get(ticket.id).as_dict()["created_at"] == "2024-03-01T10:00:00Z"


def test_naive_times_are_refused(sqlite_store):
    with pytest.raises(sa.exc.StatementError):
        sqlite_store.create(new_ticket(created_at=datetime(2024, 3, 1, 10, 0)))


def test_unicode_survives(any_store):
    text = "Hvad må lægen? Æøå »citat« – og emoji 🙂"
    ticket = any_store.create(new_ticket(summary=text))
    assert any_store.get(ticket.id).summary == text


def test_the_sqlite_file_and_folder_are_created_private(tmp_path):
    path = tmp_path / "new" / "folder" / "h.db"
    ticket_store = store.TicketStore(f"sqlite:///{path}")
    ticket_store.create(new_ticket())
    ticket_store.dispose()
    assert path.exists()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_a_second_store_on_the_same_file_sees_the_tickets(tmp_path):
    url = f"sqlite:///{tmp_path}/h.db"
    first, second = store.TicketStore(url), store.TicketStore(url)
    ticket = first.create(new_ticket())
    assert second.get(ticket.id) == ticket
    first.dispose()
    second.dispose()


def test_relative_sqlite_paths_are_under_the_repository_root():
    assert resolve_database_url("sqlite:///var/helpline.db") == f"sqlite:///{ROOT / 'var' / 'helpline.db'}"
    assert resolve_database_url("sqlite:////tmp/h.db") == "sqlite:////tmp/h.db"
    assert resolve_database_url("postgres://u@h/db") == "postgresql://u@h/db"
    assert resolve_database_url(POSTGRES_URL) == POSTGRES_URL


def test_an_unknown_reason_is_refused():
    with pytest.raises(ValueError):
        new_ticket(reason="whim")
