"""Who may reach what: the rules checked before any server starts.

- Rasa's HTTP API (trackers, events, the model) needs a token whenever it listens on
  anything but loopback; without one it refuses to start. (The helpline's staff
  console needs a named staff login always: bot/helpline/accounts.py.)
- The action server has no authentication of its own (rasa-sdk 3.6), so it listens
  on loopback unless told otherwise, and warns when told otherwise.
- The REST channel is an integration channel: off loopback it needs REST_TOKEN
  (bot/channels/rest.py checks it on every post).
- Secrets come from the environment only: RASA_TOKEN (or RASA_JWT_SECRET), REST_TOKEN;
  staff passwords are argon2 hashes in the helpline database.
"""
from __future__ import annotations

import ipaddress
from typing import Mapping, Optional

TOKEN_VARIABLE = "RASA_TOKEN"
JWT_VARIABLE = "RASA_JWT_SECRET"
JWT_METHOD_VARIABLE = "RASA_JWT_METHOD"
MIN_SECRET_LENGTH = 16
REST_TOKEN_VARIABLE = "REST_TOKEN"


class AccessError(SystemExit):
    """The server would start unprotected: the message says how to fix it (exit status 2)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.code = 2
        self.message = message

    def __str__(self) -> str:
        return self.message


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 and localhost; everything else (0.0.0.0, a LAN address) is not."""
    host = (host or "").strip().strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def api_secret(env: Mapping[str, str]) -> Optional[str]:
    """The token or JWT secret that protects Rasa's HTTP API, if any."""
    return (env.get(TOKEN_VARIABLE) or env.get(JWT_VARIABLE) or "").strip() or None


def check_rasa_api(interface: str, env: Mapping[str, str]) -> None:
    """Raises AccessError when the HTTP API would be reachable off this machine without a secret."""
    secret = api_secret(env)
    if secret is not None and len(secret) < MIN_SECRET_LENGTH:
        raise AccessError(
            f"Refusing to start: {TOKEN_VARIABLE}/{JWT_VARIABLE} is shorter than {MIN_SECRET_LENGTH} "
            "characters. Use a long random value, e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`."
        )
    if secret is None and not is_loopback(interface):
        raise AccessError(
            f"Refusing to start: Rasa's HTTP API would listen on {interface} without a token. "
            f"Set {TOKEN_VARIABLE} (or {JWT_VARIABLE}) in the environment, or listen on 127.0.0.1."
        )
    rest_token = (env.get(REST_TOKEN_VARIABLE) or "").strip()
    if rest_token and len(rest_token) < MIN_SECRET_LENGTH:
        raise AccessError(f"Refusing to start: {REST_TOKEN_VARIABLE} is shorter than {MIN_SECRET_LENGTH} characters.")
    if not rest_token and not is_loopback(interface):
        raise AccessError(
            f"Refusing to start: the REST channel (/webhooks/rest/webhook) would listen on {interface} "
            f"without a token. Set {REST_TOKEN_VARIABLE} in the environment, or listen on 127.0.0.1."
        )

