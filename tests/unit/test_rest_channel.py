"""The hardened REST channel (bot/channels/rest.py), without a model.

The channel's blueprint runs in an in-process Sanic server, registered the way Rasa
registers channels; a stand-in agent records the messages that reach it.
"""
from __future__ import annotations

import json
import logging
from typing import Any, Dict, List, Optional

import aiohttp
import pytest
from rasa.core.channels.channel import UserMessage

from bot import replies
from bot.channels import input_text, rest
from bot.channels.rest import MAX_BODY_BYTES, SafeRestInput
from tests.helpers import running_channel as running

ROUTE = "/webhooks/rest/webhook"
TEXTS = replies.load()
APOLOGY = input_text.error_reply()


class RecordingAgent:
    """Stands in for Rasa's agent: records the messages and answers each with one text."""

    def __init__(self) -> None:
        self.messages: List[UserMessage] = []
        self.fail: Optional[BaseException] = None

    async def handle_message(self, message: UserMessage) -> None:
        self.messages.append(message)
        await message.output_channel.send_text_message(message.sender_id, f"svar på {message.text}")
        if self.fail:
            raise self.fail


@pytest.fixture
async def bot():
    agent = RecordingAgent()
    async with running(SafeRestInput(), agent) as url:
        yield url, agent


async def post(url: str, body: bytes, headers: Optional[Dict[str, str]] = None, params: Optional[Dict] = None):
    """(status, parsed JSON or the raw text) of a POST with `body` as it is."""
    async with aiohttp.ClientSession() as session:
        async with session.post(url + ROUTE, data=body, headers=headers if headers is not None else
                                {"Content-Type": "application/json"}, params=params) as answer:
            text = await answer.text()
            if params and params.get("stream"):
                return answer.status, text  # one JSON message per line
            try:
                return answer.status, json.loads(text)
            except ValueError:
                return answer.status, text


def body(**fields: Any) -> bytes:
    return json.dumps(fields).encode()


# --- what gets through -----------------------------------------------------------------


async def test_a_message_reaches_the_assistant_as_rasas_channel_would_hand_it_on(bot):
    url, agent = bot
    status, answer = await post(url, body(sender="s1", message="Hvad er looping?", metadata={"language": "da"}))
    assert status == 200 and answer == [{"recipient_id": "s1", "text": "svar på Hvad er looping?"}]
    (message,) = agent.messages
    assert (message.text, message.sender_id, message.input_channel, message.metadata) == (
        "Hvad er looping?", "s1", "rest", {"language": "da"}
    )


async def test_input_channel_and_no_content_type_and_a_bom_are_accepted(bot):
    url, agent = bot
    status, _ = await post(url, body(sender="s2", message="hej", input_channel="helpline"), headers={})
    assert status == 200
    status, _ = await post(url, "\ufeff".encode() + body(sender="s2", message="hej igen"))
    assert status == 200
    assert [(m.text, m.input_channel) for m in agent.messages] == [("hej", "helpline"), ("hej igen", "rest")]


@pytest.mark.parametrize(
    "text",
    ["🙂👍🏽", "👨\u200d👩\u200d👧", "مرحبا، ما هو موقفكم من looping؟", "שלום", "<script>alert(1)</script>",
     "'; DROP TABLE events; --", "a" * input_text.MAX_CHARS],
    ids=["emoji", "zwj-family", "arabic", "hebrew", "script", "sql", "at-the-limit"],
)
async def test_emoji_rtl_html_and_sql_reach_the_assistant_as_plain_text(bot, text):
    url, agent = bot
    status, answer = await post(url, body(sender="s3", message=text))
    assert status == 200 and [m.text for m in agent.messages] == [text]
    assert answer[0]["text"] == f"svar på {text}"


async def test_control_characters_and_bidi_overrides_are_removed_before_rasa(bot):
    url, agent = bot
    status, _ = await post(url, body(sender="s4", message="\u202ehej\x00 med\x1b dig\ufeff\r\n"))
    assert status == 200 and [m.text for m in agent.messages] == ["hej med dig"]


# --- answered by the channel -----------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "\x00\x07", "\u200b"])
async def test_empty_and_whitespace_only_messages_get_the_bilingual_reply(bot, text):
    url, agent = bot
    status, answer = await post(url, body(sender="s5", message=text))
    assert status == 200 and agent.messages == []
    assert answer == [{"recipient_id": "s5", "text": input_text.empty_reply()}]
    assert TEXTS.text("input.empty", "da") in answer[0]["text"] and TEXTS.text("input.empty", "en") in answer[0]["text"]


@pytest.mark.parametrize("length", [input_text.MAX_CHARS + 1, 10_000])
async def test_too_long_messages_get_112_first_and_the_limit(bot, length):
    url, agent = bot
    status, answer = await post(url, body(sender="s6", message="Hvad mener I om looping? "[:24] * (length // 24 + 1)))
    assert status == 200 and agent.messages == []
    (reply,) = answer
    assert reply["recipient_id"] == "s6"
    assert reply["text"].startswith("Er nogen i akut fare, så ring 112") and "2.000" in reply["text"]


async def test_a_body_of_exactly_the_limit_is_read_and_one_byte_more_is_413(bot):
    url, agent = bot
    frame = len(body(sender="s7", message=""))
    exact = body(sender="s7", message="a" * (MAX_BODY_BYTES - frame))
    assert len(exact) == MAX_BODY_BYTES
    status, answer = await post(url, exact)
    assert status == 200 and "112" in answer[0]["text"]  # read, and refused as too long
    status, answer = await post(url, body(sender="s7", message="a" * (MAX_BODY_BYTES - frame + 1)))
    assert status == 413 and answer["error"] == "the request body is too large"
    assert str(MAX_BODY_BYTES) in answer["detail"]
    assert agent.messages == []


async def test_a_1_mb_body_is_413_not_500(bot):
    url, agent = bot
    status, answer = await post(url, body(sender="s8", message="x" * 1024 * 1024))
    assert status == 413 and "too large" in answer["error"] and agent.messages == []


# --- refused with 400 ------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, error",
    [
        (b"", "the request body is empty"),
        (b"   ", "the request body is empty"),
        (b"{not json", "the request body is not valid JSON"),
        (b'{"sender": "a", "message": "hej"', "the request body is not valid JSON"),
        (b'{"sender": "a", "message": "\xff\xfe"}', "the request body is not valid UTF-8"),
        (b"\xc3\x28", "the request body is not valid UTF-8"),
        (b"[" * 60_000, "the request body is not valid JSON"),  # nested too deep to parse
        (b"[1, 2]", "the request body must be a JSON object"),
        (b'"hej"', "the request body must be a JSON object"),
        (b"null", "the request body must be a JSON object"),
        (b'{"message": "hej"}', '"sender" is required'),
        (b'{"sender": null, "message": "hej"}', '"sender" is required'),
        (b'{"sender": 5, "message": "hej"}', '"sender" must be a string'),
        (b'{"sender": ["a"], "message": "hej"}', '"sender" must be a string'),
        (b'{"sender": "", "message": "hej"}', '"sender" must not be empty'),
        (b'{"sender": "  ", "message": "hej"}', '"sender" must not be empty'),
        (json.dumps({"sender": "s" * 129, "message": "hej"}).encode(), '"sender" is too long'),
        (b'{"sender": "a\\u0000b", "message": "hej"}', '"sender" must not contain control characters'),
        (b'{"sender": "a"}', '"message" is required'),
        (b'{"sender": "a", "message": null}', '"message" must be a string'),
        (b'{"sender": "a", "message": 5}', '"message" must be a string'),
        (b'{"sender": "a", "message": true}', '"message" must be a string'),
        (b'{"sender": "a", "message": ["hej"]}', '"message" must be a string'),
        (b'{"sender": "a", "message": {"text": "hej"}}', '"message" must be a string'),
        (b'{"sender": "a", "message": "hej", "metadata": "x"}', '"metadata" must be a JSON object'),
        (b'{"sender": "a", "message": "hej", "metadata": [1]}', '"metadata" must be a JSON object'),
        (b'{"sender": "a", "message": "hej", "input_channel": 5}', '"input_channel" must be a short string'),
    ],
)
async def test_bad_requests_are_400_with_a_clear_error_and_never_reach_rasa(bot, raw, error):
    url, agent = bot
    status, answer = await post(url, raw)
    assert status == 400, answer
    assert answer["error"] == error
    assert agent.messages == []


async def test_the_json_error_says_where(bot):
    url, _ = bot
    _, answer = await post(url, b'{"sender": "a",\n "message": }')
    assert answer["error"] == "the request body is not valid JSON" and "line 2" in answer["detail"]
    _, answer = await post(url, b'{"sender": "a", "message": 5}')
    assert answer["detail"] == "got a JSON number"


# --- failures --------------------------------------------------------------------------


@pytest.mark.parametrize("failure", [RuntimeError("boom: min søn er bevidstløs"), KeyError("x")])
async def test_a_failing_assistant_gives_the_apology_not_a_500_and_the_text_is_not_logged(bot, failure, caplog):
    url, agent = bot
    agent.fail = failure
    caplog.set_level(logging.INFO)
    status, answer = await post(url, body(sender="s9", message="min søn er bevidstløs"))
    assert status == 200
    assert answer == [{"recipient_id": "s9", "text": "svar på min søn er bevidstløs"}, {"recipient_id": "s9", "text": APOLOGY}]
    assert "112" in APOLOGY
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert type(failure).__name__ in logged and "bevidstløs" not in logged


async def test_a_timeout_inside_the_assistant_gives_the_apology(bot):
    import asyncio

    url, agent = bot
    agent.fail = asyncio.CancelledError()
    status, answer = await post(url, body(sender="s10", message="hej"))
    assert status == 200 and answer[-1]["text"] == APOLOGY


async def test_a_bug_in_the_channel_itself_is_not_a_500(bot, monkeypatch):
    url, agent = bot

    def broken(*args, **kwargs):
        raise TypeError("a bug")

    monkeypatch.setattr(rest, "parse_request", broken)
    status, answer = await post(url, body(sender="s11", message="hej"))
    assert status == 200 and answer == [{"recipient_id": None, "text": APOLOGY}]


# --- streaming -------------------------------------------------------------------------


async def test_stream_answers_line_by_line(bot):
    url, agent = bot
    status, text = await post(url, body(sender="s12", message="hej"), params={"stream": "true"})
    assert status == 200
    assert [json.loads(line) for line in text.splitlines()] == [{"recipient_id": "s12", "text": "svar på hej"}]


async def test_stream_ends_with_the_apology_when_the_assistant_fails(bot):
    """Rasa's stream never ended when the assistant failed (the request hung)."""
    url, agent = bot
    agent.fail = RuntimeError("boom")
    status, text = await post(url, body(sender="s13", message="hej"), params={"stream": "true"})
    lines = [json.loads(line) for line in text.splitlines()]
    assert status == 200 and lines[-1] == {"recipient_id": "s13", "text": APOLOGY}


async def test_stream_of_a_refused_message_is_the_reply(bot):
    url, agent = bot
    status, text = await post(url, body(sender="s14", message=" "), params={"stream": "true"})
    assert status == 200 and [json.loads(line) for line in text.splitlines()] == [
        {"recipient_id": "s14", "text": input_text.empty_reply()}
    ]
    assert agent.messages == []


# --- the rest of the blueprint -----------------------------------------------------------


async def test_health_and_the_channel_name(bot):
    url, _ = bot
    async with aiohttp.ClientSession() as session:
        async with session.get(url + "/webhooks/rest/") as answer:
            assert answer.status == 200 and await answer.json() == {"status": "ok"}
        async with session.get(url + ROUTE) as answer:
            assert answer.status == 405  # GET on the webhook: Sanic's 4xx, not a 500
    assert SafeRestInput.name() == "rest" and SafeRestInput().url_prefix() == "rest"


# --- one conversation, one owner (issue #12) -------------------------------------------------


@pytest.mark.parametrize("sender", ["fb:1234567890123456", "web:0123456789abcdef0123456789abcdef", "FB:123", " web:x"])
def test_a_sender_in_another_channels_namespace_is_refused(sender):
    from bot.channels.rest import BadRequest, parse_request

    with pytest.raises(BadRequest) as error:
        parse_request(json.dumps({"sender": sender, "message": "hej"}).encode())
    assert error.value.status == 403 and "another channel" in error.value.error


def test_ordinary_senders_are_kept_as_they_are():
    from bot.channels.rest import parse_request

    assert parse_request(json.dumps({"sender": "crm-4711:case 9", "message": "hej"}).encode()).sender == "crm-4711:case 9"


class _Request:
    def __init__(self, headers=None, args=None):
        self.headers = headers or {}
        self.args = args or {}


def test_with_rest_token_set_every_post_must_carry_it():
    from bot.channels.rest import token_ok

    secret = "a-long-rest-token-0123456789"
    assert token_ok(_Request(), None)
    assert not token_ok(_Request(), secret)
    assert not token_ok(_Request({"authorization": "Bearer wrong"}), secret)
    assert token_ok(_Request({"authorization": f"Bearer {secret}"}), secret)
    assert token_ok(_Request(args={"token": secret}), secret)
