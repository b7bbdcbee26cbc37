"""Referrals: questions the paper does not answer, and requests for a person."""
from __future__ import annotations

import logging
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.events import ConversationPaused, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import AssistantAction, Message, Reply, button, reply_language, standard_buttons
from actions.helpline import WAITING
from bot import replies
from bot.helpline import handoff_lexicon, service, tickets, wording

logger = logging.getLogger(__name__)

# The ticket opened for the handoff being answered (set in run, read in reply; one per call).
_ticket_opened: ContextVar[Optional[bool]] = ContextVar("handoff_ticket_opened", default=None)
_step: ContextVar[str] = ContextVar("handoff_step", default="hand_over")
# Set while the question "talk to a member of staff?" waits for its answer.
ASKED_SLOT = "handoff_asked"


class ActionOutOfScope(AssistantAction):
    """Says kindly what the assistant can help with, and where to turn instead."""

    action_name = "action_out_of_scope"

    def reply(self, tracker: Tracker, language: str) -> Reply:
        text = replies.default().text("out_of_scope", language)
        return Reply(
            triage="out_of_scope",
            messages=[Message(text, standard_buttons(language, follow_up=False))],
        )


def handoff_text(language: str, now: Optional[datetime] = None) -> str:
    """What happens next, from config/helpline.yml (bot/helpline/wording.py)."""
    return wording.handoff_text(service.default().config, replies.default(), language, now or datetime.now(timezone.utc))


def unavailable_text(language: str) -> str:
    return wording.unavailable_text(service.default().config, replies.default(), language)


def unambiguous(tracker: Tracker) -> bool:
    """A button (/ask_human), the refusal's offer taken up, or wording that can only mean a
    person (data/lexicons/handoff.yml): no need to ask first."""
    text = ((tracker.latest_message or {}).get("text") or "").strip()
    return text.startswith("/") or handoff_lexicon.is_explicit(text)


class ActionHandoff(AssistantAction):
    """Asks first ("Would you like to talk to a member of staff?") unless the request is
    unambiguous; then opens a helpline ticket, tells the person what happens next, and
    pauses the conversation until a member of staff closes the ticket.

    If the ticket cannot be stored, nobody would be told: the reply then gives the
    helpline's contact details instead, and the conversation is not paused.
    """

    action_name = "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        step = self._step(tracker)
        opened = await self._open_ticket(tracker, reply_language(tracker)) if step == "hand_over" else None
        token = _ticket_opened.set(opened)
        step_token = _step.set(step)
        try:
            return await super().run(dispatcher, tracker, domain)
        finally:
            _ticket_opened.reset(token)
            _step.reset(step_token)

    def reply(self, tracker: Tracker, language: str) -> Reply:
        step = _step.get()
        texts = replies.default()
        if step == "confirm":
            buttons = [button("answer_yes", "/ask_human", language), button("answer_no", "/deny", language)]
            return Reply(triage="handoff", messages=[Message(texts.text("handoff.confirm", language), buttons)],
                         events=[SlotSet(ASKED_SLOT, True)])
        if step == "nothing_to_confirm":
            return Reply(triage="smalltalk", messages=[Message(texts.text("handoff.nothing_to_confirm", language))])
        if _ticket_opened.get():
            return Reply(triage="handoff", messages=[Message(handoff_text(language), custom=WAITING)],
                         events=[SlotSet(ASKED_SLOT, None), ConversationPaused()])
        return Reply(triage="handoff", messages=[Message(unavailable_text(language))], events=[SlotSet(ASKED_SLOT, None)])

    @staticmethod
    def _step(tracker: Tracker) -> str:
        """confirm (ask first), hand_over, or nothing_to_confirm ("yes" with no question asked)."""
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        if intent == "affirm":
            return "hand_over" if tracker.get_slot(ASKED_SLOT) else "nothing_to_confirm"
        return "hand_over" if unambiguous(tracker) else "confirm"

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
