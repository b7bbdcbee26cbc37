"""Referrals: questions the paper does not answer, and requests for a person."""
from __future__ import annotations

from rasa_sdk import Tracker

from actions.base import AssistantAction, Message, Reply, standard_buttons
from bot import replies


class ActionOutOfScope(AssistantAction):
    """Says kindly what the assistant can help with, and where to turn instead."""

    action_name = "action_out_of_scope"

    def reply(self, tracker: Tracker, language: str) -> Reply:
        text = replies.default().text("out_of_scope", language)
        return Reply(
            triage="out_of_scope",
            messages=[Message(text, standard_buttons(language, follow_up=False))],
        )


class ActionHandoff(AssistantAction):
    """Tells the person that a member of staff will take over."""

    action_name = "action_handoff"

    def reply(self, tracker: Tracker, language: str) -> Reply:
        return Reply(triage="handoff", messages=[Message(replies.default().text("handoff", language))])
