"""The two guarded replies: the settings refusal and the emergency reply.

The guardrail policy (policy/) decides when they run; these actions only say
them. Their texts live in data/content/replies.yml and never hold a figure.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.answer import render
from actions.base import AssistantAction, Message, Reply, button, guardrail_decision, reply_language
from actions.helpline import record_live
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


def record_live_in_background(tracker: Tracker, texts: List[str]) -> None:
    """The emergency during a handoff goes into the live ticket, marked, without holding up 112."""
    try:
        loop = asyncio.get_running_loop()
        service.track(loop.run_in_executor(None, lambda: record_live(tracker, texts, emergency=True)))
    except Exception as error:  # noqa: BLE001
        logger.error("helpline: emergency not added to the live ticket (%s)", type(error).__name__)


def refused_before(tracker: Tracker) -> bool:
    """True when this session already had a refusal before the current message."""
    latest_user = None
    for index in range(len(tracker.events) - 1, -1, -1):
        event = tracker.events[index]
        if event.get("event") == "user" and latest_user is None:
            latest_user = index
            continue
        if event.get("event") == "session_started":
            return False
        if latest_user is not None and event.get("event") == "slot" and event.get("name") == "triage":
            if event.get("value") == "settings_refused":
                return True
    return False


class ActionRefuseSettings(AssistantAction):
    """Refuses advice on DIY settings or doses, kindly, and refers onward. The full text
    comes once a conversation; after that a short one: the same words three times in a
    row read as a wall."""

    action_name = "action_refuse_settings"

    def reply(self, tracker: Tracker, language: str) -> Reply:
        text = replies.default().text("settings_refusal.again", language) if refused_before(tracker) else refusal_text(language)
        return Reply(
            triage="settings_refused",
            messages=[Message(text, [button("ask_human", "/ask_human", language)])],
        )


def emergency_marker(language: str) -> Dict[str, Any]:
    """The marker that makes a channel show the 112 message as an alert with a call
    button (bot/channels/webchat.py, bot/channels/messenger.py); REST passes it on."""
    texts = replies.default()
    return {"emergency": {"call": texts.constants["emergency_number"], "title": texts.text("buttons.call_emergency", language)}}


class ActionEmergencyReminder(AssistantAction):
    """Emergency mode (policy/detectors.py): the same situation is still going on.
    A short 112 reminder first, then the refusal (a dose or the loop was asked about)
    or the first-aid line; no quick replies, nothing else."""

    action_name = "action_emergency_reminder"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        events = await super().run(dispatcher, tracker, domain)
        if tracker.is_paused():
            record_live_in_background(tracker, [m["text"] for m in dispatcher.messages if m.get("text")])
        return events

    def reply(self, tracker: Tracker, language: str) -> Reply:
        texts = replies.default()
        then = guardrail_decision(tracker).get("then") or "first_aid"
        return Reply(
            triage="emergency",
            messages=[
                Message(texts.text("emergency_reminder.call", language), custom=emergency_marker(language)),
                Message(texts.text(f"emergency_reminder.{then}", language)),
            ],
            skip_intro=True,
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
        texts = [m["text"] for m in dispatcher.messages if m.get("text")]
        if tracker.is_paused():
            # A person is awaited: the live ticket gets the message and the 112 reply and
            # goes to the top of the staff queue (no second ticket).
            record_live_in_background(tracker, texts)
            return events
        try:
            helpline = service.default()
            draft = tickets.build(
                tracker,
                reason=store.EMERGENCY,
                triage="emergency",
                language=reply_language(tracker),
                replies=texts,
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
            messages=[Message(replies.default().text("emergency", language), custom=emergency_marker(language))],
            skip_intro=True,
        )
