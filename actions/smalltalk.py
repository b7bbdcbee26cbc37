"""Greetings, thanks, yes/no, "are you a bot?", language switches, Get Started and frustration."""
from __future__ import annotations

from rasa_sdk import Tracker

from actions.base import (
    INTRO_SHOWN_BY_CHANNEL,
    AssistantAction,
    Message,
    Reply,
    button,
    effective_intent,
    input_channel,
    is_first_reply,
    privacy_note,
)
from bot import replies

# Small-talk replies that offer a person (the guardrail's "frustrated").
OFFERS_A_PERSON = ("frustration",)


class ActionSmalltalk(AssistantAction):
    """Answers the small-talk intents from replies.yml's `smalltalk` section."""

    action_name = "action_smalltalk"

    def reply(self, tracker: Tracker, language: str) -> Reply:
        texts = replies.default()
        intent = effective_intent(tracker) or "greet"
        if intent == "get_started":
            # Messenger's Get Started button: the introduction and the privacy note, before
            # the person has written anything (bot/channels/messenger.py).
            return Reply(
                triage="smalltalk",
                messages=[Message(texts.text("intro", language)), privacy_note(language)],
                skip_intro=True,
                skip_privacy=True,
            )
        key = f"smalltalk.{intent}" if texts.has(f"smalltalk.{intent}", language) else "smalltalk.greet"
        if key == "smalltalk.greet" and is_first_reply(tracker) and input_channel(tracker) not in INTRO_SHOWN_BY_CHANNEL:
            # The introduction is the greeting.
            return Reply(triage="smalltalk", messages=[Message(texts.text("intro", language))], skip_intro=True)
        buttons = [button("ask_human", "/ask_human", language)] if intent in OFFERS_A_PERSON else []
        return Reply(triage="smalltalk", messages=[Message(texts.text(key, language), buttons)])
