"""Reply language: per message, restricted to Danish and English, with memory."""
from __future__ import annotations

import pytest

from bot import language
from tests.helpers import ROOT, load_yaml


@pytest.fixture(scope="module")
def detector():
    return language.load()


def accuracy(detector, messages):
    """Share of messages detected as labelled; undecided ones count as wrong."""
    right = [m for m in messages if detector.detect(m["text"]) == m["lang"]]
    return len(right) / len(messages)


def test_at_least_99_percent_on_short_chat_messages(detector):
    messages = load_yaml(ROOT / "tests" / "data" / "language_messages.yml")["messages"]
    assert len(messages) >= 400
    assert all(len(m["text"].split()) >= 2 for m in messages)
    assert accuracy(detector, messages) >= 0.99


@pytest.mark.parametrize("name", ["language_messages_fresh.yml", "language_messages_fresh_2.yml"])
def test_at_least_99_5_percent_on_the_fresh_short_message_sets(detector, name):
    """Issue #11: two sets written blind, the second after the work; first runs 97.3 % and
    98.6 %, before the detector was tuned on them (docs/language.md). Messages of two
    words or more; a switch request counts as decided, undecided ones as wrong."""
    messages = load_yaml(ROOT / "tests" / "data" / name)["messages"]
    messages = [m for m in messages if len(m["text"].split()) >= 2]
    assert len(messages) >= 300
    right = [m for m in messages if detector.resolve(m["text"]).reason in ("switch", "detected")
             and detector.resolve(m["text"]).language == m["lang"]]
    assert len(right) / len(messages) >= 0.995


@pytest.mark.parametrize(
    "text",
    ["i dont speak danish sorry", "i have type 1", "dexcom keeps losing signal", "glucose meter",
     "help!", "sorry, no danish"],
)
def test_short_english_opens_a_new_conversation_in_english(detector, text):
    """Issue #11: each of these was answered in Danish in a new conversation."""
    assert detector.resolve(text).language == "en"


def test_a_quoted_phrase_is_a_mention_not_the_writers_language(detector):
    assert detector.resolve("hvad betyder 'we are not waiting'", previous="en").language == "da"
    assert detector.resolve('what does "vi venter ikke" mean', previous="da").language == "en"


def test_at_least_99_percent_on_the_guardrail_set_which_it_was_not_tuned_on(detector):
    cases = load_yaml(ROOT / "data" / "eval" / "guardrail_dev.yml")["cases"]
    messages = [{"text": c["turns"][-1], "lang": c["lang"]} for c in cases if len(c["turns"][-1].split()) >= 2]
    assert accuracy(detector, messages) >= 0.99


@pytest.mark.parametrize("text", ["ok", "CGM", "AndroidAPS", "👍", "", "   ", "12,5", "/follow_up"])
def test_short_or_ambiguous_messages_keep_the_conversation_language(detector, text):
    assert detector.resolve(text, previous="en") == language.LanguageDecision("en", "kept")
    assert detector.resolve(text, previous="da").language == "da"


def test_a_new_conversation_defaults_to_danish_or_the_page_language(detector):
    assert detector.resolve("ok") == language.LanguageDecision("da", "default")
    assert detector.resolve("ok", prior="en-GB") == language.LanguageDecision("en", "prior")
    assert detector.resolve("ok", prior="fr") == language.LanguageDecision("da", "default")


@pytest.mark.parametrize(
    "text, previous, expected",
    [
        ("answer in English", "da", "en"),
        ("kan du svare på engelsk?", "da", "en"),
        ("English please", "da", "en"),
        ("svar på dansk", "en", "da"),
        ("svar paa dansk tak", "en", "da"),
        ("dansk", "en", "da"),
    ],
)
def test_asking_for_a_language_switches(detector, text, previous, expected):
    assert detector.resolve(text, previous=previous) == language.LanguageDecision(expected, "switch")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("hvad mener i om loop", "da"),
        ("maa min laege hjaelpe med indstillinger", "da"),
        ("er loop safe", "da"),
        ("tak", "da"),
        ("hej", "da"),
        ("does the association support looping", "en"),
        ("thanks", "en"),
        ("i have ketones", "en"),
    ],
)
def test_a_clear_message_sets_its_own_language(detector, text, expected):
    other = "en" if expected == "da" else "da"
    assert detector.resolve(text, previous=other) == language.LanguageDecision(expected, "detected")


def test_detection_is_repeatable(detector):
    texts = ["min søn looper", "we loop with Trio", "hvad er TIR"]
    assert [detector.score(t) for t in texts] == [detector.score(t) for t in texts]


@pytest.mark.parametrize("value, expected", [("da-DK", "da"), ("EN_gb", "en"), ("en", "en"), ("nb", None), (None, None), (5, None)])
def test_normalise(value, expected):
    assert language.normalise(value) == expected
