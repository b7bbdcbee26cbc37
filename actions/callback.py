"""Being called back by the helpline, with consent, the number kept only in the ticket.

Giving an e-mail address or a phone number in passing is not a request for a person
(intent give_contact): the assistant says it keeps no contact details in the chat.
Asking to be called (request_callback) goes in three short steps:
1. consent: the number would be kept in the ticket for the helpline, and only there;
2. "yes": which number;
3. a number: a ticket (reason `callback`) holds it, formatted, as `callback_number`.
The conversation keeps its redaction: the number is not kept in the conversation.
"""
from __future__ import annotations

import logging
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional, Text

import phonenumbers
from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import AssistantAction, Message, Reply, button, reply_language, standard_buttons
from bot import content, replies
from bot.helpline import handoff_lexicon, service, store, tickets, wording
from bot.privacy.retention import retention_days

logger = logging.getLogger(__name__)

STEP_SLOT = "callback_step"
CONSENT, NUMBER = "consent", "number"
# Whether this call stored the callback ticket (set in run, read in reply).
_opened: ContextVar[bool] = ContextVar("callback_opened", default=False)


def asked_alongside(tracker: Tracker) -> Optional[str]:
    """The topic the person also asked about, when contact details came with a question
    (a "?" and a topic intent next in the NLU's ranking); else None."""
    text = (tracker.latest_message or {}).get("text") or ""
    if "?" not in text:
        return None
    for ranked in (tracker.latest_message or {}).get("intent_ranking") or []:
        name = ranked.get("name") or ""
        if name in ("give_contact", "request_callback"):
            continue
        topic = name[len(content.TOPIC_INTENT_PREFIX):] if name.startswith(content.TOPIC_INTENT_PREFIX) else None
        return name if topic in content.TOPIC_IDS else None
    return None


def phone_number(text: str) -> Optional[str]:
    """The first phone number in the text, in international format (Danish by default)."""
    for match in phonenumbers.PhoneNumberMatcher(text or "", "DK"):
        return phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return None


class ActionCallback(AssistantAction):
    action_name = "action_callback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        step = self._step(tracker)
        if step == "in_passing" and handoff_lexicon.is_explicit((tracker.latest_message or {}).get("text") or ""):
            # "I want to talk to a person, my number is ...": the request for a person counts.
            from actions.referral import ActionHandoff

            return await ActionHandoff().run(dispatcher, tracker, domain)
        question = asked_alongside(tracker) if step == "in_passing" else None
        if question:
            # "My mail is ..., what do you think of looping?": the question counts.
            return [SlotSet("intent_hint", question), FollowupAction("action_answer_topic")]
        opened = await self._open(tracker, reply_language(tracker)) if step == "store" else False
        token = _opened.set(opened)
        try:
            return await super().run(dispatcher, tracker, domain)
        finally:
            _opened.reset(token)

    @staticmethod
    def _step(tracker: Tracker) -> str:
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        step = tracker.get_slot(STEP_SLOT)
        text = (tracker.latest_message or {}).get("text") or ""
        if intent == "request_callback":
            return "ask_consent"
        if step == CONSENT and intent == "affirm":
            return "ask_number"
        if step == CONSENT and intent == "give_contact" and phone_number(text):
            return "store"  # asked whether to be called, the person answered with the number
        if step == NUMBER:
            return "store" if phone_number(text) else "no_number"
        return "in_passing"

    def reply(self, tracker: Tracker, language: str) -> Reply:
        texts = replies.default()
        step = self._step(tracker)
        if step == "ask_consent":
            text = texts.text("callback.consent", language, retention_days=str(retention_days()))
            buttons = [button("answer_yes", "/affirm", language), button("answer_no", "/deny", language)]
            return Reply(triage="handoff", messages=[Message(text, buttons)], events=[SlotSet(STEP_SLOT, CONSENT)])
        if step == "ask_number":
            return Reply(triage="handoff", messages=[Message(texts.text("callback.which_number", language))],
                         events=[SlotSet(STEP_SLOT, NUMBER)])
        if step == "no_number":
            return Reply(triage="handoff", messages=[Message(texts.text("callback.no_number", language))])
        if step == "store":
            if _opened.get():
                text = texts.text("callback.stored", language)
            else:
                text = wording.unavailable_text(service.default().config, texts, language)
            return Reply(triage="handoff", messages=[Message(text)], events=[SlotSet(STEP_SLOT, None)])
        return Reply(triage="out_of_scope",
                     messages=[Message(texts.text("callback.in_passing", language), standard_buttons(language, follow_up=False))])

    @staticmethod
    async def _open(tracker: Tracker, language: str) -> bool:
        number = phone_number((tracker.latest_message or {}).get("text") or "")
        try:
            helpline = service.default()
            draft = tickets.build(
                tracker, reason=store.CALLBACK, triage="handoff", language=language, replies=[],
                pauses_conversation=False, config=helpline.config, texts=replies.default(),
                now=datetime.now(timezone.utc),
            )
            draft.callback_number = number
        except Exception as error:  # noqa: BLE001
            logger.error("helpline: callback ticket not built (%s)", type(error).__name__)
            return False
        return await helpline.open_now(draft) is not None
