"""Delivers new tickets to a webhook: a JSON POST signed with HMAC-SHA256.

The receiver checks `X-Helpline-Signature: sha256=<hex>`, the HMAC-SHA256 of the raw
request body keyed with HELPLINE_WEBHOOK_SECRET (`verify` does it in Python). Delivery
is tried a few times; a failure is logged with the ticket number and the reason only
(never the ticket, the URL or the secret) and never reaches the conversation.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from typing import Any, Dict, Optional

import requests

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Helpline-Signature"
PREFIX = "sha256="


def body(payload: Dict[str, Any]) -> bytes:
    """The exact bytes that are sent and signed."""
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def sign(data: bytes, secret: str) -> str:
    """The header value: sha256=<hex HMAC-SHA256 of data>."""
    return PREFIX + hmac.new(secret.encode("utf-8"), data, hashlib.sha256).hexdigest()


def verify(data: bytes, header: Optional[str], secret: str) -> bool:
    """For receivers: does the header carry the right signature for these bytes? (constant time)"""
    if not header or not secret:
        return False
    return hmac.compare_digest(sign(data, secret).encode("ascii"), header.strip().encode("ascii", "replace"))


def deliver(
    url: str,
    secret: Optional[str],
    payload: Dict[str, Any],
    timeout: float = 10.0,
    attempts: int = 3,
    session: Optional[requests.Session] = None,
    label: str = "ticket",
    backoff: float = 1.0,
) -> bool:
    """POSTs the payload; True when the receiver answered 2xx. Never raises."""
    if not secret:
        logger.error("helpline webhook: %s not delivered: HELPLINE_WEBHOOK_SECRET is not set", label)
        return False
    data = body(payload)
    headers = {"Content-Type": "application/json; charset=utf-8", SIGNATURE_HEADER: sign(data, secret)}
    http = session or requests
    attempts = max(1, attempts)
    for attempt in range(1, attempts + 1):
        retry = True
        try:
            # No redirects: the signed ticket goes to the configured address or nowhere.
            response = http.post(url, data=data, headers=headers, timeout=timeout, allow_redirects=False)
            if 200 <= response.status_code < 300:
                logger.info("helpline webhook: %s delivered", label)
                return True
            problem = f"HTTP {response.status_code}"
            if 400 <= response.status_code < 500 and response.status_code not in (408, 429):
                retry = False  # the receiver refuses it; trying again will not help
        except requests.RequestException as error:
            problem = type(error).__name__
        except Exception as error:  # noqa: BLE001 - delivery must never break the conversation
            problem = type(error).__name__
        logger.warning("helpline webhook: %s, attempt %d of %d failed (%s)", label, attempt, attempts, problem)
        if not retry:
            break
        if attempt < attempts:
            time.sleep(backoff * attempt)
    logger.error("helpline webhook: %s not delivered", label)
    return False
