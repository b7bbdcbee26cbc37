"""Which socket holds which widget conversation, so that no other socket can write into it.

All channels share one space of conversation ids, and Rasa's socket.io channel lets any
socket name any session id: another page could then write into a person's conversation
(and read the replies). Here a widget conversation is stored as `web:<session>`, and a
session belongs to the socket that opened it. A page proves on reconnect or reload that
it is the same widget with a secret token the server gave it (kept in the tab's
sessionStorage with the session id, never in the tracker); a socket without it gets a new
session of its own. The registry is in memory: after a restart, a session id the server
does not know is accepted as new. A socket that claims another session (the widget's "new
conversation") holds only that one: the old one is released, and only its token opens it.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from collections import OrderedDict
from typing import Dict, Optional, Tuple

SENDER_PREFIX = "web:"
MAX_SESSIONS = 50_000


def conversation_id(session_id: str) -> str:
    """The tracker's id for a widget session."""
    return SENDER_PREFIX + session_id


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SessionRegistry:
    """session id -> (token digest, socket id or None when no socket holds it)."""

    def __init__(self, limit: int = MAX_SESSIONS) -> None:
        self._sessions: "OrderedDict[str, Tuple[str, Optional[str]]]" = OrderedDict()
        self._by_socket: Dict[str, str] = {}
        self.limit = limit

    def claim(self, sid: str, proposed: Optional[str], token: Optional[str]) -> Tuple[str, Optional[str]]:
        """The session this socket gets, and a new token to hand the page (None: keep yours).

        A session the server does not know is the page's to open; a known one goes to a
        socket that shows its token, and any other socket gets a new session instead."""
        if proposed and proposed in self._sessions:
            digest, _ = self._sessions[proposed]
            if isinstance(token, str) and hmac.compare_digest(digest, _digest(token)):
                self._bind(sid, proposed, digest)
                return proposed, None
            proposed = None
        session_id = proposed or uuid.uuid4().hex
        new_token = secrets.token_urlsafe(24)
        self._bind(sid, session_id, _digest(new_token))
        return session_id, new_token

    def session_of(self, sid: str) -> Optional[str]:
        """The session this socket holds, if any."""
        return self._by_socket.get(sid)

    def owns(self, sid: str, session_id: Optional[str]) -> bool:
        return bool(session_id) and self._by_socket.get(sid) == session_id

    def release(self, sid: str) -> None:
        """The socket is gone: its session stays, for the page to reclaim with its token."""
        session_id = self._by_socket.pop(sid, None)
        if session_id in self._sessions:
            digest, holder = self._sessions[session_id]
            if holder == sid:
                self._sessions[session_id] = (digest, None)

    def _bind(self, sid: str, session_id: str, digest: str) -> None:
        previous = self._by_socket.pop(sid, None)
        if previous and previous != session_id and previous in self._sessions:
            self._sessions[previous] = (self._sessions[previous][0], None)
        old_digest, old_holder = self._sessions.pop(session_id, (digest, None))
        if old_holder and old_holder != sid:
            self._by_socket.pop(old_holder, None)
        self._sessions[session_id] = (digest, sid)
        self._by_socket[sid] = session_id
        while len(self._sessions) > self.limit:
            gone, (_, holder) = self._sessions.popitem(last=False)
            if holder:
                self._by_socket.pop(holder, None)
