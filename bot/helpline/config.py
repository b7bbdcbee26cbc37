"""The helpline's settings: config/helpline.yml, with secrets and addresses from the environment.

What the association fills in (phone, e-mail, weekly hours) may still be a placeholder
("[...]"). A placeholder never reaches a person: `contact_line` and `availability`
fall back to neutral wording, and `check_deployment` makes a production start
(ASSISTANT_ENV=production) fail, naming every placeholder left.
"""
from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

from zoneinfo import ZoneInfo

from bot import paths
from bot.yamlfile import DataFileError, load_mapping

logger = logging.getLogger(__name__)

CONFIG_FILE = paths.ROOT / "config" / "helpline.yml"
LANGUAGES = ("da", "en")

ENV_CONFIG = "HELPLINE_CONFIG"
ENV_DATABASE_URL = "HELPLINE_DATABASE_URL"
ENV_WEBHOOK_URL = "HELPLINE_WEBHOOK_URL"
ENV_WEBHOOK_SECRET = "HELPLINE_WEBHOOK_SECRET"
ENV_RASA_URL = "RASA_URL"
ENV_RASA_TOKEN = "RASA_TOKEN"
ENV_HANDOVER_APP = "FACEBOOK_HANDOVER_APP_ID"
ENV_DEPLOYMENT = "ASSISTANT_ENV"
PRODUCTION = "production"

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
HOURS = re.compile(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})")
DEFAULT_TIMEZONE = "Europe/Copenhagen"

DEFAULT_DATABASE_URL = "sqlite:///var/helpline.db"
DEFAULT_RASA_URL = "http://127.0.0.1:5005"


@dataclass(frozen=True)
class HelplineConfig:
    database_url: str = DEFAULT_DATABASE_URL
    database_timeout: float = 5.0
    phone: str = ""
    email: str = ""
    # Weekly hours, day -> (opens, closes); None while the file still holds a placeholder.
    hours: Optional[Dict[str, Tuple[time, time]]] = None
    timezone: str = DEFAULT_TIMEZONE
    answer_within_minutes: int = 15
    placeholder_fields: Tuple[str, ...] = ()
    handover_app_id: Optional[str] = None
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

    def placeholders(self) -> List[str]:
        """The fields of config/helpline.yml still holding a placeholder."""
        return list(self.placeholder_fields)

    def placeholders_left(self) -> bool:
        return bool(self.placeholder_fields)

    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_open(self, now: datetime) -> Optional[bool]:
        """Whether the helpline is open at `now` (aware); None when the hours are unknown."""
        if self.hours is None:
            return None
        local = now.astimezone(self.zone())
        span = self.hours.get(DAYS[local.weekday()])
        return bool(span and span[0] <= local.time().replace(tzinfo=None) < span[1])

    def next_opening(self, now: datetime) -> Optional[datetime]:
        """When the helpline next opens after `now` (local time); None when unknown or never."""
        if not self.hours:
            return None
        local = now.astimezone(self.zone())
        for ahead in range(0, 8):
            day = (local + timedelta(days=ahead)).date()
            span = self.hours.get(DAYS[day.weekday()])
            if span:
                opens = datetime.combine(day, span[0], tzinfo=self.zone())
                if opens > local:
                    return opens
        return None


def check_deployment(config: HelplineConfig, env: Optional[Mapping[str, str]] = None) -> None:
    """In production (ASSISTANT_ENV=production), refuses to go on while config/helpline.yml
    holds placeholders: SystemExit naming them. Elsewhere (the demo) it does nothing."""
    env = os.environ if env is None else env
    if (env.get(ENV_DEPLOYMENT) or "").strip().lower() != PRODUCTION:
        return
    left = config.placeholders()
    if left:
        raise SystemExit(
            f"{ENV_DEPLOYMENT}=production, but config/helpline.yml still holds placeholders: {', '.join(left)}. "
            "Fill in the helpline's real details (docs/deployment.md) before going live."
        )


def load(env: Optional[Mapping[str, str]] = None, path: Optional[Path] = None) -> HelplineConfig:
    """Reads the YAML file and lets the environment override addresses and supply secrets."""
    env = os.environ if env is None else env
    path = Path(path or env.get(ENV_CONFIG) or CONFIG_FILE)
    data = load_mapping(path)
    section = _sections(data, path)
    placeholders = [key for key in ("phone", "email", "hours") if _is_placeholder(data.get(key))]
    handover = (env.get(ENV_HANDOVER_APP) or "").strip() or None
    if handover is not None and not handover.isdigit():
        raise DataFileError(f"{ENV_HANDOVER_APP} must be a Meta app id (digits only)")
    config = HelplineConfig(
        database_url=resolve_database_url(env.get(ENV_DATABASE_URL) or section("database").get("url") or DEFAULT_DATABASE_URL),
        database_timeout=float(section("database").get("timeout_seconds", 5)),
        phone=_text(data, "phone", path),
        email=_text(data, "email", path),
        hours=None if "hours" in placeholders else _hours(data.get("hours"), path),
        timezone=str(data.get("timezone") or DEFAULT_TIMEZONE),
        answer_within_minutes=int(data.get("answer_within_minutes") or 15),
        placeholder_fields=tuple(placeholders),
        handover_app_id=handover,
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


def _text(data: Dict[str, Any], key: str, path: Path) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise DataFileError(f"{path}: {key!r} needs a text")
    return " ".join(value.split())


def _hours(value: Any, path: Path) -> Dict[str, Tuple[time, time]]:
    """`day: "HH:MM-HH:MM"` for each open day; days left out (or "closed") are closed."""
    if not isinstance(value, dict):
        raise DataFileError(f"{path}: 'hours' must map days ({', '.join(DAYS)}) to \"HH:MM-HH:MM\"")
    found: Dict[str, Tuple[time, time]] = {}
    for day, span in value.items():
        if day not in DAYS:
            raise DataFileError(f"{path}: hours: unknown day {day!r} (use {', '.join(DAYS)})")
        if span in (None, "closed"):
            continue
        match = HOURS.fullmatch(str(span).strip())
        if not match:
            raise DataFileError(f"{path}: hours.{day}: write \"HH:MM-HH:MM\", e.g. \"09:00-15:00\"")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        try:
            opens, closes = time(h1, m1), time(h2, m2)
        except ValueError:
            raise DataFileError(f"{path}: hours.{day}: {span!r} is not a time of day") from None
        if closes <= opens:
            raise DataFileError(f"{path}: hours.{day}: closes before it opens")
        found[day] = (opens, closes)
    return found


def _is_placeholder(value: Any) -> bool:
    text = value.strip() if isinstance(value, str) else ""
    return text.startswith("[") and text.endswith("]")
