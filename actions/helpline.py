"""The live handoff: what runs while a member of staff has the conversation.

- action_wait_for_staff  the guardrail's choice for a message while a person is awaited
                         (policy/guardrail_policy.py): says nothing, and puts the message,
                         redacted, with the guardrail's decision, into the live ticket;
- action_staff_message   run by the helpline (bot/helpline/service.py) through Rasa's
                         HTTP API: sends the conversation's undelivered staff replies on
                         the person's channel, marked as written by staff;
- action_hand_back       run when staff close the ticket: lifts the pause and says, in
                         one line, that the assistant answers again;
- action_session_start   Rasa's, plus one thing: a conversation that waits for a person
                         stays paused in a new session (a reply may come the next morning).

Staff and the assistant never talk over each other: while paused only the emergency
reply comes from the assistant (actions/guardrail.py records it here too).
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Sequence, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, ConversationPaused, ConversationResumed, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import guardrail_decision, reply_language
from bot import replies
from bot.helpline import service, store, tickets
from bot.privacy.redact import redact

logger = logging.getLogger(__name__)

# The `custom` payload that marks handoff moments on every channel (widget: status line and
# staff label; Messenger: staff name, Handover Protocol; REST: in the reply).
WAITING = {"helpline": {"status": "waiting"}}
ENDED = {"helpline": {"status": "ended"}}


def live(staff: str) -> Dict[str, Any]:
    return {"helpline": {"status": "live", "staff": staff}}


def record_live(tracker: Tracker, bot_texts: Sequence[str] = (), emergency: bool = False) -> Optional[int]:
    """Puts the person's latest message and the assistant's replies into the conversation's
    live ticket (if a person is awaited), redacted; marks the ticket an emergency when
    asked. The ticket's id, or None when there is none or the store failed (logged)."""
    try:
        helpline = service.default()
        ticket = helpline.store.active_for(tracker.sender_id)
        if ticket is None:
            return None
        text = (tracker.latest_message or {}).get("text") or ""
        if text.strip():
            decision = tickets.decision_for_staff(guardrail_decision(tracker))
            helpline.store.add_message(ticket.id, store.USER, redact(text.strip()), decision=decision)
        for reply in bot_texts:
            if reply:
                helpline.store.add_message(ticket.id, store.BOT, redact(reply))
        if emergency:
            helpline.store.mark_emergency(ticket.id)
        return ticket.id
    except Exception as error:  # noqa: BLE001 - recording must never cost the person a reply
        logger.error("helpline: message not added to the live ticket (%s)", type(error).__name__)
        return None


def _triage_slots(tracker: Tracker, triage: str) -> List[Dict[Text, Any]]:
    return [
        SlotSet("language", reply_language(tracker)),
        SlotSet("triage", triage),
        SlotSet("topic", None),
        SlotSet("intent_hint", None),
    ]


class ActionWaitForStaff(Action):
    """Silence while a person is awaited; the message goes to the ticket."""

    def name(self) -> Text:
        return "action_wait_for_staff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        record_live(tracker)
        return _triage_slots(tracker, "handoff")


class ActionStaffMessage(Action):
    """Sends staff replies waiting for this conversation (each once), marked as staff's."""

    def name(self) -> Text:
        return "action_staff_message"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        pending = service.default().store.take_pending(tracker.sender_id)
        for message in pending:
            dispatcher.utter_message(text=message.pending_text, json_message=live(message.staff_name or ""))
        logger.info("helpline: %d staff message(s) sent", len(pending))
        # The turn stays open for the person's next message (as after action_listen).
        return [ActionExecuted("action_listen")]


class ActionHandBack(Action):
    """The ticket is closed: the assistant answers again, and says so in one line."""

    def name(self) -> Text:
        return "action_hand_back"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        language = tracker.get_slot("language") or "da"
        text = replies.default().text("handoff.hand_back", language)
        dispatcher.utter_message(text=text, json_message=ENDED)
        return [ConversationResumed(), SlotSet("triage", None), ActionExecuted("action_listen")]


class ActionSessionStart(Action):
    """Rasa's session start (slots carried over), keeping a conversation that waits for a
    person paused: the new session continues the handoff rather than the assistant."""

    def name(self) -> Text:
        return "action_session_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        events: List[Dict[Text, Any]] = [SessionStarted()]
        carry = (domain.get("session_config") or {}).get("carry_over_slots_to_new_session", True)
        if carry:
            events.extend(SlotSet(name, value) for name, value in (tracker.slots or {}).items() if value is not None)
        if _paused(tracker.events):
            events.append(ConversationPaused())
        events.append(ActionExecuted("action_listen"))
        return events


def _paused(events: Sequence[Dict[str, Any]]) -> bool:
    """Whether the latest pause or resume in the conversation is a pause."""
    for event in reversed(list(events or [])):
        kind = event.get("event")
        if kind == "pause":
            return True
        if kind in ("resume", "restart"):
            return False
    return False
