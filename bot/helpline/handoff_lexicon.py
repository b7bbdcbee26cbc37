"""Wording that asks for a person unambiguously (data/lexicons/handoff.yml).

The NLU's ask_human covers vaguer wishes too ("kan I hjælpe mig?"); only these
patterns hand over without the confirming question first.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import List, Pattern

from bot import paths
from bot.yamlfile import DataFileError, load_mapping

LEXICON = paths.ROOT / "data" / "lexicons" / "handoff.yml"


@lru_cache(maxsize=1)
def patterns() -> List[Pattern[str]]:
    data = load_mapping(LEXICON).get("explicit") or {}
    if not isinstance(data, dict):
        raise DataFileError(f"{LEXICON}: 'explicit' must map languages to lists of patterns")
    return [re.compile(p, re.IGNORECASE) for language in sorted(data) for p in data[language] or []]


def is_explicit(text: str) -> bool:
    """True when the text can only be a request for a person."""
    text = " ".join((text or "").split())
    return bool(text) and any(p.search(text) for p in patterns())
