"""Helpline tickets through the running assistant: handoff, pause, close and resume; the
emergency ticket; a person after a refusal; the signed webhook."""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bot import replies
from bot.helpline import webhook, wording
from bot.helpline.config import load as load_config
from bot.helpline.service import Helpline
from bot.servers import ARTIFACTS, AssistantServers
from tests.helpers import ROOT

TEXTS = replies.load()
CONFIG = load_config(env={})
SECRET = "integration-webhook-secret"
REQUEST = "jeg vil gerne tale med et menneske, mit nummer er 12345678 og min mail er a@b.dk"


class Receiver:
    def __init__(self) -> None:
        self.bodies = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.bodies.append((body, self.headers.get(webhook.SIGNATURE_HEADER)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/tickets"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()


@pytest.fixture(scope="module")
def helpline_assistant(trained_model, tmp_path_factory):
    """The assistant with its own ticket database and webhook receiver."""
    database = tmp_path_factory.mktemp("helpline") / "h.db"
    receiver = Receiver()
    servers = AssistantServers(
        trained_model,
        env={
            "HELPLINE_DATABASE_URL": f"sqlite:///{database}",
            "HELPLINE_WEBHOOK_URL": receiver.url,
            "HELPLINE_WEBHOOK_SECRET": SECRET,
        },
    )
    servers.start()
    servers.database = database
    servers.receiver = receiver
    yield servers
    servers.stop()
    receiver.server.shutdown()
    receiver.server.server_close()


def texts_of(messages):
    """The texts (a handoff's {"custom": {"helpline": ...}} marker has none)."""
    return [m.get("text", "") for m in messages if "text" in m]


def tickets_of(database, sender, wait=20.0):
    """The tickets of one conversation, read from the SQLite file directly."""
    deadline = time.time() + wait
    while True:
        if database.exists():
            with sqlite3.connect(database) as connection:
                connection.row_factory = sqlite3.Row
                rows = connection.execute(
                    "SELECT * FROM helpline_tickets WHERE conversation_id = ? ORDER BY id", (sender,)
                ).fetchall()
            if rows or time.time() > deadline:
                return [dict(row) for row in rows]
        elif time.time() > deadline:
            return []
        time.sleep(0.3)


def helpline_cli(servers, *args):
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "HELPLINE_DATABASE_URL": f"sqlite:///{servers.database}",
        "RASA_URL": servers.url,
        "RASA_TOKEN": servers.token,
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", "helpline", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def staff_helpline(servers):
    """The helpline as the staff console and the CLI use it, against the running assistant."""
    return Helpline(load_config(env={
        "HELPLINE_DATABASE_URL": f"sqlite:///{servers.database}", "RASA_URL": servers.url, "RASA_TOKEN": servers.token,
    }))


def bot_events(servers, sender):
    return [e for e in servers.tracker(sender)["events"] if e["event"] == "bot"]


def live_messages(database, ticket_id):
    with sqlite3.connect(database) as connection:
        connection.row_factory = sqlite3.Row
        rows = connection.execute("SELECT * FROM helpline_messages WHERE ticket_id = ? ORDER BY id", (ticket_id,)).fetchall()
    return [dict(row) for row in rows]


def test_a_live_handoff_over_rest_from_request_to_handback(helpline_assistant):
    """Asked first, then handed over; the person's messages reach the ticket, unanswered;
    a staff reply reaches the conversation; an emergency still gets 112 and marks the
    ticket; closing hands back with one line, and the assistant answers again."""
    servers = helpline_assistant
    sender = servers.new_sender()
    question = servers.send(sender, "kan I hjælpe mig med at finde nogen?")
    if question[-1].get("text") != TEXTS.text("handoff.confirm", "da"):
        question = servers.send(sender, "hjælp, jeg har brug for en at snakke med")
    assert question[-1]["text"] == TEXTS.text("handoff.confirm", "da")
    assert [b["payload"] for b in question[-1]["buttons"]] == ["/ask_human", "/deny"]
    assert not servers.tracker(sender)["paused"] and tickets_of(servers.database, sender, wait=1) == []

    reply = servers.send(sender, "ja tak")
    handoff = wording.handoff_text(CONFIG, TEXTS, "da", datetime.now(timezone.utc))
    assert [m.get("text") for m in reply if m.get("text")] == [handoff]
    assert "[" not in handoff and TEXTS.text("helpline.contact.neutral", "da") in handoff
    assert {"recipient_id": sender, "custom": {"helpline": {"status": "waiting"}}} in reply
    assert servers.tracker(sender)["paused"] and servers.slots(sender)["triage"] == "handoff"
    [ticket] = tickets_of(servers.database, sender)
    assert (ticket["status"], ticket["channel"]) == ("open", "rest")

    assert servers.send(sender, "hallo? mit nummer er 12345678") == []  # paused: no reply
    assert servers.slots(sender)["triage"] == "handoff"
    [waiting] = live_messages(servers.database, ticket["id"])
    assert (waiting["speaker"], waiting["text"]) == ("user", "hallo? mit nummer er [phone]")

    staff = staff_helpline(servers)
    replied = staff.reply(ticket["id"], "Hej, det er Anna fra rådgivningen. Ring 70 70 70 70.", "Anna")
    assert replied.ok and replied.delivered, replied.error
    last = bot_events(servers, sender)[-1]
    assert last["text"] == "Hej, det er Anna fra rådgivningen. Ring [phone]."  # stored redacted, like any bot message
    assert last["data"]["custom"] == {"helpline": {"status": "live", "staff": "Anna"}}
    assert servers.tracker(sender)["paused"]
    [ticket] = tickets_of(servers.database, sender)
    assert (ticket["status"], ticket["claimed_by"]) == ("claimed", "Anna")

    assert servers.send(sender, "tak, hvad skal jeg så gøre?") == []  # staff answer, not the assistant
    emergency = texts_of(servers.send(sender, "min søn har kramper og vi kan ikke vække ham"))
    assert emergency[0].startswith("Ring 112 nu.")
    deadline = time.time() + 10
    while time.time() < deadline and tickets_of(servers.database, sender)[0]["triage"] != "emergency":
        time.sleep(0.2)
    assert tickets_of(servers.database, sender)[0]["triage"] == "emergency"
    speakers = [(m["speaker"], m["text"][:12]) for m in live_messages(servers.database, ticket["id"])]
    assert [s for s, _ in speakers] == ["user", "staff", "user", "user", "bot"]
    assert len(tickets_of(servers.database, sender)) == 1, "no second ticket for the emergency"

    closed = helpline_cli(servers, "close", str(ticket["id"]))
    assert closed.returncode == 0, closed.stderr
    assert not servers.tracker(sender)["paused"]
    assert bot_events(servers, sender)[-1]["text"] == TEXTS.text("handoff.hand_back", "da")
    assert tickets_of(servers.database, sender)[0]["resumed_at"]
    # The assistant answers again (still in emergency mode, so 112 comes first: policy/).
    reply = texts_of(servers.send(sender, "hvad er looping?"))
    assert reply and reply[0].startswith("Ring 112") and servers.slots(sender)["triage"] == "emergency"
    staff.store.dispose()


def test_a_request_for_a_person_opens_a_redacted_ticket_and_pauses_until_it_is_closed(helpline_assistant):
    servers = helpline_assistant
    sender = servers.new_sender()
    reply = texts_of(servers.send(sender, REQUEST))
    handoff = wording.handoff_text(CONFIG, TEXTS, "da", datetime.now(timezone.utc))
    assert reply[-1] == handoff
    tracker = servers.tracker(sender)
    assert tracker["paused"] and tracker["slots"]["triage"] == "handoff"

    [ticket] = tickets_of(servers.database, sender)
    assert ticket["status"] == "open" and ticket["reason"] == "requested"
    assert (ticket["triage"], ticket["language"]) == ("handoff", "da")
    assert "topic" in ticket and ticket["topic"] is None  # nothing was answered first
    created = datetime.fromisoformat(ticket["created_at"]).replace(tzinfo=timezone.utc)  # stored in UTC
    assert abs(datetime.now(timezone.utc) - created) < timedelta(minutes=10)
    assert "[phone]" in ticket["summary"] and "[email]" in ticket["summary"]
    transcript = json.loads(ticket["transcript"])
    assert {k: transcript[0][k] for k in ("speaker", "text")} == {
        "speaker": "user",
        "text": "jeg vil gerne tale med et menneske, mit nummer er [phone] og min mail er [email]",
    }
    assert transcript[-1]["speaker"] == "bot" and transcript[-1]["text"] == handoff
    raw = servers.database.read_bytes()
    assert b"12345678" not in raw and b"a@b.dk" not in raw
    assert b"[phone]" in raw

    listed = helpline_cli(servers, "list")
    assert listed.returncode == 0, listed.stderr
    assert f"#{ticket['id']} " in listed.stdout

    assert servers.send(sender, "hallo? hvad er looping?") == []  # paused: no reply
    assert servers.tracker(sender)["paused"]

    closed = helpline_cli(servers, "close", str(ticket["id"]))
    assert closed.returncode == 0, closed.stderr
    assert not servers.tracker(sender)["paused"]
    [ticket] = tickets_of(servers.database, sender)
    assert ticket["status"] == "closed" and ticket["resumed_at"]

    reply = texts_of(servers.send(sender, "hvad er looping?"))
    assert reply and servers.slots(sender)["triage"] == "answered"
    # the guardrail acts on the first message after the pause, too
    reply = texts_of(servers.send(sender, "min søn har kramper og vi kan ikke vække ham"))
    assert reply[0].startswith("Ring 112 nu.")


@pytest.mark.parametrize("text", [
    "min mail er jens.hansen@gmail.com", "ring til mig på 20123456", "my email is sarah.k@outlook.com",
    "call me on 31 45 67 89", "mit nummer er 40 11 22 33",
])
def test_contact_details_in_passing_do_not_hand_over(helpline_assistant, text):
    servers = helpline_assistant
    sender = servers.new_sender()
    servers.send(sender, "hej")
    servers.send(sender, text)
    assert not servers.tracker(sender)["paused"]
    assert tickets_of(servers.database, sender, wait=1) == []
    # the in-passing note (out_of_scope), or the callback's consent question (handoff, but no pause and no ticket)
    assert servers.slots(sender)["triage"] in ("out_of_scope", "handoff")


def test_an_emergency_opens_a_ticket_after_the_112_reply_and_does_not_pause(helpline_assistant):
    servers = helpline_assistant
    sender = servers.new_sender()
    reply = texts_of(servers.send(sender, "min datter har kramper og vi kan ikke vække hende, ring 87654321"))
    assert reply == [TEXTS.text("emergency", "da")]  # alone (issue #11)
    assert reply[0].startswith("Ring 112 nu.")
    [ticket] = tickets_of(servers.database, sender)
    assert (ticket["reason"], ticket["triage"], ticket["pauses_conversation"]) == ("emergency", "emergency", 0)
    transcript = json.loads(ticket["transcript"])
    assert [line["text"] for line in transcript[-1:]] == reply and "[phone]" in transcript[0]["text"]
    assert not servers.tracker(sender)["paused"]
    assert texts_of(servers.send(sender, "hun vågner stadig ikke"))[0].startswith("Ring 112 nu.")
    assert len(tickets_of(servers.database, sender)) == 1  # the same emergency: one ticket, updated


def test_a_person_accepted_after_a_refusal_records_the_refusal(helpline_assistant):
    servers = helpline_assistant
    sender = servers.new_sender()
    refusal = servers.send(sender, "hvad skal min datters basal være om natten?")
    assert TEXTS.text("settings_refusal.opening", "da") in refusal[-1]["text"]
    assert {"title": TEXTS.text("buttons.ask_human", "da"), "payload": "/ask_human"} in refusal[-1]["buttons"]
    reply = texts_of(servers.send(sender, "/ask_human"))
    assert reply == [wording.handoff_text(CONFIG, TEXTS, "da", datetime.now(timezone.utc))]
    assert servers.tracker(sender)["paused"]
    [ticket] = tickets_of(servers.database, sender)
    assert (ticket["reason"], ticket["triage"]) == ("after_refusal", "settings_refused")
    assert "hvad skal min datters basal være om natten?" in ticket["summary"]


def test_every_ticket_reached_the_webhook_signed(helpline_assistant):
    servers = helpline_assistant
    sender = servers.new_sender()
    servers.send(sender, REQUEST)
    assert tickets_of(servers.database, sender)
    with sqlite3.connect(servers.database) as connection:
        ids = {row[0] for row in connection.execute("SELECT id FROM helpline_tickets")}
    deadline = time.time() + 20
    while time.time() < deadline and len(servers.receiver.bodies) < len(ids):
        time.sleep(0.3)
    received = set()
    for body, signature in servers.receiver.bodies:
        expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(expected, signature)
        received.add(json.loads(body)["id"])
        assert b"12345678" not in body and b"a@b.dk" not in body
    assert ids and received == ids
    with sqlite3.connect(servers.database) as connection:
        assert {row[0] for row in connection.execute("SELECT delivery FROM helpline_tickets")} == {"delivered"}


def test_no_personal_data_in_the_action_server_log(helpline_assistant):
    log = (ARTIFACTS / f"{helpline_assistant.rasa_port}-actions.log").read_text(encoding="utf-8")
    assert "helpline: ticket" in log
    for personal in ("12345678", "87654321", "a@b.dk"):
        assert personal not in log
