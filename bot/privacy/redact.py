"""Removes personal data from free text before it is stored or logged.

`redact(text)` replaces each kind below with a neutral placeholder and leaves everything
else as it was, clinical text included: glucose values ("5,6 mmol/l", "BS 12"), basal
rates ("0,6 E/t"), HbA1c, times, dates, versions ("Loop 3.2") are kept. It is used for
helpline tickets, tracker events and every log record, so it must be fast and
idempotent: the patterns are linear (no nested quantifiers), text without a digit or an
"@" is returned at once, and it runs again while a pass still changes something (a
replacement can turn its neighbour into a match), at most four passes.

What counts as what:
- e-mail: local@domain.tld                                     -> [email]
- CPR: ddmmyy-xxxx (any dash, spaces around it allowed);
  ddmmyyxxxx and ddmmyy xxxx when ddmm is a real day and month -> [cpr]
- phone: +CC or 00CC followed by 6 to 14 digits (spaces, dashes,
  an area code in brackets); Danish 8 digits as 12345678,
  1234 5678 or 12 34 56 78 (also with dashes, and +45/0045)   -> [phone]
- any other run of 9 to 15 digits (account, serial or foreign
  phone numbers written without a prefix)                     -> [number]
- street addresses                                            -> [address]
  Danish: a street name with a street ending (Vestergade, Kongens Nytorv,
  Nørre Allé, H.C. Andersens Boulevard, Vænget), a house number of 1-3 digits
  (12, 44B, 12-14), a floor and side (2. th., st tv, 1.sal), then a postcode
  and town (", 8000 Aarhus C", also on the next line).
  English: a house number and capitalised street ("221B Baker St.",
  "10 Downing Street, London"; lower case only for street/road/avenue).
  A postcode and town right after an [address] go too.

Known over-reach, accepted for privacy: an 8-digit date written without separators
("01012024") and four two-digit numbers in a row separated by single spaces
("22 24 25 23") read as Danish phone numbers, unless a unit follows (mmol, mg, E, %).
Any word with a street ending and a small number after it reads as an address
("cykelsti 2"), unless a unit or time word follows ("i parken 2 timer") or it is
one of the common words listed in _NOT_STREETS; the word before an address may go
with it ("Hej Vestergade 12" -> "[address]").
Not covered: names, addresses without a house number or street ending ("Gammel
Strand 48"), numbers written in words.
"""
from __future__ import annotations

import re
from typing import Match

CPR = "[cpr]"
PHONE = "[phone]"
EMAIL = "[email]"
NUMBER = "[number]"
ADDRESS = "[address]"
PLACEHOLDERS = (CPR, PHONE, EMAIL, NUMBER, ADDRESS)

# No digit (or decimal part of a number) directly before or after.
_START = r"(?<![\d])(?<!\d[.,])"
_END = r"(?!\d)(?![.,]\d)"
_DASH = "\\-\u2010\u2011\u2012\u2013\u2014\u2212"
# A clinical unit right after a group of numbers means they are values, not a phone number.
_UNIT = re.compile(r"\s*(?:mmol|mg|e|ie|u|enheder|units?|%|g|gram)(?![\w-])", re.IGNORECASE)

# The local part does not start with a quote, so "'ole@example.dk'" keeps its quotes.
_EMAIL = re.compile(
    r"(?<![\w.!#$%&*+/=?^`{|}~-])"
    r"[\w!#$%&*+/=?^`{|}~-][\w!#$%&'*+/=?^`{|}~-]*(?:\.[\w!#$%&'*+/=?^`{|}~-]+)*"
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

# --- street addresses ------------------------------------------------------------------

_L = r"[^\W\d_]"  # a letter
_CAP = "(?-i:[A-ZÆØÅÄÖÜÉ])"  # a capital, even in a case-insensitive pattern
_GAP = "[ \t\u00a0]"
_NAME = rf"(?:{_CAP}{_L}*\.?|(?:{_L}\.){{1,3}})"  # Kongens, Skt., H.C.
# Street endings, also written as words of their own ("Nørre Allé").
_ENDINGS = (
    "vej", "vejen", "gade", "gaden", "allé", "alle", "alléen", "alleen", "plads", "pladsen",
    "vænge", "vænget", "stræde", "strædet", "boulevard", "torv", "torvet", "park", "parken",
    "have", "haven", "høj", "højen", "bakke", "bakken", "bakkerne", "sti", "stien", "toft",
    "toften", "engen", "marken", "lund", "lunden", "vang", "vangen", "gyde", "kvarter",
)
# As a word of their own after a name, any ending counts when capitalised ("Kongens Have");
# these also in lower case ("nørre allé"), the rest are common words ("skal have 2").
_WORD_ENDINGS_ANY_CASE = ("allé", "alléen", "boulevard", "stræde", "strædet", "torv", "torvet", "vænge", "vænget",
                          "gade", "vej")
# Endings that are streets on their own when capitalised ("Vænget 3"), or always.
_STANDALONE = frozenset({"vænget", "vænge", "toften", "engen", "marken", "bakken", "parken", "torvet", "lunden",
                         "vangen", "højen", "stien", "strædet", "haven"})
_STANDALONE_ANY_CASE = frozenset({"vænget", "vænge", "toften"})
# Endings too common in ordinary words ("skyhøj", "børnehave", "drengen"): only capitalised.
_CAPITAL_ONLY = ("høj", "højen", "have", "haven", "engen")
_NOT_STREETS = frozenset({
    "omvej", "omvejen", "genvej", "genvejen", "luftvej", "luftvejen", "udvej", "udvejen", "motorvej",
    "arbejdsplads", "arbejdspladsen", "legeplads", "legepladsen", "parkeringsplads", "parkeringspladsen",
    "behave", "brigade", "renegade", "tvang", "strengen", "sengen", "drengen", "danmarken",
})
# Words that are not the first part of a street name ("på vej 3").
_FUNCTION_WORDS = frozenset({"på", "paa", "er", "en", "et", "af", "i", "til", "den", "det", "min", "din", "sin",
                             "vores", "jeres", "hans", "hendes", "ad", "og", "eller", "at", "hele", "halvvejs"})
# A number followed by one of these is an amount or a time, not a house number.
_AMOUNT = (
    "timer|time|t|min|minutter|minut|sek|sekunder|dage|dag|døgn|uger|uge|måneder|måned|mdr|md|år|års|gange|gang|"
    "x|mmol|mg|e|ie|u|units?|enheder|enhed|kg|g|gram|km|m|meter|cm|mm|ml|l|stk|hours?|hrs?|days?|weeks?|months?|"
    "years?|times|kcal|kh|grader"
)


def _alternatives(words) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_FLOOR = (
    rf"(?:,?{_GAP}*(?:(?:st|kld|kælder)\b\.?|\d{{1,2}}(?:\.{_GAP}?(?:sal\b\.?)?|{_GAP}?sal\b\.?"
    rf"|(?={_GAP}?(?:th|tv|mf)\b)))(?:,?{_GAP}*(?:th|tv|mf)\b\.?)?|,?{_GAP}*(?:th|tv|mf)\b\.?)"
)
_HOUSE_NUMBER = rf"\d{{1,3}}(?:-\d{{1,3}})?(?!\d)(?:[a-z](?!\w)|{_GAP}(?-i:[A-H])(?![\w.]))?"
_NOT_AN_AMOUNT = rf"(?![.,:/]?\d)(?!{_GAP}*(?:{_AMOUNT}|%|°)(?!\w))"
_DK_ADDRESS = re.compile(
    rf"(?<![\w.@/\]])(?:"
    # Nørre Allé, H.C. Andersens Boulevard, Kongens Have
    rf"(?:{_NAME}{_GAP}){{1,3}}(?:{_alternatives(_WORD_ENDINGS_ANY_CASE)}|"
    rf"(?-i:{_alternatives(w.capitalize() for w in _ENDINGS)}))"
    # nørre allé
    rf"|(?P<first>{_L}+){_GAP}(?:{_alternatives(_WORD_ENDINGS_ANY_CASE)})"
    # Vestergade, Kongens Nytorv, Vænget
    rf"|(?:{_NAME}{_GAP}){{0,3}}(?P<street>{_L}*?(?:{_alternatives(_ENDINGS)}))"
    rf")(?!\w){_GAP}+(?:nr\.?{_GAP}?)?{_HOUSE_NUMBER}{_FLOOR}?{_NOT_AN_AMOUNT}",
    re.IGNORECASE,
)
_EN_WORD = rf"[A-Z]{_L}*"
_EN_ADDRESS = re.compile(
    rf"(?<![\w.,:/@\]-])\d{{1,4}}(?:[A-Za-z](?!{_L}))?{_GAP}(?:"
    rf"(?:{_EN_WORD}{_GAP}){{1,3}}(?:(?:Street|Road|Avenue|Lane|Drive|Way|Close|Court|Place|Square|Terrace|"
    rf"Crescent|Boulevard|Gardens|Grove|Hill|Row|Mews|Walk|Parade|Park)(?!\w)|(?:St|Rd|Ave|Ln|Dr|Ct|Pl|Sq|Blvd)\b\.?)"
    rf"|{_L}+{_GAP}(?:street|road|avenue)(?!\w))"
    # a town and a UK postcode
    rf"(?:,{_GAP}*{_EN_WORD}(?:{_GAP}{_EN_WORD})?(?!\w))?"
    rf"(?:,?{_GAP}*[A-Z]{{1,2}}\d[A-Z\d]?{_GAP}?\d[A-Z]{{2}}(?!\w))?"
)
_TOWN = rf"{_L}+(?:-{_L}+)*(?:{_GAP}{_CAP}{_L}+)?(?:{_GAP}(?:C|K|N|NV|NØ|S|SV|SØ|V|Ø)(?!\w))?"
_POSTCODE_AFTER_ADDRESS = re.compile(
    rf"{re.escape(ADDRESS)}(?:,?{_GAP}*(?:\r?\n{_GAP}*)?(?:DK-?)?[1-9]\d{{3}}(?!\d){_GAP}+{_TOWN}(?!\w))+",
    re.IGNORECASE,
)
_PERSONAL = re.compile(r"[\d@]")
# A replacement can make its neighbour a match (a phone number whose "unit" was the start
# of an address); the second pass finds those, the limit keeps crafted input linear.
_MAX_PASSES = 4


def redact(text: str) -> str:
    """The text with CPR numbers, phone numbers, e-mail and street addresses replaced by placeholders."""
    if not text or not _PERSONAL.search(text):
        return text
    for _ in range(_MAX_PASSES):
        redacted = _redact_once(text)
        if redacted == text:
            break
        text = redacted
    return text


def _redact_once(text: str) -> str:
    text = _EMAIL.sub(EMAIL, text)
    text = _CPR.sub(_cpr, text)
    text = _INTL_PHONE.sub(_international, text)
    text = _DK_PHONE.sub(_danish, text)
    text = _LONG_NUMBER.sub(NUMBER, text)
    text = _DK_ADDRESS.sub(_danish_address, text)
    text = _EN_ADDRESS.sub(ADDRESS, text)
    return _POSTCODE_AFTER_ADDRESS.sub(ADDRESS, text)


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


def _danish_address(match: Match[str]) -> str:
    """An address, unless its street word is an ordinary word (see _NOT_STREETS and friends)."""
    street = match.group("street")
    if street is not None:
        word = street.lower()
        if word in _NOT_STREETS:
            return match.group(0)
        ending = max((e for e in _ENDINGS if word.endswith(e)), key=len, default="")
        standalone = word in _STANDALONE_ANY_CASE or (word in _STANDALONE and street[0].isupper())
        if len(word) < len(ending) + 2 and not standalone:
            return match.group(0)  # "alle 3", "sti 2": an ending alone is not a street
        if any(word.endswith(e) for e in _CAPITAL_ONLY) and not street[0].isupper():
            return match.group(0)
    first = match.group("first")
    if first is not None and first.lower() in _FUNCTION_WORDS:
        return match.group(0)
    return ADDRESS


_DANISH_PREFIX = re.compile(r"(?:\+|00) ?45")
_GROUP = re.compile(r"\(?\d+\)?")


def _digits(text: str) -> int:
    return sum(ch.isdigit() for ch in text)
