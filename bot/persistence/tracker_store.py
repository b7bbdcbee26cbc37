"""Rasa's SQL tracker store, chosen by a URL from the environment, redacting before it writes.

endpoints.yml names this class. `TRACKER_STORE_URL` is any SQLAlchemy URL:
- unset: a SQLite file, var/conversations.db (embedded, no server);
- `postgresql://user@host:5432/db`: PostgreSQL, shared by several Rasa instances.

Every event is redacted (bot.privacy.events) on its way into the database, so
the stored conversation, the HTTP API's trackers and everything read back later
hold placeholders instead of CPR numbers, phone numbers, e-mails and addresses.
The turn being processed keeps the original text in memory: the NLU, the
guardrail and the actions see what the person wrote.

A CPR or phone number split over two messages ("mit cpr er 130492", then "7141") is
redacted in both (bot/privacy/across.py): before a new user message is written, the
end of the previous stored user message and the start of the new one are read
together, and when they form a number the stored events from the previous message on
are rewritten in the same transaction.
"""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker

from bot import paths
from bot.privacy.across import redact_split_numbers, replace_text, starts_with_number
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
        """The events not stored yet, redacted (Rasa counts them, so the count is kept).

        A number split between the last stored user message and the first new one is
        redacted in both; the stored events are updated in `session`, which Rasa's save()
        commits together with the new events.
        """
        events: List[Dict[str, Any]] = [event.as_dict() for event in super()._additional_events(session, tracker)]
        first = next((e for e in events if e.get("event") == "user"), None)
        previous_text, stored = None, []
        if first is not None and starts_with_number(first.get("text")):
            previous_text, stored = self._since_last_user_message(session, tracker.sender_id)
        changed = redact_split_numbers(previous_text, events)
        if changed is not None and previous_text is not None:
            for row in stored:
                data = json.loads(row.data)
                updated = replace_text(data, previous_text, changed)
                if updated != data:
                    row.data = json.dumps(updated)
        for data in events:
            yield Event.from_parameters(redact_event(data))

    async def _stream_new_events(self, event_broker: EventBroker, new_events: List[Event], sender_id: str) -> None:
        """Rasa's publishing of new events to the event broker, each event redacted first."""
        for event in new_events:
            event_broker.publish(redact_event({"sender_id": sender_id, **event.as_dict()}))

    def _since_last_user_message(self, session: Any, sender_id: str) -> Tuple[Optional[str], List[Any]]:
        """The text of the last stored user message and its stored events from it on (rows)."""
        last = (
            session.query(self.SQLEvent)
            .filter(self.SQLEvent.sender_id == sender_id, self.SQLEvent.type_name == "user")
            .order_by(self.SQLEvent.id.desc())
            .first()
        )
        if last is None:
            return None, []
        text = json.loads(last.data).get("text")
        if not isinstance(text, str):
            return None, []
        rows = (
            session.query(self.SQLEvent)
            .filter(self.SQLEvent.sender_id == sender_id, self.SQLEvent.id >= last.id)
            .order_by(self.SQLEvent.id)
            .all()
        )
        return text, rows
