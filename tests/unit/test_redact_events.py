"""redact_event(): every string, key and number of a Rasa event; names spaCy finds, when it can."""
from __future__ import annotations

import json
import re

import pytest
import spacy
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.privacy import names
from bot.privacy.events import redact_event, redact_number, redact_value
from tests.unit.test_redact import CPR_FORMATS, EMAIL_FORMATS, NOISE, PHONE_FORMATS


@pytest.mark.parametrize(
    "number, expected",
    [
        (1304927121, "[cpr]"),
        (61728391, "[phone]"),
        (61728391.0, "[phone]"),
        (4561728391, "[phone]"),  # +45 61728391 as a number
        (123456789012, "[number]"),
        (-61728391, "[phone]"),
    ],
)
def test_numbers_that_read_as_personal_data_become_placeholders(number, expected):
    assert redact_number(number) == expected
    assert redact_value({"metadata": {"value": number}}) == {"metadata": {"value": expected}}


@pytest.mark.parametrize(
    "number",
    [True, False, 0, 3, 112, 1813, 9999999, 16.2, 0.93, 1712345678.123, 10**16, float("nan"), float("inf")],
)
def test_booleans_small_numbers_and_fractions_stay(number):
    assert redact_number(number) is number


@pytest.mark.parametrize("key", ["timestamp", "time", "ts", "created_at", "createdAt", "sent_ts", "timestamp_ms",
                                 "updated", "expires"])
def test_a_number_under_a_time_key_stays(key):
    # 1712345678 is a Unix time in April 2024, and a CPR number by its shape (171234-5678).
    assert redact_value({key: 1712345678}) == {key: 1712345678}
    assert redact_value({"cpr": 1712345678}) == {"cpr": "[cpr]"}
    assert redact_value({"birth_date": 19920413}) == {"birth_date": "[phone]"}  # a date is no time key


def test_keys_are_redacted_and_lists_hold_numbers():
    event = {"metadata": {"61728391": "x", "list": [61728391, 3, "ring 61.72.83.91"], "tuple": (1304927121,)}}
    assert redact_event(event) == {"metadata": {"[phone]": "x", "list": ["[phone]", 3, "ring [phone]"], "tuple": ["[cpr]"]}}


def test_a_user_event_keeps_its_timestamp_and_clinical_values():
    event = {
        "event": "user",
        "timestamp": 1712345678.0,
        "text": "jeg hedder Mette, BS 16,2 mmol kl. 22.30",
        "parse_data": {"intent": {"name": "ask_stance", "confidence": 0.93}, "entities": [{"start": 0, "end": 5}]},
        "metadata": {"phone": 61728391, "count": 2, "ok": True},
    }
    assert redact_event(event) == {
        "event": "user",
        "timestamp": 1712345678.0,
        "text": "jeg hedder [name], BS 16,2 mmol kl. 22.30",
        "parse_data": {"intent": {"name": "ask_stance", "confidence": 0.93}, "entities": [{"start": 0, "end": 5}]},
        "metadata": {"phone": "[phone]", "count": 2, "ok": True},
    }


@settings(max_examples=200, deadline=None)
@given(
    before=NOISE, after=NOISE, number=st.one_of(CPR_FORMATS, PHONE_FORMATS), email=EMAIL_FORMATS,
    as_number=st.one_of(st.from_regex(r"[1-9][0-9]{7,14}", fullmatch=True), CPR_FORMATS.map(lambda c: re.sub(r"\D", "", c))),
)
def test_personal_data_never_comes_out_raw_from_an_event(before, after, number, email, as_number):
    written, local = email
    text = f"{before} {number}, {after} {written}"
    event = {
        "event": "user",
        "timestamp": 1712345678.5,
        "text": text,
        "parse_data": {"text": text, "intent": {"name": "ask_human", "confidence": 0.5}},
        "metadata": {"note": [text], "number": int(as_number), "float": float(int(as_number)), "ok": True, "n": 3},
    }
    redacted = redact_event(event)
    dumped = json.dumps(redacted, ensure_ascii=False)
    assert str(int(as_number)) not in dumped
    for field in (redacted["text"], redacted["parse_data"]["text"], redacted["metadata"]["note"][0]):
        assert not re.search(r"\d", field), field
        assert field.count(local) <= text.count(local) - written.count(local)
    assert redacted["timestamp"] == 1712345678.5
    assert redacted["metadata"]["ok"] is True and redacted["metadata"]["n"] == 3
    assert redacted["parse_data"]["intent"] == {"name": "ask_human", "confidence": 0.5}


# --- names spaCy's recogniser finds ---------------------------------------------------


@pytest.fixture
def recogniser(monkeypatch):
    """A Danish pipeline whose recogniser knows a few names (an entity ruler stands in for the model)."""
    nlp = spacy.blank("da")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([
        {"label": "PER", "pattern": "Emil"},
        {"label": "PER", "pattern": [{"LOWER": "lars"}, {"LOWER": "nielsen"}]},
        {"label": "PER", "pattern": "Loop"},
        {"label": "PER", "pattern": "Mette"},
        {"label": "LOC", "pattern": "Aarhus"},
    ])
    monkeypatch.setattr(names, "pipeline", lambda: nlp)
    return nlp


def test_persons_the_recogniser_finds_are_redacted(recogniser):
    assert names.redact_names("min søn Emil er 9 år og bor i Aarhus") == "min søn [name] er 9 år og bor i Aarhus"
    assert names.redact_names("spørg Lars Nielsen om Loop 3.2.0") == "spørg [name] om Loop 3.2.0"
    assert names.redact_names("ingen navne her") == "ingen navne her"


def test_the_event_redaction_uses_the_recogniser(recogniser):
    event = {"event": "user", "text": "Emil har BS 12, jeg hedder Mette", "metadata": {"child": "Emil"}}
    assert redact_event(event) == {"event": "user", "text": "[name] har BS 12, jeg hedder [name]",
                                   "metadata": {"child": "[name]"}}


def test_long_text_is_read_in_pieces(recogniser):
    text = ("BS 12 og " * 3_000) + "Emil"
    assert names.redact_names(text) == ("BS 12 og " * 3_000) + "[name]"


def test_without_the_model_only_introduced_names_go(monkeypatch):
    monkeypatch.setattr(names, "pipeline", lambda: None)
    assert names.redact_names("min søn Emil er 9 år") == "min søn Emil er 9 år"
    assert redact_event({"text": "min søn Emil, jeg hedder Mette"}) == {"text": "min søn Emil, jeg hedder [name]"}
