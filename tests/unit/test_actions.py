"""Custom actions over tracker fixtures: the events they return and the texts they say."""
from __future__ import annotations

import re

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import referral
from actions.answer import QUOTE_MESSAGE_CHARS, ActionAnswerTopic, ActionFollowUp, split_sentences
from actions.base import reply_language
from actions.referral import ActionHandoff, ActionOutOfScope
from actions.smalltalk import ActionSmalltalk
from bot import content, replies
from tests.helpers import earlier_bot_turn, tracker

PAPER = content.load()
TEXTS = replies.load()


async def run(action, track):
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, track, {})
    return events, [m["text"] for m in dispatcher.messages], dispatcher.messages


def slots(events):
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


@pytest.mark.parametrize("language", ["da", "en"])
@pytest.mark.parametrize("topic", content.TOPIC_IDS)
async def test_each_topic_is_answered_plainly_then_in_the_papers_words(topic, language):
    """Issue #11: the short answer first, then the paper's own words marked as a quote
    with where they stand, then the quick replies on the last message."""
    events, texts, messages = await run(
        ActionAnswerTopic(), tracker("?", f"ask_{topic}", {"language": language}, earlier_bot_turn())
    )
    assert slots(events)["triage"] == "answered"
    assert slots(events)["topic"] == topic
    assert slots(events)["language"] == language
    assert texts[0] == PAPER.topic(topic).short.text[language]
    quoted = " ".join(texts[1:])
    lead = PAPER.topic(topic).lead
    section = TEXTS.text(f"paper_sections.{lead[0].source['section']}", language)
    assert texts[1].startswith(TEXTS.text("quote_lead", language, section=section) + "\n“")
    for statement in lead:
        assert statement.text[language] in quoted
    assert ("(The association's text, translated from Danish.)" in texts[-1]) == (language == "en")
    assert all(not m.get("buttons") for m in messages[:-1]) and messages[-1]["buttons"]
    assert all(len(t) <= QUOTE_MESSAGE_CHARS + 60 for t in texts)
    assert slots(events)["seen_statements"] == [s.id for s in lead]


async def test_the_answer_quotes_under_the_section_it_stands_in():
    """Issue #11's example: "Fra budskabspapiret, afsnittet Diabetesforeningen mener:"."""
    _, texts, _ = await run(ActionAnswerTopic(), tracker("?", "ask_right_to_treatment", {"language": "da"}, earlier_bot_turn()))
    assert texts[1].startswith("Fra budskabspapiret, afsnittet Diabetesforeningen mener:\n“")
    assert "Det siger Diabetesforeningens budskabspapir" not in " ".join(texts)


def test_a_long_quote_is_split_between_sentences():
    text = " ".join(f"Sætning nummer {i} er her." for i in range(40))
    pieces = split_sentences(text, 120)
    assert len(pieces) > 1 and all(len(p) <= 120 for p in pieces)
    assert " ".join(pieces) == text and all(p.endswith(".") for p in pieces)


async def test_the_first_reply_introduces_the_assistant_with_no_advice_and_112():
    events, texts, _ = await run(ActionAnswerTopic(), tracker("hvad er looping", "ask_what_is_looping", {"language": "da"}))
    assert texts[0] == TEXTS.text("intro", "da")
    assert "ikke råd om indstillinger" in texts[0] and "ring 112" in texts[0]
    assert texts[1] == TEXTS.text("privacy_note", "da", retention_days="30")
    assert texts[2] == PAPER.topic("what_is_looping").short.text["da"]


@pytest.mark.parametrize("language", ["da", "en"])
def test_the_introduction_is_two_short_sentences_at_most(language):
    """Issue #11: the introduction is two short lines at most."""
    intro = TEXTS.text("intro", language)
    assert len(re.findall(r"[.!?](?:\s|$)", intro)) <= 2
    assert len(intro.split()) <= 30 and len(intro) <= 200
    assert "112" in intro


async def test_the_privacy_note_states_the_configured_retention(monkeypatch):
    monkeypatch.setenv("RETENTION_DAYS", "14")
    _, texts, _ = await run(ActionAnswerTopic(), tracker("what is looping", "ask_what_is_looping", {"language": "en"}))
    assert texts[1] == TEXTS.text("privacy_note", "en", retention_days="14")
    assert "kept for up to 14 days" in texts[1]


async def test_the_widget_and_messenger_show_the_privacy_note_themselves():
    """Issue #11: the widget shows the note (and the greeting) in its panel before anyone
    types; Messenger in its greeting and Get Started reply. Only REST keeps it in a reply."""
    privacy = TEXTS.text("privacy_note", "da", retention_days="30")
    _, widget, _ = await run(ActionAnswerTopic(), tracker("?", "ask_guideline", {"language": "da"}, channel="socketio"))
    assert widget[0] == PAPER.topic("guideline").short.text["da"]
    assert privacy not in widget and TEXTS.text("intro", "da") not in widget
    _, messenger, _ = await run(ActionAnswerTopic(), tracker("?", "ask_guideline", {"language": "da"}, channel="facebook"))
    assert messenger[0] == TEXTS.text("intro", "da") and privacy not in messenger
    _, rest, _ = await run(ActionAnswerTopic(), tracker("?", "ask_guideline", {"language": "da"}, channel="rest"))
    assert rest[:2] == [TEXTS.text("intro", "da"), privacy]


async def test_messengers_get_started_gets_the_introduction_and_the_privacy_note():
    events, texts, _ = await run(ActionSmalltalk(), tracker("/get_started", "get_started", {}, channel="facebook"))
    assert texts == [TEXTS.text("intro", "da"), TEXTS.text("privacy_note", "da", retention_days="30")]
    assert slots(events)["triage"] == "smalltalk"
    _, later, _ = await run(ActionAnswerTopic(), tracker("?", "ask_guideline", {"language": "da"}, [
        {"event": "session_started"}, {"event": "user", "text": "/get_started"},
        {"event": "bot", "text": texts[0]}, {"event": "slot", "name": "triage", "value": "smalltalk"},
    ], channel="facebook"))
    assert later[0] == PAPER.topic("guideline").short.text["da"]


async def test_later_replies_do_not_repeat_the_introduction():
    _, texts, _ = await run(ActionAnswerTopic(), tracker("x", "ask_guideline", {"language": "en"}, earlier_bot_turn()))
    assert all("chat assistant" not in t for t in texts)


async def test_an_answer_offers_quick_replies_for_more_and_for_a_person():
    _, _, messages = await run(ActionAnswerTopic(), tracker("x", "ask_guideline", {"language": "da"}, earlier_bot_turn()))
    assert messages[-1]["buttons"] == [
        {"title": "Fortæl mere", "payload": "/follow_up"},
        {"title": "Tal med en person", "payload": "/ask_human"},
    ]


async def test_tell_me_more_gives_the_next_statements_of_the_last_topic():
    seen = [s.id for s in PAPER.topic("what_is_looping").lead]
    state = {"language": "en", "last_topic": "what_is_looping", "seen_statements": seen}
    events, texts, _ = await run(ActionFollowUp(), tracker("tell me more", "follow_up", state, earlier_bot_turn()))
    unseen = PAPER.unseen("what_is_looping", seen)
    assert unseen[0].text["en"] in " ".join(texts) and unseen[1].text["en"] in " ".join(texts)
    assert texts[0].startswith("From the position paper, section")
    assert slots(events)["topic"] == "what_is_looping"
    assert slots(events)["seen_statements"] == seen + [unseen[0].id, unseen[1].id]


async def test_when_the_topic_is_exhausted_related_topics_are_offered():
    state = {"language": "da", "last_topic": "experience", "seen_statements": [s.id for s in PAPER.topic("experience").statements]}
    events, texts, messages = await run(ActionFollowUp(), tracker("hvorfor?", "follow_up", state, earlier_bot_turn()))
    assert "Det er alt, budskabspapiret siger om det" in texts[0]
    assert "Eget ansvar og risiko" in texts[0]
    assert [b["payload"] for b in messages[0]["buttons"]] == ["/ask_responsibility", "/ask_association_stance", "/ask_human"]
    assert slots(events)["triage"] == "answered" and slots(events)["topic"] == "experience"


@pytest.mark.parametrize("text, language", [("og hvad med børn?", "da"), ("and what about kids?", "en")])
async def test_a_follow_up_about_children_answers_what_the_paper_says_about_children(text, language):
    state = {"language": language, "last_topic": "association_stance", "seen_statements": ["position-1"]}
    events, texts, _ = await run(ActionFollowUp(), tracker(text, "follow_up", state, earlier_bot_turn()))
    assert PAPER.statement("background-3-1").text[language] in texts[0]
    assert slots(events)["topic"] == "denmark"
    assert slots(events)["last_topic"] == "denmark"


async def test_a_follow_up_with_nothing_to_follow_asks_what_to_tell_more_about():
    events, texts, _ = await run(ActionFollowUp(), tracker("fortæl mere", "follow_up", {"language": "da"}, earlier_bot_turn()))
    assert texts == [TEXTS.text("follow_up_no_topic", "da")]
    assert slots(events)["triage"] == "smalltalk" and slots(events)["topic"] is None


WEATHER = {"da": "hvad er vejret i morgen", "en": "what is the weather tomorrow"}


@pytest.mark.parametrize("language", ["da", "en"])
async def test_out_of_scope_says_what_it_can_do_and_where_to_turn(language):
    events, texts, messages = await run(
        ActionOutOfScope(),
        tracker(WEATHER[language], "out_of_scope", {"language": language}, earlier_bot_turn()),
    )
    assert slots(events)["triage"] == "out_of_scope" and slots(events)["topic"] is None
    assert "112" in texts[0]
    assert ("diabetesambulatorium" if language == "da" else "diabetes clinic") in texts[0]
    assert messages[0]["buttons"] == [{"title": TEXTS.text("buttons.ask_human", language), "payload": "/ask_human"}]


async def test_handoff_sets_triage_handoff():
    events, texts, _ = await run(ActionHandoff(), tracker("jeg vil tale med et menneske", "ask_human", {"language": "da"}, earlier_bot_turn()))
    assert slots(events)["triage"] == "handoff"
    assert texts == [referral.handoff_text("da")] and "[" not in texts[0]
    assert events[-1]["event"] == "pause"


@pytest.mark.parametrize(
    "intent, language, expected",
    [
        ("thanks", "da", "Selv tak. Spørg endelig, hvis der er mere."),
        ("goodbye", "en", "Goodbye, and thank you for the chat."),
        ("bot_challenge", "en", "I am a chat assistant, not a human. You can always ask to talk to a person at Diabetesforeningen."),
        ("switch_language", "en", "I will answer in English from now on."),
    ],
)
async def test_smalltalk(intent, language, expected):
    events, texts, _ = await run(ActionSmalltalk(), tracker("x", intent, {"language": language}, earlier_bot_turn()))
    assert texts == [expected]
    assert slots(events)["triage"] == "smalltalk" and slots(events)["topic"] is None


async def test_a_first_greeting_is_answered_by_the_introduction_and_the_privacy_note():
    _, texts, _ = await run(ActionSmalltalk(), tracker("hello", "greet", {"language": "en"}))
    assert texts == [TEXTS.text("intro", "en"), TEXTS.text("privacy_note", "en", retention_days="30")]


@pytest.mark.parametrize(
    "text, previous, metadata, expected",
    [
        ("does the association support looping?", "da", {}, "en"),
        ("ok", "en", {}, "en"),
        ("ok", None, {}, "da"),
        ("ok", None, {"language": "en"}, "en"),
        ("svar på dansk", "en", {}, "da"),
    ],
)
async def test_every_reply_decides_and_sets_the_language(text, previous, metadata, expected):
    earlier = earlier_bot_turn() if previous else None
    state = {"language": previous}
    assert reply_language(tracker(text, None, state, earlier, metadata=metadata)) == expected
    events, texts, _ = await run(ActionOutOfScope(), tracker(text, "out_of_scope", state, earlier, metadata=metadata))
    assert SlotSet("language", expected) in events
    assert texts[-1] == TEXTS.text("out_of_scope", expected)
