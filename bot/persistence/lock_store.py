"""The lock store: Redis when LOCK_STORE_URL is given, else in memory (one Rasa process).

Rasa takes a lock per conversation while it handles a message. With several Rasa
instances behind one address, the lock must be shared, or two instances could
handle the same conversation's messages at once and store them out of order.
`LOCK_STORE_URL=redis://[:password@]host:6379/1` (or rediss:// for TLS) shares it.

Rasa 3.6's RedisLockStore reads a conversation's lock, changes it and writes it back
(issuing a ticket, finishing one) without anything stopping a second instance in
between: two instances could issue the same ticket and handle one conversation's
messages at once, and a turn was lost (tests/integration/test_scale_out.py caught it).
Here every such read-modify-write holds a short Redis mutex for that conversation.
"""
from __future__ import annotations

import logging
import os
from contextlib import contextmanager
from typing import Any, Iterator, Optional
from urllib.parse import unquote, urlsplit

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, InMemoryLockStore, LockStore, RedisLockStore

logger = logging.getLogger(__name__)

URL_VARIABLE = "LOCK_STORE_URL"
MUTEX_SECONDS = 5


def from_url(url: str) -> LockStore:
    """A RedisLockStore for redis://[user:password@]host[:port][/db]."""
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss"):
        raise ValueError(f"{URL_VARIABLE} must start with redis:// or rediss://")
    db = parts.path.strip("/") or "1"
    return RedisLockStore(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 6379,
        db=int(db),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        use_ssl=parts.scheme == "rediss",
        key_prefix=os.environ.get("LOCK_STORE_KEY_PREFIX") or None,
    )


class EnvironmentLockStore(LockStore):
    """Delegates to Redis or to memory, as the environment says (endpoints.yml names this class)."""

    def __init__(self, endpoint_config: Optional[Any] = None, env: Optional[dict] = None) -> None:
        env = os.environ if env is None else env
        url = (env.get(URL_VARIABLE) or "").strip()
        self.store: LockStore = from_url(url) if url else InMemoryLockStore()
        where = f"Redis at {urlsplit(url).hostname}:{urlsplit(url).port or 6379}" if url else "memory"
        logger.info("Conversation locks are kept in %s.", where)

    @contextmanager
    def _exclusive(self, conversation_id: str) -> Iterator[None]:
        """Holds the conversation's mutex in Redis (in memory, asyncio already runs these
        synchronous methods one at a time)."""
        if not isinstance(self.store, RedisLockStore):
            yield
            return
        mutex = self.store.red.lock(
            f"{self.store.key_prefix}{conversation_id}:mutex", timeout=MUTEX_SECONDS, blocking_timeout=MUTEX_SECONDS
        )
        if not mutex.acquire():
            raise TimeoutError("the conversation's lock is busy")
        try:
            yield
        finally:
            try:
                mutex.release()
            except Exception:  # expired meanwhile: nothing left to release
                logger.warning("A conversation mutex expired before it was released.")

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        with self._exclusive(conversation_id):
            return super().issue_ticket(conversation_id, lock_lifetime)

    def update_lock(self, conversation_id: str) -> None:
        with self._exclusive(conversation_id):
            super().update_lock(conversation_id)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        with self._exclusive(conversation_id):
            super().cleanup(conversation_id, ticket_number)

    def get_lock(self, conversation_id: str) -> Optional[TicketLock]:
        return self.store.get_lock(conversation_id)

    def delete_lock(self, conversation_id: str) -> None:
        self.store.delete_lock(conversation_id)

    def save_lock(self, lock: TicketLock) -> None:
        self.store.save_lock(lock)
