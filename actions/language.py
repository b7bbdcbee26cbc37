"""Sets the `language` slot after every user message (a custom slot mapping)."""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot import language

logger = logging.getLogger(__name__)


class ActionDetectLanguage(Action):
    """Runs from action_extract_slots, before any reply, so replies can use the slot."""

    def name(self) -> Text:
        return "action_detect_language"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        message = tracker.latest_message or {}
        metadata = message.get("metadata") or {}
        decision = language.default().resolve(
            message.get("text"),
            previous=tracker.get_slot("language"),
            prior=metadata.get("language"),
        )
        logger.debug("language=%s (%s)", decision.language, decision.reason)
        return [SlotSet("language", decision.language)]
