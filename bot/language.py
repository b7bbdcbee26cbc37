"""Which language to answer in: Danish or English, per message, with memory.

langdetect over all its languages calls short Danish messages Norwegian about
half the time, so it is restricted to Danish and English here and weighed with
a word lexicon (data/lexicons/language.yml) and spaCy's stop-word lists, which
are maintained upstream and cover the small words short messages are made of. A message too short or too mixed
to decide keeps the conversation's language; a new conversation starts from the
page's language if given, else Danish.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Dict, FrozenSet, Optional, Tuple

from bot import paths
from bot.yamlfile import load_mapping

LANGUAGES = ("da", "en")
DEFAULT_LANGUAGE = "da"

_WORD = re.compile(r"[a-zæøåäöüé']+")
# A quoted phrase is a mention ("hvad betyder 'we are not waiting'"), not the writer's language.
_QUOTED = re.compile(r"(?:^|(?<=\s))['‘\"“”«»„](?=\S)[^'‘’\"“”«»„]{2,80}(?<=\S)['’\"“”«»]")
_DANISH_LETTERS = re.compile(r"[æøå]")


@dataclass(frozen=True)
class LanguageDecision:
    """The reply language and why it was chosen (switch, detected, kept, prior, default)."""

    language: str
    reason: str


def normalise(language: Optional[str]) -> Optional[str]:
    """Maps "da-DK", "en_GB", "EN" and the like to "da"/"en"; anything else to None."""
    if not isinstance(language, str):
        return None
    short = language.strip().lower().replace("_", "-").split("-")[0]
    return short if short in LANGUAGES else None


class LanguageDetector:
    """Decides a message's language from a lexicon and a da/en-only langdetect."""

    # Weights found on tests/data/language_messages.yml; see docs/language.md.
    MARKER_WEIGHT = 2.0
    LETTER_WEIGHT = 3.0
    LANGDETECT_WEIGHT = 1.0
    THRESHOLD = 0.75

    def __init__(self, lexicon: Dict, seed: int = 0) -> None:
        self._switch_phrases = self._pairs(lexicon["switch"]["phrases"])
        self._switch_whole = {
            phrase: language
            for language, phrases in lexicon["switch"]["whole"].items()
            for phrase in phrases
        }
        self._markers = self._sets(lexicon["markers"])
        self._function = _with_stop_words(self._sets(lexicon["function"]))
        from spacy.lang.en.stop_words import STOP_WORDS

        self._english_stop = frozenset(w.lower() for w in STOP_WORDS)
        self._factory = _restricted_factory(seed)

    @staticmethod
    def _sets(by_language: Dict) -> Dict[str, FrozenSet[str]]:
        return {language: frozenset(map(str.lower, words)) for language, words in by_language.items()}

    @staticmethod
    def _pairs(by_language: Dict) -> Tuple[Tuple[str, str], ...]:
        pairs = [(phrase.lower(), language) for language, phrases in by_language.items() for phrase in phrases]
        return tuple(sorted(pairs, key=lambda pair: -len(pair[0])))

    def requested(self, text: str) -> Optional[str]:
        """The language a message asks for ("answer in English"), if any."""
        lowered = " ".join(_WORD.findall(text.lower()))
        if lowered in self._switch_whole:
            return self._switch_whole[lowered]
        padded = f" {lowered} "
        for phrase, language in self._switch_phrases:
            if f" {phrase} " in padded:
                return language
        return None

    def score(self, text: str) -> Tuple[float, int]:
        """Evidence for English (positive) or Danish (negative), and the word count."""
        unquoted = _QUOTED.sub(" ", text)
        if _WORD.search(unquoted.lower()):
            text = unquoted
        words = _WORD.findall(text.lower())
        if not words:
            return 0.0, 0
        if len(words) == 1:
            word = words[0]
            if word in self._markers["da"] or _DANISH_LETTERS.search(word):
                return -self.THRESHOLD * 2, 1
            if word in self._markers["en"]:
                return self.THRESHOLD * 2, 1
            return 0.0, 1
        evidence = self._lexicon_weight(words, "en") - self._lexicon_weight(words, "da")
        if _DANISH_LETTERS.search(text.lower()):
            evidence -= self.LETTER_WEIGHT
        evidence += self.LANGDETECT_WEIGHT * self._langdetect_margin(" ".join(words))
        return evidence, len(words)

    def _lexicon_weight(self, words, language: str) -> float:
        markers, function = self._markers[language], self._function[language]
        weight = sum(self.MARKER_WEIGHT if w in markers else 1.0 if w in function else 0.0 for w in words)
        if language == "en" and words[0] == "i" and words[1] not in self._function["da"]:
            # "i have ...", "i dont ..." are English; "i danmark", "i skal ..." are Danish
            weight += self.MARKER_WEIGHT if words[1] in self._english_stop else 1.0
        return weight

    def detect(self, text: str) -> Optional[str]:
        """The message's language, or None when it is too short or mixed to tell."""
        evidence, _ = self.score(text)
        if evidence >= self.THRESHOLD:
            return "en"
        if evidence <= -self.THRESHOLD:
            return "da"
        return None

    def resolve(
        self, text: Optional[str], previous: Optional[str] = None, prior: Optional[str] = None
    ) -> LanguageDecision:
        """The reply language for a message, given the conversation so far."""
        text = text or ""
        if not text.startswith("/"):  # a button payload says nothing about language
            asked = self.requested(text)
            if asked:
                return LanguageDecision(asked, "switch")
            detected = self.detect(text)
            if detected:
                return LanguageDecision(detected, "detected")
        if normalise(previous):
            return LanguageDecision(normalise(previous), "kept")
        if normalise(prior):
            return LanguageDecision(normalise(prior), "prior")
        return LanguageDecision(DEFAULT_LANGUAGE, "default")

    def _langdetect_margin(self, text: str) -> float:
        """P(en) - P(da) from langdetect restricted to the two languages."""
        from langdetect.lang_detect_exception import LangDetectException

        detector = self._factory.create()
        detector.append(text)
        try:
            probabilities = {p.lang: p.prob for p in detector.get_probabilities()}
        except LangDetectException:
            return 0.0
        return probabilities.get("en", 0.0) - probabilities.get("da", 0.0)


def _with_stop_words(function: Dict[str, FrozenSet[str]]) -> Dict[str, FrozenSet[str]]:
    """The lexicon's function words plus spaCy's stop words of each language, leaving
    out the words both lists hold ("i", "for", "have", "her", "at", "over"...)."""
    from spacy.lang.da.stop_words import STOP_WORDS as DANISH
    from spacy.lang.en.stop_words import STOP_WORDS as ENGLISH

    shared = {word.lower() for word in DANISH} & {word.lower() for word in ENGLISH}
    stop = {"da": DANISH, "en": ENGLISH}
    return {
        language: words | frozenset(w.lower() for w in stop[language] if w.lower() not in shared and "'" not in w)
        for language, words in function.items()
    }


def _restricted_factory(seed: int):
    """A langdetect factory that knows only Danish and English, seeded for repeatability."""
    from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory

    factory = DetectorFactory()
    profiles = [
        (Path(PROFILES_DIRECTORY) / language).read_text(encoding="utf-8")
        for language in LANGUAGES
    ]
    factory.load_json_profile(profiles)
    factory.set_seed(seed)
    return factory


def load(path: Optional[Path] = None) -> LanguageDetector:
    return LanguageDetector(load_mapping(Path(path or paths.LANGUAGE_LEXICON)))


@lru_cache(maxsize=1)
def default() -> LanguageDetector:
    return load()
