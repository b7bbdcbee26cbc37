"""A CPR or phone number split over two messages of a conversation, redacted in both.

People send a number in pieces: "mit cpr er 130492" and then "7141", or "130492-" and
"7141", or "ring 6172" and "8391". Each piece alone is no CPR or phone number, so
`redact()` keeps it. `redact_across(previous, text)` looks at the end of the previous
user message and the start of this one together; when they form a CPR number (or a
phone number) the parts in both become the placeholder:

    redact_across("mit cpr er 130492", "7141")  -> ("mit cpr er [cpr]", "[cpr]")
    redact_across("ring 0045 6172", "8391 tak")  -> ("ring [phone]", "[phone] tak")

A CPR number is joined whenever the two parts make one (six digits that are a date,
then four). A phone number only when the second message is the rest of the number
alone, the first ends with a dash or a "+45"/"0045", or it says it is a number
("tlf", "ring", "nummer", "phone", "call" ...): "født i 1992" and "2010 fik hun
diabetes" are two years, not a phone number.

`redact_split_numbers(previous_text, events)` does this for a list of Rasa event dicts
in order (bot/persistence/tracker_store.py calls it before it redacts and stores them).
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Tuple

from bot.privacy.redact import CPR, PHONE, redact

_DASH = "\\-\u2010\u2011\u2012\u2013\u2014\u2212"

# Digits with single separators between them ("13 04 92", "0045 6172", "61.72", "(555)").
_RUN = rf"[+(]?\d(?:[\d()]|[ .{_DASH}](?=[\d(]))*"
_TAIL = re.compile(rf"(?<![\w+(.,])(?P<run>{_RUN})(?P<dash>[ \t]*[{_DASH}])?[ \t]*$")
_HEAD = re.compile(rf"[ \t]*(?P<dash>[{_DASH}][ \t]*)?(?P<run>{_RUN})(?!\w|[.,]\d)")
_GROUP_START = re.compile(r"(?:^|(?<=[ .\-\u2010-\u2014\u2212]))[+(]?\d")
_GROUP_END = re.compile(r"\d\)?(?=[ .\-\u2010-\u2014\u2212]|$)")
_PHONE_CUE = re.compile(
    r"(?<!\w)(?:tlf|telefon\w*|mobil\w*|nummer|nr|ring\w*|sms|phone|call|number|cell|mobile|text me)(?!\w)",
    re.IGNORECASE,
)
_NUMBER_ONLY = re.compile(rf"[ \t]*[{_DASH}]?[ \t]*[\d ().{_DASH}]*[.!]?[ \t]*")
# Only the last and first characters of the two messages are looked at.
_WINDOW = 80


def starts_with_number(text: Any) -> bool:
    """Whether a message may be the second part of a split number (cheap, before any look-up)."""
    return isinstance(text, str) and _HEAD.match(text[:_WINDOW]) is not None


def redact_across(previous: str, text: str) -> Tuple[str, str]:
    """Both messages, with a CPR or phone number split between them replaced in each."""
    if not previous or not text:
        return previous, text
    offset = max(0, len(previous) - _WINDOW)
    tail = _TAIL.search(previous, offset)
    head = _HEAD.match(text[:_WINDOW])
    if tail is None or head is None:
        return previous, text
    run = tail.group("run")
    if redact(run) != run:
        return previous, text  # the previous message held a whole number of its own
    dash = bool(tail.group("dash") or head.group("dash"))
    starts = [tail.start("run") + m.start() for m in _GROUP_START.finditer(run)]
    ends = [head.start("run") + m.end() for m in _GROUP_END.finditer(head.group("run"))]
    for start in starts:  # the longest first
        left = previous[start:tail.end("run")]
        for end in reversed(ends):
            right = text[head.start("run"):end]
            kind = redact(left + ("-" if dash else " ") + right)
            if kind == CPR or (kind == PHONE and _phone_allowed(previous, text, left, end, dash)):
                cut = tail.end("dash") if tail.group("dash") else tail.end("run")
                lead = head.start("dash") if head.group("dash") else head.start("run")
                return previous[:start] + kind + previous[cut:], text[:lead] + kind + text[end:]
    return previous, text


def _phone_allowed(previous: str, text: str, left: str, end: int, dash: bool) -> bool:
    return (
        dash
        or left.startswith(("+", "00"))
        or _NUMBER_ONLY.fullmatch(text[end:]) is not None
        or _PHONE_CUE.search(previous[-_WINDOW:]) is not None
        or _PHONE_CUE.search(text[:_WINDOW]) is not None
    )


def replace_text(value: Any, old: str, new: str) -> Any:
    """The value with `old` replaced by `new` in every string (not inside a longer number)."""
    if not old or old == new:
        return value
    pattern = re.compile(("(?<!\\d)" if old[0].isdigit() else "") + re.escape(old) + ("(?!\\d)" if old[-1].isdigit() else ""))
    return _replace(value, pattern, new)


def _replace(value: Any, pattern: "re.Pattern[str]", new: str) -> Any:
    if isinstance(value, str):
        return pattern.sub(lambda _: new, value)
    if isinstance(value, dict):
        return {key: _replace(item, pattern, new) for key, item in value.items()}
    if isinstance(value, list):
        return [_replace(item, pattern, new) for item in value]
    return value


def _user_text(event: Dict[str, Any]) -> Optional[str]:
    if event.get("event") == "user" and isinstance(event.get("text"), str):
        return event["text"]
    return None


def redact_split_numbers(previous_text: Optional[str], events: List[Dict[str, Any]]) -> Optional[str]:
    """Joins each user message in `events` with the one before it, changing the events in place.

    `previous_text` is the user message stored before these events (or None). Returns its
    new text when a number split between it and the first new message was redacted (the
    caller rewrites the stored events), else None. Every string of a message's event and
    of the events after it (up to the next message) has the parts replaced.
    """
    previous = previous_text
    stored_change: Optional[str] = None
    group: List[int] = []  # indexes of the current message's event and the events after it
    replacements: List[Tuple[str, str]] = []  # what changed in the current message, for the events after it
    for index, event in enumerate(events):
        text = _user_text(event)
        if text is None:
            if group:
                for old, new in replacements:
                    events[index] = replace_text(events[index], old, new)
                group.append(index)
            continue
        replacements = []
        if previous is not None:
            new_previous, new_text = redact_across(previous, text)
            if new_previous != previous:
                if group:
                    for i in group:
                        events[i] = replace_text(events[i], previous, new_previous)
                else:
                    stored_change = new_previous
            if new_text != text:
                event.update(replace_text(event, text, new_text))
                replacements.append((text, new_text))
                text = new_text
        previous = text
        group = [index]
    return stored_change
