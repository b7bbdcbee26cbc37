"""A widget visitor for integration tests: socket.io long-polling from an allowed origin,
as the website widget talks to the assistant (session request with its token, messages
with the page language, replies as they come)."""
from __future__ import annotations

import threading
import uuid
from typing import Any, Dict, List, Optional

import socketio


class WidgetVisitor:
    """One widget session; `say` returns the texts of the bot's messages of that turn."""

    def __init__(self, url: str, origin: str, session_id: Optional[str] = None, token: Optional[str] = None,
                 language: Optional[str] = None) -> None:
        self.session_id = session_id or uuid.uuid4().hex
        self.token = token
        self.language = language
        self.messages: List[Dict[str, Any]] = []
        self.changed = threading.Condition()
        self.disconnected = threading.Event()
        confirmed = threading.Event()

        def on_confirm(session_id: Any) -> None:
            self.session_id = session_id
            confirmed.set()

        def on_token(token: Any) -> None:
            self.token = token

        self.client = socketio.Client(reconnection=False)
        self.client.on("session_token", on_token)
        self.client.on("session_confirm", on_confirm)
        self.client.on("bot_uttered", self._on_bot)
        self.client.on("disconnect", lambda *args: self.disconnected.set())
        self.client.connect(url, headers={"Origin": origin}, transports=["polling"], socketio_path="socket.io")
        self.client.emit("session_request", {"session_id": self.session_id, "session_token": self.token})
        assert confirmed.wait(30), "no session_confirm from the widget channel"

    @property
    def conversation_id(self) -> str:
        """The tracker's id for this session (bot/channels/widget_sessions.py)."""
        return "web:" + self.session_id

    @property
    def received(self) -> List[str]:
        return [m.get("text", "") for m in self.messages]

    def _on_bot(self, data: Dict[str, Any]) -> None:
        with self.changed:
            self.messages.append(data)
            self.changed.notify_all()

    def emit(self, text: str) -> None:
        data: Dict[str, Any] = {"message": text, "session_id": self.session_id}
        if self.language:
            data["customData"] = {"language": self.language}
        self.client.emit("user_uttered", data)

    def say(self, text: str, wait: float = 60) -> List[str]:
        """Sends one message; the texts of the bot's messages of that turn (empty if none came)."""
        return [m.get("text", "") for m in self.say_messages(text, wait)]

    def say_messages(self, text: str, wait: float = 60) -> List[Dict[str, Any]]:
        start = len(self.messages)
        self.emit(text)
        with self.changed:
            self.changed.wait_for(lambda: len(self.messages) > start, timeout=wait)
            while self.changed.wait(timeout=3):  # the rest of the turn follows within moments
                pass
        return self.messages[start:]

    def close(self, background: bool = False) -> None:
        """Disconnects; in the background, the polling client waits out its long poll (~25 s)."""
        if not self.client.connected:
            return
        if background:
            threading.Thread(target=self.client.disconnect, daemon=True).start()
        else:
            self.client.disconnect()
