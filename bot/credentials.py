"""Builds Rasa's credentials file from credentials.yml and the environment.

credentials.yml holds the channels that need no secret. Messenger's secrets come
from the environment only; without them Messenger is left out (with a line in the
log), so `make run` works without a Facebook page.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Dict, Mapping, Optional

import yaml

logger = logging.getLogger(__name__)

FACEBOOK_ENV = {
    "verify": "FACEBOOK_VERIFY_TOKEN",
    "secret": "FACEBOOK_APP_SECRET",
    "page-access-token": "FACEBOOK_PAGE_ACCESS_TOKEN",
}
MESSENGER_CHANNEL = "bot.channels.messenger.SecureFacebookInput"
BASE = Path(__file__).resolve().parent.parent / "credentials.yml"


def build(env: Optional[Mapping[str, str]] = None) -> Dict[str, Any]:
    """The credentials mapping for the channels the environment allows."""
    env = os.environ if env is None else env
    credentials: Dict[str, Any] = dict(yaml.safe_load(BASE.read_text(encoding="utf-8")) or {})
    if all(env.get(name) for name in FACEBOOK_ENV.values()) and _module_exists("bot.channels.messenger"):
        credentials[MESSENGER_CHANNEL] = {key: env[name] for key, name in FACEBOOK_ENV.items()}
    else:
        logger.info("Messenger is off: set %s to turn it on.", ", ".join(FACEBOOK_ENV.values()))
    return credentials


def write(path: Path, env: Optional[Mapping[str, str]] = None) -> Path:
    """Writes the credentials file (mode 600: it may hold the Facebook secrets)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    os.chmod(path, 0o600)
    path.write_text(yaml.safe_dump(build(env), sort_keys=False), encoding="utf-8")
    return path


def _module_exists(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None
