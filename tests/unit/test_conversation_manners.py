"""Issue #11, the conversation's manners: frustration offers a person, a person is always
one tap away, and the 112 reply stands alone and first, marked for the channels."""
from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.answer import ActionAnswerTopic, ActionFollowUp
from actions.guardrail import ActionEmergency, ActionEmergencyReminder, ActionRefuseSettings
from actions.referral import ActionOutOfScope
from actions.smalltalk import ActionSmalltalk
from bot import replies
from bot.helpline import service
from policy import detectors
from policy.detectors import FRUSTRATED, Context, Turn
from tests.helpers import earlier_bot_turn, tracker

TEXTS = replies.load()
PERSON = {"title": "Tal med en person", "payload": "/ask_human"}


async def run(action, track):
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, track, {})
    await service.wait_for_background()
    return events, dispatcher.messages


@pytest.fixture(autouse=True)
def own_helpline(helpline):
    """Emergency replies open a ticket in the background: into a database of the test's own."""
    return helpline


@pytest.fixture(scope="module")
def guardrail():
    return detectors.load()


def assess(guardrail, text, last_triage, intent=None, confidence=0.0):
    return guardrail.assess(Turn(text, intent=intent, confidence=confidence), Context(last_triage=last_triage))


# ---- frustration ------------------------------------------------------------


@pytest.mark.parametrize("last_triage", ["answered", "smalltalk", "settings_refused", "out_of_scope", None])
@pytest.mark.parametrize("text", ["Det er altså ikke særlig hjælpsomt", "that's not helpful at all", "det kan jeg ikke bruge til noget",
                                  "sigh, you're not much use then 🙄"])
def test_frustration_after_an_answer_or_a_refusal_offers_a_person(guardrail, text, last_triage):
    """Issue #11: after an answer, "Det er altså ikke særlig hjælpsomt" got "Okay. Skriv endelig…"."""
    verdict = assess(guardrail, text, last_triage, intent="deny", confidence=0.6)
    assert verdict.category == FRUSTRATED and verdict.intent == "frustration"


def test_a_question_with_a_word_of_impatience_is_still_answered(guardrail):
    verdict = assess(guardrail, "seriøst, hvad mener I om looping?", "answered", intent="ask_association_stance", confidence=0.97)
    assert verdict.category != FRUSTRATED


def test_frustration_during_an_emergency_is_left_to_the_emergency_rules(guardrail):
    assert assess(guardrail, "det hjælper ikke", "emergency").category != FRUSTRATED


async def test_the_frustration_reply_offers_a_person_with_the_button():
    _, messages = await run(ActionSmalltalk(), tracker("ikke særlig hjælpsomt", "deny", {"language": "da", "intent_hint": "frustration"}, earlier_bot_turn()))
    assert messages[0]["text"] == TEXTS.text("smalltalk.frustration", "da")
    assert messages[-1]["buttons"] == [PERSON]


# ---- a person, one tap away ---------------------------------------------------


REPLIES = [
    (ActionAnswerTopic(), "ask_guideline", {}),
    (ActionFollowUp(), "follow_up", {"last_topic": "guideline"}),
    (ActionSmalltalk(), "thanks", {}),
    (ActionSmalltalk(), "deny", {}),
    (ActionSmalltalk(), "goodbye", {}),
    (ActionSmalltalk(), "bot_challenge", {}),
    (ActionOutOfScope(), "out_of_scope", {}),
    (ActionRefuseSettings(), "ask_settings", {}),
]


@pytest.mark.parametrize("action, intent, state", REPLIES, ids=[f"{a.name()}-{i}" for a, i, _ in REPLIES])
async def test_every_reply_but_an_emergency_offers_a_person_last(action, intent, state):
    """Issue #11: the "talk to a person" quick reply disappeared at exactly the wrong moment."""
    _, messages = await run(action, tracker("x", intent, {"language": "da", **state}, earlier_bot_turn()))
    assert PERSON in messages[-1]["buttons"]
    assert all(PERSON not in (m.get("buttons") or []) for m in messages[:-1])


# ---- 112 stands alone and first -----------------------------------------------


@pytest.mark.parametrize("channel", ["rest", "socketio", "facebook"])
@pytest.mark.parametrize("language", ["da", "en"])
async def test_the_112_reply_stands_alone_and_first_in_a_new_conversation(channel, language):
    """Issue #11: the privacy note came right under the 112 reply."""
    text = {"da": "min datter er bevidstløs", "en": "my daughter is unconscious"}[language]
    events, messages = await run(ActionEmergency(), tracker(text, "emergency", {"language": language}, channel=channel))
    assert [m["text"] for m in messages] == [TEXTS.text("emergency", language)]
    assert messages[0]["custom"] == {"emergency": {"call": "112", "title": TEXTS.text("buttons.call_emergency", language)}}
    assert not messages[0]["buttons"]


async def test_the_reminder_marks_its_112_line():
    _, messages = await run(ActionEmergencyReminder(), tracker("hun vågner ikke", "emergency", {"language": "da"}, earlier_bot_turn()))
    assert messages[0]["custom"]["emergency"]["call"] == "112"
    assert messages[0]["text"].startswith("Ring 112")
    assert all(not m.get("custom") for m in messages[1:])


async def test_after_112_first_the_next_rest_reply_carries_the_privacy_note():
    after = [
        {"event": "session_started"},
        {"event": "user", "text": "min datter er bevidstløs"},
        {"event": "bot", "text": TEXTS.text("emergency", "da")},
        {"event": "slot", "name": "triage", "value": "emergency"},
    ]
    _, messages = await run(ActionAnswerTopic(), tracker("?", "ask_guideline", {"language": "da"}, after))
    assert messages[0]["text"] == TEXTS.text("privacy_note", "da", retention_days="30")
    assert TEXTS.text("intro", "da") not in [m["text"] for m in messages]
