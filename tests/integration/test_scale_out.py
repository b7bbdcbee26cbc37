"""Two Rasa instances share one conversation: PostgreSQL holds it, Redis locks it.

Requests alternate between the two ports as a round-robin load balancer would send
them. Every event must be there, in order, whichever instance is asked; concurrent
messages to one conversation on both instances must not interleave; and killing one
instance mid-conversation must lose nothing. Skips without PostgreSQL or Redis, except
under CI=true, where that fails.
"""
from __future__ import annotations

import itertools
import threading
import uuid

import pytest

from bot import replies
from bot.persistence.scratch import postgres_available, redis_available, scratch_postgres, scratch_redis
from bot.servers import AssistantServers
from tests.helpers import require_service

TEXTS = replies.load()
QUESTIONS = [
    "Hvad mener Diabetesforeningen om looping?",
    "Hvem har ansvaret, hvis noget går galt?",
    "Fortæl mere",
    "Må min læge hjælpe mig med mit DIY-system?",
    "Hvad er looping?",
    "tak",
]


@pytest.fixture(scope="module")
def instances(trained_model):
    require_service(postgres_available(), "PostgreSQL at 127.0.0.1:5432")
    require_service(redis_available(), "Redis at 127.0.0.1:6379")
    with scratch_postgres(prefix="scaleout") as database, scratch_redis() as redis_url:
        env = {
            "TRACKER_STORE_URL": database,
            "LOCK_STORE_URL": redis_url,
            "RASA_TOKEN": uuid.uuid4().hex * 2,
        }
        running = [AssistantServers(trained_model, env=env), AssistantServers(trained_model, env=env)]
        try:
            for servers in running:  # one after the other: the first creates the tables
                servers.start()
            yield running
        finally:
            for servers in running:
                servers.stop()


def turns(tracker):
    """The conversation as (user text, [bot texts]) pairs, in stored order."""
    found = []
    for event in tracker["events"]:
        if event["event"] == "user":
            found.append((event["text"], []))
        elif event["event"] == "bot" and found:
            found[-1][1].append(event["text"])
    return found


def test_a_conversation_alternating_between_instances_keeps_every_event_in_order(instances):
    sender = AssistantServers.new_sender()
    round_robin = itertools.cycle(instances)
    answers = [[m.get("text") for m in next(round_robin).send(sender, text)] for text in QUESTIONS]

    first, second = (servers.tracker(sender) for servers in instances)
    assert first["events"] == second["events"]
    stored = turns(first)
    assert [text for text, _ in stored] == QUESTIONS
    assert [bot for _, bot in stored] == answers
    assert answers[0][0] == " ".join(TEXTS.text("intro", "da").split())
    assert all(TEXTS.text("intro", "da") not in " ".join(texts) for texts in answers[1:])  # one conversation
    assert first["slots"]["language"] == "da"
    ids = [event["timestamp"] for event in first["events"]]
    assert ids == sorted(ids)


def test_concurrent_messages_to_one_conversation_on_both_instances_do_not_interleave(instances):
    sender = AssistantServers.new_sender()
    texts = [f"Hvad mener Diabetesforeningen om looping? ({n})" for n in range(10)]
    errors = []

    def send(index, text):
        try:
            instances[index % 2].send(sender, text)
        except Exception as error:  # collected: an assertion in a thread would be lost
            errors.append(error)

    threads = [threading.Thread(target=send, args=(i, t)) for i, t in enumerate(texts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors

    stored = turns(instances[0].tracker(sender))
    assert sorted(text for text, _ in stored) == sorted(texts)
    # Each message was handled as a whole turn: its answer follows it before the next message.
    assert all(bot for _, bot in stored)
    events = [e["event"] for e in instances[1].tracker(sender)["events"]]
    user_positions = [i for i, name in enumerate(events) if name == "user"]
    for here, there in zip(user_positions, user_positions[1:] + [len(events)]):
        assert "bot" in events[here:there]
        assert events[there - 1] == "action" or there == len(events)


def test_killing_one_instance_mid_conversation_loses_nothing(instances):
    survivor, victim = instances
    sender = AssistantServers.new_sender()
    sent = []
    for servers, text in ((victim, QUESTIONS[0]), (survivor, QUESTIONS[1]), (victim, QUESTIONS[3])):
        servers.send(sender, text)
        sent.append(text)
    before = survivor.tracker(sender)["events"]

    victim.kill_rasa()
    try:
        for text in QUESTIONS[4:]:
            reply = survivor.send(sender, text)  # the load balancer now sends everything here
            assert reply and reply[0].get("text")
            sent.append(text)
        after = survivor.tracker(sender)
        assert after["events"][: len(before)] == before
        assert [text for text, _ in turns(after)] == sent
    finally:
        victim.start_rasa()
    assert victim.tracker(sender)["events"] == survivor.tracker(sender)["events"]
