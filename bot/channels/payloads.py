"""Which "/" payloads act as intents: the ones the assistant's own buttons carry, and /restart.

Rasa reads any message that starts with "/" as an intent payload ("/emergency",
"/ask_human@0.1", "/session_start"), so anyone could force an intent, open tickets,
pause conversations or reset slots by typing. Here a message acts as a payload only
when it is exactly one of the payloads the assistant offers on its buttons and quick
replies (a person asking for a person, "tell me more", a topic), or "/restart", which
starts a new conversation; and never when its channel says it was typed (Messenger:
a typed message is text, a quick reply or postback is a payload). Everything else that
starts with "/" is text like any other, for the NLU and the guardrail to read.
`bot/rasa_patches.py` applies this to Rasa's RegexMessageHandler.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping, Optional

from bot import content

# The intents the assistant's buttons carry (actions/base.py, actions/answer.py, the
# handoff's yes/no question in actions/referral.py, and Messenger's Get Started button).
BUTTON_INTENTS = ("ask_human", "follow_up", "affirm", "deny", "get_started")
# Typed or tapped, these start a new conversation.
COMMANDS = ("restart",)
# Message metadata a channel sets on text a person typed: never a payload.
TYPED_KEY = "typed"
# Never payloads, whatever the buttons: the guardrail decides these from the text.
GUARDED = ("ask_settings", "emergency")


def known(intents: Iterable[str]) -> frozenset:
    """The payloads that act, for a domain's intents."""
    acting = set()
    for intent in intents:
        topic = intent.startswith(content.TOPIC_INTENT_PREFIX) and intent not in GUARDED
        if intent in BUTTON_INTENTS or intent in COMMANDS or topic:
            acting.add(f"/{intent}")
    return frozenset(acting)


def acts(text: Optional[str], intents: Iterable[str], metadata: Optional[Mapping[str, Any]] = None) -> bool:
    """True when the message is a payload that may act as its intent."""
    if not isinstance(text, str) or (metadata or {}).get(TYPED_KEY) is True:
        return False
    return text.strip() in known(intents)
