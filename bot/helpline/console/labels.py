"""The console's words, from data/content/console.yml, in Danish and English.

The file is a tree whose leaves (mappings without mappings in them) have exactly `da`
and `en`. `load()` checks
that, and returns a `ConsoleLabels`: `for_language(lang)` gives the tree in one language
with attribute access for the templates (`t.queue.waiting`; a missing label raises, so a
template naming a label that does not exist fails instead of showing nothing), and
`text(lang, "reply.delivered", **values)` gives one label with its placeholders filled.

Topic titles come from the position paper (`topics` in every language), so that a ticket's
topic is shown as the paper names it, not as its code.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Dict, Iterator, Optional, Tuple

from bot import paths
from bot.yamlfile import DataFileError, load_mapping

logger = logging.getLogger(__name__)

LABELS_FILE = paths.CONTENT / "console.yml"
LANGUAGES = ("da", "en")
DEFAULT_LANGUAGE = "da"


class Labels:
    """One language's labels: `labels.section.key` (or `labels["key"]`); missing ones raise."""

    __slots__ = ("_data", "_path")

    def __init__(self, data: Dict[str, Any], path: str = "") -> None:
        self._data = data
        self._path = path

    def _get(self, key: str) -> Any:
        value = self._data[key]
        return Labels(value, f"{self._path}{key}.") if isinstance(value, dict) else value

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_"):
            raise AttributeError(key)
        try:
            return self._get(key)
        except KeyError:
            raise AttributeError(f"no console label {self._path}{key}") from None

    def __getitem__(self, key: str) -> Any:
        try:
            return self._get(key)
        except KeyError:
            raise KeyError(f"no console label {self._path}{key}") from None

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)


class ConsoleLabels:
    def __init__(self, tree: Dict[str, Dict[str, Any]]) -> None:
        self.tree = tree  # language -> nested labels

    def for_language(self, language: str) -> Labels:
        return Labels(self.tree[language if language in self.tree else DEFAULT_LANGUAGE])

    def lookup(self, language: str, dotted: str) -> Any:
        node: Any = self.tree[language if language in self.tree else DEFAULT_LANGUAGE]
        for part in dotted.split("."):
            node = node[part]
        return node

    def text(self, language: str, dotted: str, **values: Any) -> str:
        label = self.lookup(language, dotted)
        return label.format(**values) if values else label

    def code(self, language: str, section: str, code: Optional[str]) -> str:
        """The word for a stored code (triage, reason, channel, ...); the code itself when
        the file has none (a code newer than the file), "–" for none."""
        if code is None or code == "":
            return self.text(language, "ticket.none")
        try:
            value = self.lookup(language, f"{section}.{code}")
        except (KeyError, TypeError):
            return str(code)
        return value if isinstance(value, str) else str(code)

    def codes(self, section: str) -> Tuple[str, ...]:
        return tuple(self.tree[DEFAULT_LANGUAGE][section])


def load(path: Optional[Path] = None, with_topics: bool = True) -> ConsoleLabels:
    """Reads and checks the labels file (DataFileError names what is wrong)."""
    path = Path(path or LABELS_FILE)
    data = load_mapping(path)
    tree: Dict[str, Dict[str, Any]] = {language: {} for language in LANGUAGES}
    _split(data, tree, (), path)
    if with_topics and "topics" not in data:
        for language, titles in _topic_titles().items():
            tree[language]["topics"] = titles
    return ConsoleLabels(tree)


def _split(node: Dict[str, Any], tree: Dict[str, Dict[str, Any]], where: Tuple[str, ...], path: Path) -> None:
    for key, value in node.items():
        here = (*where, str(key))
        name = ".".join(here)
        if not isinstance(value, dict) or not value:
            raise DataFileError(f"{path}: {name} must be a mapping (with da and en, or more labels)")
        if not any(isinstance(inner, dict) for inner in value.values()):  # a label: {da: ..., en: ...}
            if set(value) != set(LANGUAGES) or not all(isinstance(value[lang], str) and value[lang] for lang in LANGUAGES):
                raise DataFileError(f"{path}: {name} needs a text for exactly {' and '.join(LANGUAGES)}")
            for language in LANGUAGES:
                _put(tree[language], here, value[language])
        else:
            _split(value, tree, here, path)


def _put(tree: Dict[str, Any], where: Tuple[str, ...], text: str) -> None:
    for part in where[:-1]:
        tree = tree.setdefault(part, {})
    tree[where[-1]] = text


def _topic_titles() -> Dict[str, Dict[str, str]]:
    """The position paper's topic titles, per language (none when it cannot be read)."""
    try:
        from bot import content

        paper = content.default()
        return {language: {topic.id: topic.title[language] for topic in paper.topics.values()} for language in LANGUAGES}
    except Exception as error:  # noqa: BLE001 - topics are then shown by their codes
        logger.warning("helpline console: topic titles not loaded (%s)", type(error).__name__)
        return {language: {} for language in LANGUAGES}
