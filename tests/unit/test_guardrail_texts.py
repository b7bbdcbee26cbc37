"""The refusal and the emergency reply: kind, referring onward, and never a figure."""
from __future__ import annotations

import re

import pytest

from actions.guardrail import refusal_text
from bot import content, replies


@pytest.mark.parametrize("language", ["da", "en"])
def test_no_refusal_contains_any_figure(language):
    assert not re.search(r"\d", refusal_text(language))


@pytest.mark.parametrize("language", ["da", "en"])
def test_the_emergency_reply_has_no_figure_but_112_and_starts_with_it(language):
    text = replies.load().text("emergency", language)
    assert re.findall(r"\d+", text) == ["112"]
    assert text.startswith({"da": "Ring 112 nu.", "en": "Call 112 now."}[language])


@pytest.mark.parametrize("language", ["da", "en"])
def test_the_emergency_reply_gives_only_accepted_first_aid(language):
    text = replies.load().text("emergency", language).lower()
    for needed in {"da": ["intet gennem munden", "stabilt sideleje", "glukagon"], "en": ["nothing by mouth", "recovery position", "glucagon"]}[language]:
        assert needed in text
    assert not re.search(r"basal|isf|bolus|enheder|units|mmol", text)


@pytest.mark.parametrize("language", ["da", "en"])
def test_the_refusal_explains_why_in_the_papers_words_and_refers_onward(language):
    text = refusal_text(language)
    assert content.load().statement("guideline-3-2").text[language] in text
    expected = {
        "da": ["hverken sundhedsprofessionelle eller Diabetesforeningen", "diabetesambulatorium eller behandlerteam",
               "generel vurdering af insulindosering og glukosekontrol", "SDCC", "tale med en person"],
        "en": ["Neither health professionals nor Diabetesforeningen", "diabetes clinic or treatment team",
               "general assessment of insulin dosing and glucose control", "SDCC", "talk to a person"],
    }[language]
    for phrase in expected:
        assert phrase in text
    assert content.load().first_link("guideline") in text


def test_every_guarded_text_in_the_replies_file_is_free_of_figures():
    texts = replies.load()
    for key in ("settings_refusal.opening", "settings_refusal.why", "settings_refusal.referral"):
        for language in ("da", "en"):
            assert not re.search(r"\d", texts.text(key, language, guideline_url=""))


GUARDED_SECOND_GENERATION = (
    "settings_refusal.again", "emergency_reminder.call", "emergency_reminder.refusal", "emergency_reminder.first_aid",
    "concern", "rules_referral", "smalltalk.frustration",
)


@pytest.mark.parametrize("key", GUARDED_SECOND_GENERATION)
@pytest.mark.parametrize("language", ["da", "en"])
def test_the_second_generations_texts_hold_no_figure_but_112(key, language):
    """The short refusal, the emergency-mode reminders, the safety line, the referral after a
    question about the rules and the offer of a person: never a dose, rate, ratio or target."""
    text = replies.load().text(key, language, guideline_url="")
    assert set(re.findall(r"\d+", text)) <= {"112"}
    assert not re.search(r"\b(?:basal|isf|bolus|mmol|e/t|u/h)\b", text.lower())


@pytest.mark.parametrize("language", ["da", "en"])
def test_every_emergency_reminder_starts_with_112(language):
    assert "112" in replies.load().text("emergency_reminder.call", language).split(".")[0]
