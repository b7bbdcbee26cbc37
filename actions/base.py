"""The frame every reply shares: language, the first-turn introduction, and triage.

After every user message the tracker holds `language`, `triage` and `topic`
(the helpline and the evaluation read them). Each reply action says what it
answers through a `Reply`; this base class decides the language, utters the reply
and sets those slots, so no action can forget them.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot import language as language_module
from bot import replies as replies_module
from bot.language import DEFAULT_LANGUAGE, normalise

logger = logging.getLogger(__name__)

TRIAGE_VALUES = ("answered", "settings_refused", "emergency", "handoff", "out_of_scope", "smalltalk")


@dataclass
class Message:
    text: str
    buttons: List[Dict[str, str]] = field(default_factory=list)
    # A channel-independent marker sent with the text (e.g. the handoff's {"helpline": ...}).
    custom: Optional[Dict[str, Any]] = None


@dataclass
class Reply:
    """What an action says and how the turn is triaged."""

    triage: str
    messages: List[Message]
    topic: Optional[str] = None
    events: List[EventType] = field(default_factory=list)
    # An introduction would delay what matters (an emergency reply, or the intro itself).
    skip_intro: bool = False

    def __post_init__(self) -> None:
        if self.triage not in TRIAGE_VALUES:
            raise ValueError(f"unknown triage {self.triage!r}")
        if self.topic is not None and self.triage != "answered":
            raise ValueError("a topic belongs only to an answered turn")


def reply_language(tracker: Tracker) -> str:
    """The language to answer this message in (bot/language.py): the message's own, else
    the conversation's, else the page's (metadata.language). Decided here, in the reply
    action, rather than by a slot-mapping action: that saved a round trip to the action
    server on every turn (docs/benchmarks.md)."""
    message = tracker.latest_message or {}
    decision = language_module.default().resolve(
        message.get("text"),
        previous=normalise(tracker.get_slot("language")),
        prior=(message.get("metadata") or {}).get("language"),
    )
    return decision.language or DEFAULT_LANGUAGE


def effective_intent(tracker: Tracker) -> Optional[str]:
    """The intent to answer as: the guardrail's hint for this turn, else the NLU's."""
    return tracker.get_slot("intent_hint") or (tracker.latest_message.get("intent") or {}).get("name")


def guardrail_decision(tracker: Tracker) -> Dict[str, Any]:
    """The guardrail's decision for this message (slot `guardrail`, set by policy/)."""
    decision = tracker.get_slot("guardrail")
    return decision if isinstance(decision, dict) else {}


def safety_line(tracker: Tracker, language: str) -> List[Message]:
    """A concerning sign that is not acute (ketones alone, high and rising, a hypo that has
    passed): one line naming the diabetes clinic, and 112 if danger signs appear."""
    if guardrail_decision(tracker).get("concern"):
        return [Message(replies_module.default().text("concern", language))]
    return []


def is_first_reply(tracker: Tracker) -> bool:
    """True when the bot has not yet spoken in this session."""
    for event in reversed(tracker.events):
        if event.get("event") == "bot":
            return False
        if event.get("event") == "session_started":
            return True
    return True


def button(key: str, payload: str, language: str) -> Dict[str, str]:
    return {"title": replies_module.default().text(f"buttons.{key}", language), "payload": payload}


def standard_buttons(language: str, follow_up: bool = True) -> List[Dict[str, str]]:
    """Quick replies for "tell me more" and "talk to a person"."""
    found = [button("ask_human", "/ask_human", language)]
    if follow_up:
        found.insert(0, button("follow_up", "/follow_up", language))
    return found


def privacy_note(language: str) -> Message:
    from bot.privacy.retention import retention_days

    return Message(replies_module.default().text("privacy_note", language, retention_days=str(retention_days())))


def opening(reply: Reply, messages: Sequence[Message], language: str) -> List[Message]:
    """A session's first reply: intro and privacy note first, or, when the reply must come
    first (an emergency), the reply and then the privacy note."""
    if reply.skip_intro:
        return [*messages, privacy_note(language)]
    intro = Message(replies_module.default().text("intro", language))
    return [intro, privacy_note(language), *messages]


class AssistantAction(Action):
    """Base class: subclasses build a Reply; this utters it and sets the contract slots."""

    action_name: Text = ""

    def name(self) -> Text:
        return self.action_name

    def reply(self, tracker: Tracker, language: str) -> Reply:
        raise NotImplementedError

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        language = reply_language(tracker)
        reply = self.reply(tracker, language)
        messages: Sequence[Message] = reply.messages
        if reply.triage != "emergency":
            messages = [*safety_line(tracker, language), *messages]
        if is_first_reply(tracker):
            messages = opening(reply, messages, language)
        for message in messages:
            dispatcher.utter_message(text=message.text, buttons=message.buttons or None, json_message=message.custom)
        logger.info("%s: triage=%s topic=%s language=%s", self.name(), reply.triage, reply.topic, language)
        return [
            SlotSet("language", language),
            SlotSet("triage", reply.triage),
            SlotSet("topic", reply.topic),
            SlotSet("intent_hint", None),  # a hint holds for one turn only
            *reply.events,
        ]
