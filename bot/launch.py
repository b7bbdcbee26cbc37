"""Starts Rasa's server and the action server in this process, after the access checks.

`python -m bot serve` and `python -m bot actions` replace `rasa run` and `rasa run
actions` (make run and the tests use them). Running Rasa in-process keeps the API
token off the command line, where any local user could read it (ps, /proc).
"""
from __future__ import annotations

import logging
import os
import sys
from typing import List, Mapping, Optional

from bot import access

logger = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
# Sanic buffers a request body up to this size before any handler sees it (its default is
# 100 MB). The channels refuse bodies over 64 KiB with a clear error of their own
# (bot/channels/rest.py); this caps what a client can make the server hold in memory.
MAX_REQUEST_BYTES = 2 * 1024 * 1024


def rasa_arguments(
    model: str, port: int, interface: str, credentials: str, endpoints: str, env: Mapping[str, str]
) -> List[str]:
    """`rasa run` arguments, with the API secret from the environment (checked first)."""
    access.check_rasa_api(interface, env)
    arguments = [
        "run", "--enable-api", "--interface", interface, "--port", str(port),
        "--model", model, "--credentials", credentials, "--endpoints", endpoints,
    ]
    token = (env.get(access.TOKEN_VARIABLE) or "").strip()
    jwt_secret = (env.get(access.JWT_VARIABLE) or "").strip()
    if token:
        arguments += ["--auth-token", token]
    if jwt_secret:
        arguments += ["--jwt-secret", jwt_secret, "--jwt-method", env.get(access.JWT_METHOD_VARIABLE) or "HS256"]
    return arguments


def check_deployment(env: Mapping[str, str]) -> None:
    """A production start (ASSISTANT_ENV=production) refuses placeholders in
    config/helpline.yml (SystemExit naming them); the demo goes on with neutral wording."""
    from bot.helpline import config

    config.check_deployment(config.load(env), env)


def serve_rasa(model: str, port: int, interface: str, credentials: str, endpoints: str) -> None:
    check_deployment(os.environ)
    arguments = rasa_arguments(model, port, interface, credentials, endpoints, os.environ)
    if not access.api_secret(os.environ):
        print(
            f"Rasa's HTTP API has no token: only processes on this machine can reach it "
            f"({interface}). Set {access.TOKEN_VARIABLE} to require one.",
            file=sys.stderr,
        )
    os.environ.setdefault("SANIC_REQUEST_MAX_SIZE", str(MAX_REQUEST_BYTES))
    from rasa.__main__ import main

    from bot import rasa_patches

    rasa_patches.apply(interface)
    sys.argv = ["rasa", *arguments]
    main()


def action_host(env: Mapping[str, str]) -> str:
    """ACTION_HOST, default loopback: the action server has no authentication."""
    return (env.get("ACTION_HOST") or "").strip() or LOOPBACK


def serve_actions(port: int, host: Optional[str] = None) -> None:
    check_deployment(os.environ)
    host = host or action_host(os.environ)
    if not access.is_loopback(host):
        print(
            f"Warning: the action server listens on {host} and has no authentication. "
            "Keep it on a private network that only the Rasa server can reach.",
            file=sys.stderr,
        )
    os.environ["SANIC_HOST"] = host  # rasa-sdk reads its host from here (default 0.0.0.0)
    from rasa_sdk.__main__ import main

    sys.argv = ["rasa_sdk", "--actions", "actions", "--port", str(port)]
    main()
