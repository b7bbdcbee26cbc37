"""Referrals: questions the paper does not answer, and requests for a person."""
from __future__ import annotations

import logging
from contextvars import ContextVar
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.events import ConversationPaused
from rasa_sdk.executor import CollectingDispatcher

from actions.base import AssistantAction, Message, Reply, reply_language, standard_buttons
from bot import replies
from bot.helpline import service, tickets

logger = logging.getLogger(__name__)

# The ticket opened for the handoff being answered (set in run, read in reply; one per call).
_ticket_opened: ContextVar[Optional[bool]] = ContextVar("handoff_ticket_opened", default=None)


class ActionOutOfScope(AssistantAction):
    """Says kindly what the assistant can help with, and where to turn instead."""

    action_name = "action_out_of_scope"

    def reply(self, tracker: Tracker, language: str) -> Reply:
        text = replies.default().text("out_of_scope", language)
        return Reply(
            triage="out_of_scope",
            messages=[Message(text, standard_buttons(language, follow_up=False))],
        )


def handoff_text(language: str) -> str:
    """What happens next: a member of staff takes over here; opening hours and contact details."""
    values = service.default().config.helpline_values(language)
    return replies.default().text("handoff", language, **values)


def unavailable_text(language: str) -> str:
    values = service.default().config.helpline_values(language)
    return replies.default().text("helpline.unavailable", language, **values)


class ActionHandoff(AssistantAction):
    """Opens a helpline ticket, tells the person what happens next, and pauses the
    conversation until a member of staff closes the ticket.

    If the ticket cannot be stored, nobody would be told: the reply then gives the
    helpline's contact details instead, and the conversation is not paused.
    """

    action_name = "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        opened = await self._open_ticket(tracker, reply_language(tracker))
        token = _ticket_opened.set(opened)
        try:
            return await super().run(dispatcher, tracker, domain)
        finally:
            _ticket_opened.reset(token)

    def reply(self, tracker: Tracker, language: str) -> Reply:
        if _ticket_opened.get():
            return Reply(triage="handoff", messages=[Message(handoff_text(language))], events=[ConversationPaused()])
        return Reply(triage="handoff", messages=[Message(unavailable_text(language))])

    @staticmethod
    async def _open_ticket(tracker: Tracker, language: str) -> bool:
        try:
            helpline = service.default()
            why = tickets.handoff_reason(tracker)
            draft = tickets.build(
                tracker,
                reason=why["reason"],
                triage=why["triage"],
                language=language,
                replies=[handoff_text(language)],
                pauses_conversation=True,
                config=helpline.config,
                texts=replies.default(),
            )
        except Exception as error:  # noqa: BLE001 - a broken ticket must not break the conversation
            logger.error("helpline: handoff ticket not built (%s)", type(error).__name__)
            return False
        return await helpline.open_now(draft) is not None
