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


# --- a number split over two messages, numbers in metadata -------------------------------


def turn(tracker, domain, text, metadata=None):
    """One turn as Rasa runs it: the person's message, a slot quoting it, the reply, listening again."""
    tracker.update_with_events(
        [
            UserUttered(text, parse_data={"intent": {"name": "ask_stance", "confidence": 0.9}, "text": text},
                        metadata=metadata or {}),
            SlotSet("intent_hint", text),
            BotUttered("Svar"),
            ActionExecuted("action_listen"),
        ],
        domain,
    )


def start(domain, sender="sender-2"):
    tracker = DialogueStateTracker(sender, domain.slots)
    tracker.update_with_events(
        [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")], domain
    )
    return tracker


def two_turns(store, domain, first, second, together=False, sender="sender-2"):
    """Stores `first` and then `second` (in two saves, as Rasa does, or in one).

    Returns the stored user texts and the stored values of the slot that quoted them.
    """
    tracker = start(domain, sender)
    turn(tracker, domain, first)
    if not together:
        asyncio.run(store.save(tracker))
        tracker = asyncio.run(store.retrieve(sender))
    turn(tracker, domain, second)
    asyncio.run(store.save(tracker))
    restored = asyncio.run(store.retrieve_full_tracker(sender))
    texts = [e.text for e in restored.events if isinstance(e, UserUttered)]
    quoted = [e.value for e in restored.events if isinstance(e, SlotSet) and e.key == "intent_hint"]
    return texts, quoted


SPLIT = [
    ("mit cpr er 130492", "7141", ["mit cpr er [cpr]", "[cpr]"]),
    ("mit cpr er 130492-", "7141 tak", ["mit cpr er [cpr]", "[cpr] tak"]),
    ("130492", "-7141", ["[cpr]", "[cpr]"]),
    ("my CPR number is 130492", "7141, thanks", ["my CPR number is [cpr]", "[cpr], thanks"]),
    ("ring på +45 6172", "8391", ["ring på [phone]", "[phone]"]),
    ("call me on 6172", "8391", ["call me on [phone]", "[phone]"]),
]


@pytest.mark.parametrize("first, second, expected", SPLIT)
@pytest.mark.parametrize("together", [False, True], ids=["two saves", "one save"])
def test_a_number_split_over_two_messages_is_redacted_in_both(store, domain, first, second, expected, together):
    texts, quoted = two_turns(store, domain, first, second, together)
    assert texts == expected
    assert quoted == expected  # the slot that quoted each message was rewritten as well
    stored = "\n".join(raw_rows(store.path))
    for part in ("130492", "7141", "6172", "8391"):
        assert part not in stored, part


def test_two_numbers_that_are_no_split_number_stay(store, domain):
    texts, _ = two_turns(store, domain, "hun blev født i 1992", "2010 fik hun diabetes, BS 12", sender="a")
    assert texts == ["hun blev født i 1992", "2010 fik hun diabetes, BS 12"]
    texts, _ = two_turns(store, domain, "BS 12", "14 i nat", sender="b")
    assert texts == ["BS 12", "14 i nat"]
    texts, _ = two_turns(store, domain, "my son is 14", "5.6 now", sender="c")
    assert texts == ["my son is 14", "5.6 now"]


def test_a_whole_number_in_the_first_message_is_not_joined(store, domain):
    texts, _ = two_turns(store, domain, "ring 61 72 83 91", "22")
    assert texts == ["ring [phone]", "22"]


def test_numbers_in_the_metadata_are_redacted(store, domain):
    tracker = start(domain, "sender-3")
    metadata = {
        "cpr": 1304927121,
        "phone": 61728391,
        "as_float": 61728391.0,
        "nested": {"numbers": [1304927121, 3], "text": "ring 61.72.83.91"},
        "account": 123456789012,
        "count": 3,
        "glucose": 16.2,
        "confirmed": True,
        "timestamp": 1712345678,
        "created_at": 1712345678123,
    }
    turn(tracker, domain, "hej", metadata=metadata)
    asyncio.run(store.save(tracker))
    stored = "\n".join(raw_rows(store.path))
    for secret in ("1304927121", "61728391", "123456789012", "61.72.83.91"):
        assert secret not in stored, secret
    restored = asyncio.run(store.retrieve_full_tracker("sender-3"))
    user = next(e for e in restored.events if isinstance(e, UserUttered))
    assert user.metadata == {
        "cpr": "[cpr]",
        "phone": "[phone]",
        "as_float": "[phone]",
        "nested": {"numbers": ["[cpr]", 3], "text": "ring [phone]"},
        "account": "[number]",
        "count": 3,
        "glucose": 16.2,
        "confirmed": True,
        "timestamp": 1712345678,
        "created_at": 1712345678123,
    }
    assert [e.timestamp for e in restored.events] == [e.timestamp for e in tracker.events]


def test_events_streamed_to_an_event_broker_are_redacted(store):
    """Rasa streams new events to a configured broker before the store writes them (#12)."""
    published = []

    class Broker:
        def publish(self, event):
            published.append(event)

    events = [UserUttered("mit cpr er 130492-7141 og min mail er ole@example.dk, BS 14,2 mmol/l",
                          {"name": "out_of_scope", "confidence": 0.9}, metadata={"phone": 61728391})]
    asyncio.run(store._stream_new_events(Broker(), events, "sender-9"))
    [body] = published
    dumped = str(body)
    assert "130492-7141" not in dumped and "ole@example.dk" not in dumped and "61728391" not in dumped
    assert body["sender_id"] == "sender-9" and body["event"] == "user"
    assert body["text"] == "mit cpr er [cpr] og min mail er [email], BS 14,2 mmol/l"
