"""Removes personal data from free text: CPR numbers, phone numbers, e-mail addresses.

`redact(text)` replaces each with a neutral placeholder and leaves everything else as
it was, clinical text included: glucose values ("5,6 mmol/l", "BS 12"), basal rates
("0,6 E/t"), HbA1c, times and dates are kept.

What counts as what:
- e-mail: local@domain.tld                                     -> [email]
- CPR: ddmmyy-xxxx (any dash, spaces around it allowed);
  ddmmyyxxxx and ddmmyy xxxx when ddmm is a real day and month -> [cpr]
- phone: +CC or 00CC followed by 6 to 14 digits (spaces, dashes,
  an area code in brackets); Danish 8 digits as 12345678,
  1234 5678 or 12 34 56 78 (also with dashes, and +45/0045)   -> [phone]
- any other run of 9 to 15 digits (account, serial or foreign
  phone numbers written without a prefix)                     -> [number]

Known over-reach, accepted for privacy: an 8-digit date written without separators
("01012024") and four two-digit numbers in a row separated by single spaces
("22 24 25 23") read as Danish phone numbers, unless a unit follows (mmol, mg, E, %).
Not covered: names, street addresses, numbers written in words.
"""
from __future__ import annotations

import re
from typing import Match

CPR = "[cpr]"
PHONE = "[phone]"
EMAIL = "[email]"
NUMBER = "[number]"
PLACEHOLDERS = (CPR, PHONE, EMAIL, NUMBER)

# No digit (or decimal part of a number) directly before or after.
_START = r"(?<![\d])(?<!\d[.,])"
_END = r"(?!\d)(?![.,]\d)"
_DASH = "\\-\u2010\u2011\u2012\u2013\u2014\u2212"
# A clinical unit right after a group of numbers means they are values, not a phone number.
_UNIT = re.compile(r"\s*(?:mmol|mg|e|ie|u|enheder|units?|%|g|gram)(?![\w-])", re.IGNORECASE)

_EMAIL = re.compile(
    r"(?<![\w.!#$%&'*+/=?^`{|}~-])"
    r"[\w!#$%&'*+/=?^`{|}~-]+(?:\.[\w!#$%&'*+/=?^`{|}~-]+)*"
    r"@(?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_]{2,}"
    r"(?![\w-])"
)
_CPR = re.compile(
    rf"{_START}(?P<date>\d{{6}})(?P<sep>[ \t]?[{_DASH}][ \t]?|[ \t]?)(?P<serial>\d{{4}}){_END}"
)
_SEP = rf"[ {_DASH}]"
_DK_BODY = rf"(?:\d{{8}}|\d{{4}}{_SEP}\d{{4}}|\d{{2}}{_SEP}\d{{2}}{_SEP}\d{{2}}{_SEP}\d{{2}})"
_DK_PHONE = re.compile(rf"(?:(?<![\w+])(?:\+|00)[ ]?45[ {_DASH}]?|{_START}){_DK_BODY}{_END}")
# Country code, then groups of digits (or an area code in brackets) with single separators.
_INTL_PHONE = re.compile(
    rf"(?<![\w+])(?:\+|00)[ ]?[1-9]\d{{0,2}}"
    rf"(?:[ {_DASH}]?\(\d{{1,5}}\)|[ {_DASH}]?\d{{1,14}}{_END})+"
)
_LONG_NUMBER = re.compile(rf"{_START}\d{{9,15}}{_END}")


def redact(text: str) -> str:
    """The text with CPR numbers, phone numbers and e-mail addresses replaced by placeholders."""
    if not text:
        return text
    text = _EMAIL.sub(EMAIL, text)
    text = _CPR.sub(_cpr, text)
    text = _INTL_PHONE.sub(_international, text)
    text = _DK_PHONE.sub(_danish, text)
    return _LONG_NUMBER.sub(NUMBER, text)


def _cpr(match: Match[str]) -> str:
    date = match.group("date")
    if match.group("sep").strip() or _is_date(date):
        return CPR
    return match.group(0)


def _is_date(ddmmyy: str) -> bool:
    day, month = int(ddmmyy[:2]), int(ddmmyy[2:4])
    return 1 <= day <= 31 and 1 <= month <= 12


def _danish(match: Match[str]) -> str:
    if _UNIT.match(match.string, match.end()):
        return match.group(0)
    return PHONE


def _international(match: Match[str]) -> str:
    """A phone number when it has a plausible length (E.164: at most 15 digits; +45: 8 after it)."""
    number = match.group(0)
    limit = 10 if _DANISH_PREFIX.match(number) else 15
    groups = list(_GROUP.finditer(number))
    # Give back trailing groups that make it too long, or that are values with a unit.
    while len(groups) > 1 and (
        _digits(number[: groups[-1].end()]) > limit or _UNIT.match(match.string, match.start() + groups[-1].end())
    ):
        groups.pop()
    end = groups[-1].end() if groups else len(number)
    if _digits(number[:end]) < 8:
        return number
    return PHONE + number[end:]


_DANISH_PREFIX = re.compile(r"(?:\+|00) ?45")
_GROUP = re.compile(r"\(?\d+\)?")


def _digits(text: str) -> int:
    return sum(ch.isdigit() for ch in text)
