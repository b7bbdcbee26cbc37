"""The hardened Messenger channel (bot/channels/messenger.py), without a model.

The channel's blueprint runs in an in-process Sanic server (registered the way Rasa
registers channels); a stand-in agent records the messages that reach it, and a local
aiohttp server stands in for the Graph API and records the Send API calls.

The channel answers 200 before it handles the events (in the background), so a test that
looks at what was handled first waits for the channel (`post_signed(..., channel)`).
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import re
import uuid
from typing import Any, Dict, List, Optional

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from rasa.core.channels.channel import UserMessage
from rasa.shared.exceptions import RasaException

from bot.channels import messenger
from bot.channels.messenger import SecureFacebookInput, SecureMessengerBot
from bot.servers import free_port
from tests.helpers import running_channel as running

VERIFY = "verify-token-for-unit-tests"
SECRET = "app-secret-for-unit-tests"
TOKEN = "page-access-token-for-unit-tests"
ROUTE = "/webhooks/facebook/webhook"


# --- helpers ---------------------------------------------------------------------------


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def sign_sha1(body: bytes, secret: str = SECRET) -> str:
    return "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()


def event(sender: str = "1234567890", text: Optional[str] = "hej", mid: Optional[str] = None, **message: Any):
    body: Dict[str, Any] = {"mid": mid or f"m_{uuid.uuid4().hex}", **message}
    if text is not None:
        body["text"] = text
    return {"sender": {"id": sender}, "recipient": {"id": "PAGE_ID"}, "timestamp": 1732400000000, "message": body}


def webhook_body(*events: Dict[str, Any]) -> bytes:
    payload = {"object": "page", "entry": [{"id": "PAGE_ID", "time": 1732400000000, "messaging": list(events)}]}
    return json.dumps(payload).encode()  # ASCII-escaped, as Meta sends it


class GraphRecorder:
    """A local Graph API: records every call and answers with `status`."""

    def __init__(self) -> None:
        self.calls: List[Dict[str, Any]] = []
        self.status = 200
        self.answer: Dict[str, Any] = {"recipient_id": "1234567890", "message_id": "m_sent"}
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._record)
        self.server = TestServer(app, host="127.0.0.1")

    async def _record(self, request: web.Request) -> web.Response:
        self.calls.append({"path": request.path, "query": dict(request.query), "json": await request.json()})
        return web.json_response(self.answer, status=self.status)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}/v21.0"

    def messages(self) -> List[Dict[str, Any]]:
        return [call["json"] for call in self.calls if "message" in call["json"]]


class RecordingAgent:
    """Stands in for Rasa's agent: records the messages and answers each with one text.

    `messages` are the messages that reached it, `handled` those it has finished; with a
    `gate`, each message waits for the gate to open before it is answered."""

    def __init__(self) -> None:
        self.messages: List[UserMessage] = []
        self.handled: List[UserMessage] = []
        self.fail = False
        self.gate: Optional[asyncio.Event] = None

    async def handle_message(self, message: UserMessage) -> None:
        self.messages.append(message)
        if self.gate is not None:
            await self.gate.wait()
        if self.fail:
            raise RuntimeError("the agent broke")
        await message.output_channel.send_response(
            message.sender_id, {"text": f"svar på {message.text}", "buttons": [{"title": "Fortæl mere", "payload": "/follow_up"}]}
        )
        self.handled.append(message)


@pytest.fixture(autouse=True)
def handover_off(monkeypatch):
    """These tests run without Meta's Handover Protocol, whatever this shell has set
    (tests/unit/test_messenger_handover.py turns it on)."""
    monkeypatch.delenv(messenger.HANDOVER_APP_ENV, raising=False)


@pytest.fixture
async def bot(graph):
    """(base URL, agent, channel, graph) for one in-process server."""
    agent = RecordingAgent()
    channel = SecureFacebookInput(VERIFY, SECRET, TOKEN, graph_base_url=graph.url)
    async with running(channel, agent) as url:
        yield url, agent, channel, graph


async def post(url: str, body: bytes, headers: Optional[Dict[str, str]] = None):
    async with aiohttp.ClientSession() as session:
        async with session.post(url + ROUTE, data=body, headers={"Content-Type": "application/json", **(headers or {})}) as r:
            return r.status, await r.text()


async def post_signed(url: str, body: bytes, channel: Optional[SecureFacebookInput] = None):
    """Posts `body` signed; with `channel`, then waits until the channel has handled every
    event it accepted (it answers before it handles them)."""
    status, text = await post(url, body, {"X-Hub-Signature-256": sign(body)})
    if channel is not None:
        assert await channel.wait_idle(10), "the channel did not finish its events within 10 s"
    return status, text


async def get(url: str, params: Dict[str, str]):
    async with aiohttp.ClientSession() as session:
        async with session.get(url + ROUTE, params=params) as r:
            return r.status, await r.text()


# --- signatures ------------------------------------------------------------------------


def test_signature_check_on_its_own():
    body = webhook_body(event())
    assert messenger.valid_signature(SECRET, body, sign(body))
    assert messenger.valid_signature(SECRET, body, sign(body).upper().replace("SHA256=", "sha256="))
    assert not messenger.valid_signature(SECRET, body, None)
    assert not messenger.valid_signature(SECRET, body, "")
    assert not messenger.valid_signature(SECRET, body, sign(body, "another secret"))
    assert not messenger.valid_signature(SECRET, body, sign_sha1(body))
    assert not messenger.valid_signature(SECRET, body + b" ", sign(body))
    assert not messenger.valid_signature(SECRET, body, sign(body)[7:])  # hex without "sha256="
    assert not messenger.valid_signature(SECRET, body, "sha256=" + "zz" * 32)
    assert not messenger.valid_signature(SECRET, body, "sha256=ø" + sign(body)[8:])
    assert not messenger.valid_signature("", body, sign(body, ""))
    assert not SecureFacebookInput.validate_hub_signature(SECRET, body, sign_sha1(body))


async def test_a_signed_message_reaches_the_agent_and_the_answer_goes_out(bot):
    url, agent, channel, graph = bot
    body = webhook_body(event(sender="24680", text="hvad mener I om looping?"))
    status, text = await post_signed(url, body, channel)
    assert (status, text) == (200, "EVENT_RECEIVED")
    assert [(m.text, m.sender_id, m.input_channel) for m in agent.messages] == [
        ("hvad mener I om looping?", "fb:24680", "facebook")
    ]
    sent = graph.messages()
    assert [m["message"]["text"] for m in sent] == ["svar på hvad mener I om looping?"]
    assert sent[0]["recipient"] == {"id": "24680"} and sent[0]["messaging_type"] == "RESPONSE"
    assert sent[0]["message"]["quick_replies"] == [{"content_type": "text", "title": "Fortæl mere", "payload": "/follow_up"}]
    actions = [c["json"]["sender_action"] for c in graph.calls if "sender_action" in c["json"]]
    assert actions == ["mark_seen", "typing_on", "typing_off"]
    for call in graph.calls:
        assert call["path"] == "/v21.0/me/messages"
        assert call["query"]["access_token"] == TOKEN
        assert call["query"]["appsecret_proof"] == hmac.new(SECRET.encode(), TOKEN.encode(), hashlib.sha256).hexdigest()


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Hub-Signature-256": ""},
        {"X-Hub-Signature-256": "sha256="},
        {"X-Hub-Signature-256": "WRONG"},
        {"X-Hub-Signature-256": "sha256=" + "0" * 64},
    ],
    ids=["missing", "empty", "no-hex", "garbage", "zeros"],
)
async def test_unsigned_or_garbage_signatures_are_403_and_nothing_is_processed(bot, headers):
    url, agent, _, graph = bot
    status, text = await post(url, webhook_body(event()), headers)
    assert status == 403 and "X-Hub-Signature-256" in json.loads(text)["error"]
    assert agent.messages == [] and graph.calls == []


async def test_the_wrong_secret_is_403(bot):
    url, agent, _, graph = bot
    body = webhook_body(event())
    status, _ = await post(url, body, {"X-Hub-Signature-256": sign(body, "not the app secret")})
    assert status == 403 and agent.messages == [] and graph.calls == []


async def test_the_sha1_header_alone_is_not_enough(bot):
    url, agent, _, graph = bot
    body = webhook_body(event())
    status, _ = await post(url, body, {"X-Hub-Signature": sign_sha1(body)})
    assert status == 403
    status, _ = await post(url, body, {"X-Hub-Signature": sign_sha1(body), "X-Hub-Signature-256": sign_sha1(body)})
    assert status == 403
    assert agent.messages == [] and graph.calls == []


async def test_a_tampered_body_is_403(bot):
    url, agent, _, graph = bot
    body = webhook_body(event(text="hej"))
    tampered = body.replace(b'"hej"', b'"hvad skal min basal v\\u00e6re?"')
    assert tampered != body
    status, _ = await post(url, tampered, {"X-Hub-Signature-256": sign(body)})
    assert status == 403 and agent.messages == [] and graph.calls == []


# --- payloads --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, reason",
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe\x00", "not valid JSON"),
        (b"", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (b'{"object": "page"}', '"entry"'),
        (b'{"object": "page", "entry": []}', '"entry"'),
        (b'{"object": "page", "entry": {"messaging": []}}', '"entry"'),
        (b'{"object": "user", "entry": [{"messaging": []}]}', '"object"'),
        (b'{"object": "page", "entry": [1]}', '"entry"'),
        (b'{"object": "page", "entry": [{"messaging": {"sender": {"id": "1"}}}]}', "messaging"),
        (b'{"object": "page", "entry": [{"messaging": [{"message": {"text": "hej"}}]}]}', "sender.id"),
        (b'{"object": "page", "entry": [{"messaging": [{"sender": {"id": ""}, "message": {"text": "x"}}]}]}', "sender.id"),
        (b'{"object": "page", "entry": [{"messaging": [{"sender": {"id": "1"}, "message": "hej"}]}]}', '"message"'),
    ],
)
async def test_bad_payloads_are_400_with_a_reason_and_nothing_is_processed(bot, body, reason):
    url, agent, _, graph = bot
    status, text = await post(url, body, {"X-Hub-Signature-256": sign(body)})
    assert status == 400
    assert reason in json.loads(text)["error"]
    assert agent.messages == [] and graph.calls == []


async def test_bad_payloads_without_a_signature_are_403_first(bot):
    url, agent, _, _ = bot
    status, _ = await post(url, b"{not json")
    assert status == 403 and agent.messages == []


async def test_a_valid_event_does_not_go_through_when_another_in_the_batch_is_bad(bot):
    url, agent, _, graph = bot
    body = json.dumps(
        {"object": "page", "entry": [{"messaging": [event(text="hej")]}, {"messaging": [{"message": {"text": "x"}}]}]}
    ).encode()
    status, _ = await post(url, body, {"X-Hub-Signature-256": sign(body)})
    assert status == 400 and agent.messages == [] and graph.calls == []


async def test_every_event_of_a_batch_is_handled_and_redeliveries_once(bot):
    url, agent, channel, _ = bot
    first, second = event(sender="1", text="hej", mid="m_1"), event(sender="2", text="hello", mid="m_2")
    body = json.dumps({"object": "page", "entry": [{"messaging": [first]}, {"messaging": [second]}]}).encode()
    assert (await post_signed(url, body, channel))[0] == 200
    assert sorted((m.sender_id, m.text, m.message_id) for m in agent.messages) == [
        ("fb:1", "hej", "m_1"), ("fb:2", "hello", "m_2")
    ]
    again = webhook_body(first)
    assert (await post_signed(url, again, channel))[0] == 200
    assert len(agent.messages) == 2


# --- 200 at once, events in the background ------------------------------------------------


async def test_a_batch_of_30_is_answered_200_before_any_event_is_handled(bot):
    url, agent, channel, graph = bot
    agent.gate = asyncio.Event()  # every message waits here until the test opens the gate
    body = webhook_body(*[event(sender="4242", text=f"spørgsmål {i}", mid=f"m_batch_{i}") for i in range(30)])
    try:
        status, text = await asyncio.wait_for(post(url, body, {"X-Hub-Signature-256": sign(body)}), timeout=5)
        assert (status, text) == (200, "EVENT_RECEIVED")
        assert agent.handled == [] and len(agent.messages) <= 1  # the 200 came first: at most one has begun
        assert graph.messages() == []
    finally:
        agent.gate.set()
    assert await channel.wait_idle(10)
    assert [m.text for m in agent.handled] == [f"spørgsmål {i}" for i in range(30)]  # all of them, in order
    assert [m.message_id for m in agent.handled] == [f"m_batch_{i}" for i in range(30)]
    assert [m["message"]["text"] for m in graph.messages()] == [f"svar på spørgsmål {i}" for i in range(30)]


async def test_a_retry_while_the_first_delivery_is_being_handled_is_handled_once(bot):
    url, agent, channel, graph = bot
    agent.gate = asyncio.Event()
    body = webhook_body(event(sender="77", text="hej", mid="m_r1"), event(sender="77", text="og mere", mid="m_r2"))
    try:
        first = await asyncio.wait_for(post(url, body, {"X-Hub-Signature-256": sign(body)}), timeout=5)
        retry = await asyncio.wait_for(post(url, body, {"X-Hub-Signature-256": sign(body)}), timeout=5)
        assert first[0] == retry[0] == 200
        assert agent.handled == []  # the first delivery is still being handled
    finally:
        agent.gate.set()
    assert await channel.wait_idle(10)
    assert [(m.text, m.message_id) for m in agent.messages] == [("hej", "m_r1"), ("og mere", "m_r2")]
    assert [m["message"]["text"] for m in graph.messages()] == ["svar på hej", "svar på og mere"]
    # a retry after the first delivery was handled is ignored too, but a new id in it is not
    again = webhook_body(event(sender="77", text="hej", mid="m_r1"), event(sender="77", text="tak", mid="m_r3"))
    assert (await post_signed(url, again, channel))[0] == 200
    assert [m.message_id for m in agent.messages] == ["m_r1", "m_r2", "m_r3"]


async def test_one_senders_events_stay_in_order_across_posts(bot):
    url, agent, channel, _ = bot
    agent.gate = asyncio.Event()
    posts = [
        webhook_body(event(sender="5", text="a1"), event(sender="6", text="b1"), event(sender="5", text="a2")),
        webhook_body(event(sender="6", text="b2"), event(sender="5", text="a3")),
        webhook_body(event(sender="5", text="a4")),
    ]
    try:
        for body in posts:
            assert (await asyncio.wait_for(post(url, body, {"X-Hub-Signature-256": sign(body)}), timeout=5))[0] == 200
    finally:
        agent.gate.set()
    assert await channel.wait_idle(10)
    assert [m.text for m in agent.handled if m.sender_id == "fb:5"] == ["a1", "a2", "a3", "a4"]
    assert [m.text for m in agent.handled if m.sender_id == "fb:6"] == ["b1", "b2"]
    assert channel._queues == {} and channel._tasks == set()  # nothing left behind


async def test_a_failure_in_the_background_is_logged_by_class_only_and_the_rest_goes_on(bot, monkeypatch, caplog):
    url, agent, channel, _ = bot
    handle = channel._handle_turn

    async def breaks_on_the_first(turn):
        if turn.text == "min cpr er 010203-1234":
            raise ValueError(f"could not handle {turn.text}")
        await handle(turn)

    monkeypatch.setattr(channel, "_handle_turn", breaks_on_the_first)
    body = webhook_body(event(sender="88", text="min cpr er 010203-1234"), event(sender="88", text="hej"))
    assert (await post_signed(url, body, channel)) == (200, "EVENT_RECEIVED")
    assert [m.text for m in agent.handled] == ["hej"]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "ValueError" in logged and "010203" not in logged


async def test_at_shutdown_turns_get_a_grace_period_then_are_cancelled(bot, caplog):
    url, agent, channel, _ = bot
    agent.gate = asyncio.Event()  # never opened
    body = webhook_body(event(sender="99", text="først"), event(sender="99", text="så"))
    assert (await post(url, body, {"X-Hub-Signature-256": sign(body)}))[0] == 200
    assert not await channel.wait_idle(0.2)
    await channel.shut_down(grace=0.2)
    assert channel._tasks == set() and channel._queues == {} and agent.handled == []
    assert "still being answered" in "\n".join(r.getMessage() for r in caplog.records)


# --- conversation ids: "fb:<PSID>" -------------------------------------------------------


def test_conversation_ids_and_psids():
    assert messenger.SENDER_PREFIX == "fb:"
    assert messenger.conversation_id("1234567890") == "fb:1234567890"
    assert messenger.conversation_id(1234567890) == "fb:1234567890"
    assert messenger.psid_of("fb:1234567890") == "1234567890"
    assert messenger.psid_of(messenger.conversation_id("42")) == "42"
    for foreign in ("1234567890", "fb:", "", "FB:1", "rest:fb:1"):
        assert messenger.psid_of(foreign) is None


async def test_rasa_gets_the_namespaced_id_and_the_send_api_the_bare_psid(bot):
    url, agent, channel, graph = bot
    body = webhook_body(event(sender="1357913579", text="hej"))
    assert (await post_signed(url, body, channel))[0] == 200
    (message,) = agent.messages
    assert message.sender_id == "fb:1357913579"
    assert graph.calls and all(c["json"]["recipient"] == {"id": "1357913579"} for c in graph.calls)
    assert [c["json"].get("sender_action") for c in graph.calls] == ["mark_seen", "typing_on", None, "typing_off"]
    # a numeric sender id in the JSON is the same person
    body = json.dumps({"object": "page", "entry": [{"messaging": [
        {"sender": {"id": 1357913579}, "recipient": {"id": "PAGE_ID"}, "message": {"mid": "m_int", "text": "igen"}}
    ]}]}).encode()
    assert (await post_signed(url, body, channel))[0] == 200
    assert [m.sender_id for m in agent.messages] == ["fb:1357913579", "fb:1357913579"]


async def test_the_output_channel_sends_only_to_messenger_conversations(graph, caplog):
    bot = SecureMessengerBot(messenger.GraphAPI(TOKEN, SECRET, graph.url))
    await bot.send_text_message("fb:2468", "hej")
    await bot.send_action("fb:2468", "typing_on")
    assert [c["json"]["recipient"] for c in graph.calls] == [{"id": "2468"}, {"id": "2468"}]
    for foreign in ("2468", "a-rest-sender", "fb:"):  # another channel's conversation: nothing is sent
        await bot.send_response(foreign, {"text": "hej", "buttons": [{"title": "Ja", "payload": "/affirm"}]})
        await bot.send_action(foreign, "typing_on")
        await bot.send_custom_json(foreign, {"text": "hej"})
    assert len(graph.calls) == 2
    assert "not a Messenger conversation id" in caplog.text


async def test_quick_replies_postbacks_echoes_and_attachments(bot):
    url, agent, channel, _ = bot
    events = [
        event(sender="7", text="Fortæl mere", quick_reply={"payload": "/follow_up"}),
        {"sender": {"id": "7"}, "recipient": {"id": "PAGE_ID"}, "timestamp": 1, "postback": {"title": "x", "payload": "/ask_human"}},
        event(sender="PAGE_ID", text="the page's own message", is_echo=True),
        event(sender="7", text=None, attachments=[{"type": "image", "payload": {"url": "https://example.org/a.jpg"}}]),
        {"sender": {"id": "7"}, "recipient": {"id": "PAGE_ID"}, "timestamp": 1, "read": {"watermark": 1}},
        event(sender="7", text="   "),
    ]
    body = webhook_body(*events)
    assert (await post_signed(url, body, channel))[0] == 200
    assert [m.text for m in agent.messages] == ["/follow_up", "/ask_human"]


async def test_a_failing_agent_is_not_a_500(bot):
    url, agent, channel, graph = bot
    agent.fail = True
    body = webhook_body(event(sender="9"))
    status, _ = await post_signed(url, body, channel)
    assert status == 200 and len(agent.messages) == 1
    assert [c["json"].get("sender_action") for c in graph.calls][-1] == "typing_off"


async def test_a_graph_api_that_is_down_is_not_a_500(graph):
    agent = RecordingAgent()
    channel = SecureFacebookInput(VERIFY, SECRET, TOKEN, graph_base_url=f"http://127.0.0.1:{free_port()}/v21.0")
    async with running(channel, agent) as url:
        body = webhook_body(event())
        status, _ = await post_signed(url, body, channel)
    assert status == 200 and len(agent.messages) == 1


async def test_an_oversized_body_is_refused(bot):
    url, agent, _, _ = bot
    body = webhook_body(event(text="x" * (messenger.MAX_BODY_BYTES + 10)))
    status, _ = await post(url, body, {"X-Hub-Signature-256": sign(body)})
    assert status == 413 and agent.messages == []


# --- bad input (bot/channels/input_text.py) -----------------------------------------------


async def test_a_blank_message_gets_the_bilingual_reply_and_does_not_reach_the_agent(bot):
    from bot.channels import input_text

    url, agent, channel, graph = bot
    body = webhook_body(event(sender="31", text=" \n\t\u200b"))
    assert (await post_signed(url, body, channel))[0] == 200
    assert agent.messages == []
    assert [m["message"]["text"] for m in graph.messages()] == [input_text.empty_reply()]
    assert {c["json"]["recipient"]["id"] for c in graph.calls} == {"31"}  # the bare PSID
    assert [c["json"].get("sender_action") for c in graph.calls][-1] == "typing_off"


async def test_a_too_long_message_gets_112_first_and_does_not_reach_the_agent(bot):
    url, agent, channel, graph = bot
    body = webhook_body(event(sender="32", text="Hvad mener I om looping? " * 400))  # 10,000 characters
    assert (await post_signed(url, body, channel))[0] == 200
    assert agent.messages == []
    (sent,) = graph.messages()
    assert sent["message"]["text"].startswith("Er nogen i akut fare, så ring 112") and "2.000" in sent["message"]["text"]


async def test_control_characters_are_removed_and_emoji_rtl_html_pass_as_text(bot):
    url, agent, channel, _ = bot
    texts = ["\u202ehej\x00 med\x1b dig", "🙂👍🏽", "مرحبا", "<script>alert(1)</script>", "'; DROP TABLE events; --"]
    body = webhook_body(*[event(sender="33", text=text) for text in texts])
    assert (await post_signed(url, body, channel))[0] == 200
    assert [m.text for m in agent.messages] == ["hej med dig"] + texts[1:]


async def test_a_failing_agent_gets_the_person_the_apology(bot, caplog):
    from bot.channels import input_text

    url, agent, channel, graph = bot
    agent.fail = True
    body = webhook_body(event(sender="34", text="min søn er bevidstløs"))
    assert (await post_signed(url, body, channel))[0] == 200
    assert graph.messages()[-1]["message"]["text"] == input_text.error_reply()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "RuntimeError" in logged and "bevidstløs" not in logged


@pytest.mark.parametrize("body", [b'{"object": "page", "entry": [{"messaging": [\xff]}]}', b"\xc3\x28", b"{" * 2000, b"[" * 100_000],
                         ids=["invalid-utf8-in-json", "invalid-utf8", "unclosed", "nested-too-deep"])
async def test_invalid_utf8_and_broken_json_signed_are_400(bot, body):
    url, agent, _, graph = bot
    status, text = await post(url, body, {"X-Hub-Signature-256": sign(body)})
    assert status == 400 and "not valid JSON" in json.loads(text)["error"]
    assert agent.messages == [] and graph.calls == []


# --- the verification handshake ----------------------------------------------------------


async def test_the_handshake_returns_the_challenge(bot):
    url, *_ = bot
    status, text = await get(url, {"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "1158201444"})
    assert (status, text) == (200, "1158201444")


@pytest.mark.parametrize(
    "params",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "subscribe", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY, "hub.challenge": "1"},
        {"hub.verify_token": VERIFY, "hub.challenge": "1"},
    ],
    ids=["wrong-token", "no-token", "wrong-mode", "no-mode"],
)
async def test_a_wrong_handshake_is_403(bot, params):
    url, *_ = bot
    status, text = await get(url, params)
    assert status == 403 and text != "1"


async def test_the_handshake_without_a_challenge_is_400(bot):
    url, *_ = bot
    status, _ = await get(url, {"hub.mode": "subscribe", "hub.verify_token": VERIFY})
    assert status == 400


# --- splitting long answers ----------------------------------------------------------------

DANISH = (
    "Diabetesforeningen anerkender, at mange mennesker med type 1-diabetes har gode erfaringer med looping. "
    "Foreningen kan ikke anbefale et system, som ikke er CE-mærket, f.eks. AndroidAPS eller Loop. "
    "Det er vigtigt, at man taler med sin diabetesklinik, før man går i gang, bl.a. om ansvar og risiko. "
    "Hvad gør man så? Søg råd hos fagfolk, og læs retningslinjen fra SDCC! "
)


def test_short_texts_are_one_message():
    assert messenger.split_text("  Hej med dig.  ") == ["Hej med dig."]
    assert messenger.split_text("") == [] and messenger.split_text(" \n ") == []
    exact = "æ" * 2000
    assert messenger.split_text(exact) == [exact]


def test_long_danish_text_is_split_at_sentence_ends_within_the_limit():
    text = DANISH * 12  # about 4,400 characters
    pieces = messenger.split_text(text)
    assert len(pieces) == 3
    assert all(len(p) <= 2000 and messenger.text_units(p) <= 2000 for p in pieces)
    assert all(len(p) >= 1000 for p in pieces[:-1])  # not cut needlessly early
    for piece in pieces:
        assert re.search(r"[.!?]$", piece), piece[-40:]  # each piece ends a sentence
        assert re.match(r"[A-ZÆØÅ]", piece)  # and the next starts one
    assert " ".join(pieces).split() == text.split()  # nothing lost, nothing reordered
    assert "æ" in pieces[0] and "ø" in "".join(pieces) and "å" in "".join(pieces)


def test_abbreviations_do_not_end_a_sentence():
    # a text where the only full stops inside the window close "f.eks." and "bl.a."
    words = ("ord " * 150).strip()
    text = f"{words} f.eks. Loop og {words} bl.a. Trio og {words} {words}."
    for piece in messenger.split_text(text, limit=1400):
        assert not piece.endswith(("f.eks.", "bl.a.")), piece[-20:]


def test_paragraphs_are_preferred_to_sentences():
    first = "Første afsnit. " * 60  # 900 characters
    second = "Andet afsnit. " * 60
    pieces = messenger.split_text(first.strip() + "\n\n" + second.strip(), limit=1200)
    assert pieces == [first.strip(), second.strip()]


def test_without_sentence_ends_texts_are_split_between_words():
    text = " ".join(["blodsukkermåling"] * 300)  # 5,099 characters, no full stop
    pieces = messenger.split_text(text)
    assert all(len(p) <= 2000 for p in pieces) and len(pieces) == 3
    assert all(set(p.split()) == {"blodsukkermåling"} for p in pieces)  # no word cut in two


def test_a_word_longer_than_the_limit_is_cut_hard():
    pieces = messenger.split_text("x" * 4500)
    assert [len(p) for p in pieces] == [2000, 2000, 500]


def test_emoji_count_as_messenger_counts_them():
    text = "🙂" * 1500  # 3,000 UTF-16 units
    pieces = messenger.split_text(text)
    assert all(messenger.text_units(p) <= 2000 for p in pieces) and "".join(pieces) == text


# --- quick replies -----------------------------------------------------------------------


def test_buttons_become_quick_replies():
    buttons = [{"title": "Fortæl mere", "payload": "/follow_up"}, {"title": "Tal med en person", "payload": "/ask_human"}]
    assert messenger.quick_replies(buttons) == [
        {"content_type": "text", "title": "Fortæl mere", "payload": "/follow_up"},
        {"content_type": "text", "title": "Tal med en person", "payload": "/ask_human"},
    ]


def test_quick_reply_limits():
    long_title = {"title": "Retten til behandling i sundhedsvæsenet", "payload": "/ask_about_right_to_treatment"}
    converted = messenger.quick_replies([long_title] + [{"title": f"Emne {i}", "payload": f"/t{i}"} for i in range(20)])
    assert len(converted) == 13
    assert all(len(q["title"]) <= 20 and q["content_type"] == "text" for q in converted)
    assert converted[0]["title"] == "Retten til…" and converted[0]["payload"] == "/ask_about_right_to_treatment"
    assert messenger.quick_replies([{"title": "no payload"}, {"title": "x", "payload": "p" * 1001}, None]) == []
    assert messenger.quick_replies([{"payload": "/ask_human"}])[0]["title"] == "ask_human"
    assert messenger.quick_replies(None) == []


async def test_a_long_answer_with_buttons_goes_out_in_pieces_with_the_quick_replies_last(graph):
    bot = SecureMessengerBot(messenger.GraphAPI(TOKEN, SECRET, graph.url))
    text = DANISH * 12
    buttons = [{"title": "Fortæl mere", "payload": "/follow_up"}, {"title": "Tal med en person", "payload": "/ask_human"}]
    await bot.send_response("fb:555", {"text": text, "buttons": buttons})
    sent = graph.messages()
    assert len(sent) == 3 and all(m["recipient"] == {"id": "555"} for m in sent)
    assert all(len(m["message"]["text"]) <= 2000 for m in sent)
    assert [("quick_replies" in m["message"]) for m in sent] == [False, False, True]
    assert [q["payload"] for q in sent[-1]["message"]["quick_replies"]] == ["/follow_up", "/ask_human"]


async def test_quick_replies_of_a_response_are_sent_as_quick_replies(graph):
    bot = SecureMessengerBot(messenger.GraphAPI(TOKEN, SECRET, graph.url))
    await bot.send_response("fb:555", {"text": "Vælg", "quick_replies": [{"title": "Ja", "payload": "/affirm"}]})
    assert graph.messages()[0]["message"] == {
        "text": "Vælg", "quick_replies": [{"content_type": "text", "title": "Ja", "payload": "/affirm"}]
    }


# --- configuration and secrets ------------------------------------------------------------


def test_the_graph_url_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv(messenger.GRAPH_URL_ENV, raising=False)
    assert messenger.graph_url() == messenger.DEFAULT_GRAPH_URL
    monkeypatch.setenv(messenger.GRAPH_URL_ENV, "http://127.0.0.1:8999/v21.0/")
    assert messenger.graph_url() == "http://127.0.0.1:8999/v21.0"
    channel = SecureFacebookInput.from_credentials({"verify": VERIFY, "secret": SECRET, "page-access-token": TOKEN})
    assert channel.graph.base_url == "http://127.0.0.1:8999/v21.0"
    for unsafe in ("http://graph.example.org/v21.0", "ftp://127.0.0.1/x", "https://graph.facebook.com/v21.0?x=1", "nonsense"):
        with pytest.raises(messenger.MessengerConfigError):
            messenger.graph_url(unsafe)


@pytest.mark.parametrize(
    "credentials",
    [None, {}, {"verify": VERIFY, "secret": "", "page-access-token": TOKEN}, {"verify": VERIFY, "page-access-token": TOKEN}],
)
def test_missing_credentials_stop_the_channel(credentials):
    with pytest.raises(RasaException):
        SecureFacebookInput.from_credentials(credentials)


def test_credentials_as_yaml_may_give_them(monkeypatch):
    monkeypatch.delenv(messenger.GRAPH_URL_ENV, raising=False)
    channel = SecureFacebookInput.from_credentials({"verify": 123456, "secret": f" {SECRET} ", "page-access-token": TOKEN})
    assert (channel.fb_verify, channel.fb_secret, channel.fb_access_token) == ("123456", SECRET, TOKEN)
    assert channel.graph.base_url == messenger.DEFAULT_GRAPH_URL
    assert channel.url_prefix() == "facebook"  # the route stays /webhooks/facebook/webhook


async def test_no_secret_is_logged(graph, caplog):
    caplog.set_level(logging.DEBUG)
    graph.status = 400
    graph.answer = {"error": {"message": f"Invalid OAuth access token {TOKEN} (appsecret_proof=abc)", "code": 190}}
    agent = RecordingAgent()
    channel = SecureFacebookInput(VERIFY, SECRET, TOKEN, graph_base_url=graph.url)
    async with running(channel, agent) as url:
        body = webhook_body(event())
        await post_signed(url, body, channel)  # the Graph API refuses: logged
        await post(url, body, {"X-Hub-Signature-256": sign(body, "wrong")})
        await get(url, {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"})
        await get(url, {"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "1"})
    # everything logged in the process except the fake Graph API's own access log
    logged = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("aiohttp.access"))
    assert "The Send API refused" in logged and "code=190" in logged
    for secret in (SECRET, TOKEN, VERIFY, sign(body)[7:]):
        assert secret not in logged
    assert SECRET not in repr(channel) and TOKEN not in repr(channel.graph)


def test_the_verify_token_is_kept_out_of_the_access_log():
    record = logging.LogRecord("sanic.access", logging.INFO, __file__, 1, "", None, None)
    record.request = f"GET http://127.0.0.1/webhooks/facebook/webhook?hub.mode=subscribe&hub.verify_token={VERIFY}&hub.challenge=1"
    messenger._RedactVerifyToken().filter(record)
    assert VERIFY not in record.request and "hub.challenge=1" in record.request


def test_typed_text_is_marked_so_that_it_is_never_a_payload():
    """A Messenger message a person typed is text; a quick reply or a postback is a payload (#12)."""
    from bot.channels.messenger import event_is_typed

    assert event_is_typed({"message": {"mid": "m1", "text": "/ask_human"}})
    assert not event_is_typed({"message": {"mid": "m2", "text": "Tal med en person", "quick_reply": {"payload": "/ask_human"}}})
    assert not event_is_typed({"postback": {"mid": "m3", "payload": "/ask_human"}})


# --- the emergency reply's call button (#11) ------------------------------------------------

CALL = {"emergency": {"call": "112", "title": "Ring 112"}}


def call_template(text: str, title: str = "Ring 112", number: str = "+45112") -> Dict[str, Any]:
    button = {"type": "phone_number", "title": title, "payload": number}
    return {"attachment": {"type": "template", "payload": {"template_type": "button", "text": text, "buttons": [button]}}}


def nothing_says_emergency(graph: GraphRecorder) -> bool:
    """No Send API call carries the marker's "emergency" key anywhere."""
    return '"emergency"' not in json.dumps([call["json"] for call in graph.calls])


def test_the_call_number_is_in_the_send_apis_format():
    assert messenger.call_number("112") == "+45112"  # Meta: "+" and the country code, then the number
    assert messenger.call_number(112) == "+45112"
    assert messenger.call_number(" 1 1 2 ") == "+45112"
    assert messenger.call_number("+45 70 70 70 70") == "+4570707070"
    assert messenger.call_number("0045 7070-7070") == "+4570707070"
    assert messenger.call_number("+1 (650) 555-1234") == "+16505551234"
    for wrong in (None, "", "   ", "ring 112", "+", "+1", True, 11.2, "+1234567890123456", {"call": "112"}):
        assert messenger.call_number(wrong) is None, wrong


async def test_the_emergency_reply_is_one_button_template_with_a_call_button(graph):
    from bot import replies

    bot = SecureMessengerBot(messenger.GraphAPI(TOKEN, SECRET, graph.url))
    text = replies.default().text("emergency", "da")
    assert text.startswith("Ring 112") and len(text) <= 640
    await bot.send_response("fb:555", {"text": text, "custom": CALL})
    (sent,) = graph.messages()  # one message: the text above the call button
    assert sent["message"] == call_template(text)
    assert sent["recipient"] == {"id": "555"} and sent["messaging_type"] == "RESPONSE"
    assert nothing_says_emergency(graph)


async def test_the_call_buttons_title_is_the_markers_in_the_persons_language_and_at_most_20(graph):
    from bot import replies

    bot = SecureMessengerBot(messenger.GraphAPI(TOKEN, SECRET, graph.url))
    text = replies.default().text("emergency", "en")
    await bot.send_response("fb:555", {"text": text, "custom": {"emergency": {"call": "112", "title": "Call 112"}}})
    await bot.send_response("fb:555", {"text": text, "custom": {"emergency": {"call": "112", "title": "Call the emergency number 112 now"}}})
    await bot.send_response("fb:555", {"text": text, "custom": {"emergency": {"call": "112"}}})
    titles = [m["message"]["attachment"]["payload"]["buttons"][0]["title"] for m in graph.messages()]
    assert titles == ["Call 112", "Call the…", "112"]  # cut at a word, as quick replies are
    assert all(len(title) <= 20 for title in titles) and nothing_says_emergency(graph)


async def test_a_long_emergency_reply_goes_out_as_text_first_and_the_call_button_last(graph):
    bot = SecureMessengerBot(messenger.GraphAPI(TOKEN, SECRET, graph.url))
    text = "Ring 112 nu. " + "Bliv hos personen, til hjælpen kommer. " * 20  # about 800 characters
    await bot.send_response("fb:555", {"text": text, "custom": CALL})
    sent = [m["message"] for m in graph.messages()]
    assert sent == [{"text": text.strip()}, call_template("Ring 112 nu.")]
    longer = "Ring 112 nu. " + "Bliv hos personen, til hjælpen kommer. " * 80  # over 3,000 characters
    graph.calls.clear()
    await bot.send_response("fb:555", {"text": longer, "custom": CALL})
    sent = [m["message"] for m in graph.messages()]
    assert len(sent) == 3 and sent[0]["text"].startswith("Ring 112 nu.")  # 112 first
    assert all(len(m["text"]) <= 2000 for m in sent[:2]) and " ".join(m["text"] for m in sent[:2]).split() == longer.split()
    assert sent[2] == call_template("Ring 112 nu.")
    assert nothing_says_emergency(graph)


async def test_the_marker_in_a_list_or_with_quick_replies_or_alone_is_never_sent(graph):
    bot = SecureMessengerBot(messenger.GraphAPI(TOKEN, SECRET, graph.url))
    other = {"attachment": {"type": "image", "payload": {"url": "https://example.org/a.png"}}}
    await bot.send_response("fb:555", {"text": "Ring 112 nu.", "custom": [other, CALL]})
    await bot.send_response("fb:555", {"text": "Ring 112 nu.", "custom": CALL,
                                       "buttons": [{"title": "Tal med en person", "payload": "/ask_human"}]})
    await bot.send_custom_json("fb:555", CALL)  # a marker on its own: the button, with its title as the text
    sent = [m["message"] for m in graph.messages()]
    with_replies = {**call_template("Ring 112 nu."),
                    "quick_replies": [{"content_type": "text", "title": "Tal med en person", "payload": "/ask_human"}]}
    assert sent == [call_template("Ring 112 nu."), other, with_replies, call_template("Ring 112")]
    assert nothing_says_emergency(graph)


async def test_a_marker_without_a_number_to_call_sends_the_text_as_usual(graph, caplog):
    bot = SecureMessengerBot(messenger.GraphAPI(TOKEN, SECRET, graph.url))
    for marker in ({"emergency": {"call": "ring nu", "title": "Ring"}}, {"emergency": "112"}, {"emergency": {}}):
        await bot.send_response("fb:555", {"text": "Ring 112 nu.", "custom": marker})
    assert [m["message"] for m in graph.messages()] == [{"text": "Ring 112 nu."}] * 3
    assert nothing_says_emergency(graph) and "without a number to call" in caplog.text


def test_the_emergency_marker_is_found_in_a_dict_or_a_list():
    other = {"attachment": {"type": "template"}}
    assert messenger.emergency_marker(CALL) == ({"call": "112", "title": "Ring 112"}, None)
    assert messenger.emergency_marker({"emergency": "112"}) == ({}, None)
    assert messenger.emergency_marker(other) == (None, other)
    assert messenger.emergency_marker([other, CALL]) == ({"call": "112", "title": "Ring 112"}, [other])
    helpline = {"helpline": {"status": "live", "staff": "Anna"}}
    assert messenger.emergency_marker({**CALL, **helpline}) == ({"call": "112", "title": "Ring 112"}, helpline)
    assert messenger.emergency_marker(None) == (None, None)


async def test_without_a_marker_the_text_goes_out_as_before(graph):
    bot = SecureMessengerBot(messenger.GraphAPI(TOKEN, SECRET, graph.url))
    await bot.send_response("fb:555", {"text": "Ring 112 nu."})
    assert [m["message"] for m in graph.messages()] == [{"text": "Ring 112 nu."}]


# --- Get Started (#11) -----------------------------------------------------------------------


def get_started(sender: str = "1234567890", mid: Optional[str] = None) -> Dict[str, Any]:
    """The postback Meta sends when a person taps Get Started on the welcome screen."""
    return {"sender": {"id": sender}, "recipient": {"id": "PAGE_ID"}, "timestamp": 1732400000000,
            "postback": {"mid": mid or f"m_{uuid.uuid4().hex}", "title": "Get Started", "payload": "/get_started"}}


async def test_get_started_reaches_rasa_as_the_payload_not_as_typed_text(bot):
    url, agent, channel, graph = bot
    body = webhook_body(get_started(sender="4711", mid="m_get_started"), event(sender="4711", text="/get_started"))
    assert await post_signed(url, body, channel) == (200, "EVENT_RECEIVED")
    tapped, typed = agent.messages
    assert (tapped.text, tapped.sender_id, tapped.message_id) == ("/get_started", "fb:4711", "m_get_started")
    assert not (tapped.metadata or {}).get("typed")  # a payload: it may act as its intent
    assert typed.text == "/get_started" and typed.metadata["typed"] is True  # typed: text like any other
    assert [m["message"]["text"] for m in graph.messages()] == ["svar på /get_started"] * 2
    assert (await post_signed(url, webhook_body(get_started(sender="4711", mid="m_get_started")), channel))[0] == 200
    assert len(agent.messages) == 2  # Meta's redelivery of the tap: once


def test_the_get_started_postback_acts_as_its_intent_and_typed_text_does_not():
    """The channel's metadata decides (bot/channels/payloads.py); needs `get_started` among
    the acting payloads (the assistant's side of #11)."""
    from bot.channels import payloads
    from bot.channels.messenger import event_is_typed, event_text

    intents = ["get_started", "ask_human", "follow_up", "greet"]
    tap = get_started()
    metadata = {payloads.TYPED_KEY: True} if event_is_typed(tap) else None
    assert event_text(tap) == "/get_started" and payloads.acts(event_text(tap), intents, metadata)
    assert not payloads.acts("/get_started", intents, {payloads.TYPED_KEY: True})
