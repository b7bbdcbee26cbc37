"""What the website chat widget shows before anyone types: the greeting, the privacy note
and the suggested questions, sent as the socket event `widget_texts` (bot/channels/webchat.py).

One place for each fact: the greeting is `intro` and the privacy note `privacy_note` in
data/content/replies.yml (the retention period from bot.privacy.retention), the
suggested questions are in data/content/widget.yml. The widget holds none of these
texts itself. A suggestion's payload is `/ask_<topic id>`: a topic intent that acts as
an intent when the button sends it (bot/channels/payloads.py).

    {"language": "da", "greeting": "...", "privacy": "...",
     "suggestions": [{"title": "...", "payload": "/ask_association_stance"}, ...]}
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional

from bot import content, paths, replies
from bot.channels import payloads
from bot.language import DEFAULT_LANGUAGE, LANGUAGES
from bot.yamlfile import DataFileError, load_mapping

WIDGET_FILE = paths.CONTENT / "widget.yml"
MIN_SUGGESTIONS, MAX_SUGGESTIONS = 3, 4
MAX_TITLE = 80


def language(value: Any) -> str:
    """The page language a widget asked for: "da" or "en"; anything else is Danish."""
    return value if isinstance(value, str) and value in LANGUAGES else DEFAULT_LANGUAGE


def load_suggestions(path: Optional[Path] = None) -> Dict[str, List[Dict[str, str]]]:
    """The suggested questions per language, checked: 3–4 each, a short title, and a
    payload that is a topic intent the assistant acts on."""
    path = Path(path or WIDGET_FILE)
    data = load_mapping(path).get("suggestions")
    if not isinstance(data, dict) or set(data) != set(LANGUAGES):
        raise DataFileError(f"{path}: suggestions must have exactly the languages {', '.join(LANGUAGES)}")
    found: Dict[str, List[Dict[str, str]]] = {}
    for lang in LANGUAGES:
        entries = data[lang]
        if not isinstance(entries, list) or not MIN_SUGGESTIONS <= len(entries) <= MAX_SUGGESTIONS:
            raise DataFileError(f"{path}: suggestions.{lang} must list {MIN_SUGGESTIONS} to {MAX_SUGGESTIONS} questions")
        found[lang] = []
        for entry in entries:
            title = entry.get("title") if isinstance(entry, dict) else None
            payload = entry.get("payload") if isinstance(entry, dict) else None
            if not isinstance(title, str) or not title.strip() or len(title) > MAX_TITLE:
                raise DataFileError(f"{path}: suggestions.{lang}: each needs a title of 1 to {MAX_TITLE} characters")
            intent = payload[1:] if isinstance(payload, str) and payload.startswith("/") else None
            if content.topic_for_intent(intent) is None or not payloads.known([intent]):
                raise DataFileError(
                    f"{path}: suggestions.{lang}: {payload!r} is not /ask_<topic> of a topic in the position paper"
                )
            found[lang].append({"title": " ".join(title.split()), "payload": payload})
        if len({s["payload"] for s in found[lang]}) != len(found[lang]):
            raise DataFileError(f"{path}: suggestions.{lang}: a topic is suggested twice")
    return found


@lru_cache(maxsize=None)
def texts(lang: str) -> Dict[str, Any]:
    """The `widget_texts` payload for a language (built once per process and language)."""
    from bot.privacy.retention import retention_days

    lang = language(lang)
    source = replies.default()
    return {
        "language": lang,
        "greeting": source.text("intro", lang),
        "privacy": source.text("privacy_note", lang, retention_days=str(retention_days())),
        "suggestions": [dict(s) for s in load_suggestions()[lang]],
    }


def payload(lang: Any) -> Dict[str, Any]:
    """A copy of the cached texts for the language a page asked for (da by default)."""
    found = texts(language(lang))
    return {**found, "suggestions": [dict(s) for s in found["suggestions"]]}
