"""Redacts a Rasa event (as a dict) before it is stored: every string in it, at any depth.

A user event carries the text three times (text, parse_data.text, and sometimes the
channel's metadata); slots such as the guardrail's record can quote it as well.
Walking every string covers them all, and what is not personal data (intent and
action names, payloads like "/ask_human", glucose values) comes through unchanged.
"""
from __future__ import annotations

from typing import Any, Dict

from bot.privacy.redact import redact


def redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: redact_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_value(item) for item in value]
    return value


def redact_event(event: Dict[str, Any]) -> Dict[str, Any]:
    """A copy of the event dict with personal data replaced by placeholders."""
    return redact_value(event)
