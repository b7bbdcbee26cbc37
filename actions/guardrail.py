"""The two guarded replies: the settings refusal and the emergency reply.

The guardrail policy (policy/) decides when they run; these actions only say
them. Their texts live in data/content/replies.yml and never hold a figure.
"""
from __future__ import annotations

from rasa_sdk import Tracker

from actions.answer import render
from actions.base import AssistantAction, Message, Reply, button
from bot import content, replies


def refusal_text(language: str) -> str:
    """Why not (in the paper's words), and where to turn instead."""
    texts = replies.default()
    paper = content.default()
    quotes = [paper.statement(sid) for sid in texts.raw("settings_refusal.quotes")]
    return "\n".join(
        [
            texts.text("settings_refusal.opening", language),
            render(quotes, language, "settings_refusal.why"),
            texts.text("settings_refusal.referral", language, guideline_url=paper.first_link("guideline")),
        ]
    )


class ActionRefuseSettings(AssistantAction):
    """Refuses advice on DIY settings or doses, kindly, and refers onward."""

    action_name = "action_refuse_settings"

    def reply(self, tracker: Tracker, language: str) -> Reply:
        return Reply(
            triage="settings_refused",
            messages=[Message(refusal_text(language), [button("ask_human", "/ask_human", language)])],
        )


class ActionEmergency(AssistantAction):
    """Call 112 now, and widely accepted first aid; nothing else comes first."""

    action_name = "action_emergency"

    def reply(self, tracker: Tracker, language: str) -> Reply:
        return Reply(
            triage="emergency",
            messages=[Message(replies.default().text("emergency", language))],
            skip_intro=True,
        )
