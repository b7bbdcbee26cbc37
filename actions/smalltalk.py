"""Greetings, thanks, yes/no, "are you a bot?" and language switches."""
from __future__ import annotations

from rasa_sdk import Tracker

from actions.base import AssistantAction, Message, Reply, button, effective_intent, is_first_reply
from bot import replies

# Small-talk replies that offer a person (the guardrail's "frustrated" after a refusal).
OFFERS_A_PERSON = ("frustration",)


class ActionSmalltalk(AssistantAction):
    """Answers the small-talk intents from replies.yml's `smalltalk` section."""

    action_name = "action_smalltalk"

    def reply(self, tracker: Tracker, language: str) -> Reply:
        texts = replies.default()
        intent = effective_intent(tracker) or "greet"
        key = f"smalltalk.{intent}" if texts.has(f"smalltalk.{intent}", language) else "smalltalk.greet"
        if key == "smalltalk.greet" and is_first_reply(tracker):
            # The introduction is the greeting.
            return Reply(triage="smalltalk", messages=[Message(texts.text("intro", language))], skip_intro=True)
        buttons = [button("ask_human", "/ask_human", language)] if intent in OFFERS_A_PERSON else []
        return Reply(triage="smalltalk", messages=[Message(texts.text(key, language), buttons)])
