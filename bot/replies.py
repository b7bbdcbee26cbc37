"""The assistant's own words (intro, small talk, referrals) from `data/content/replies.yml`."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Optional

from bot import paths
from bot.yamlfile import DataFileError, load_mapping


class Replies:
    """Looks up a reply by dotted key and language, filling `{constants}`."""

    def __init__(self, data: Dict[str, Any], source: str = "replies") -> None:
        self._data = data
        self._source = source
        self.constants: Dict[str, str] = {k: str(v) for k, v in (data.get("constants") or {}).items()}

    def has(self, key: str, language: str) -> bool:
        node = self._node(key)
        return isinstance(node, dict) and language in node

    def text(self, key: str, language: str, **values: str) -> str:
        node = self._node(key)
        if not isinstance(node, dict) or language not in node:
            raise DataFileError(f"{self._source}: no {language!r} text for {key!r}")
        return " ".join(str(node[language]).split()).format(**{**self.constants, **values})

    def raw(self, key: str) -> Any:
        """A non-text entry (e.g. the list of statement ids a reply quotes)."""
        return self._node(key)

    def _node(self, key: str) -> Any:
        node: Any = self._data
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                raise DataFileError(f"{self._source}: no reply {key!r}")
            node = node[part]
        return node


def load(path: Optional[Path] = None) -> Replies:
    path = Path(path or paths.REPLIES)
    return Replies(load_mapping(path), str(path))


@lru_cache(maxsize=1)
def default() -> Replies:
    return load()
