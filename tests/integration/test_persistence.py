"""Nothing is lost across a restart: conversations live in the SQL tracker store (SQLite here).

The servers run with their own SQLite file. A conversation is started, the Rasa server is
stopped (gracefully, then by SIGKILL), started again, and the conversation goes on where it
was: every event still there in order, the slots intact, no second introduction.
"""
from __future__ import annotations

import sqlite3

import pytest

from bot import replies
from bot.servers import AssistantServers

TEXTS = replies.load()


@pytest.fixture(scope="module")
def restartable(trained_model, tmp_path_factory):
    database = tmp_path_factory.mktemp("restart") / "conversations.db"
    servers = AssistantServers(trained_model, env={"TRACKER_STORE_URL": f"sqlite:///{database}"})
    servers.start()
    servers.database = database
    yield servers
    servers.stop()


def event_summary(tracker):
    return [(e["event"], e.get("name"), e.get("text"), e.get("timestamp")) for e in tracker["events"]]


def stored_rows(database, sender):
    with sqlite3.connect(database) as connection:
        return connection.execute("SELECT COUNT(*) FROM events WHERE sender_id = ?", (sender,)).fetchone()[0]


@pytest.mark.parametrize("how", ["graceful", "crash"])
def test_a_conversation_survives_a_restart_of_the_rasa_server(restartable, how):
    servers = restartable
    sender = servers.new_sender()
    first = servers.send(sender, "What does the association think about looping?")
    assert TEXTS.text("intro", "en") in [m.get("text") for m in first]
    servers.send(sender, "Who is responsible if something goes wrong?")
    before = servers.tracker(sender)
    assert before["slots"]["language"] == "en" and before["slots"]["topic"]
    assert stored_rows(servers.database, sender) == len(before["events"])

    if how == "graceful":
        servers.stop()
        servers.start()
    else:
        servers.kill_rasa()
        servers.start_rasa()

    after = servers.tracker(sender)
    assert event_summary(after) == event_summary(before)
    assert after["slots"] == before["slots"]

    reply = servers.send(sender, "Tell me more")
    texts = [m.get("text") for m in reply]
    assert texts and TEXTS.text("intro", "en") not in texts  # the same conversation, not a new one
    assert servers.slots(sender)["language"] == "en"
    assert servers.tracker(sender)["events"][: len(before["events"])] == before["events"]
