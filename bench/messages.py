"""What the benchmark says to each assistant: ~5-message conversations each assistant is
built for (ours: the looping questions of tests/data/topic_questions.yml in Danish and
English with smalltalk around them; stock: the `rasa init` domain's own intents)."""
from __future__ import annotations

from pathlib import Path
from typing import List

import yaml

ROOT = Path(__file__).resolve().parent.parent
TOPIC_QUESTIONS = ROOT / "tests" / "data" / "topic_questions.yml"

OPENING = {"da": ["hej", "goddag", "hej med dig"], "en": ["hello", "hi there", "good morning"]}
CLOSING = {"da": ["tak for hjælpen", "mange tak, farvel", "tak"], "en": ["thanks, bye", "thank you", "thanks a lot"]}

# The stock assistant's own paths (greet, mood, affirm/deny, bot_challenge, goodbye).
STOCK_SCRIPTS: List[List[str]] = [
    ["hi", "I am sad", "yes", "are you a bot?", "bye"],
    ["hello", "great", "am I talking to a human?", "perfect", "goodbye"],
    ["hey there", "very sad", "no", "are you a human?", "see you later"],
    ["good morning", "I am feeling very good", "amazing", "am I talking to a bot?", "bye bye"],
]


def our_scripts() -> List[List[str]]:
    """One conversation per language and starting topic: greeting, three topic questions,
    thanks. 20 distinct conversations, cycled by the load generator."""
    questions = yaml.safe_load(TOPIC_QUESTIONS.read_text(encoding="utf-8"))["questions"]
    topics = list(questions)
    scripts = []
    for language in ("da", "en"):
        for i in range(len(topics)):
            asked = [questions[topics[(i + step) % len(topics)]][language] for step in range(3)]
            scripts.append(
                [OPENING[language][i % 3], *asked, CLOSING[language][i % 3]]
            )
    # Interleave the languages so any prefix of the list has both.
    return [script for pair in zip(scripts[: len(topics)], scripts[len(topics):]) for script in pair]
