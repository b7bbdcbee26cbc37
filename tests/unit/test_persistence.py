"""The tracker store writes redacted events to SQL; the lock store follows LOCK_STORE_URL."""
from __future__ import annotations

import asyncio
import sqlite3

import pytest
from rasa.core.lock_store import InMemoryLockStore, RedisLockStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.persistence import lock_store, tracker_store
from tests.helpers import ROOT

PERSONAL = "Mit CPR er 010203-1234, ring 12 34 56 78 eller skriv til mor@example.dk. Jeg bor på Vestergade 12, 8000 Aarhus C"
CLINICAL = "BS 5,6 mmol/l"
SECRETS = ("010203-1234", "12 34 56 78", "mor@example.dk", "Vestergade 12")


@pytest.fixture(scope="module")
def domain():
    return Domain.load(str(ROOT / "domain.yml"))


@pytest.fixture
def store(tmp_path, monkeypatch, domain):
    path = tmp_path / "conversations.db"
    monkeypatch.setenv("TRACKER_STORE_URL", f"sqlite:///{path}")
    store = tracker_store.PrivateSQLTrackerStore(domain=domain)
    store.path = path
    return store


def conversation(domain, sender="sender-1"):
    tracker = DialogueStateTracker(sender, domain.slots)
    tracker.update_with_events(
        [
            ActionExecuted("action_session_start"),
            SessionStarted(),
            ActionExecuted("action_listen"),
            UserUttered(
                f"{PERSONAL}. {CLINICAL}",
                parse_data={"intent": {"name": "ask_stance", "confidence": 0.9}, "text": f"{PERSONAL}. {CLINICAL}"},
                metadata={"note": PERSONAL},
            ),
            SlotSet("intent_hint", PERSONAL),
            BotUttered("Svar"),
        ],
        domain,
    )
    return tracker


def raw_rows(path):
    with sqlite3.connect(path) as connection:
        return [row[0] for row in connection.execute("SELECT data FROM events ORDER BY id")]


def test_default_url_is_a_sqlite_file_under_var():
    assert tracker_store.database_url({}) == f"sqlite:///{tracker_store.DEFAULT_SQLITE}"
    assert tracker_store.database_url({"TRACKER_STORE_URL": "postgresql://u@h/db"}) == "postgresql://u@h/db"


def test_describe_hides_the_password():
    assert "secret" not in tracker_store.describe("postgresql://user:secret@db.example:5432/rasa")


def test_stored_events_are_redacted_but_keep_clinical_text(store, domain):
    asyncio.run(store.save(conversation(domain)))
    rows = raw_rows(store.path)
    stored = "\n".join(rows)
    for secret in SECRETS:
        assert secret not in stored
    assert "[cpr]" in stored and "[phone]" in stored and "[email]" in stored and "[address]" in stored
    assert "5,6 mmol/l" in stored
    assert "ask_stance" in stored


def test_reading_back_gives_the_redacted_conversation_with_every_event(store, domain):
    original = conversation(domain)
    asyncio.run(store.save(original))
    restored = asyncio.run(store.retrieve_full_tracker("sender-1"))
    assert [type(e) for e in restored.events] == [type(e) for e in original.events]
    assert [e.timestamp for e in restored.events] == [e.timestamp for e in original.events]
    assert restored.latest_message.text.startswith("Mit CPR er [cpr]")
    assert restored.latest_message.intent["name"] == "ask_stance"
    assert restored.get_slot("intent_hint").startswith("Mit CPR er [cpr]")


def test_saving_again_adds_only_the_new_events(store, domain):
    """As Rasa runs a turn: retrieve, add the turn's events, save (twice, to be sure)."""
    first = conversation(domain)
    asyncio.run(store.save(first))
    tracker = asyncio.run(store.retrieve("sender-1"))
    tracker.update(ActionExecuted("action_listen"))
    tracker.update(UserUttered("hej igen", parse_data={"intent": {"name": "greet", "confidence": 1.0}}))
    asyncio.run(store.save(tracker))
    asyncio.run(store.save(tracker))
    rows = raw_rows(store.path)
    assert len(rows) == len(first.events) + 2
    assert sum('"hej igen"' in row for row in rows) == 1


def test_a_new_store_on_the_same_file_sees_the_conversation(store, domain):
    asyncio.run(store.save(conversation(domain)))
    again = tracker_store.PrivateSQLTrackerStore(domain=domain)
    assert "sender-1" in asyncio.run(again.keys())


def test_lock_store_is_in_memory_without_a_url():
    store = lock_store.EnvironmentLockStore(env={})
    assert isinstance(store.store, InMemoryLockStore)


def test_lock_store_is_redis_with_a_url():
    store = lock_store.EnvironmentLockStore(env={"LOCK_STORE_URL": "redis://:pw@127.0.0.1:6390/3"})
    assert isinstance(store.store, RedisLockStore)
    kwargs = store.store.red.connection_pool.connection_kwargs
    assert (kwargs["host"], kwargs["port"], kwargs["db"], kwargs["password"]) == ("127.0.0.1", 6390, 3, "pw")


def test_lock_store_rejects_other_schemes():
    with pytest.raises(ValueError, match="redis://"):
        lock_store.EnvironmentLockStore(env={"LOCK_STORE_URL": "http://127.0.0.1:6379"})


def test_locks_work_through_the_delegate():
    store = lock_store.EnvironmentLockStore(env={})
    ticket = store.issue_ticket("c1")
    assert store.get_lock("c1").now_serving == ticket
    store.cleanup("c1", ticket)
    assert store.get_lock("c1") is None


def test_two_instances_never_issue_the_same_ticket():
    """Rasa's RedisLockStore issued duplicate tickets under contention; ours holds a mutex."""
    import threading

    from bot.persistence.scratch import redis_available, scratch_redis
    from tests.helpers import require_service

    require_service(redis_available(), "Redis at 127.0.0.1:6379")
    with scratch_redis() as url:
        stores = [lock_store.EnvironmentLockStore(env={"LOCK_STORE_URL": url}) for _ in range(2)]
        tickets, errors = [], []

        def issue(store):
            try:
                for _ in range(25):
                    tickets.append(store.issue_ticket("one-conversation"))
            except Exception as error:
                errors.append(error)

        threads = [threading.Thread(target=issue, args=(stores[i % 2],)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors
        assert sorted(tickets) == list(range(200))
