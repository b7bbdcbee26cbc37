"""The widget's parts without a model or a browser: the channel's configuration and the widget server."""
from __future__ import annotations

import re
import sys
import threading

import pytest
import requests

from bot import credentials, widget_server
from bot.channels import webchat
from bot.channels.webchat import WebchatInput, clean_metadata, parse_origins
from bot.servers import free_port
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
    """Rasa 3.6 forgets to await enter_room (a coroutine in python-socketio 5.18)."""
    calls = []
    channel = WebchatInput(session_persistence=True, allowed_origins=["http://x.test"])

    async def on_new_message(message):
        pass

    channel.blueprint(on_new_message)

    async def enter_room(sid, room, namespace=None):
        calls.append(("enter_room", sid, room))

    async def emit(event, data, room=None, namespace=None):
        calls.append((event, room, data))

    channel.sio.enter_room, channel.sio.emit = enter_room, emit
    await channel.sio.handlers["/"]["session_request"]("sid1", data)
    (_, _, room), token, confirm = calls
    assert token[:2] == ("session_token", "sid1") and len(token[2]) >= 24
    assert confirm[:2] == ("session_confirm", "sid1") and room == "web:" + confirm[2]
    if kept:
        assert confirm[2] == data["session_id"]
    else:
        assert re.fullmatch(r"[0-9a-f]{32}", confirm[2])


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


async def test_a_socket_cannot_write_into_a_session_it_does_not_hold():
    """All channels share one space of ids: another socket naming a live session is ignored."""
    handler, received, channel = widget_channel()
    channel.sessions.claim("victim-socket", "victim-session-01", None)
    await handler("attacker-socket", {"message": "/ask_human", "session_id": "victim-session-01"})
    assert received == []


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
