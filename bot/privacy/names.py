"""Names found by spaCy's Danish named-entity recogniser, replaced by [name].

`redact()` (bot/privacy/redact.py) finds a name only after a self-introduction ("jeg
hedder Mette Hansen", "my name is Anna Berg", "I'm Sofie"). When the trained Danish
pipeline da_core_news_sm is installed, `redact_names()` also replaces every person its
recogniser labels PER, wherever it stands: "min søn Emil er 9", "spørg Lars Nielsen".
The stored conversation (bot/privacy/events.py) goes through both.

Without the model (the blank fallback pipeline of bot/nlp.py has no recogniser)
`redact_names()` changes nothing, and only the introduced names are redacted: a name
in the middle of a sentence, a child's or a doctor's name, a name in lower case after
anything but "jeg hedder", "mit navn er" and "my name is" are stored as written.

The recogniser is a statistical model trained on Danish news: it misses names and
sometimes labels other words as persons, English text is read as Danish, and a
recognised entity with a digit in it or one of the product names redact() knows
("Loop", "Omnipod") is left alone.
"""
from __future__ import annotations

import re
from typing import Any, Optional

from bot.privacy.redact import NAME, NOT_NAMES, PLACEHOLDERS

PERSON_LABELS = frozenset({"PER", "PERSON"})
# A capital followed by a small letter: without one there is no name to find.
_CAPITALISED = re.compile(r"[A-ZÆØÅÄÖÜÉ][a-zæøåäöüé]")
# Longer strings are read in pieces of about this size (split at a line or a space).
_PIECE = 10_000


def pipeline() -> Optional[Any]:
    """The Danish pipeline with its recogniser, or None (loaded once, by bot.nlp)."""
    from bot import nlp

    return nlp.danish_ner()


def redact_names(text: str) -> str:
    """The text with the persons spaCy's recogniser finds replaced by [name] (unchanged without the model)."""
    if not text or not _CAPITALISED.search(text):
        return text
    language = pipeline()
    if language is None:
        return text
    return "".join(_redact_piece(language, piece) for piece in _pieces(text))


def _redact_piece(language: Any, text: str) -> str:
    if not _CAPITALISED.search(text):
        return text
    parts, position = [], 0
    for entity in language(text).ents:
        if entity.label_ not in PERSON_LABELS or not _is_a_name(entity.text):
            continue
        parts.append(text[position:entity.start_char])
        parts.append(NAME)
        position = entity.end_char
    parts.append(text[position:])
    return "".join(parts)


def _is_a_name(text: str) -> bool:
    if any(ch.isdigit() for ch in text) or any(p in text for p in PLACEHOLDERS) or "[" in text:
        return False
    return not any(word.lower() in NOT_NAMES for word in text.split())


def _pieces(text: str):
    while len(text) > _PIECE:
        cut = max(text.rfind("\n", 0, _PIECE), text.rfind(" ", 0, _PIECE))
        cut = cut + 1 if cut > 0 else _PIECE
        yield text[:cut]
        text = text[cut:]
    yield text
