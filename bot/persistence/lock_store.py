"""The lock store: Redis when LOCK_STORE_URL is given, else in memory (one Rasa process).

Rasa takes a lock per conversation while it handles a message. With several Rasa
instances behind one address, the lock must be shared, or two instances could
handle the same conversation's messages at once and store them out of order.
`LOCK_STORE_URL=redis://[:password@]host:6379/1` (or rediss:// for TLS) shares it.
"""
from __future__ import annotations

import logging
import os
from typing import Any, Optional
from urllib.parse import unquote, urlsplit

from rasa.core.lock import TicketLock
from rasa.core.lock_store import InMemoryLockStore, LockStore, RedisLockStore

logger = logging.getLogger(__name__)

URL_VARIABLE = "LOCK_STORE_URL"


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

    def get_lock(self, conversation_id: str) -> Optional[TicketLock]:
        return self.store.get_lock(conversation_id)

    def delete_lock(self, conversation_id: str) -> None:
        self.store.delete_lock(conversation_id)

    def save_lock(self, lock: TicketLock) -> None:
        self.store.save_lock(lock)
