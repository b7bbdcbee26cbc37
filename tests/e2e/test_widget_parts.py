"""The widget's parts without a model or a browser: the channel's configuration and the widget server."""
from __future__ import annotations

import re
import sys
import threading

import pytest
import requests
import yaml

from bot import content, credentials, replies, widget_server
from bot.channels import payloads, webchat, widget_texts
from bot.channels.webchat import WebchatInput, clean_metadata, parse_origins
from bot.servers import free_port
from bot.yamlfile import DataFileError
from tests.helpers import ROOT

CHANNEL = "bot.channels.webchat.WebchatInput"


# ---- the channel -----------------------------------------------------------


def test_credentials_yml_turns_the_widget_channel_on():
    channel = credentials.build({})[CHANNEL]
    assert channel == {
        "user_message_evt": "user_uttered",
        "bot_message_evt": "bot_uttered",
        "session_persistence": True,
        "metadata_key": "customData",
    }


@pytest.mark.parametrize(
    "value, origins",
    [
        (None, ["http://127.0.0.1:8080", "http://localhost:8080"]),
        ("  ", ["http://127.0.0.1:8080", "http://localhost:8080"]),
        ("https://diabetes.dk", ["https://diabetes.dk"]),
        ("https://diabetes.dk/, https://www.diabetes.dk ,,http://localhost:3000",
         ["https://diabetes.dk", "https://www.diabetes.dk", "http://localhost:3000"]),
        ("*", ["*"]),
    ],
)
def test_allowed_origins_come_from_the_environment(value, origins):
    assert parse_origins(value) == origins


@pytest.mark.parametrize("value", ["diabetes.dk", "https://diabetes.dk/chat", "ftp://diabetes.dk", "https://"])
def test_an_allowed_origin_must_be_an_origin(value):
    with pytest.raises(ValueError, match="WIDGET_ALLOWED_ORIGINS"):
        parse_origins(value)


def test_the_socket_server_gets_the_allow_list(monkeypatch):
    monkeypatch.setenv(webchat.ORIGINS_ENV, "https://diabetes.dk")
    channel = WebchatInput.from_credentials(credentials.build({})[CHANNEL])
    assert (channel.metadata_key, channel.session_persistence) == ("customData", True)

    async def on_new_message(message):
        pass

    channel.blueprint(on_new_message)
    assert channel.sio.eio.cors_allowed_origins == ["https://diabetes.dk"]
    assert channel.sio.eio.transports == list(webchat.TRANSPORTS)
    assert channel.sio.eio.allow_upgrades == (sys.version_info < (3, 11))


@pytest.mark.parametrize(
    "data, kept",
    [
        ({"session_id": "0123456789abcdef0123456789abcdef"}, True),
        ({"session_id": None}, False),
        ({"session_id": {"$ne": 1}}, False),
        ({"session_id": "../../x"}, False),
        (None, False),
    ],
)
async def test_session_request_joins_the_room_before_confirming(data, kept):
    """Rasa 3.6 forgets to await enter_room (a coroutine in python-socketio 5.18).
    (The widget's opening texts come between the token and the confirmation.)"""
    channel, calls = recording_channel()
    await channel.sio.handlers["/"]["session_request"]("sid1", data)
    (_, _, room), token, texts, confirm = calls
    assert token[:2] == ("session_token", "sid1") and len(token[2]) >= 24
    assert texts[:2] == ("widget_texts", "sid1")
    assert confirm[:2] == ("session_confirm", "sid1") and room == "web:" + confirm[2]
    if kept:
        assert confirm[2] == data["session_id"]
    else:
        assert re.fullmatch(r"[0-9a-f]{32}", confirm[2])


def recording_channel():
    """A widget channel whose socket server records what it emits and which rooms it joins."""
    calls = []
    channel = WebchatInput(session_persistence=True, allowed_origins=["http://x.test"])

    async def on_new_message(message):
        pass

    channel.blueprint(on_new_message)

    async def enter_room(sid, room, namespace=None):
        calls.append(("enter_room", sid, room))

    async def leave_room(sid, room, namespace=None):
        calls.append(("leave_room", sid, room))

    async def emit(event, data, room=None, namespace=None):
        calls.append((event, room, data))

    channel.sio.enter_room, channel.sio.leave_room, channel.sio.emit = enter_room, leave_room, emit
    return channel, calls


@pytest.mark.parametrize("language", ["da", "en"])
async def test_the_greeting_privacy_note_and_suggestions_come_before_the_confirmation(language):
    """One place for each fact: the widget shows replies.yml's intro and privacy note (with
    the retention period) and widget.yml's suggestions, before anything is sent."""
    from bot.privacy.retention import retention_days

    channel, calls = recording_channel()
    data = {"session_id": "0123456789abcdef0123456789abcdef", "session_token": None, "language": language}
    await channel.sio.handlers["/"]["session_request"]("sid1", data)
    events = [call[0] for call in calls]
    assert events == ["enter_room", "session_token", "widget_texts", "session_confirm"]
    texts = calls[2][2]
    source = replies.default()
    assert texts["language"] == language
    assert texts["greeting"] == source.text("intro", language)
    assert texts["privacy"] == source.text("privacy_note", language, retention_days=str(retention_days()))
    assert str(retention_days()) in texts["privacy"]
    assert 3 <= len(texts["suggestions"]) <= 4
    for suggestion in texts["suggestions"]:
        assert set(suggestion) == {"title", "payload"} and suggestion["title"]
        assert suggestion["payload"].startswith("/ask_")
        assert content.topic_for_intent(suggestion["payload"][1:]) in content.TOPIC_IDS


@pytest.mark.parametrize("asked", [None, "de", 1, {"x": 1}, "EN"])
async def test_the_texts_are_danish_unless_the_page_asks_for_english(asked):
    channel, calls = recording_channel()
    await channel.sio.handlers["/"]["session_request"]("sid1", {"session_id": "abcdefgh12", "language": asked})
    texts = dict((call[0], call[2]) for call in calls)["widget_texts"]
    assert texts["language"] == "da" and texts["greeting"] == replies.default().text("intro", "da")


def test_the_suggestions_are_topic_intents_the_assistant_acts_on():
    domain_intents = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))["intents"]
    acting = payloads.known(domain_intents)
    suggestions = widget_texts.load_suggestions()
    assert set(suggestions) == {"da", "en"}
    for language, found in suggestions.items():
        assert 3 <= len(found) <= 4, language
        assert all(s["payload"] in acting for s in found), found
    # the same topics in both languages
    assert [s["payload"] for s in suggestions["da"]] == [s["payload"] for s in suggestions["en"]]


@pytest.mark.parametrize(
    "entry",
    [
        {"title": "Hvad?", "payload": "/ask_settings"},   # guarded: never a payload
        {"title": "Hvad?", "payload": "/ask_nothing"},    # no such topic
        {"title": "Hvad?", "payload": "/ask_human"},      # not a topic
        {"title": "Hvad?", "payload": "ask_denmark"},     # no slash
        {"title": "", "payload": "/ask_denmark"},
        {"title": "x" * 81, "payload": "/ask_denmark"},
    ],
)
def test_a_suggestion_must_be_a_known_topic_intent(tmp_path, entry):
    good = [{"title": f"Q{i}", "payload": f"/ask_{t}"} for i, t in enumerate(("denmark", "guideline", "experience"))]
    path = tmp_path / "widget.yml"
    path.write_text(yaml.safe_dump({"suggestions": {"da": [entry, *good], "en": good}}), encoding="utf-8")
    with pytest.raises(DataFileError):
        widget_texts.load_suggestions(path)


def test_three_or_four_suggestions_per_language(tmp_path):
    two = [{"title": f"Q{i}", "payload": f"/ask_{t}"} for i, t in enumerate(("denmark", "guideline"))]
    path = tmp_path / "widget.yml"
    path.write_text(yaml.safe_dump({"suggestions": {"da": two, "en": two}}), encoding="utf-8")
    with pytest.raises(DataFileError, match="3 to 4"):
        widget_texts.load_suggestions(path)


async def test_a_new_session_on_the_same_socket_leaves_the_old_room():
    """The widget's "new conversation": the same socket asks for a new session without a token."""
    channel, calls = recording_channel()
    handler = channel.sio.handlers["/"]["session_request"]
    await handler("sid1", {"session_id": "old-session-0001", "session_token": None})
    token = dict((c[0], c[2]) for c in calls)["session_token"]
    calls.clear()
    await handler("sid1", {"session_id": "new-session-0001", "session_token": None, "language": "da"})
    assert calls[:2] == [("leave_room", "sid1", "web:old-session-0001"), ("enter_room", "sid1", "web:new-session-0001")]
    assert [c[0] for c in calls[2:]] == ["session_token", "widget_texts", "session_confirm"]
    assert calls[-1][2] == "new-session-0001"
    assert channel.sessions.owns("sid1", "new-session-0001")
    assert not channel.sessions.owns("sid1", "old-session-0001")
    # a reconnect to the same session joins without leaving anything
    calls.clear()
    await handler("sid2", {"session_id": "old-session-0001", "session_token": token})
    assert [c[0] for c in calls] == ["enter_room", "widget_texts", "session_confirm"]


@pytest.mark.parametrize(
    "metadata, cleaned",
    [
        ({"language": "en"}, {"language": "en"}),
        ({"language": "da", "page": "/x", "user": {"id": 1}}, {"language": "da"}),
        ({"language": "de"}, {}),
        ("not a dict", {}),
        (None, {}),
    ],
)
def test_only_the_page_language_reaches_the_tracker(metadata, cleaned):
    assert clean_metadata(metadata) == cleaned


def widget_channel():
    """The widget channel's user_uttered handler, the messages it hands Rasa, and the channel."""
    received = []

    async def on_new_message(message):
        received.append(message)

    channel = WebchatInput(session_persistence=True, metadata_key="customData", allowed_origins=["http://x.test"])
    channel.blueprint(on_new_message)
    return channel.sio.handlers["/"]["user_uttered"], received, channel


async def test_widget_messages_reach_rasa_with_the_cleaned_metadata():
    """Rasa's socket.io handler, as the widget calls it: customData becomes the message metadata."""
    handler, received, channel = widget_channel()
    channel.sessions.claim("sid", "session-0001", None)
    await handler("sid", {"message": "ok", "session_id": "session-0001", "customData": {"language": "en", "x": 1}})
    assert [(m.text, m.sender_id, m.metadata, m.input_channel) for m in received] == [
        ("ok", "web:session-0001", {"language": "en"}, "socketio")
    ]


def bot_output():
    """A WebchatOutput whose socket server records what it emits."""
    emitted = []

    class Server:
        async def emit(self, event, data=None, room=None, **kwargs):
            emitted.append((event, room, data))

    return webchat.WebchatOutput(Server(), "bot_uttered"), emitted


async def test_an_emergency_reply_reaches_the_page_as_one_message_with_its_marker():
    """actions: dispatcher.utter_message(text=..., json_message={"emergency": {"call": "112"}})."""
    output, emitted = bot_output()
    text = "Ring 112 nu.\n\nBliv hos personen, til hjælpen kommer."
    await output.send_response("web:s1", {"text": text, "custom": {"emergency": {"call": "112"}}})
    assert emitted == [("bot_uttered", "web:s1", {"text": text, "emergency": {"call": "112"}})]


async def test_markers_keep_their_buttons_and_only_a_number_to_call():
    output, emitted = bot_output()
    buttons = [{"title": "Tal med en person", "payload": "/ask_human"}]
    await output.send_response("web:s1", {"text": "x", "buttons": buttons, "custom": {"emergency": {"call": "javascript:x"}}})
    await output.send_response("web:s1", {"text": "y", "custom": {"helpline": {"status": "waiting"}}})
    assert [e[2] for e in emitted] == [
        {"text": "x", "emergency": {}, "quick_replies": [{"content_type": "text", **buttons[0]}]},
        {"text": "y", "helpline": {"status": "waiting"}},
    ]


async def test_messages_without_a_marker_go_as_rasa_sends_them():
    output, emitted = bot_output()
    await output.send_response("web:s1", {"text": "a\n\nb", "custom": {"other": 1}})
    assert [e[2] for e in emitted[:2]] == [{"text": "a"}, {"text": "b"}]


async def test_a_socket_cannot_write_into_a_session_it_does_not_hold():
    """All channels share one space of ids: another socket naming a live session is ignored."""
    handler, received, channel = widget_channel()
    channel.sessions.claim("victim-socket", "victim-session-01", None)
    await handler("attacker-socket", {"message": "/ask_human", "session_id": "victim-session-01"})
    assert received == []


def test_a_socket_can_move_to_a_new_session_and_the_old_one_is_released():
    from bot.channels.widget_sessions import SessionRegistry

    registry = SessionRegistry()
    old, old_token = registry.claim("tab", "old-session-0001", None)
    new, new_token = registry.claim("tab", "new-session-0001", None)  # "Ny samtale": no token
    assert (new, registry.session_of("tab")) == ("new-session-0001", "new-session-0001")
    assert new_token and new_token != old_token
    assert registry.owns("tab", new) and not registry.owns("tab", old)
    # the old session is held by nobody: only its token opens it again
    assert registry.claim("other", old, None)[0] != old
    assert registry.claim("other-2", old, old_token) == (old, None)
    # the socket cannot move into a live session of another socket
    taken, _ = registry.claim("tab", old, None)
    assert taken != old and registry.owns("other-2", old)


def test_a_live_session_goes_only_to_the_socket_with_its_token():
    from bot.channels.widget_sessions import SessionRegistry

    registry = SessionRegistry()
    session, token = registry.claim("tab-1", "my-session-0001", None)
    assert session == "my-session-0001" and token
    # another socket names the same session without the token: it gets one of its own
    other, other_token = registry.claim("intruder", "my-session-0001", "guess")
    assert other != session and other_token and not registry.owns("intruder", session)
    assert registry.owns("tab-1", session)
    # the same tab, reloaded (a new socket), shows its token and gets its session back
    again, new_token = registry.claim("tab-1-reloaded", "my-session-0001", token)
    assert (again, new_token) == (session, None)
    assert registry.owns("tab-1-reloaded", session) and not registry.owns("tab-1", session)
    # after the socket is gone, the session still needs the token
    registry.release("tab-1-reloaded")
    assert registry.claim("intruder-2", "my-session-0001", None)[0] != session


# ---- the widget server -------------------------------------------------------


@pytest.fixture
def served():
    server = widget_server.make_server("127.0.0.1", free_port(), "https://chat.example.test")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_the_demo_page_holds_the_one_snippet_with_the_configured_socket(served):
    for path in ("/", "/index.html", "/en.html"):
        response = requests.get(served + path, timeout=5)
        assert response.ok and response.headers["Content-Type"].startswith("text/html")
        assert '<script src="widget/widget.js"></script>' in response.text
        assert 'DFChat.init({ socketUrl: "https://chat.example.test" });' in response.text
        assert widget_server.DEFAULT_SOCKET_URL not in response.text
    assert '<html lang="da">' in requests.get(served + "/", timeout=5).text
    assert '<html lang="en">' in requests.get(served + "/en.html", timeout=5).text


def test_the_widget_and_the_vendored_client_are_served(served):
    for path, kind in [
        ("/widget/widget.js", "text/javascript"),
        ("/widget/widget.css", "text/css"),
        ("/vendor/socket.io.min.js", "text/javascript"),
    ]:
        response = requests.get(served + path, timeout=5)
        assert response.ok and response.headers["Content-Type"].startswith(kind), path
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Socket.IO v4." in requests.get(served + "/vendor/socket.io.min.js", timeout=5).text[:200]


def test_no_listings_and_nothing_outside_web(served):
    assert requests.get(served + "/vendor/", timeout=5).status_code == 404
    assert requests.get(served + "/../credentials.yml", timeout=5).status_code == 404
    assert requests.get(served + "/%2e%2e/credentials.yml", timeout=5).status_code == 404


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "http://x.test/\");alert(1);//", "http://x.test/<script>", "127.0.0.1:5005"]
)
def test_the_socket_url_must_be_a_plain_http_url(url):
    with pytest.raises(SystemExit):
        widget_server.parse_args(["--socket-url", url])


def test_port_and_socket_url_from_the_environment(monkeypatch):
    monkeypatch.setenv("WIDGET_PORT", "8099")
    monkeypatch.setenv("WIDGET_SOCKET_URL", "https://chat.example.test/")
    args = widget_server.parse_args([])
    assert (args.host, args.port, args.socket_url) == ("127.0.0.1", 8099, "https://chat.example.test")
    assert widget_server.parse_args(["--port", "9000"]).port == 9000


def test_the_vendored_client_is_the_pinned_one():
    import json

    pinned = json.loads((ROOT / "package.json").read_text())["dependencies"]["socket.io-client"]
    header = (ROOT / "web" / "vendor" / "socket.io.min.js").read_text(encoding="utf-8")[:200]
    assert f"Socket.IO v{pinned}" in header
    assert f"socket.io-client {pinned}" in (ROOT / "web" / "vendor" / "VERSIONS.txt").read_text()


def test_the_vendored_axe_core_is_the_pinned_one():
    """tests/e2e/vendor/axe.min.js (`npm run vendor:axe`) is the version package.json pins."""
    import json

    pinned = json.loads((ROOT / "package.json").read_text())["devDependencies"]["axe-core"]
    vendor = ROOT / "tests" / "e2e" / "vendor"
    assert f"axe v{pinned}" in (vendor / "axe.min.js").read_text(encoding="utf-8")[:100]
    assert f"axe-core {pinned}" in (vendor / "VERSIONS.txt").read_text()
    assert "Mozilla Public License" in (vendor / "axe-core.LICENSE").read_text()
