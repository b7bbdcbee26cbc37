"""Messenger end to end: signed webhooks in Meta's format into the running assistant, and
the Send API calls it makes, captured by a fake Graph API on 127.0.0.1 (no network).

The assistant runs with its own servers (FACEBOOK_* set, FACEBOOK_GRAPH_URL pointing at
the fake), so bot/credentials.py turns the SecureFacebookInput channel on.

The channel answers 200 before it handles the events, so a test waits for the turn on the
fake Graph API (`say`, `wait_for_turns`: the channel sends typing_off after every turn).
A Messenger user's conversation is stored under "fb:<PSID>" (`conversation`); the Send
API calls go to the bare PSID.
"""
from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import random
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, Iterator, List, Optional, Tuple
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from bot import content, replies
from bot.servers import ARTIFACTS, AssistantServers

PAPER = content.load()
TEXTS = replies.load()

VERIFY = "integration-verify-token"
SECRET = "integration-app-secret-0123456789"
TOKEN = "integration-page-access-token-EAAG"
ROUTE = "/webhooks/facebook/webhook"
PAGE_ID = "100000000000001"


class FakeGraphAPI:
    """The Graph API's Send API on a free loopback port: records every call."""

    def __init__(self) -> None:
        self.calls: List[Dict[str, Any]] = []
        self.lock = threading.Lock()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length") or 0)
                parts = urlsplit(self.path)
                call = {
                    "path": parts.path,
                    "query": {k: v[0] for k, v in parse_qs(parts.query).items()},
                    "json": json.loads(self.rfile.read(length) or b"{}"),
                }
                with recorder.lock:
                    recorder.calls.append(call)
                answer = json.dumps({"recipient_id": call["json"].get("recipient", {}).get("id"), "message_id": "m_x"})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(answer.encode())

            def log_message(self, *args: Any) -> None:  # quiet (the URLs hold the test token)
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v21.0"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def for_sender(self, sender: str) -> List[Dict[str, Any]]:
        with self.lock:
            return [c for c in self.calls if c["json"].get("recipient", {}).get("id") == sender]

    def messages(self, sender: str) -> List[Dict[str, Any]]:
        return [c["json"]["message"] for c in self.for_sender(sender) if "message" in c["json"]]

    def turns_done(self, sender: str) -> int:
        """Turns finished for `sender`: the channel sends typing_off after every turn."""
        return sum(1 for c in self.for_sender(sender) if c["json"].get("sender_action") == "typing_off")


@pytest.fixture(scope="module")
def graph():
    fake = FakeGraphAPI()
    fake.start()
    yield fake
    fake.stop()


def messenger_env(graph: "FakeGraphAPI") -> Dict[str, str]:
    """The environment that turns the Messenger channel on, against the fake Graph API."""
    return {
        "FACEBOOK_VERIFY_TOKEN": VERIFY,
        "FACEBOOK_APP_SECRET": SECRET,
        "FACEBOOK_PAGE_ACCESS_TOKEN": TOKEN,
        "FACEBOOK_GRAPH_URL": graph.url,
    }


@contextlib.contextmanager
def three_channels(model: Any, folder: Any, widget_origin: str) -> Iterator[Tuple[AssistantServers, "FakeGraphAPI"]]:
    """The assistant with REST, the widget (from `widget_origin`) and Messenger (a fake Graph
    API), and SQLite files of its own in `folder`."""
    graph = FakeGraphAPI()
    graph.start()
    servers = AssistantServers(
        model,
        env={
            "TRACKER_STORE_URL": f"sqlite:///{folder}/conversations.db",
            "HELPLINE_DATABASE_URL": f"sqlite:///{folder}/helpline.db",
            "WIDGET_ALLOWED_ORIGINS": widget_origin,
            **messenger_env(graph),
        },
    )
    servers.start()
    try:
        yield servers, graph
    finally:
        servers.stop()
        graph.stop()


@pytest.fixture(scope="module")
def servers(trained_model, graph):
    """Action server + Rasa server with the Messenger channel on (module scope)."""
    running = AssistantServers(trained_model, env=messenger_env(graph))
    running.start()
    yield running
    running.stop()


def new_psid() -> str:
    """A page-scoped user ID as Messenger sends them (digits)."""
    return str(random.randint(10**15, 10**16 - 1))


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def conversation(psid: str) -> str:
    """The conversation id under which Rasa stores a Messenger user's conversation."""
    return "fb:" + psid


def webhook(sender: str, text: str, quick_reply: Optional[str] = None) -> bytes:
    """A Messenger webhook body in Meta's format, ASCII-escaped as Meta sends it."""
    return webhook_batch(sender, [text], quick_reply)


def webhook_batch(sender: str, texts: List[str], quick_reply: Optional[str] = None) -> bytes:
    """One webhook body with a message event for each of `texts`, from `sender`."""
    now = int(time.time() * 1000)
    events = []
    for text in texts:
        message: Dict[str, Any] = {"mid": f"m_{sender}_{random.getrandbits(64):x}", "text": text}
        if quick_reply:
            message["quick_reply"] = {"payload": quick_reply}
        events.append({"sender": {"id": sender}, "recipient": {"id": PAGE_ID}, "timestamp": now, "message": message})
    payload = {"object": "page", "entry": [{"id": PAGE_ID, "time": now, "messaging": events}]}
    return json.dumps(payload).encode()


def post(servers: AssistantServers, body: bytes, headers: Optional[Dict[str, str]] = None) -> requests.Response:
    return requests.post(
        servers.url + ROUTE, data=body, headers={"Content-Type": "application/json", **(headers or {})}, timeout=120
    )


def wait_for_turns(graph: FakeGraphAPI, sender: str, turns: int, timeout: float = 60) -> int:
    """Waits until `turns` turns of `sender` are done (or `timeout`); returns the count."""
    deadline = time.time() + timeout
    while graph.turns_done(sender) < turns and time.time() < deadline:
        time.sleep(0.2)
    return graph.turns_done(sender)


def say(servers: AssistantServers, graph: FakeGraphAPI, sender: str, text: str,
        quick_reply: Optional[str] = None) -> List[Dict[str, Any]]:
    """Posts one signed message and returns the Send API messages of that turn (the 200
    comes before the turn is handled: this waits for the turn's typing_off)."""
    before_turns, before = graph.turns_done(sender), len(graph.messages(sender))
    body = webhook(sender, text, quick_reply)
    answer = post(servers, body, {"X-Hub-Signature-256": sign(body)})
    assert answer.status_code == 200, answer.text
    wait_for_turns(graph, sender, before_turns + 1)
    return graph.messages(sender)[before:]


def texts(messages: List[Dict[str, Any]]) -> List[str]:
    """The text of each message sent; a button template's (the 112 call button) is its text."""
    return [m.get("text") or ((m.get("attachment") or {}).get("payload") or {}).get("text", "") for m in messages]


def flat(text: str) -> str:
    return " ".join(text.split())


def user_events(servers: AssistantServers, psid: str) -> List[Dict[str, Any]]:
    """The user events of the Messenger user `psid`'s conversation ("fb:<psid>")."""
    return [e for e in servers.tracker(conversation(psid))["events"] if e["event"] == "user"]


# --- the handshake ---------------------------------------------------------------------


def test_the_verification_handshake(servers):
    ok = requests.get(
        servers.url + ROUTE, params={"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "73519"},
        timeout=30,
    )
    assert (ok.status_code, ok.text) == (200, "73519")
    wrong = requests.get(
        servers.url + ROUTE, params={"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "73519"},
        timeout=30,
    )
    assert wrong.status_code == 403 and "73519" not in wrong.text


# --- answers ---------------------------------------------------------------------------


def test_a_danish_question_gets_the_papers_danish_answer_with_quick_replies(servers, graph):
    sender = new_psid()
    sent = say(servers, graph, sender, "hvad mener diabetesforeningen om looping?")
    said = texts(sent)
    assert flat(said[0]) == flat(TEXTS.text("intro", "da"))
    answer = flat(" ".join(said[1:]))
    for statement in PAPER.topic("association_stance").lead:
        assert flat(statement.text["da"]) in answer
    assert all(len(t) <= 2000 for t in said)

    quick = sent[-1]["quick_replies"]
    assert [q["payload"] for q in quick] == ["/follow_up", "/ask_human"]
    assert [q["title"] for q in quick] == [TEXTS.text("buttons.follow_up", "da"), TEXTS.text("buttons.ask_human", "da")]
    assert all(q["content_type"] == "text" and len(q["title"]) <= 20 for q in quick)

    calls = graph.for_sender(sender)
    assert calls and all(c["json"]["recipient"] == {"id": sender} for c in calls)
    assert all(c["path"] == "/v21.0/me/messages" and c["query"]["access_token"] == TOKEN for c in calls)
    proof = hmac.new(SECRET.encode(), TOKEN.encode(), hashlib.sha256).hexdigest()
    assert all(c["query"]["appsecret_proof"] == proof for c in calls)

    tracker = servers.tracker(conversation(sender))  # /conversations/fb:<psid>/tracker
    assert tracker["sender_id"] == f"fb:{sender}"
    slots = tracker["slots"]
    assert (slots["language"], slots["triage"], slots["topic"]) == ("da", "answered", "association_stance")
    assert user_events(servers, sender)[-1]["input_channel"] == "facebook"

    # the person taps "Fortæl mere": the quick reply's payload comes in as the message
    more = texts(say(servers, graph, sender, TEXTS.text("buttons.follow_up", "da"), quick_reply="/follow_up"))
    assert more and PAPER.statement("believes-1").text["da"] in flat(" ".join(more))
    last = user_events(servers, sender)[-1]
    assert last["text"] == "/follow_up" and last["parse_data"]["intent"]["name"] == "follow_up"


def test_a_settings_question_is_refused_without_a_figure(servers, graph):
    sender = new_psid()
    say(servers, graph, sender, "hej")
    sent = say(servers, graph, sender, "hvad skal min søns basal være om natten?")
    reply = "\n".join(texts(sent))
    assert TEXTS.text("settings_refusal.opening", "da") in reply
    assert not re.search(r"\d", reply)
    assert [q["payload"] for q in sent[-1].get("quick_replies", [])] == ["/ask_human"]
    assert servers.slots(conversation(sender))["triage"] == "settings_refused"


# --- refused requests ------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Hub-Signature-256": "sha256=" + "0" * 64},
        {"X-Hub-Signature-256": "WRONG-SIGNATURE"},
    ],
    ids=["unsigned", "zeros", "garbage"],
)
def test_unsigned_and_badly_signed_posts_are_refused_and_leave_no_trace(servers, graph, headers):
    sender = new_psid()
    answer = post(servers, webhook(sender, "hvad mener I om looping?"), headers)
    assert answer.status_code == 403
    assert user_events(servers, sender) == []
    assert graph.for_sender(sender) == []


def test_a_signature_with_the_wrong_secret_or_sha1_only_is_refused(servers, graph):
    sender = new_psid()
    body = webhook(sender, "hvad mener I om looping?")
    assert post(servers, body, {"X-Hub-Signature-256": sign(body, "not-the-app-secret")}).status_code == 403
    sha1 = "sha1=" + hmac.new(SECRET.encode(), body, hashlib.sha1).hexdigest()
    assert post(servers, body, {"X-Hub-Signature": sha1}).status_code == 403
    tampered = body.replace(b"looping", b"basal")
    assert post(servers, tampered, {"X-Hub-Signature-256": sign(body)}).status_code == 403
    assert user_events(servers, sender) == [] and graph.for_sender(sender) == []


def test_invalid_json_and_non_messenger_json_are_400(servers, graph):
    invalid_utf8 = webhook(new_psid(), "hej").replace(b'"hej"', b'"h\xffj"')
    for body in (b'{"object": "page", "entry": [', b'{"object": "page", "data": []}', invalid_utf8, b"[" * 100_000):
        answer = post(servers, body, {"X-Hub-Signature-256": sign(body)})
        assert answer.status_code == 400 and answer.json()["error"]
    assert post(servers, b"not json at all").status_code == 403  # unsigned: refused before it is read


def test_blank_and_too_long_messages_are_answered_without_the_assistant(servers, graph):
    from bot.channels import input_text

    sender = new_psid()
    assert texts(say(servers, graph, sender, " \n ")) == [input_text.empty_reply()]
    (too_long,) = texts(say(servers, graph, sender, "Hvad mener I om looping? " * 400))  # 10,000 characters
    assert too_long.startswith("Er nogen i akut fare, så ring 112") and "2.000" in too_long
    assert user_events(servers, sender) == []  # neither reached the conversation
    said = texts(say(servers, graph, sender, "hej\x00\u202e med dig 🙂"))
    assert said and user_events(servers, sender)[-1]["text"] == "hej med dig 🙂"


def test_a_redelivered_message_is_answered_once(servers, graph):
    sender = new_psid()
    body = webhook(sender, "hej")
    for _ in range(2):  # the retry comes while the first delivery is still being answered
        assert post(servers, body, {"X-Hub-Signature-256": sign(body)}).status_code == 200
    assert wait_for_turns(graph, sender, 1) == 1
    time.sleep(3)  # time for a second turn, were there one
    assert graph.turns_done(sender) == 1
    assert len(user_events(servers, sender)) == 1


def test_a_batch_is_answered_200_at_once_and_its_events_in_order_afterwards(servers, graph):
    sender = new_psid()
    questions = ["hej", "hvad mener I om looping?", "fortæl mere", "tak for hjælpen"]
    body = webhook_batch(sender, questions)
    answer = post(servers, body, {"X-Hub-Signature-256": sign(body)})
    turns_at_the_answer = graph.turns_done(sender)
    assert (answer.status_code, answer.text) == (200, "EVENT_RECEIVED")
    assert turns_at_the_answer < len(questions)  # the 200 did not wait for the turns
    assert wait_for_turns(graph, sender, len(questions)) == len(questions)
    assert [e["text"] for e in user_events(servers, sender)] == questions


# --- one conversation, one owner ---------------------------------------------------------


def test_a_messenger_conversation_is_stored_under_fb_psid_and_no_other_channel_reaches_it(servers, graph):
    psid = new_psid()
    assert say(servers, graph, psid, "hej")
    tracker = servers.tracker(f"fb:{psid}")  # GET /conversations/fb:<psid>/tracker
    assert tracker["sender_id"] == f"fb:{psid}"
    assert [(e["text"], e["input_channel"]) for e in tracker["events"] if e["event"] == "user"] == [("hej", "facebook")]
    assert all(c["json"]["recipient"] == {"id": psid} for c in graph.for_sender(psid))  # the Send API: bare PSID

    # a REST post whose sender is the PSID starts a conversation of its own
    calls = len(graph.for_sender(psid))
    assert servers.send(psid, "hvad mener I om looping?")
    assert [e["text"] for e in servers.tracker(psid)["events"] if e["event"] == "user"] == ["hvad mener I om looping?"]
    assert [e["text"] for e in user_events(servers, psid)] == ["hej"]  # the Messenger conversation is untouched
    assert len(graph.for_sender(psid)) == calls  # and nothing went to the person on Messenger


def test_no_secret_reaches_the_log(servers, graph):
    log = (ARTIFACTS / f"{servers.rasa_port}-rasa.log").read_text(encoding="utf-8", errors="replace")
    assert "Messenger webhook refused" in log  # the log is the right one, and the refusals are in it
    for secret in (SECRET, TOKEN, VERIFY):
        assert secret not in log


# --- the welcome screen's Get Started and the call button (#11) -----------------------------


def postback(sender: str, payload: str, title: str = "Get Started") -> bytes:
    """A messaging_postbacks webhook body, as Meta sends it for a Get Started tap."""
    now = int(time.time() * 1000)
    event = {"sender": {"id": sender}, "recipient": {"id": PAGE_ID}, "timestamp": now,
             "postback": {"mid": f"m_{sender}_{random.getrandbits(64):x}", "title": title, "payload": payload}}
    return json.dumps({"object": "page", "entry": [{"id": PAGE_ID, "time": now, "messaging": [event]}]}).encode()


def test_get_started_reaches_the_conversation_as_a_payload_and_gets_the_intro_and_privacy_note(servers, graph):
    from bot.privacy.retention import retention_days

    sender = new_psid()
    body = postback(sender, "/get_started")
    assert post(servers, body, {"X-Hub-Signature-256": sign(body)}).status_code == 200
    assert wait_for_turns(graph, sender, 1) == 1
    (event,) = user_events(servers, sender)
    assert event["text"] == "/get_started" and event["input_channel"] == "facebook"
    assert not (event.get("metadata") or {}).get("typed")  # a tap, not typed text: it acts as its intent
    assert event["parse_data"]["intent"]["name"] == "get_started"
    said = [flat(text) for text in texts(graph.messages(sender))]
    note = flat(TEXTS.text("privacy_note", "da", retention_days=str(retention_days())))
    assert said[0] == flat(TEXTS.text("intro", "da")) and note in said


def test_the_emergency_reply_goes_out_with_a_call_button_for_112(servers, graph):
    sender = new_psid()
    sent = say(servers, graph, sender, "min søn er bevidstløs og vi kan ikke vække ham")
    assert sent, "no reply"
    first = sent[0]  # 112 first: the reply with the button, before anything else
    template = first["attachment"]["payload"]
    assert template["template_type"] == "button"
    assert flat(template["text"]) == flat(TEXTS.text("emergency", "da"))
    (button,) = template["buttons"]
    assert (button["type"], button["payload"]) == ("phone_number", "+45112")  # Meta's format: + and country code
    assert "112" in button["title"] and len(button["title"]) <= 20  # the marker's title, in Danish
    assert '"emergency"' not in json.dumps(sent)  # the marker itself never reaches the person
    assert servers.slots(conversation(sender))["triage"] == "emergency"
