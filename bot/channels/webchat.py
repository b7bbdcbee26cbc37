"""The website chat widget's channel: Rasa's socket.io channel with an origin allow-list.

Rasa's `SocketIOInput` creates its `socketio.AsyncServer` with
`cors_allowed_origins=[]`, which switches python-engineio's origin check off: a page
on any site could open a socket to the assistant. `WebchatInput` keeps everything
else of Rasa's channel and, once the server exists, gives its Engine.IO server the
allow-list from WIDGET_ALLOWED_ORIGINS (comma-separated; by default only the local
demo page, http://127.0.0.1:8080 and http://localhost:8080). Engine.IO then refuses,
with HTTP 400, every polling request and WebSocket handshake whose Origin header is
not on the list (clients that send no Origin, such as scripts, are not browsers and
are not affected: this is a browser protection, not authentication).

Two repairs of Rasa 3.6's channel for the versions this project runs:

- Recent python-socketio 5.x releases (the locks have 5.18.1) made
  `AsyncServer.enter_room` a coroutine;
  Rasa 3.6's `session_request` handler calls it without `await`, so the socket never
  joins the conversation's room and, with `session_persistence`, no reply reaches the
  page. `WebchatInput` registers its own `session_request` handler that awaits it
  (and accepts only a plain session ID from the page).
- Sanic 21.12 (Rasa 3.6 needs <21.13) passes a coroutine to `asyncio.wait` in its
  WebSocket receive, which Python 3.11 forbids: every WebSocket dies with a TypeError.
  On Python 3.11 the socket therefore offers HTTP long-polling only (no upgrade is
  advertised, a WebSocket request gets 400); on Python 3.10 it offers both.

Every message goes through bot.channels.input_text first (the rules all channels share):
the text is cleaned (controls, bidi overrides, BOM removed; NFC), and an empty message
or one over 2,000 characters is answered on the socket without reaching Rasa (the
too-long reply starts with 112). Rasa's own message handler is replaced because it
crashed on anything but a dict with a string (`data.get` on a list, `json.loads` on bad
metadata) and passed any size of text to the NLU. Engine.IO refuses a polling POST over
MAX_SOCKET_BYTES (its default, made explicit: 1 MB) with a 400 and closes that socket;
the server carries on. When the assistant fails on a message, the page gets an apology
that names 112 instead of silence.

Conversations are stored as `web:<session>`, and a session belongs to the socket that
opened it (bot/channels/widget_sessions.py): a second socket cannot write into a live
session; the page reclaims its own after a reload with the token it was given
(`session_token` event). A socket that asks for another session (the widget's "new
conversation") leaves the old conversation's room.

The page asks for its session with `{"session_id", "session_token", "language"}`. Before
`session_confirm`, the server sends `widget_texts` in that language (da unless "en"):
the greeting, the privacy note and the suggested questions
(bot/channels/widget_texts.py), so the widget shows them, and the privacy note, before
it sends anything the person typed.

Two markers reach the page as one message with the text (WebchatOutput): the handoff's
`helpline` and the emergency reply's `emergency` (`{"call": "112"}`), which the widget
shows as an alert with a tap-to-call link.

The widget sends the page language as `customData` (`metadata_key` in
credentials.yml). Rasa's handler passes that dict as the message metadata; here it
is trimmed to the keys the assistant reads (`language`: "da" or "en"), so a page
cannot write arbitrary data into the tracker.

credentials.yml:

    bot.channels.webchat.WebchatInput:
      user_message_evt: user_uttered
      bot_message_evt: bot_uttered
      session_persistence: true
      metadata_key: customData
"""
from __future__ import annotations

import inspect
import json
import logging
import os
import re
import sys
from typing import Any, Awaitable, Callable, Dict, Iterable, List, Mapping, Optional
from urllib.parse import urlsplit

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint

from bot.channels import input_text, widget_texts
from bot.channels.widget_sessions import SessionRegistry, conversation_id

logger = logging.getLogger(__name__)

ORIGINS_ENV = "WIDGET_ALLOWED_ORIGINS"
DEFAULT_ORIGINS = ("http://127.0.0.1:8080", "http://localhost:8080")
# The metadata keys a page may set, with the values each may take.
ALLOWED_METADATA = {"language": ("da", "en")}
# Sanic 21.12's WebSocket receive fails on Python 3.11 (see above).
TRANSPORTS = ("polling", "websocket") if sys.version_info < (3, 11) else ("polling",)
# What a page may propose as its conversation ID (the widget makes 32 random hex digits).
SESSION_ID = re.compile(r"[A-Za-z0-9_-]{8,128}")
# Engine.IO's own default, made explicit: a polling POST over this is refused (400) and
# its socket closed. Anything smaller that is over 2,000 characters gets the too-long reply.
MAX_SOCKET_BYTES = 1_000_000
# The event with the widget's opening texts, sent before session_confirm.
TEXTS_EVENT = "widget_texts"
# What an emergency marker may name as the number to call.
CALL_NUMBER = re.compile(r"[0-9]{2,15}")


def parse_origins(value: Optional[str]) -> List[str]:
    """The origins in a comma-separated list; the defaults when it is unset or blank.

    Each entry must be a bare origin (scheme://host[:port], no path); a trailing slash
    is dropped, because browsers send the Origin header without one. "*" allows every
    origin and is logged as a warning.
    """
    entries = [entry.strip() for entry in (value or "").split(",") if entry.strip()]
    if not entries:
        return list(DEFAULT_ORIGINS)
    origins: List[str] = []
    for entry in entries:
        if entry == "*":
            logger.warning("%s=*: every website may open the chat socket.", ORIGINS_ENV)
            origins.append(entry)
            continue
        origin = entry.rstrip("/")
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path or parts.query or parts.fragment:
            raise ValueError(
                f"{ORIGINS_ENV}: {entry!r} is not an origin; write scheme://host[:port], "
                "e.g. https://diabetes.dk"
            )
        origins.append(origin)
    return list(dict.fromkeys(origins))


def clean_metadata(metadata: Any) -> Dict[str, Any]:
    """Only the metadata the assistant reads, with an allowed value."""
    if isinstance(metadata, str):  # Rasa's channel accepts metadata as a JSON string too
        try:
            metadata = json.loads(metadata)
        except (ValueError, RecursionError):
            return {}
    if not isinstance(metadata, Mapping):
        return {}
    return {key: metadata[key] for key, values in ALLOWED_METADATA.items() if metadata.get(key) in values}


class WebchatOutput(SocketIOOutput):
    """Rasa's socket.io output, plus two markers the widget reads. A bot message carrying
    `custom: {"helpline": {...}}` (actions/helpline.py) or `custom: {"emergency": {"call":
    "112"}}` (the emergency reply) reaches the page as one message with its text:
    `{"text": ..., "helpline": {"status": "waiting" | "live" | "ended", "staff": ...}}`, so
    the widget can show "Venter på en medarbejder" and label a staff member's reply;
    `{"text": ..., "emergency": {"call": "112"}}`, so it shows the reply as an alert with a
    link that calls the number. Buttons go with it as `quick_replies`, as Rasa sends them."""

    async def send_response(self, recipient_id: str, message: Dict[str, Any]) -> None:
        markers = markers_of(message.get("custom"))
        if not markers:
            await super().send_response(recipient_id, message)
            return
        payload: Dict[str, Any] = {"text": message.get("text") or "", **markers}
        buttons = [
            {"content_type": "text", "title": b["title"], "payload": b["payload"]}
            for b in message.get("buttons") or message.get("quick_replies") or []
            if isinstance(b, Mapping) and isinstance(b.get("title"), str) and isinstance(b.get("payload"), str)
        ]
        if buttons:
            payload["quick_replies"] = buttons
        await self._send_message(recipient_id, payload)


def markers_of(custom: Any) -> Dict[str, Dict[str, Any]]:
    """The widget's markers in a bot message's `custom`: helpline as it is, emergency with
    only a plausible number to call (digits)."""
    if not isinstance(custom, Mapping):
        return {}
    found: Dict[str, Dict[str, Any]] = {}
    if isinstance(custom.get("helpline"), Mapping):
        found["helpline"] = dict(custom["helpline"])
    emergency = custom.get("emergency")
    if isinstance(emergency, Mapping):
        call = emergency.get("call")
        found["emergency"] = {"call": call} if isinstance(call, str) and CALL_NUMBER.fullmatch(call) else {}
    return found


class WebchatInput(SocketIOInput):
    """Rasa's socket.io channel, open only to the websites in WIDGET_ALLOWED_ORIGINS."""

    def __init__(self, *args: Any, allowed_origins: Optional[Iterable[str]] = None, **kwargs: Any) -> None:
        """Takes SocketIOInput's arguments; `allowed_origins` defaults to WIDGET_ALLOWED_ORIGINS."""
        super().__init__(*args, **kwargs)
        self.sessions = SessionRegistry()
        if allowed_origins is None:
            self.allowed_origins = parse_origins(os.environ.get(ORIGINS_ENV))
        else:
            self.allowed_origins = parse_origins(",".join(allowed_origins))

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Rasa's blueprint, with the origin allow-list and trimmed metadata."""

        async def on_widget_message(message: UserMessage) -> Any:
            message.metadata = clean_metadata(message.metadata)
            return await on_new_message(message)

        # The opening texts are read now, so that a broken widget.yml or reply stops the
        # server at start rather than leaving a page without its privacy note.
        for lang in widget_texts.LANGUAGES:
            widget_texts.texts(lang)
        blueprint = super().blueprint(on_widget_message)
        # SocketIOInput.blueprint() has just created self.sio (Rasa keeps it there for
        # get_output_channel). Engine.IO reads these settings on every request.
        engine = self.sio.eio
        engine.cors_allowed_origins = list(self.allowed_origins)
        engine.transports = list(TRANSPORTS)
        engine.allow_upgrades = "websocket" in TRANSPORTS
        engine.max_http_buffer_size = MAX_SOCKET_BYTES
        # Replace Rasa's handlers for these events (python-socketio keeps one per event).
        self.sio.on("session_request", handler=self._session_request, namespace=self.namespace)

        async def disconnect(sid: str) -> None:
            self.sessions.release(sid)
            logger.debug("Socket %s disconnected.", sid)

        self.sio.on("disconnect", handler=disconnect, namespace=self.namespace)

        async def user_message(sid: str, data: Any) -> None:
            await self._user_message(sid, data, on_widget_message)

        self.sio.on(self.user_message_evt, handler=user_message, namespace=self.namespace)
        logger.info(
            "Chat widget socket open to: %s (transports: %s)",
            ", ".join(self.allowed_origins), ", ".join(TRANSPORTS),
        )
        return blueprint

    def get_output_channel(self) -> Optional[WebchatOutput]:
        """The output for messages the helpline sends through Rasa's API (output_channel=latest)."""
        if self.sio is None:
            return None
        return WebchatOutput(self.sio, self.bot_message_evt)

    async def _session_request(self, sid: str, data: Any) -> None:
        """Rasa's session_request, with the room joined before the confirmation, the session
        bound to this socket (a live session of another socket is not given out), the old
        room left when the socket moves to a new session, and the widget's opening texts
        (greeting, privacy note, suggestions) in the page's language before the confirmation."""
        data = data if isinstance(data, Mapping) else {}
        proposed = data.get("session_id")
        token = data.get("session_token")
        if not (isinstance(proposed, str) and SESSION_ID.fullmatch(proposed)):
            proposed = None
        previous = self.sessions.session_of(sid)
        session_id, new_token = self.sessions.claim(sid, proposed, token)
        if self.session_persistence:
            if previous and previous != session_id:
                left = self.sio.leave_room(sid, conversation_id(previous), namespace=self.namespace)
                if inspect.isawaitable(left):
                    await left
            joined = self.sio.enter_room(sid, conversation_id(session_id), namespace=self.namespace)
            if inspect.isawaitable(joined):  # a coroutine from python-socketio 5.x
                await joined
        if new_token:
            await self.sio.emit("session_token", new_token, room=sid, namespace=self.namespace)
        await self.sio.emit(
            TEXTS_EVENT, widget_texts.payload(data.get("language")), room=sid, namespace=self.namespace
        )
        await self.sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)
        logger.debug("Socket %s joined its conversation.", sid)

    async def _user_message(self, sid: str, data: Any, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        """Rasa's handle_message, for any data a page may send: checked, cleaned, never raising."""
        if not isinstance(data, Mapping):
            logger.info("Socket %s sent a message that is not an object; ignored.", sid)
            return
        if self.session_persistence:
            session_id = data.get("session_id")
            if not self.sessions.owns(sid, session_id if isinstance(session_id, str) else None):
                logger.warning("Socket %s sent a message for a session it does not hold; ignored.", sid)
                return
            sender_id = conversation_id(session_id)
        else:
            sender_id = sid
        output = WebchatOutput(self.sio, self.bot_message_evt)
        metadata = clean_metadata(data.get(self.metadata_key))
        checked = input_text.check(data.get("message"), prior=metadata.get("language"))
        if not checked.ok:
            logger.info("Widget: message answered without the assistant (%s).", checked.reason)
            await output.send_text_message(sender_id, checked.reply)
            return
        try:
            await on_new_message(
                UserMessage(checked.text, output, sender_id, input_channel=self.name(), metadata=metadata)
            )
        except Exception as error:
            input_text.log_failure(self.name(), error)
            await output.send_text_message(sender_id, input_text.error_reply())
