"""Redacts a Rasa event (as a dict) before it is stored: every string and number in it, at any depth.

A user event carries the text three times (text, parse_data.text, and sometimes the
channel's metadata); slots such as the guardrail's record can quote it as well.
Walking every string covers them all, and what is not personal data (intent and
action names, payloads like "/ask_human", glucose values) comes through unchanged.
Strings go through `redact()` (bot/privacy/redact.py) and then `redact_names()`
(bot/privacy/names.py: spaCy's named entities, when da_core_news_sm is installed);
the keys of a dict through `redact()`.

Numbers matter too: the REST channel passes the client's metadata on as it is, so a
CPR or phone number can arrive as a JSON number (1304927121, 61728391). An int, or a
float with nothing after the point, of 8 to 15 digits is redacted as its digits would
be in text and becomes the placeholder string ("[cpr]", "[phone]", "[number]").
Left as they are: booleans, numbers of up to 7 digits (no CPR or phone number is that
short; confidences, counts, glucose values and entity offsets are), floats with a
fraction (a CPR or phone number has none; Rasa's timestamps do), numbers beyond 15
digits, and any number under a key that names a time ("timestamp", "time", "ts",
"created_at", ...): a Unix time in seconds (1712345678) has the shape of a CPR number.
"""
from __future__ import annotations

import math
import re
from typing import Any, Dict, Optional

from bot.privacy.names import redact_names
from bot.privacy.redact import redact

# Keys whose numbers are times: Rasa's "timestamp", a channel's "time", "created_at", "sent_ts".
_TIME_KEY = re.compile(
    r"(?:^|[_\-.])(?:timestamp|time|ts|created|updated|expires?|sent|received)(?:_?at|_?ms|_?s)?$"
    r"|_at$|At$|Time$|Timestamp$",
)
_MIN_DIGITS, _MAX_DIGITS = 8, 15


def redact_value(value: Any, key: Optional[str] = None) -> Any:
    """The value with personal data replaced; `key` is the dict key it was found under."""
    if isinstance(value, str):
        return redact_names(redact(value))
    if isinstance(value, dict):
        return {redact(name) if isinstance(name, str) else name: redact_value(item, name) for name, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_value(item, key) for item in value]
    if isinstance(value, (int, float)):
        return redact_number(value, key)
    return value


def redact_number(value: Any, key: Optional[str] = None) -> Any:
    """A placeholder string for a number that reads as a CPR, phone or other long number; else the number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    if isinstance(key, str) and _TIME_KEY.search(key):
        return value
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            return value
        value_as_int = int(value)
    else:
        value_as_int = value
    digits = str(abs(value_as_int))
    if not _MIN_DIGITS <= len(digits) <= _MAX_DIGITS:
        return value
    redacted = redact(digits)
    return value if redacted == digits else redacted


def redact_event(event: Dict[str, Any]) -> Dict[str, Any]:
    """A copy of the event dict with personal data replaced by placeholders."""
    return redact_value(event)
