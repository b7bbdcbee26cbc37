"""The association's position paper as data: topics, statements, short answers and aspects.

Answers come from `data/content/position_paper.yml` only. This module loads and
checks that file and picks statements; it holds no text of its own.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Dict, FrozenSet, List, Optional, Sequence, Tuple

from bot import paths
from bot.yamlfile import DataFileError, load_mapping

LANGUAGES = ("da", "en")

# The topic IDs the rest of the assistant (intents, slots, evaluation) relies on.
TOPIC_IDS = (
    "what_is_looping",
    "experience",
    "denmark",
    "association_stance",
    "responsibility",
    "ce_approved",
    "professional_advice",
    "guideline",
    "right_to_treatment",
    "further_reading",
)


@dataclass(frozen=True)
class Statement:
    """One statement of the paper, verbatim in Danish and translated to English."""

    id: str
    topic: str
    text: Dict[str, str]
    source: Dict[str, object]
    lead: bool = False
    aspects: FrozenSet[str] = frozenset()


@dataclass(frozen=True)
class ShortAnswer:
    """A topic's plain answer in one or two sentences, restating only the named statements."""

    restates: Tuple[str, ...]
    text: Dict[str, str]


@dataclass(frozen=True)
class Topic:
    id: str
    title: Dict[str, str]
    statements: Tuple[Statement, ...]
    related: Tuple[str, ...] = ()
    # Always set by the loader (every topic must have one); None only for a Topic built by hand.
    short: Optional[ShortAnswer] = None

    @property
    def lead(self) -> Tuple[Statement, ...]:
        """The statements that answer a question on this topic."""
        return tuple(s for s in self.statements if s.lead) or self.statements[:1]


@dataclass(frozen=True)
class PositionPaper:
    topics: Dict[str, Topic]
    aspect_words: Dict[str, Dict[str, FrozenSet[str]]] = field(default_factory=dict)

    def topic(self, topic_id: str) -> Topic:
        return self.topics[topic_id]

    def statement(self, statement_id: str) -> Statement:
        for topic in self.topics.values():
            for statement in topic.statements:
                if statement.id == statement_id:
                    return statement
        raise KeyError(statement_id)

    def first_link(self, topic_id: str) -> str:
        """The first web address the paper gives under a topic (e.g. the SDCC guideline)."""
        for statement in self.topics[topic_id].statements:
            found = re.search(r"https?://\S+", statement.text["da"])
            if found:
                return found.group(0)
        raise KeyError(f"no link under topic {topic_id}")

    def unseen(self, topic_id: str, seen: Sequence[str]) -> List[Statement]:
        """Statements of a topic not yet given, in the paper's order of the topic."""
        return [s for s in self.topics[topic_id].statements if s.id not in seen]

    def aspects_in(self, text: str) -> List[str]:
        """Aspects ("children", "doctor", ...) that a message names, in any language."""
        words = set(re.findall(r"[\wæøåÆØÅ]+", text.lower()))
        return [
            aspect
            for aspect, by_language in self.aspect_words.items()
            if any(words & vocabulary for vocabulary in by_language.values())
        ]

    def statements_with_aspect(
        self, aspect: str, prefer_topic: Optional[str] = None
    ) -> List[Statement]:
        """Statements tagged with an aspect, those of `prefer_topic` first."""
        found = [
            s for t in self.topics.values() for s in t.statements if aspect in s.aspects
        ]
        return sorted(found, key=lambda s: s.topic != prefer_topic)


def _require(condition: bool, path: Path, message: str) -> None:
    if not condition:
        raise DataFileError(f"{path}: {message}")


def _parse_short(topic_id: str, raw: object, path: Path) -> ShortAnswer:
    """A topic's `short` answer: the statement IDs it restates and its text in every language."""
    _require(isinstance(raw, dict), path, f"topic {topic_id} has no short answer")
    restates = raw.get("restates")
    _require(
        isinstance(restates, list) and bool(restates) and all(isinstance(r, str) and r for r in restates),
        path,
        f"topic {topic_id}: short answer names no statement it restates",
    )
    for language in LANGUAGES:
        _require(
            isinstance(raw.get(language), str) and raw[language].strip() != "",
            path,
            f"topic {topic_id}: short answer has no {language} text",
        )
    return ShortAnswer(
        restates=tuple(restates),
        text={language: " ".join(raw[language].split()) for language in LANGUAGES},
    )


def parse(data: dict, path: Path) -> PositionPaper:
    """Builds a PositionPaper from the file's mapping, checking every statement and short answer."""
    raw_topics = data.get("topics") or {}
    _require(
        set(raw_topics) == set(TOPIC_IDS),
        path,
        f"topics must be exactly {', '.join(TOPIC_IDS)}; got {', '.join(raw_topics)}",
    )
    topics: Dict[str, Topic] = {}
    seen_ids: set = set()
    for topic_id, raw in raw_topics.items():
        statements = []
        for item in raw.get("statements") or []:
            sid = item.get("id")
            _require(bool(sid) and sid not in seen_ids, path, f"bad or repeated id {sid!r}")
            seen_ids.add(sid)
            for language in LANGUAGES:
                _require(
                    isinstance(item.get(language), str) and item[language].strip() != "",
                    path,
                    f"statement {sid} has no {language} text",
                )
            _require(isinstance(item.get("source"), dict), path, f"statement {sid} has no source")
            statements.append(
                Statement(
                    id=sid,
                    topic=topic_id,
                    text={language: item[language].strip() for language in LANGUAGES},
                    source=dict(item["source"]),
                    lead=bool(item.get("lead", False)),
                    aspects=frozenset(item.get("aspects") or ()),
                )
            )
        _require(bool(statements), path, f"topic {topic_id} has no statements")
        related = tuple(raw.get("related") or ())
        _require(set(related) <= set(TOPIC_IDS), path, f"topic {topic_id}: unknown related topic")
        topics[topic_id] = Topic(
            id=topic_id,
            title={language: raw["title"][language] for language in LANGUAGES},
            statements=tuple(statements),
            related=related,
            short=_parse_short(topic_id, raw.get("short"), path),
        )
    for topic in topics.values():
        unknown = [sid for sid in topic.short.restates if sid not in seen_ids]
        _require(
            not unknown,
            path,
            f"topic {topic.id}: short answer restates unknown statement {', '.join(unknown)}",
        )
    aspect_words = {
        aspect: {lang: frozenset(w.lower() for w in words) for lang, words in by_lang.items()}
        for aspect, by_lang in (data.get("aspects") or {}).items()
    }
    return PositionPaper(topics=topics, aspect_words=aspect_words)


def load(path: Optional[Path] = None) -> PositionPaper:
    """Loads and checks the paper file (the default one when no path is given)."""
    path = Path(path or paths.POSITION_PAPER)
    return parse(load_mapping(path), path)


@lru_cache(maxsize=1)
def default() -> PositionPaper:
    """The paper from the project's data folder, loaded once per process."""
    return load()


TOPIC_INTENT_PREFIX = "ask_"


def topic_for_intent(intent: Optional[str]) -> Optional[str]:
    """The topic an intent asks about: ask_<topic id>, or None."""
    if intent and intent.startswith(TOPIC_INTENT_PREFIX):
        topic = intent[len(TOPIC_INTENT_PREFIX):]
        return topic if topic in TOPIC_IDS else None
    return None
