"""Bad input never hurts: the running assistant, through the REST channel and the widget's socket.io.

Every bad input gets a clear reply (200 with text) or a 4xx with a clear JSON error,
never a 5xx; the server stays up; and the same conversation carries on normally after
it. What the channels do is in bot/channels/input_text.py and bot/channels/rest.py;
Messenger's bad bodies are in tests/unit/test_messenger_channel.py and test_messenger.py.
"""
from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List, Optional

import pytest
import requests

from bot import content
from bot.channels import input_text
from bot.servers import ARTIFACTS
from tests.widget_client import WidgetVisitor

PAPER = content.load()
LOOPING = "Hvad mener Diabetesforeningen om looping?"
ROUTE = "/webhooks/rest/webhook"
ORIGIN = "http://127.0.0.1:8080"  # one of the widget's default allowed origins (docs/widget.md)


# --- helpers ---------------------------------------------------------------------------


def flat(text: str) -> str:
    return " ".join(text.split())


def long_danish(length: int) -> str:
    """Exactly `length` characters of Danish question, ending in a letter."""
    text = ((LOOPING + " ") * (length // len(LOOPING) + 2))[: length - 1]
    return text.rstrip() + "x" * (length - len(text.rstrip()))


def post_raw(assistant, data: bytes, headers: Optional[Dict[str, str]] = None) -> requests.Response:
    return requests.post(assistant.url + ROUTE, data=data, timeout=120,
                         headers={"Content-Type": "application/json"} if headers is None else headers)


def post_json(assistant, body: Any) -> requests.Response:
    return post_raw(assistant, json.dumps(body).encode())


def clear_answer(response: requests.Response) -> Optional[List[str]]:
    """The reply texts of a 200, or None for a 4xx with a JSON error; fails on anything else."""
    assert response.status_code < 500, f"{response.status_code}: {response.text[:300]}"
    if response.status_code == 200:
        messages = response.json()
        assert isinstance(messages, list) and messages, f"no reply: {response.text[:300]}"
        texts = [message.get("text") for message in messages]
        assert all(isinstance(text, str) and text.strip() for text in texts), texts
        return texts
    assert 400 <= response.status_code < 500
    error = response.json()["error"]
    assert isinstance(error, str) and len(error) > 10, error
    return None


def user_events(assistant, sender: str) -> List[Dict[str, Any]]:
    return [event for event in assistant.tracker(sender)["events"] if event["event"] == "user"]


def assert_turns_alternate(assistant, sender: str) -> None:
    """Each user message is followed by at least one bot message before the next one."""
    kinds = [event["event"] for event in assistant.tracker(sender)["events"] if event["event"] in ("user", "bot")]
    for index, kind in enumerate(kinds):
        if kind == "user":
            assert index + 1 < len(kinds) and kinds[index + 1] == "bot", "".join(k[0] for k in kinds)


def assert_follow_up_is_answered(assistant, sender: str) -> None:
    """The normal question in the same conversation gets the paper's normal answer."""
    answer = flat(" ".join(m.get("text", "") for m in assistant.send(sender, LOOPING)))
    for statement in PAPER.topic("association_stance").lead:
        assert flat(statement.text["da"]) in answer
    slots = assistant.slots(sender)
    assert (slots["triage"], slots["topic"], slots["language"]) == ("answered", "association_stance", "da")
    assert_turns_alternate(assistant, sender)


def assert_healthy(assistant) -> None:
    assert requests.get(assistant.url + "/", timeout=30).status_code == 200


# --- empty and too long: answered by the channel, the conversation untouched -------------


@pytest.mark.parametrize("text", ["", "   ", "\n\t \r\n", "\u200b\ufeff"], ids=["empty", "spaces", "blanks", "invisible"])
def test_empty_and_whitespace_only_messages_get_the_bilingual_reply(assistant, text):
    sender = assistant.new_sender()
    texts = clear_answer(post_json(assistant, {"sender": sender, "message": text}))
    assert texts == [input_text.empty_reply()]
    assert "spørgsmål" in texts[0] and "question" in texts[0]
    assert user_events(assistant, sender) == []
    assert_follow_up_is_answered(assistant, sender)
    assert len(user_events(assistant, sender)) == 1


def test_a_10000_character_message_gets_112_first_then_the_limit(assistant):
    sender = assistant.new_sender()
    assistant.send(sender, LOOPING)
    message = long_danish(10_000)
    assert len(message) == 10_000
    texts = clear_answer(post_json(assistant, {"sender": sender, "message": message}))
    assert len(texts) == 1
    assert texts[0].startswith("Er nogen i akut fare, så ring 112")
    assert "10.000" in texts[0] and "2.000" in texts[0]
    assert [e["text"] for e in user_events(assistant, sender)] == [LOOPING]  # not in the conversation
    assert_follow_up_is_answered(assistant, sender)


def test_a_1_mb_body_is_413_with_a_clear_error(assistant):
    sender = assistant.new_sender()
    response = post_json(assistant, {"sender": sender, "message": "x" * (1024 * 1024)})
    assert response.status_code == 413 and clear_answer(response) is None
    assert "too large" in response.json()["error"]
    assert_healthy(assistant)
    assert_follow_up_is_answered(assistant, sender)


def test_a_body_over_the_servers_limit_is_refused_before_it_is_read(assistant):
    """Bodies over MAX_REQUEST_BYTES never reach a handler: Sanic answers 413 itself."""
    from bot.launch import MAX_REQUEST_BYTES

    response = requests.post(
        assistant.url + "/webhooks/rest/webhook", data=b"x" * (MAX_REQUEST_BYTES + 1),
        headers={"Content-Type": "application/json"}, timeout=60,
    )
    assert response.status_code == 413
    assert "large" in response.text.lower()
    assert_healthy(assistant)


# --- malformed requests: 400 with the reason ---------------------------------------------


@pytest.mark.parametrize(
    "make_body, error",
    [
        (lambda s: b"{not json", "not valid JSON"),
        (lambda s: b'{"sender": "' + s.encode() + b'", "message": "hej \xff\xfe"}', "not valid UTF-8"),
        (lambda s: b"[1, 2]", "must be a JSON object"),  # Rasa's channel answered 500
        (lambda s: b"", "empty"),
        (lambda s: json.dumps({"message": "hej"}).encode(), '"sender" is required'),  # Rasa used "default"
        (lambda s: json.dumps({"sender": 12345, "message": "hej"}).encode(), '"sender" must be a string'),
        (lambda s: json.dumps({"sender": s, "message": None}).encode(), '"message" must be a string'),
        (lambda s: json.dumps({"sender": s, "message": 42}).encode(), '"message" must be a string'),
        (lambda s: json.dumps({"sender": s, "message": ["hej"]}).encode(), '"message" must be a string'),
        (lambda s: json.dumps({"sender": s, "message": {"text": "hej"}}).encode(), '"message" must be a string'),
        (lambda s: json.dumps({"sender": s, "message": "hej", "metadata": "x"}).encode(), '"metadata" must be'),
    ],
    ids=["invalid-json", "invalid-utf8", "array", "no-body", "no-sender", "int-sender", "null-message",
         "number-message", "list-message", "object-message", "string-metadata"],
)
def test_malformed_requests_are_400_with_a_clear_error(assistant, make_body, error):
    sender = assistant.new_sender()
    response = post_raw(assistant, make_body(sender))
    assert response.status_code == 400 and clear_answer(response) is None
    assert error in response.json()["error"]
    assert user_events(assistant, sender) == []
    assert_healthy(assistant)
    assert_follow_up_is_answered(assistant, sender)


# --- odd but valid text: answered as text -------------------------------------------------


@pytest.mark.parametrize(
    "text, stored",
    [
        ("hej\x00\x07\x1b[31m looping\u202e\ufeff", "hej[31m looping"),
        ("مرحبا، ما هو موقفكم من looping؟", None),
        ("שלום, מה דעתכם על לופינג?", None),
        ("🙂🙂👍🏽👨\u200d👩\u200d👧", None),
        ("<script>alert(1)</script>", None),
        ("<img src=x onerror=alert(1)> hvad er looping?", None),
        ("'; DROP TABLE events; --", None),
        ("Robert'); DROP TABLE conversations;-- \" OR 1=1", None),
    ],
    ids=["controls", "arabic", "hebrew", "emoji-only", "script", "html", "sql", "sql-quotes"],
)
def test_controls_rtl_emoji_html_and_sql_get_a_reply_and_change_nothing(assistant, text, stored):
    sender = assistant.new_sender()
    texts = clear_answer(post_json(assistant, {"sender": sender, "message": text}))
    for reply in texts:
        assert "<script" not in reply.lower() and "onerror" not in reply.lower() and "DROP TABLE" not in reply
    assert_healthy(assistant)
    (event,) = user_events(assistant, sender)
    assert event["text"] == (stored if stored is not None else text)  # stored as plain text, cleaned
    assert_follow_up_is_answered(assistant, sender)


# --- bursts and concurrency ---------------------------------------------------------------


def test_a_burst_of_20_messages_to_one_sender_is_answered_in_order(assistant):
    sender = assistant.new_sender()
    questions = [LOOPING, "fortæl mere", "hej", "hvad er looping?"]
    started = time.time()
    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(pool.map(lambda i: post_json(assistant, {"sender": sender, "message": questions[i % 4]}),
                                  range(20)))
    elapsed = time.time() - started
    answers = [clear_answer(response) for response in responses]
    apologies = [a for a in answers if a and a[-1] == input_text.error_reply()]
    assert not apologies, f"{len(apologies)} of 20 got the apology after {elapsed:.0f} s (lock timeout?)"
    assert all(response.status_code == 200 for response in responses)
    assert all(m["recipient_id"] == sender for response in responses for m in response.json())
    assert len(user_events(assistant, sender)) == 20, f"after {elapsed:.0f} s"
    assert_turns_alternate(assistant, sender)


def test_8_conversations_at_once_each_get_their_own_answers(assistant):
    senders = [assistant.new_sender() for _ in range(8)]

    def talk(sender: str) -> List[List[Dict[str, Any]]]:
        return [assistant.send(sender, LOOPING), assistant.send(sender, "fortæl mere")]

    with ThreadPoolExecutor(max_workers=8) as pool:
        conversations = list(pool.map(talk, senders))
    for sender, turns in zip(senders, conversations):
        first = flat(" ".join(m.get("text", "") for m in turns[0]))
        for statement in PAPER.topic("association_stance").lead:
            assert flat(statement.text["da"]) in first
        assert all(turn and all(m["recipient_id"] == sender for m in turn) for turn in turns)
        assert [e["text"] for e in user_events(assistant, sender)] == [LOOPING, "fortæl mere"]
        assert_turns_alternate(assistant, sender)


# --- the widget's socket.io channel --------------------------------------------------------


def visit(assistant, session_id: Optional[str] = None, token: Optional[str] = None) -> WidgetVisitor:
    """A Danish widget page's visitor (tests/widget_client.py)."""
    return WidgetVisitor(assistant.url, ORIGIN, session_id=session_id, token=token, language="da")


def test_the_widget_answers_10000_characters_with_the_too_long_reply(assistant):
    visitor = visit(assistant)
    try:
        said = visitor.say(long_danish(10_000))
        assert len(said) == 1 and said[0].startswith("Er nogen i akut fare, så ring 112")
        assert "10.000" in said[0]
        assert input_text.empty_reply() in visitor.say("   ")
        answer = flat(" ".join(visitor.say(LOOPING)))
        for statement in PAPER.topic("association_stance").lead:
            assert flat(statement.text["da"]) in answer
    finally:
        visitor.close(background=True)
    assert [e["text"] for e in user_events(assistant, visitor.conversation_id)] == [LOOPING]


def test_a_1_mb_widget_message_is_refused_and_the_server_carries_on(assistant):
    visitor = visit(assistant)
    try:
        visitor.emit("x" * (1024 * 1024))
        # Engine.IO refuses the POST (over its 1 MB limit) and closes that socket; no reply, no crash
        assert visitor.disconnected.wait(30), "the socket was not closed"
        time.sleep(2)
        assert visitor.received == []
    finally:
        visitor.close(background=True)
    assert_healthy(assistant)
    again = visit(assistant, visitor.session_id, visitor.token)  # the page reconnects to the same conversation
    try:
        answer = flat(" ".join(again.say(LOOPING)))
        for statement in PAPER.topic("association_stance").lead:
            assert flat(statement.text["da"]) in answer
    finally:
        again.close()
    assert [e["text"] for e in user_events(assistant, visitor.conversation_id)] == [LOOPING]
    assert_follow_up_is_answered(assistant, assistant.new_sender())


@pytest.mark.parametrize(
    "packet",
    [b'42["user_uttered",{"message":"h\xffj","session_id":"0123456789abcdef"}]', b'42["user_uttered",{not json',
     b'42["user_uttered","just a string"]', b'42["user_uttered",{"message":null,"session_id":{"$ne":1}}]', b"\x00\x01"],
    ids=["invalid-utf8", "invalid-json", "string-data", "null-message", "garbage"],
)
def test_garbage_on_the_widget_socket_is_not_a_5xx(assistant, packet):
    """Raw Engine.IO polling: a handshake from the allowed origin, then a bad packet."""
    socket_url = assistant.url + "/socket.io/"
    headers = {"Origin": ORIGIN}
    handshake = requests.get(socket_url, params={"EIO": "4", "transport": "polling"}, headers=headers, timeout=30)
    assert handshake.status_code == 200, handshake.text[:200]
    sid = json.loads(handshake.text[1:])["sid"]  # "0{...}": the open packet
    params = {"EIO": "4", "transport": "polling", "sid": sid}
    assert requests.post(socket_url, params=params, data=b"40", headers=headers, timeout=30).status_code == 200
    answer = requests.post(socket_url, params=params, data=packet, headers=headers, timeout=30)
    assert answer.status_code < 500
    assert_healthy(assistant)
    visitor = visit(assistant)
    try:
        assert visitor.say("   ") == [input_text.empty_reply()]  # the channel still answers
    finally:
        visitor.close(background=True)


# --- afterwards ---------------------------------------------------------------------------


def test_no_channel_request_ended_in_a_500(assistant):
    """Sanic logs every unhandled exception with the URI; none was on a channel route."""
    log = (ARTIFACTS / f"{assistant.rasa_port}-rasa.log").read_text(encoding="utf-8", errors="replace")
    failures = [line for line in log.splitlines()
                if "Exception occurred while handling uri" in line and ("/webhooks/" in line or "socket.io" in line)]
    assert failures == []
    assert "rest.message.received.failure" not in log  # Rasa's channel's failure (it logged the text)
    assert_healthy(assistant)
