"""Issue #11's findings, each as the person met it, through the running assistant (REST)."""
from __future__ import annotations

import pytest

from bot import content, replies

PAPER = content.load()
TEXTS = replies.load()
PERSON = {"title": "Tal med en person", "payload": "/ask_human"}


def texts_of(messages):
    return [m.get("text", "") for m in messages if m.get("text")]


@pytest.mark.parametrize(
    "text, language, topic",
    [
        ("Hej! Hvad mener I om looping?", "da", "association_stance"),
        ("Hi! What does the association think about looping?", "en", "association_stance"),
        ("Tak for det. Må min læge hjælpe os med loopet?", "da", "professional_advice"),
    ],
)
def test_a_greeting_with_a_question_answers_the_question(assistant, text, language, topic):
    """Finding 1: "Hej! Hvad mener I om looping?" got only the introduction."""
    sender = assistant.new_sender()
    reply = texts_of(assistant.send(sender, text))
    assert reply[0] == TEXTS.text("intro", language)  # a new conversation: the introduction first
    assert PAPER.topic(topic).short.text[language] in reply
    slots = assistant.slots(sender)
    assert (slots["triage"], slots["topic"], slots["language"]) == ("answered", topic, language)


@pytest.mark.parametrize(
    "text, language, topic",
    [
        ("Is it legal in Denmark?", "en", "responsibility"),
        ("Er det farligt?", "da", "responsibility"),
        ("am I even allowed to use a non-approved device?", "en", "responsibility"),
        ("why do people build their own systems instead of waiting?", "en", "experience"),
        ("Kan jeg stadig være medlem, hvis vi looper?", "da", "association_stance"),
    ],
)
def test_everyday_wording_reaches_the_topic_that_answers_it(assistant, text, language, topic):
    """Finding 3: "Is it legal in Denmark?" got "the movement is still small…"; some fell to out_of_scope."""
    sender = assistant.new_sender()
    assistant.send(sender, "hej" if language == "da" else "hello")
    reply = texts_of(assistant.send(sender, text))
    slots = assistant.slots(sender)
    assert (slots["triage"], slots["topic"], slots["language"]) == ("answered", topic, language)
    assert reply[0] == PAPER.topic(topic).short.text[language]  # the plain answer first
    assert reply[1].startswith(("Fra budskabspapiret, afsnittet", "From the position paper, section"))


def test_an_answer_is_plain_first_and_quotes_the_paper_after(assistant):
    """Finding 2: every answer opened with "Det siger Diabetesforeningens budskabspapir:" and paper prose."""
    sender = assistant.new_sender()
    assistant.send(sender, "hej")
    messages = assistant.send(sender, "har vi stadig ret til behandling hvis vi looper?")
    reply = texts_of(messages)
    assert reply[0] == PAPER.topic("right_to_treatment").short.text["da"]
    assert reply[1].startswith("Fra budskabspapiret, afsnittet Diabetesforeningen mener:\n“")
    assert PAPER.statement("believes-6").text["da"] in reply[1]
    assert messages[-1]["buttons"][-1] == PERSON


@pytest.mark.parametrize("text", ["i dont speak danish sorry", "i have type 1", "dexcom keeps losing signal", "glucose meter"])
def test_english_in_a_new_conversation_is_answered_in_english(assistant, text):
    """Finding 4: these were all answered in Danish."""
    sender = assistant.new_sender()
    reply = texts_of(assistant.send(sender, text))
    assert reply[0] == TEXTS.text("intro", "en")
    assert assistant.slots(sender)["language"] == "en"


def test_frustration_after_an_answer_offers_a_person_with_the_button(assistant):
    """Finding 5: "Det er altså ikke særlig hjælpsomt" got "Okay. Skriv endelig…" and no button."""
    sender = assistant.new_sender()
    assistant.send(sender, "hvad mener diabetesforeningen om looping?")
    messages = assistant.send(sender, "Det er altså ikke særlig hjælpsomt")
    assert texts_of(messages) == [TEXTS.text("smalltalk.frustration", "da")]
    assert messages[-1]["buttons"] == [PERSON]


def test_over_rest_the_privacy_note_comes_once_and_never_under_112(assistant):
    """Finding 6: the note came after the first message was stored, and right under the 112 reply.
    REST has no panel to show it in, so its first non-emergency reply carries it."""
    privacy = TEXTS.text("privacy_note", "da", retention_days="30")
    sender = assistant.new_sender()
    first = assistant.send(sender, "min datter er bevidstløs og vi kan ikke vække hende")
    assert texts_of(first)[0].startswith("Ring 112")
    assert privacy not in texts_of(first)
    assert [m["custom"] for m in first if "custom" in m] == [{"emergency": {"call": "112", "title": "Ring 112"}}]
    assert privacy in texts_of(assistant.send(sender, "tak, hun er vågen nu. hvad mener foreningen om looping?"))
    assert privacy not in texts_of(assistant.send(sender, "findes der en retningslinje?"))
