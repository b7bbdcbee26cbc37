"""Property-based fuzzing of everything that reads what a person types.

Any text can arrive from a channel: control characters, right-to-left scripts, emoji,
megabytes of digits. None of it may crash a turn, a safety decision must survive the
noise around it, and redaction must stay complete and idempotent.
"""
from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.tokenizers.spacy_tokenizer import SpacyTokenizer
from rasa.shared.nlu.training_data.message import Message

from bot import language
from bot.components.danish_spacy import DanishSpacyNLP
from bot.privacy.redact import redact
from policy import detectors, lexicon
from policy.detectors import Context, Turn, Verdict

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LONG = settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- text ------------------------------------------------------------------------------

WORDS = [
    # Danish and English chat, with the lexicons' own words
    "hej", "tak", "jeg", "min", "søn", "datter", "barn", "har", "hvad", "skal", "vi", "ændre", "basal", "ISF",
    "max", "IOB", "SMB", "Loop", "AndroidAPS", "AAPS", "Trio", "xDrip+", "insulinfølsomhed", "kulhydratratio",
    "BS", "blodsukker", "mmol/l", "E/t", "HbA1c", "hypo", "føling", "ketoner", "kaster op", "pumpen", "i nat",
    "lige nu", "sidste år", "hvis", "what", "should", "my", "child", "is", "low", "high", "at night", "help",
    "what if", "last year", "units", "carb ratio", "target", "please", "answer in English", "svar på dansk",
    # figures and punctuation
    "5,6", "12", "0,6", "1:10", "120 %", "kl. 22.30", "112", "3.2.0", "-", "/", ".", ",", "?", "!", "...", "’",
    # other scripts, emoji, invisible characters
    "مرحبا", "שלום", "Привет", "你好", "🙂", "👨‍👩‍👧", "\u200f", "\u202e", "\u200b", "\ufeff", "\u00ad", "\x00", "\t",
    "\n", "\r\n", "İ", "ß", "ﬁ", "Å", "Ǆ",
]
ARBITRARY = st.text(max_size=300)
MIXED = st.lists(st.one_of(st.sampled_from(WORDS), st.text(max_size=8)), max_size=40).map(" ".join)
TEXT = st.one_of(ARBITRARY, MIXED)
# Long text, built by repetition so that generating it stays cheap.
VERY_LONG = st.builds(lambda piece, times: (piece * times)[:20_000], TEXT.filter(bool), st.integers(50, 2_000))

INTENTS = st.one_of(
    st.none(),
    st.sampled_from(["emergency", "ask_settings", "nlu_fallback", "ask_denmark", "follow_up", "greet", "ask_human"]),
    st.text(max_size=20),
)
TRIAGES = st.one_of(st.none(), st.sampled_from(["settings_refused", "emergency", "answered", "handoff"]), st.text())


@st.composite
def turns(draw, text=TEXT):
    return Turn(
        draw(text),
        intent=draw(INTENTS),
        confidence=draw(st.floats(0, 1)),
        ranking=tuple(draw(st.lists(st.tuples(INTENTS.filter(bool), st.floats(0, 1)), max_size=4))),
    )


@st.composite
def contexts(draw):
    return Context(earlier=tuple(draw(st.lists(turns(), max_size=3))), last_triage=draw(TRIAGES))


# --- the guardrail ---------------------------------------------------------------------

CATEGORIES = {None, detectors.EMERGENCY, detectors.SETTINGS, detectors.EXEMPT, detectors.REDIRECT}
LAYERS = {"lexicon", "pattern", "intent", "context", "none"}
# Severe signs with a word for "now", which overrules any past or hypothetical wording
# the noise around them may hold ("sidste år", "what if"): always an emergency.
EMERGENCIES = [
    "mit barn er bevidstløs lige nu",
    "min søn er bevidstløs, hjælp",
    "hun får kramper lige nu",
    "my child is unconscious right now",
    "he is having a seizure right now, help",
    "she is not breathing, help",
]


@pytest.fixture(scope="module")
def guardrail():
    return detectors.default()


def assert_valid(verdict):
    assert isinstance(verdict, Verdict)
    assert verdict.category in CATEGORIES
    assert verdict.layer in LAYERS
    assert all(isinstance(reason, str) for reason in verdict.reasons)
    assert verdict.intent is None or isinstance(verdict.intent, str)
    if verdict.category in (detectors.EXEMPT, detectors.REDIRECT):
        assert verdict.intent
    assert verdict.as_metadata()["guardrail"]["category"] == verdict.category


@FUZZ
@given(turn=turns(), context=st.one_of(st.none(), contexts()))
def test_the_guardrail_always_decides(guardrail, turn, context):
    assert_valid(guardrail.assess(turn, context))


@LONG
@given(turn=turns(VERY_LONG))
def test_the_guardrail_decides_on_very_long_text(guardrail, turn):
    assert_valid(guardrail.assess(turn))


@FUZZ
@given(before=TEXT, after=TEXT, emergency=st.sampled_from(EMERGENCIES), turn=turns(), context=contexts())
def test_an_emergency_is_found_whatever_surrounds_it(guardrail, before, after, emergency, turn, context):
    text = f"{before} {emergency} {after}"
    verdict = guardrail.assess(Turn(text, turn.intent, turn.confidence, turn.ranking), context)
    assert verdict.category == detectors.EMERGENCY, (text, verdict)


# --- lexicon folding and matching ------------------------------------------------------

PHRASES = lexicon.PhraseList(
    ["max basal", "insulinfølsomhed*", "kan ikke vække", {"regex": r"\b\d+\s*e\b"}], "test", fuzzy=5
)


@FUZZ
@given(text=TEXT)
def test_folding_and_matching_never_fail(text):
    folded = lexicon.fold(text)
    assert isinstance(folded, str)
    assert not re.search(r"[æøå]|\s\s|^\s|\s$", folded)
    prepared = lexicon.prepare(text)
    found = PHRASES.find(prepared)
    assert found is None or isinstance(found, str)


@FUZZ
@given(before=TEXT, after=TEXT, phrase=st.sampled_from(["max basal", "Insulinfølsomheden", "kan ikke vække"]))
def test_a_phrase_is_found_whatever_surrounds_it(before, after, phrase):
    assert PHRASES.find(lexicon.prepare(f"{before} {phrase} {after}"))


# --- reply language --------------------------------------------------------------------

LANGUAGE_TAGS = st.one_of(st.none(), st.sampled_from(["da", "en", "en-GB", "da_DK", "fr", ""]), st.text(max_size=8))


@pytest.fixture(scope="module")
def detector():
    return language.default()


@FUZZ
@given(text=st.one_of(st.none(), TEXT), previous=LANGUAGE_TAGS, prior=LANGUAGE_TAGS)
def test_the_reply_language_is_always_danish_or_english(detector, text, previous, prior):
    decision = detector.resolve(text, previous=previous, prior=prior)
    assert decision.language in ("da", "en")
    assert decision.reason in ("switch", "detected", "kept", "prior", "default")


@LONG
@given(text=VERY_LONG)
def test_the_reply_language_of_very_long_text(detector, text):
    assert detector.resolve(text).language in ("da", "en")


# --- the NLU component -----------------------------------------------------------------


@pytest.fixture(scope="module")
def spacy_pipeline(tmp_path_factory):
    storage = LocalModelStorage(tmp_path_factory.mktemp("danish_spacy"))
    context = ExecutionContext(GraphSchema({}), "fuzz")
    component = DanishSpacyNLP.create(DanishSpacyNLP.get_default_config(), storage, Resource("danish_spacy"), context)
    tokenizer = SpacyTokenizer.create(SpacyTokenizer.get_default_config(), storage, Resource("tokenizer"), context)
    return component, tokenizer


def tokens_of(spacy_pipeline, texts):
    component, tokenizer = spacy_pipeline
    messages = [Message.build(text=text) for text in texts]
    component.process(messages, component.provide())
    tokenizer.process(messages)
    return [message.get("text_tokens") for message in messages]


def assert_tokens_map_back(text, tokens):
    # The component lower-cases before spaCy (case_sensitive: false), so offsets are
    # into the lower-cased text.
    processed = text.lower()
    end = 0
    for token in tokens:
        assert token.text and token.text.strip()
        assert processed[token.start:token.end] == token.text
        assert token.start >= end
        end = token.end


@FUZZ
@given(texts=st.lists(TEXT, min_size=1, max_size=3))
def test_the_nlu_component_tokenises_any_text(spacy_pipeline, texts):
    for text, tokens in zip(texts, tokens_of(spacy_pipeline, texts)):
        assert_tokens_map_back(text, tokens)
        if text.strip() and any(ch.isalnum() for ch in text):
            assert tokens


@LONG
@given(text=VERY_LONG)
def test_the_nlu_component_tokenises_very_long_text(spacy_pipeline, text):
    (tokens,) = tokens_of(spacy_pipeline, [text])
    assert_tokens_map_back(text, tokens)


# --- redaction -------------------------------------------------------------------------

LOCAL = st.from_regex(r"[a-z0-9_+-]{1,12}(\.[a-z0-9_+-]{1,8}){0,2}", fullmatch=True)
LABEL = st.from_regex(r"[a-z0-9æøå]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
EMAILS = st.builds(
    lambda local, labels, tld: f"{local}@{'.'.join(labels)}.{tld}",
    LOCAL, st.lists(LABEL, min_size=1, max_size=3), st.from_regex(r"[a-z]{2,6}", fullmatch=True),
)
CPRS = st.builds(
    lambda day, month, year, serial, dash: f"{day:02d}{month:02d}{year:02d}{dash}{serial:04d}",
    st.integers(1, 31), st.integers(1, 12), st.integers(0, 99), st.integers(0, 9999), st.sampled_from(["-", "–", ""]),
)
EIGHT_DIGITS = st.from_regex(r"[1-9][0-9]{7}", fullmatch=True)
PHONES = st.builds(
    lambda digits, form: form(digits),
    EIGHT_DIGITS,
    st.sampled_from([
        lambda d: "+45 " + " ".join(d[i:i + 2] for i in range(0, 8, 2)),
        lambda d: " ".join(d[i:i + 2] for i in range(0, 8, 2)),
        lambda d: f"{d[:4]} {d[4:]}",
        lambda d: d,
        lambda d: f"+45{d}",
        lambda d: f"0045 {d}",
    ]),
)
STREETS = st.builds(
    lambda stem, ending, number, letter, floor, town: f"{stem}{ending} {number}{letter}{floor}{town}",
    st.sampled_from(["Vester", "Nørre", "Strand", "Skole", "Kirke", "Mølle", "Birke", "Bøge", "Rose", "Hav", "Ege"]),
    st.sampled_from(["gade", "vej", "vejen", "stræde", "torv", "vænget", "allé", "bakken", "parken", "lund"]),
    st.integers(1, 999),
    st.sampled_from(["", "A", "b"]),
    st.sampled_from(["", ", 2. th.", " st tv", ", 1.sal", " 3. mf"]),
    st.sampled_from(["", ", 8000 Aarhus C", ", 2100 København Ø", "\n5000 Odense"]),
)


@FUZZ
@given(text=st.one_of(TEXT, st.lists(st.one_of(TEXT, EMAILS, CPRS, PHONES, STREETS), max_size=8).map(" ".join)))
def test_redaction_is_idempotent(text):
    once = redact(text)
    assert redact(once) == once


@LONG
@given(text=st.one_of(VERY_LONG, st.builds(lambda parts, times: " ".join(parts) * times,
                                           st.lists(st.one_of(TEXT, PHONES, CPRS, STREETS), max_size=5),
                                           st.integers(1, 500))))
def test_redaction_of_very_long_text_is_idempotent(text):
    once = redact(text)
    assert redact(once) == once


@FUZZ
@given(before=TEXT, after=TEXT, personal=st.one_of(EMAILS, CPRS, PHONES, STREETS))
def test_personal_data_is_removed_whatever_surrounds_it(before, after, personal):
    # Separated by a space before and a comma after (a unit right after a number would
    # make it a value, on purpose). It can only survive as a copy in the noise.
    redacted = redact(f"{before} {personal}, {after}")
    assert redacted.count(personal) <= before.count(personal) + after.count(personal), redacted


@FUZZ
@given(before=TEXT, after=TEXT, email=EMAILS)
def test_no_at_sign_of_an_email_address_survives(before, after, email):
    redacted = redact(f"{before} {email} {after}")
    assert redacted.count("@") <= before.count("@") + after.count("@")


@FUZZ
@given(text=st.text(st.characters(exclude_categories=["Cs", "Nd"], exclude_characters="@")))
def test_text_without_digits_or_at_signs_is_unchanged(text):
    assert redact(text) == text
