"""A widget visitor for integration tests: socket.io long-polling from an allowed origin,
as the website widget talks to the assistant."""
from __future__ import annotations

import threading
import uuid
from typing import Any, Dict, List

import socketio


class WidgetVisitor:
    """One widget session; `say` returns the bot messages of that turn."""

    def __init__(self, url: str, origin: str) -> None:
        self.session_id = uuid.uuid4().hex
        self.received: List[Dict[str, Any]] = []
        self._said = threading.Condition()
        confirmed = threading.Event()
        self.client = socketio.Client(reconnection=False)
        self.client.on("session_confirm", lambda data: confirmed.set())
        self.client.on("bot_uttered", self._on_bot)
        self.client.connect(url, headers={"Origin": origin}, transports=["polling"], socketio_path="socket.io")
        self.client.emit("session_request", {"session_id": self.session_id})
        assert confirmed.wait(30), "no session_confirm from the widget channel"

    def _on_bot(self, data: Dict[str, Any]) -> None:
        with self._said:
            self.received.append(data)
            self._said.notify_all()

    def say(self, text: str, wait: float = 60) -> List[Dict[str, Any]]:
        start = len(self.received)
        self.client.emit("user_uttered", {"message": text, "session_id": self.session_id})
        with self._said:
            self._said.wait_for(lambda: len(self.received) > start, timeout=wait)
            # the rest of the turn's messages follow within moments
            while self._said.wait(timeout=3):
                pass
        return self.received[start:]

    def close(self) -> None:
        self.client.disconnect()
