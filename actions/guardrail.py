"""The two guarded replies: the settings refusal and the emergency reply.

The guardrail policy (policy/) decides when they run; these actions only say
them. Their texts live in data/content/replies.yml and never hold a figure.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.answer import render
from actions.base import AssistantAction, Message, Reply, button, reply_language
from bot import content, replies
from bot.helpline import service, store, tickets

logger = logging.getLogger(__name__)


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
    """Call 112 now, and widely accepted first aid; nothing else comes first.

    After the reply, a helpline ticket is opened silently in the background, so that
    staff can follow up. The conversation is not paused: the person may need the
    assistant again at once (see docs/helpline.md).
    """

    action_name = "action_emergency"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        events = await super().run(dispatcher, tracker, domain)
        try:
            helpline = service.default()
            draft = tickets.build(
                tracker,
                reason=store.EMERGENCY,
                triage="emergency",
                language=reply_language(tracker),
                replies=[m["text"] for m in dispatcher.messages if m.get("text")],
                pauses_conversation=False,
                config=helpline.config,
                texts=replies.default(),
            )
            helpline.open_in_background(draft)
        except Exception as error:  # noqa: BLE001 - the 112 reply goes out whatever happens here
            logger.error("helpline: emergency ticket not opened (%s)", type(error).__name__)
        return events

    def reply(self, tracker: Tracker, language: str) -> Reply:
        return Reply(
            triage="emergency",
            messages=[Message(replies.default().text("emergency", language))],
            skip_intro=True,
        )
