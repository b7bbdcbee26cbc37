"""Talks to a conversation through Rasa's HTTP API (the server runs with --enable-api).

- `execute` runs one of the assistant's actions in a conversation, and sends what it
  says to the channel the person last wrote on (`output_channel=latest`): the staff
  reply (action_staff_message) and the handback (action_hand_back) reach the widget's
  socket, Messenger's Send API, or, for REST, the tracker.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, Optional
from urllib.parse import quote

import requests

logger = logging.getLogger(__name__)

# Rasa (Sanic) matches the conversation id on the raw path and does not percent-decode it,
# so characters allowed in a path are sent as they are. Ids with other characters (spaces,
# non-ASCII, ?, #) cannot be addressed through Rasa's HTTP API at all; channel ids
# (Messenger's digits, the REST channel's or a widget's UUIDs) are fine.
PATH_SAFE = "/:@!$&'()*+,;=~"


class ResumeError(RuntimeError):
    """Rasa did not run the action (the message names no personal data)."""


STAFF_MESSAGE_ACTION = "action_staff_message"
HAND_BACK_ACTION = "action_hand_back"


def execute(
    rasa_url: str,
    conversation_id: str,
    action: str,
    token: Optional[str] = None,
    timeout: float = 10.0,
    session: Optional[requests.Session] = None,
) -> None:
    """POST {rasa_url}/conversations/<id>/execute?output_channel=latest; raises ResumeError."""
    url = f"{rasa_url.rstrip('/')}/conversations/{quote(conversation_id, safe=PATH_SAFE)}/execute"
    params = {"output_channel": "latest", **({"token": token} if token else {})}
    _post(session or requests, url, {"name": action}, params, timeout)
    logger.info("helpline: %s run in the conversation", action)


def _post(http: Any, url: str, body: Any, params: Dict[str, str], timeout: float) -> None:
    try:
        response = http.post(url, json=body, params=params, timeout=timeout)
    except requests.RequestException as error:
        raise ResumeError(f"the Rasa server did not answer ({type(error).__name__})") from None
    if response.status_code in (401, 403):
        raise ResumeError(f"the Rasa server refused the request (HTTP {response.status_code}): check RASA_TOKEN")
    if not response.ok:
        raise ResumeError(f"the Rasa server answered HTTP {response.status_code}")

