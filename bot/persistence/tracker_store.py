"""Rasa's SQL tracker store, chosen by a URL from the environment, redacting before it writes.

endpoints.yml names this class. `TRACKER_STORE_URL` is any SQLAlchemy URL:
- unset: a SQLite file, var/conversations.db (embedded, no server);
- `postgresql://user@host:5432/db`: PostgreSQL, shared by several Rasa instances.

Every event is redacted (bot.privacy.events) on its way into the database, so
the stored conversation, the HTTP API's trackers and everything read back later
hold placeholders instead of CPR numbers, phone numbers, e-mails and addresses.
The turn being processed keeps the original text in memory: the NLU, the
guardrail and the actions see what the person wrote.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Iterator, Optional

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker

from bot import paths
from bot.privacy.events import redact_event

logger = logging.getLogger(__name__)

URL_VARIABLE = "TRACKER_STORE_URL"
DEFAULT_SQLITE = paths.ROOT / "var" / "conversations.db"


def database_url(env: Optional[dict] = None) -> str:
    """The tracker store's URL: TRACKER_STORE_URL, else the default SQLite file."""
    env = os.environ if env is None else env
    url = (env.get(URL_VARIABLE) or "").strip()
    return url or f"sqlite:///{DEFAULT_SQLITE}"


def describe(url: str) -> str:
    """The URL without its password, for logs."""
    from sqlalchemy.engine.url import make_url

    return make_url(url).__repr__()


class PrivateSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore on TRACKER_STORE_URL whose stored events are redacted."""

    def __init__(
        self,
        domain: Optional[Domain] = None,
        host: Optional[str] = None,
        event_broker: Optional[EventBroker] = None,
        **kwargs: Any,
    ) -> None:
        url = database_url()
        if url.startswith("sqlite:///"):
            Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
        # Rasa's SQLTrackerStore takes a complete URL given as `host`.
        super().__init__(domain=domain, host=url, event_broker=event_broker, **kwargs)
        logger.info("Conversations are stored in %s (redacted).", describe(url))

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator[Event]:
        """The events not stored yet, redacted (Rasa counts them, so the count is kept)."""
        for event in super()._additional_events(session, tracker):
            yield Event.from_parameters(redact_event(event.as_dict()))
