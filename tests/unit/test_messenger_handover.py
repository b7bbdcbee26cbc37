"""The helpline handoff on Messenger (bot/channels/messenger.py), without a model.

The assistant marks handoff moments with a `custom` payload, {"helpline": {"status":
"waiting" | "live" | "ended", "staff": ...}}: the output acts on it and never sends it as a
message. With FACEBOOK_HANDOVER_APP_ID set, it also uses Meta's Handover Protocol (pass
the thread to the helpline's app, take it back, and borrow it for an emergency reply), and
the input passes standby messages to Rasa with metadata {"standby": true}.

Same pattern as tests/unit/test_messenger_channel.py: a local aiohttp server stands in for
the Graph API and records every call, and the channel runs in an in-process Sanic server.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from typing import Any, Dict, List, Optional

import pytest
from rasa.core.channels.channel import UserMessage

from bot.channels import messenger
from bot.channels.messenger import SecureFacebookInput, SecureMessengerBot
from tests.helpers import running_channel as running
from tests.unit.test_messenger_channel import (
    SECRET,
    TOKEN,
    VERIFY,
    GraphRecorder,
    event,
    post,
    post_signed,
    sign,
    webhook_body,
)

APP_ID = "263902037430900"  # Page Inbox's app id, as Meta documents it
PSID = "555"
HANDBACK = "Tak for snakken. Du skriver nu med den automatiske assistent igen."
EMERGENCY = "Ring 112 nu, hvis nogen er i akut fare."

WAITING = {"helpline": {"status": "waiting"}}
ENDED = {"helpline": {"status": "ended"}}


def live(staff: Optional[str] = "Anna") -> Dict[str, Any]:
    return {"helpline": {"status": "live", "staff": staff}}


# --- helpers ---------------------------------------------------------------------------


def kinds(graph: GraphRecorder) -> List[str]:
    """Each recorded Graph API call as one word: take, pass, message or an action's name."""
    named = []
    for call in graph.calls:
        path = call["path"]
        if path.endswith("/me/take_thread_control"):
            named.append("take")
        elif path.endswith("/me/pass_thread_control"):
            named.append("pass")
        elif "message" in call["json"]:
            named.append("message")
        else:
            named.append(call["json"].get("sender_action", "?"))
    return named


def thread_calls(graph: GraphRecorder) -> List[Dict[str, Any]]:
    return [call for call in graph.calls if call["path"].endswith("_thread_control")]


def no_marker_sent(graph: GraphRecorder) -> bool:
    """No call carries a "helpline" key anywhere (thread-control metadata may name it)."""

    def keys(value: Any) -> List[str]:
        if isinstance(value, dict):
            return [*value, *[k for v in value.values() for k in keys(v)]]
        if isinstance(value, list):
            return [k for v in value for k in keys(v)]
        return []

    return all("helpline" not in keys(call["json"]) for call in graph.calls)


def standby_body(*events: Dict[str, Any]) -> bytes:
    """A webhook post as Meta sends it while another app owns the threads."""
    payload = {"object": "page", "entry": [{"id": "PAGE_ID", "time": 1732400000000, "standby": list(events)}]}
    return json.dumps(payload).encode()


class GuardrailAgent:
    """Stands in for Rasa's agent on a paused conversation: records every message, says
    nothing, except an emergency reply (a normal bot message, no helpline marker) when the
    text names an emergency."""

    def __init__(self) -> None:
        self.messages: List[UserMessage] = []

    async def handle_message(self, message: UserMessage) -> None:
        self.messages.append(message)
        if "bevidstløs" in message.text:
            await message.output_channel.send_response(message.sender_id, {"text": EMERGENCY})


@pytest.fixture
def handover_off(monkeypatch):
    monkeypatch.delenv(messenger.HANDOVER_APP_ENV, raising=False)


@pytest.fixture
def handover_on(monkeypatch):
    monkeypatch.setenv(messenger.HANDOVER_APP_ENV, APP_ID)


@pytest.fixture
def output(graph):
    """An output channel as Rasa's server gets one for a staff reply (the channel's own)."""

    def make() -> SecureMessengerBot:
        channel = SecureFacebookInput(VERIFY, SECRET, TOKEN, graph_base_url=graph.url)
        return channel.get_output_channel()

    return make


@pytest.fixture
async def standby_bot(graph, handover_on):
    """(base URL, agent, channel, graph) with the Handover Protocol on."""
    agent = GuardrailAgent()
    channel = SecureFacebookInput(VERIFY, SECRET, TOKEN, graph_base_url=graph.url)
    async with running(channel, agent) as url:
        yield url, agent, channel, graph


# --- staff replies -------------------------------------------------------------------------


async def test_a_staff_reply_goes_out_with_the_staff_name_and_the_marker_is_not_sent(graph, handover_off, output):
    bot = output()
    await bot.send_response(f"fb:{PSID}", {"text": "Hej, jeg kan hjælpe dig med det.", "custom": live("Anna")})
    assert [m["message"] for m in graph.messages()] == [{"text": "Anna (Diabetesforeningen): Hej, jeg kan hjælpe dig med det."}]
    assert graph.messages()[0]["recipient"] == {"id": PSID}
    assert kinds(graph) == ["message"] and no_marker_sent(graph)


async def test_a_long_staff_reply_is_split_with_the_name_once(graph, handover_off, output):
    text = "Det er et godt spørgsmål. " * 120  # about 3,100 characters
    await output().send_response(f"fb:{PSID}", {"text": text, "custom": live("Anna")})
    pieces = [m["message"]["text"] for m in graph.messages()]
    assert len(pieces) == 2 and all(len(p) <= 2000 for p in pieces)
    assert pieces[0].startswith("Anna (Diabetesforeningen): Det er") and "Diabetesforeningen" not in pieces[1]
    assert no_marker_sent(graph)


def test_the_staff_prefix():
    assert messenger.STAFF_PREFIX == "{staff} (Diabetesforeningen): "
    assert messenger.staff_prefix("Anna") == "Anna (Diabetesforeningen): "
    assert messenger.staff_prefix("  Anna\n Berg\u202e ") == "Anna Berg (Diabetesforeningen): "
    assert messenger.staff_prefix("{x}") == "{x} (Diabetesforeningen): "
    for nameless in (None, "", "  ", 42):
        assert messenger.staff_prefix(nameless) == messenger.STAFF_PREFIX_UNNAMED
    assert len(messenger.staff_prefix("x" * 500)) == 60 + len(" (Diabetesforeningen): ")


def test_the_helpline_marker_is_found_in_a_dict_or_a_list():
    assert messenger.helpline_marker(WAITING) == ({"status": "waiting"}, None)
    assert messenger.helpline_marker({"helpline": "waiting"}) == ({}, None)
    other = {"attachment": {"type": "template"}}
    assert messenger.helpline_marker(other) == (None, other)
    assert messenger.helpline_marker([other, live("Anna")]) == ({"status": "live", "staff": "Anna"}, [other])
    assert messenger.helpline_marker([ENDED]) == ({"status": "ended"}, None)
    assert messenger.helpline_marker(None) == (None, None)


# --- without the Handover Protocol ----------------------------------------------------------


async def test_waiting_and_ended_without_the_handover_protocol_send_only_the_texts(graph, handover_off, output):
    bot = output()
    assert not bot.handover.enabled
    await bot.send_response(f"fb:{PSID}", {"text": "Jeg giver dig videre til en medarbejder.", "custom": WAITING})
    await bot.send_response(f"fb:{PSID}", {"text": HANDBACK, "custom": ENDED})
    assert [m["message"]["text"] for m in graph.messages()] == ["Jeg giver dig videre til en medarbejder.", HANDBACK]
    assert thread_calls(graph) == [] and kinds(graph) == ["message", "message"]
    assert no_marker_sent(graph)


async def test_a_marker_on_its_own_sends_nothing_and_other_custom_payloads_still_go_out(graph, handover_off, output):
    bot = output()
    for marker in (WAITING, ENDED, live("Anna"), {"helpline": "nonsense"}, [WAITING]):
        await bot.send_custom_json(f"fb:{PSID}", marker)
        await bot.send_response(f"fb:{PSID}", {"custom": marker})
    assert graph.calls == []
    template = {"attachment": {"type": "template", "payload": {"template_type": "generic", "elements": []}}}
    await bot.send_custom_json(f"fb:{PSID}", [template, ENDED])
    await bot.send_custom_json(f"fb:{PSID}", template)
    assert [m["message"] for m in graph.messages()] == [template, template] and no_marker_sent(graph)


async def test_an_unknown_status_sends_the_text_without_the_marker(graph, handover_off, output, caplog):
    await output().send_response(f"fb:{PSID}", {"text": "Hej", "custom": {"helpline": {"status": "paused"}}})
    assert [m["message"] for m in graph.messages()] == [{"text": "Hej"}] and no_marker_sent(graph)
    assert "known status" in caplog.text


# --- with the Handover Protocol: pass and take --------------------------------------------


async def test_waiting_passes_the_thread_after_the_text(graph, handover_on, output):
    bot = output()
    assert bot.handover.app_id == int(APP_ID)
    await bot.send_response(f"fb:{PSID}", {"text": "Jeg giver dig videre til en medarbejder.", "custom": WAITING})
    assert kinds(graph) == ["message", "pass"]
    (handoff,) = thread_calls(graph)
    assert handoff["path"] == "/v21.0/me/pass_thread_control"
    assert handoff["json"] == {"recipient": {"id": PSID}, "target_app_id": int(APP_ID), "metadata": "helpline handoff"}
    assert isinstance(handoff["json"]["target_app_id"], int)
    assert handoff["query"]["access_token"] == TOKEN
    assert handoff["query"]["appsecret_proof"] == hmac.new(SECRET.encode(), TOKEN.encode(), hashlib.sha256).hexdigest()
    assert bot.handover.is_passed(PSID) and no_marker_sent(graph)


async def test_ended_takes_the_thread_back_before_the_text(graph, handover_on, output):
    bot = output()
    await bot.send_response(f"fb:{PSID}", {"text": "Jeg giver dig videre.", "custom": WAITING})
    graph.calls.clear()
    await bot.send_response(f"fb:{PSID}", {"text": HANDBACK, "custom": ENDED})
    assert kinds(graph) == ["take", "message"]
    (take,) = thread_calls(graph)
    assert take["path"] == "/v21.0/me/take_thread_control"
    assert take["json"] == {"recipient": {"id": PSID}, "metadata": "helpline closed"}
    assert graph.messages()[0]["message"] == {"text": HANDBACK}
    assert not bot.handover.is_passed(PSID) and no_marker_sent(graph)
    # the handoff is over: the assistant's next answer goes out as usual
    graph.calls.clear()
    await bot.send_response(f"fb:{PSID}", {"text": "Velkommen tilbage."})
    assert kinds(graph) == ["message"]


async def test_ended_takes_the_thread_back_also_after_a_restart(graph, handover_on, output):
    await output().send_response(f"fb:{PSID}", {"text": HANDBACK, "custom": ENDED})
    assert kinds(graph) == ["take", "message"]


async def test_a_marker_sent_as_custom_json_alone_still_passes_and_takes(graph, handover_on, output):
    bot = output()
    await bot.send_custom_json(f"fb:{PSID}", WAITING)
    await bot.send_custom_json(f"fb:{PSID}", ENDED)
    assert kinds(graph) == ["pass", "take"] and no_marker_sent(graph)


async def test_a_staff_reply_to_a_passed_thread_borrows_it(graph, handover_on, output):
    bot = output()
    await bot.send_response(f"fb:{PSID}", {"text": "Jeg giver dig videre.", "custom": WAITING})
    graph.calls.clear()
    await bot.send_response(f"fb:{PSID}", {"text": "Hej, det er Anna.", "custom": live("Anna")})
    assert kinds(graph) == ["take", "message", "pass"]
    assert graph.messages()[0]["message"]["text"] == "Anna (Diabetesforeningen): Hej, det er Anna."
    assert [c["json"]["metadata"] for c in thread_calls(graph)] == ["helpline emergency reply"] * 2
    assert bot.handover.is_passed(PSID) and no_marker_sent(graph)


async def test_outputs_of_one_channel_share_what_was_passed(graph, handover_on):
    channel = SecureFacebookInput(VERIFY, SECRET, TOKEN, graph_base_url=graph.url)
    first, second = channel.get_output_channel(), channel.get_output_channel()
    assert first.handover is second.handover is channel.handover
    await first.send_response(f"fb:{PSID}", {"text": "Jeg giver dig videre.", "custom": WAITING})
    graph.calls.clear()
    await second.send_response(f"fb:{PSID}", {"text": EMERGENCY})
    assert kinds(graph) == ["take", "message", "pass"]


# --- standby messages ------------------------------------------------------------------------


async def test_a_standby_message_reaches_rasa_marked_standby_and_nothing_is_sent(standby_bot):
    url, agent, channel, graph = standby_bot
    body = standby_body(event(sender=PSID, text="hvornår kan jeg få en tid?", mid="m_standby_1"))
    assert await post_signed(url, body, channel) == (200, "EVENT_RECEIVED")
    (message,) = agent.messages
    assert (message.text, message.sender_id, message.message_id) == ("hvornår kan jeg få en tid?", f"fb:{PSID}", "m_standby_1")
    assert message.metadata["standby"] is True and message.metadata["typed"] is True
    assert graph.calls == []  # no mark_seen, no typing_on/off, no message, no thread control
    assert channel.handover.is_passed(PSID)
    assert (await post_signed(url, body, channel))[0] == 200  # Meta's redelivery: once
    assert len(agent.messages) == 1


async def test_an_emergency_reply_to_a_standby_message_borrows_the_thread(standby_bot):
    url, agent, channel, graph = standby_bot
    body = standby_body(event(sender=PSID, text="min søn er bevidstløs", mid="m_standby_2"))
    assert (await post_signed(url, body, channel))[0] == 200
    assert [m.metadata["standby"] for m in agent.messages] == [True]
    assert kinds(graph) == ["take", "message", "pass"]
    take, sent, back = graph.calls
    assert take["json"] == {"recipient": {"id": PSID}, "metadata": "helpline emergency reply"}
    assert sent["json"]["message"] == {"text": EMERGENCY} and sent["json"]["recipient"] == {"id": PSID}
    assert back["json"] == {"recipient": {"id": PSID}, "target_app_id": int(APP_ID), "metadata": "helpline emergency reply"}
    assert channel.handover.is_passed(PSID)  # staff keep the thread


async def test_an_emergency_reply_after_a_handoff_borrows_the_thread(standby_bot):
    """The thread was passed by the output (waiting), not seen in standby yet."""
    url, agent, channel, graph = standby_bot
    await channel.get_output_channel().send_response(f"fb:{PSID}", {"text": "Jeg giver dig videre.", "custom": WAITING})
    body = webhook_body(event(sender=PSID, text="nu er han bevidstløs"))  # e.g. in flight before the pass
    assert (await post_signed(url, body, channel))[0] == 200
    assert kinds(graph) == ["message", "pass", "mark_seen", "typing_on", "take", "message", "pass", "typing_off"]


async def test_a_long_emergency_reply_borrows_the_thread_once(graph, handover_on, output):
    bot = output()
    bot.handover.mark_passed(PSID)
    await bot.send_response(f"fb:{PSID}", {"text": "Ring 112. " + "Bliv hos ham. " * 300,
                                           "buttons": [{"title": "Tal med en person", "payload": "/ask_human"}]})
    assert kinds(graph) == ["take", "message", "message", "message", "pass"]


async def test_replies_to_one_passed_thread_do_not_interleave(graph, handover_on, output):
    bot = output()
    bot.handover.mark_passed(PSID)
    await asyncio.gather(*[bot.send_response(f"fb:{PSID}", {"text": f"svar {i}"}) for i in range(3)])
    assert kinds(graph) == ["take", "message", "pass"] * 3


async def test_standby_reads_echoes_and_blank_messages_are_silent(standby_bot):
    url, agent, channel, graph = standby_bot
    events = [
        {"sender": {"id": PSID}, "recipient": {"id": "PAGE_ID"}, "timestamp": 1, "read": {"watermark": 1}},
        event(sender="PAGE_ID", text="staff's own message in the inbox", is_echo=True),
        event(sender=PSID, text=" \n "),
        {"sender": {"id": PSID}, "recipient": {"id": "PAGE_ID"}, "timestamp": 1, "postback": {"title": "Ja"}},
    ]
    assert (await post_signed(url, standby_body(*events), channel))[0] == 200
    assert agent.messages == [] and graph.calls == []
    assert channel.handover.is_passed(PSID) and not channel.handover.is_passed("PAGE_ID")


async def test_a_too_long_standby_message_gets_the_112_reply_through_a_borrowed_thread(standby_bot):
    url, agent, channel, graph = standby_bot
    body = standby_body(event(sender=PSID, text="Hvad gør jeg? " * 200))
    assert (await post_signed(url, body, channel))[0] == 200
    assert agent.messages == []
    assert kinds(graph) == ["take", "message", "pass"]
    assert graph.messages()[0]["message"]["text"].startswith("Er nogen i akut fare, så ring 112")


async def test_standby_and_messaging_events_of_one_post_are_both_handled(standby_bot):
    url, agent, channel, _ = standby_bot
    payload = {"object": "page", "entry": [
        {"id": "PAGE_ID", "time": 1, "messaging": [event(sender="1", text="hej")]},
        {"id": "PAGE_ID", "time": 1, "standby": [event(sender="2", text="hallo")]},
    ]}
    assert (await post_signed(url, json.dumps(payload).encode(), channel))[0] == 200
    assert sorted((m.sender_id, m.text, bool(m.metadata.get("standby"))) for m in agent.messages) == [
        ("fb:1", "hej", False), ("fb:2", "hallo", True)
    ]


async def test_a_malformed_standby_list_is_400_with_the_handover_protocol_on(standby_bot):
    url, agent, _, graph = standby_bot
    body = json.dumps({"object": "page", "entry": [{"standby": [{"message": {"text": "hej"}}]}]}).encode()
    status, text = await post(url, body, {"X-Hub-Signature-256": sign(body)})
    assert status == 400 and "standby" in json.loads(text)["error"]
    assert agent.messages == [] and graph.calls == []


async def test_standby_is_ignored_without_the_handover_protocol(graph, handover_off):
    agent = GuardrailAgent()
    channel = SecureFacebookInput(VERIFY, SECRET, TOKEN, graph_base_url=graph.url)
    async with running(channel, agent) as url:
        body = standby_body(event(sender=PSID, text="min søn er bevidstløs"))
        assert await post_signed(url, body, channel) == (200, "EVENT_RECEIVED")
        bad = json.dumps({"object": "page", "entry": [{"standby": "not a list"}]}).encode()
        assert (await post_signed(url, bad, channel))[0] == 200  # as before: not looked at
    assert agent.messages == [] and graph.calls == []
    assert not channel.handover.is_passed(PSID)


# --- configuration and failures --------------------------------------------------------------


@pytest.mark.parametrize("value", ["abc", "12a", "-1", "1.5", "0", "1e9", "٣٤٥", "123 456"])
def test_an_invalid_handover_app_id_is_a_clear_error_at_start(monkeypatch, value):
    monkeypatch.setenv(messenger.HANDOVER_APP_ENV, value)
    with pytest.raises(messenger.MessengerConfigError, match="FACEBOOK_HANDOVER_APP_ID must be the numeric app id"):
        SecureFacebookInput.from_credentials({"verify": VERIFY, "secret": SECRET, "page-access-token": TOKEN})
    with pytest.raises(messenger.MessengerConfigError):
        SecureMessengerBot(messenger.GraphAPI(TOKEN, SECRET, "http://127.0.0.1:1/v21.0"))


def test_the_handover_app_id_is_read_from_the_environment(monkeypatch):
    monkeypatch.delenv(messenger.HANDOVER_APP_ENV, raising=False)
    assert messenger.handover_app_id() is None
    monkeypatch.setenv(messenger.HANDOVER_APP_ENV, "  ")
    assert messenger.handover_app_id() is None
    monkeypatch.setenv(messenger.HANDOVER_APP_ENV, f" {APP_ID} ")
    assert messenger.handover_app_id() == int(APP_ID)
    channel = SecureFacebookInput.from_credentials({"verify": VERIFY, "secret": SECRET, "page-access-token": TOKEN})
    assert channel.handover.enabled and channel.handover.app_id == int(APP_ID)


async def test_thread_control_errors_are_logged_without_personal_data_and_never_raised(graph, handover_on, output, caplog):
    caplog.set_level(logging.DEBUG)
    graph.status = 400
    graph.answer = {"error": {"message": f"(#10) No permission for {PSID} with {TOKEN}", "code": 10, "type": "OAuthException"}}
    bot = output()
    await bot.send_response(f"fb:{PSID}", {"text": "Jeg giver dig videre.", "custom": WAITING})
    assert kinds(graph) == ["message", "pass"]
    assert not bot.handover.is_passed(PSID)  # the pass failed: the assistant still owns the thread
    bot.handover.mark_passed(PSID)
    await bot.send_response(f"fb:{PSID}", {"text": EMERGENCY})  # take fails: the message is still tried
    await bot.send_response(f"fb:{PSID}", {"text": HANDBACK, "custom": ENDED})
    assert kinds(graph)[2:] == ["take", "message", "pass", "take", "message"]
    assert not bot.handover.is_passed(PSID)
    logged = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("aiohttp.access"))
    assert "me/pass_thread_control" in logged and "me/take_thread_control" in logged and "code=10" in logged
    assert PSID not in logged and TOKEN not in logged and SECRET not in logged


async def test_an_unreachable_graph_api_is_not_raised(handover_on, free_graph_url):
    bot = SecureMessengerBot(messenger.GraphAPI(TOKEN, SECRET, free_graph_url))
    await bot.send_response(f"fb:{PSID}", {"text": "Jeg giver dig videre.", "custom": WAITING})
    bot.handover.mark_passed(PSID)
    await bot.send_response(f"fb:{PSID}", {"text": EMERGENCY})
    await bot.send_response(f"fb:{PSID}", {"text": HANDBACK, "custom": ENDED})


@pytest.fixture
def free_graph_url():
    from bot.servers import free_port

    return f"http://127.0.0.1:{free_port()}/v21.0"


# --- the emergency reply's call button in a thread the helpline's app owns (#11) --------------

CALL = {"emergency": {"call": "112", "title": "Ring 112"}}
CALL_TEMPLATE = {"attachment": {"type": "template", "payload": {
    "template_type": "button", "text": EMERGENCY,
    "buttons": [{"type": "phone_number", "title": "Ring 112", "payload": "+45112"}]}}}


class CallButtonAgent(GuardrailAgent):
    """As GuardrailAgent, but the emergency reply carries the call-button marker, as the
    assistant's actions send it."""

    async def handle_message(self, message: UserMessage) -> None:
        self.messages.append(message)
        if "bevidstløs" in message.text:
            await message.output_channel.send_response(message.sender_id, {"text": EMERGENCY, "custom": CALL})


async def test_an_emergency_reply_with_the_call_button_to_a_standby_message_borrows_the_thread(graph, handover_on):
    agent = CallButtonAgent()
    channel = SecureFacebookInput(VERIFY, SECRET, TOKEN, graph_base_url=graph.url)
    async with running(channel, agent) as url:
        body = standby_body(event(sender=PSID, text="min søn er bevidstløs", mid="m_standby_call"))
        assert (await post_signed(url, body, channel))[0] == 200
    assert [m.metadata["standby"] for m in agent.messages] == [True]
    assert kinds(graph) == ["take", "message", "pass"]  # as a plain emergency text: take, send, pass back
    take, sent, back = graph.calls
    assert take["json"] == {"recipient": {"id": PSID}, "metadata": "helpline emergency reply"}
    assert sent["json"]["message"] == CALL_TEMPLATE and sent["json"]["recipient"] == {"id": PSID}
    assert back["json"]["metadata"] == "helpline emergency reply" and channel.handover.is_passed(PSID)
    assert '"emergency"' not in json.dumps([call["json"] for call in graph.calls])


async def test_a_long_emergency_reply_with_the_call_button_borrows_the_thread_once(graph, handover_on, output):
    bot = output()
    bot.handover.mark_passed(PSID)
    await bot.send_response(f"fb:{PSID}", {"text": "Ring 112 nu. " + "Bliv hos ham. " * 300, "custom": CALL})
    assert kinds(graph) == ["take", "message", "message", "message", "message", "pass"]  # 3 parts, then the button
    assert [("attachment" in m["message"]) for m in graph.messages()] == [False, False, False, True]


async def test_the_call_button_with_a_helpline_marker_still_acts_on_the_handoff(graph, handover_on, output):
    bot = output()
    await bot.send_response(f"fb:{PSID}", {"text": EMERGENCY, "custom": [CALL, WAITING]})
    assert kinds(graph) == ["message", "pass"]
    assert graph.messages()[0]["message"] == CALL_TEMPLATE and no_marker_sent(graph)
