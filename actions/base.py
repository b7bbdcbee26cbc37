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
    # The reply is the introduction itself (a greeting), or holds the privacy note itself.
    skip_intro: bool = False
    skip_privacy: bool = False

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


def session_events(tracker: Tracker) -> List[Dict[str, Any]]:
    """The events of the current session (after its last session_started)."""
    events = list(tracker.events)
    for index in range(len(events) - 1, -1, -1):
        if events[index].get("event") == "session_started":
            return events[index + 1:]
    return events


def is_first_reply(tracker: Tracker) -> bool:
    """True when the bot has not yet spoken in this session."""
    return not any(event.get("event") == "bot" for event in session_events(tracker))


def privacy_note_given(tracker: Tracker) -> bool:
    """True once the bot has spoken in this session, unless all it said were emergency
    replies: the privacy note goes with the first reply that is not one."""
    events = session_events(tracker)
    if not any(event.get("event") == "bot" for event in events):
        return False
    triages = [e.get("value") for e in events if e.get("event") == "slot" and e.get("name") == "triage"]
    return not triages or any(value not in (None, "emergency") for value in triages)


def button(key: str, payload: str, language: str) -> Dict[str, str]:
    return {"title": replies_module.default().text(f"buttons.{key}", language), "payload": payload}


def standard_buttons(language: str, follow_up: bool = True) -> List[Dict[str, str]]:
    """Quick replies for "tell me more" and "talk to a person"."""
    found = [button("ask_human", "/ask_human", language)]
    if follow_up:
        found.insert(0, button("follow_up", "/follow_up", language))
    return found


# Where each channel shows the introduction and the privacy note (issue #11):
#   socketio (the website widget) shows both in its panel before anyone types
#     (bot/channels/widget_texts.py), so its replies carry neither;
#   facebook (Messenger) shows the privacy note in the page's greeting and the Get
#     Started reply (data/content/messenger.yml, action_smalltalk), so its first reply
#     carries only the introduction;
#   rest and any other channel: the first reply carries both.
INTRO_SHOWN_BY_CHANNEL = ("socketio",)
PRIVACY_SHOWN_BY_CHANNEL = ("socketio", "facebook")


def input_channel(tracker: Tracker) -> Optional[str]:
    return tracker.get_latest_input_channel()


def privacy_note(language: str) -> Message:
    from bot.privacy.retention import retention_days

    return Message(replies_module.default().text("privacy_note", language, retention_days=str(retention_days())))


def opening(tracker: Tracker, reply: Reply, messages: Sequence[Message], language: str) -> List[Message]:
    """The frame of a session's first replies. The 112 reply stands alone and first: no
    introduction and no privacy note with it; the privacy note then comes with the next
    reply. Otherwise the first reply opens with the introduction (two short lines) and,
    where the channel has not shown it already, the privacy note."""
    if reply.triage == "emergency":
        return list(messages)
    channel = input_channel(tracker)
    opening_lines: List[Message] = []
    if is_first_reply(tracker) and not reply.skip_intro and channel not in INTRO_SHOWN_BY_CHANNEL:
        opening_lines.append(Message(replies_module.default().text("intro", language)))
    if not privacy_note_given(tracker) and channel not in PRIVACY_SHOWN_BY_CHANNEL and not reply.skip_privacy:
        if reply.skip_intro and messages:  # the reply is the introduction: the note follows it
            return [messages[0], privacy_note(language), *messages[1:]]
        opening_lines.append(privacy_note(language))
    return [*opening_lines, *messages]


def with_person_button(reply: Reply, messages: Sequence[Message], language: str) -> List[Message]:
    """Every reply but an emergency or a handoff offers a person as its last quick reply,
    unless it asks a yes/no question of its own (its buttons are the answer)."""
    if reply.triage in ("emergency", "handoff") or not messages:
        return list(messages)
    payloads = {b.get("payload") for m in messages for b in m.buttons}
    if "/ask_human" in payloads or "/affirm" in payloads:
        return list(messages)
    last = messages[-1]
    return [*messages[:-1], Message(last.text, [*last.buttons, button("ask_human", "/ask_human", language)], last.custom)]


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
        messages = opening(tracker, reply, with_person_button(reply, messages, language), language)
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
