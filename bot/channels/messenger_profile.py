"""The Page's Messenger profile: the welcome screen's greeting and its Get Started button.

Before a person has written to the Page, Messenger shows a welcome screen with a greeting
text and a Get Started button. The greeting carries the privacy essentials (write no name,
CPR number, phone number, e-mail or address; conversations are deleted after the retention
period; call 112 in an emergency), so a person reads them before the first message. The
texts are in data/content/messenger.yml, filled with the retention period
(bot/privacy/retention.py) and the emergency number (replies.yml's constants), and must
fit Meta's 160 characters. Meta's name placeholders ({{user_first_name}} and the like)
are refused: the assistant keeps no names.

Get Started sends the postback "/get_started"; the channel passes it to Rasa as a payload
(bot/channels/messenger.py), and the assistant answers with its introduction and the
privacy note.

`python -m bot messenger-profile` posts the profile to `<graph url>/me/messenger_profile`
with the page access token and appsecret_proof (FACEBOOK_PAGE_ACCESS_TOKEN,
FACEBOOK_APP_SECRET, FACEBOOK_GRAPH_URL, as the channel reads them); `--dry-run` prints
the body and posts nothing. Run it once per Page, and again when a text or the retention
period changes (Meta allows 10 profile calls per 10 minutes per Page).
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import sys
from pathlib import Path
from typing import Any, Dict, Mapping, Optional

from bot import paths
from bot.yamlfile import DataFileError, load_mapping

logger = logging.getLogger(__name__)

PROFILE = paths.CONTENT / "messenger.yml"
PROFILE_PATH = "me/messenger_profile"
GET_STARTED_PAYLOAD = "/get_started"
GREETING_LIMIT = 160  # Meta: the greeting text "Must be in UTF-8. 160 character limit."
LANGUAGES = ("da", "en")
DEFAULT_LOCALE = "default"
# Meta fills these with the person's name on the welcome screen; we keep no names.
NAME_TEMPLATE = re.compile(r"\{\{\s*user_\w*\s*\}\}|\{\{|\}\}")
LOCALE_PATTERN = re.compile(r"default|[a-z]{2}_[A-Z]{2}")


class ProfileError(DataFileError):
    """The profile's texts are missing, too long or use a name placeholder."""


def _length(text: str) -> int:
    """Characters as Meta may count them at worst: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def greetings(retention_days: Optional[int] = None, path: Optional[Path] = None) -> Dict[str, str]:
    """The greeting text per language ("da", "en"), filled in and checked (ProfileError)."""
    path = Path(path or PROFILE)
    texts = load_mapping(path).get("greeting")
    if not isinstance(texts, dict):
        raise ProfileError(f"{path}: no `greeting` with a text per language")
    if retention_days is None:
        from bot.privacy.retention import retention_days as configured

        retention_days = configured()
    from bot import replies

    values = {**replies.default().constants, "retention_days": str(retention_days)}
    filled: Dict[str, str] = {}
    for language in LANGUAGES:
        raw = texts.get(language)
        if not isinstance(raw, str) or not raw.strip():
            raise ProfileError(f"{path}: no {language!r} greeting")
        raw = " ".join(raw.split())
        if NAME_TEMPLATE.search(raw):
            raise ProfileError(f"{path}: the {language!r} greeting uses a name placeholder; the assistant keeps no names")
        try:
            text = raw.format(**values)
        except (KeyError, IndexError, ValueError) as error:
            raise ProfileError(f"{path}: the {language!r} greeting has an unknown placeholder ({error})") from None
        if _length(text) > GREETING_LIMIT:
            raise ProfileError(
                f"{path}: the {language!r} greeting is {_length(text)} characters with a retention period of "
                f"{retention_days} days; Messenger allows {GREETING_LIMIT}"
            )
        filled[language] = text
    return filled


def profile_body(retention_days: Optional[int] = None, path: Optional[Path] = None) -> Dict[str, Any]:
    """The Messenger Profile API body: the greeting per locale ("default" first) and the
    Get Started button's payload."""
    path = Path(path or PROFILE)
    texts = greetings(retention_days, path)
    locales = load_mapping(path).get("locales")
    if not isinstance(locales, dict) or locales.get(DEFAULT_LOCALE) not in texts:
        raise ProfileError(f"{path}: `locales` must give the `default` locale a language ({', '.join(LANGUAGES)})")
    greeting = []
    for locale in [DEFAULT_LOCALE, *(name for name in locales if name != DEFAULT_LOCALE)]:
        language = locales[locale]
        if not isinstance(locale, str) or not LOCALE_PATTERN.fullmatch(locale) or language not in texts:
            raise ProfileError(f"{path}: locale {locale!r} must be like en_US and name a language ({', '.join(LANGUAGES)})")
        greeting.append({"locale": locale, "text": texts[language]})
    return {"greeting": greeting, "get_started": {"payload": GET_STARTED_PAYLOAD}}


async def publish(graph: Any, body: Dict[str, Any]) -> bool:
    """POSTs the profile through the channel's GraphAPI (page token, appsecret_proof);
    True when Meta accepted it. Errors are logged by GraphAPI, without secrets."""
    return await graph.post(PROFILE_PATH, body)


def main(dry_run: bool = False, env: Optional[Mapping[str, str]] = None) -> int:
    """`python -m bot messenger-profile [--dry-run]`: 0 when set (or printed), 1 when Meta
    refused, 2 when the texts or the configuration are wrong."""
    from bot.channels import messenger
    from bot.credentials import FACEBOOK_ENV

    env = os.environ if env is None else env
    try:
        body = profile_body()
    except DataFileError as error:
        print(error, file=sys.stderr)
        return 2
    if dry_run:
        print(json.dumps(body, ensure_ascii=False, indent=2))
        return 0
    token = (env.get(FACEBOOK_ENV["page-access-token"]) or "").strip()
    secret = (env.get(FACEBOOK_ENV["secret"]) or "").strip()
    if not token or not secret:
        print(f"Set {FACEBOOK_ENV['page-access-token']} and {FACEBOOK_ENV['secret']} (the Page's token and the "
              f"app secret, as for the channel).", file=sys.stderr)
        return 2
    try:
        graph = messenger.GraphAPI(token, secret, env.get(messenger.GRAPH_URL_ENV) or messenger.DEFAULT_GRAPH_URL)
    except messenger.MessengerConfigError as error:
        print(error, file=sys.stderr)
        return 2
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.WARNING, format="%(message)s")
    if asyncio.run(publish(graph, body)):
        print(f"The Messenger profile was set: greeting for {', '.join(g['locale'] for g in body['greeting'])}, "
              f"Get Started sends {GET_STARTED_PAYLOAD}.")
        return 0
    print("Meta did not accept the Messenger profile (see the error above).", file=sys.stderr)
    return 1
