"""The helpline's settings: config/helpline.yml, with secrets and addresses from the environment."""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Mapping, Optional

from bot import paths
from bot.yamlfile import DataFileError, load_mapping

logger = logging.getLogger(__name__)

CONFIG_FILE = paths.ROOT / "config" / "helpline.yml"
LANGUAGES = ("da", "en")

ENV_CONFIG = "HELPLINE_CONFIG"
ENV_DATABASE_URL = "HELPLINE_DATABASE_URL"
ENV_WEBHOOK_URL = "HELPLINE_WEBHOOK_URL"
ENV_WEBHOOK_SECRET = "HELPLINE_WEBHOOK_SECRET"
ENV_TOKEN = "HELPLINE_TOKEN"
ENV_RASA_URL = "RASA_URL"
ENV_RASA_TOKEN = "RASA_TOKEN"

DEFAULT_DATABASE_URL = "sqlite:///var/helpline.db"
DEFAULT_RASA_URL = "http://127.0.0.1:5005"


@dataclass(frozen=True)
class HelplineConfig:
    database_url: str = DEFAULT_DATABASE_URL
    database_timeout: float = 5.0
    opening_hours: Dict[str, str] = field(default_factory=dict)
    contact: Dict[str, str] = field(default_factory=dict)
    staff_language: str = "da"
    transcript_max_messages: int = 50
    transcript_max_chars: int = 2000
    summary_max_question_chars: int = 200
    webhook_url: Optional[str] = None
    webhook_secret: Optional[str] = field(default=None, repr=False)
    webhook_timeout: float = 10.0
    webhook_attempts: int = 3
    rasa_url: str = DEFAULT_RASA_URL
    rasa_token: Optional[str] = field(default=None, repr=False)
    rasa_timeout: float = 10.0
    web_host: str = "127.0.0.1"
    web_port: int = 8090
    token: Optional[str] = field(default=None, repr=False)

    def helpline_values(self, language: str) -> Dict[str, str]:
        """The `{opening_hours}` and `{contact}` of the replies, in the reply's language."""
        return {
            "opening_hours": self.opening_hours.get(language) or self.opening_hours.get("da", ""),
            "contact": self.contact.get(language) or self.contact.get("da", ""),
        }

    def placeholders_left(self) -> bool:
        """True while the association has not yet filled in its hours and contact details."""
        return any(_is_placeholder(v) for v in [*self.opening_hours.values(), *self.contact.values()])


def load(env: Optional[Mapping[str, str]] = None, path: Optional[Path] = None) -> HelplineConfig:
    """Reads the YAML file and lets the environment override addresses and supply secrets."""
    env = os.environ if env is None else env
    path = Path(path or env.get(ENV_CONFIG) or CONFIG_FILE)
    data = load_mapping(path)
    section = _sections(data, path)
    config = HelplineConfig(
        database_url=resolve_database_url(env.get(ENV_DATABASE_URL) or section("database").get("url") or DEFAULT_DATABASE_URL),
        database_timeout=float(section("database").get("timeout_seconds", 5)),
        opening_hours=_texts(data, "opening_hours", path),
        contact=_texts(data, "contact", path),
        staff_language=str(data.get("staff_language") or "da"),
        transcript_max_messages=int(section("transcript").get("max_messages", 50)),
        transcript_max_chars=int(section("transcript").get("max_chars", 2000)),
        summary_max_question_chars=int(section("summary").get("max_question_chars", 200)),
        webhook_url=env.get(ENV_WEBHOOK_URL) or None,
        webhook_secret=env.get(ENV_WEBHOOK_SECRET) or None,
        webhook_timeout=float(section("webhook").get("timeout_seconds", 10)),
        webhook_attempts=max(1, int(section("webhook").get("attempts", 3))),
        rasa_url=(env.get(ENV_RASA_URL) or section("rasa").get("url") or DEFAULT_RASA_URL).rstrip("/"),
        rasa_token=env.get(ENV_RASA_TOKEN) or None,
        rasa_timeout=float(section("rasa").get("timeout_seconds", 10)),
        web_host=str(section("web").get("host") or "127.0.0.1"),
        web_port=int(section("web").get("port") or 8090),
        token=env.get(ENV_TOKEN) or None,
    )
    if config.staff_language not in LANGUAGES:
        raise DataFileError(f"{path}: staff_language must be one of {', '.join(LANGUAGES)}")
    return config


def resolve_database_url(url: str) -> str:
    """A relative SQLite path is made absolute under the repository root; postgres:// is postgresql://."""
    from sqlalchemy.engine import make_url

    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        database = Path(parsed.database)
        if not database.is_absolute():
            return str(parsed.set(database=str(paths.ROOT / database)))
    return url


def _sections(data: Dict[str, Any], path: Path):
    def section(name: str) -> Dict[str, Any]:
        value = data.get(name) or {}
        if not isinstance(value, dict):
            raise DataFileError(f"{path}: {name!r} must be a mapping")
        return value

    return section


def _texts(data: Dict[str, Any], key: str, path: Path) -> Dict[str, str]:
    value = data.get(key)
    if not isinstance(value, dict) or not all(isinstance(value.get(lang), str) and value[lang].strip() for lang in LANGUAGES):
        raise DataFileError(f"{path}: {key!r} needs a text for each of {', '.join(LANGUAGES)}")
    return {lang: " ".join(value[lang].split()) for lang in LANGUAGES}


def _is_placeholder(text: str) -> bool:
    return text.startswith("[") and text.endswith("]")
