"""Removes personal data from free text before it is stored or logged.

`redact(text)` replaces each kind below with a neutral placeholder and leaves everything
else as it was, clinical text included. It is used for helpline tickets, tracker events
and every log record, so it must be fast and idempotent: the patterns are linear (no
nested quantifiers), text without a digit, an "@" or one of the cue words ("at",
"snabel-a", "hedder", "navn", "name", "I'm", "I am", "this is") is returned at once, and
it runs again while a pass still changes something (a replacement can turn its
neighbour into a match), at most four passes.

What is redacted, with examples (Danish and English alike):
- e-mail                                                            -> [email]
  ole@example.dk; written out: "ole at gmail dot com", "ole(at)gmail.com",
  "ole [at] gmail [dot] com", "ole @ gmail.com", "ole snabel-a gmail punktum com".
  With a plain " at " the domain must be spelt with dot/punktum or be a known
  mail provider (gmail, hotmail, ...), so "look at diabetes.dk" stays; a spelt-out
  dot needs a known top-level domain (com, dk, net, ...).
- CPR                                                               -> [cpr]
  010190-1234 (any dash, spaces around it allowed); 0101901234 and 010190 1234 when
  ddmm is a real day and month; with dots between day, month and year and a dash
  before the serial: 13.04.92-7121, 13.04.1992-7121.
- phone                                                             -> [phone]
  +CC or 00CC followed by 6 to 14 digits (spaces, dashes, an area code in brackets):
  "+46 70 123 45 67", "0045 61 72 83 97", "+1 (555) 301-4167"; Danish 8 digits as
  12345678, 1234 5678, 12 34 56 78 (dashes too), 12.34.56.78; and what Google's libphonenumber
  (the `phonenumbers` package) finds as a valid Danish or international number,
  e.g. "61.72.83.91", "+33 1.23.45.67.89", "+44 (0)20 7946 0958"; North American
  numbers without the country code or with dots: "(555) 301-4167", "555-301-4167",
  "+1.555.301.4167".
- any other run of 9 to 15 digits (account, serial or foreign
  phone numbers written without a prefix)                          -> [number]
- street addresses                                                  -> [address]
  Danish: a street name with a street ending (Vestergade, Kongens Nytorv,
  Nørre Allé, H.C. Andersens Boulevard, Strandboulevarden, Vænget, Gammel Strand,
  Kalvebod Brygge) or a prefix word and a capitalised name (Gammel Mønt, Ny Adelgade,
  Store Kongensgade), a house number of 1-3 digits (12, 44B, 12-14), a floor and side
  (2. th., st tv, 1.sal), then a postcode and town (", 8000 Aarhus C", also on the
  next line). English: a house number and capitalised street ("221B Baker St.",
  "10 Downing Street, London"; lower case only for street/road/avenue).
  A postcode and town right after an [address] go too.
- a name after a self-introduction                                  -> [name]
  "jeg hedder Mette Hansen", "mit navn er Lars", "my name is Anna Berg",
  "I'm Sofie and my son ...", "this is Peter Jensen": one to three capitalised words
  after the cue (after "jeg hedder", "mit navn er", "my name is" also words in lower
  case, "jeg hedder mette"). Common words are not names: "jeg hedder ikke", "I'm
  worried", "I'm not", "I'm a mum", "I'm Danish", "this is Loop".

What is kept: glucose values ("5,6 mmol/l", "16,2 mmol", "BS 12", "5.6"), basal rates
and doses ("0,6 E/t", "2 units"), HbA1c ("53 mmol/mol"), ages ("14 år", "my 9 year
old"), times ("kl. 22.30", "22.30-23.45"), dates ("1.12.2025", "12/03", "2024-03-12",
"21-12-2023"), versions ("Loop 3.2.0"), short numbers ("112", "1813").

Known over-reach, accepted for privacy: an 8-digit date written without separators
("01012024"), four two-digit numbers in a row separated by single spaces
("22 24 25 23") and two four-digit numbers ("2023 2024") read as Danish phone
numbers, unless a unit follows (mmol, mg, E, %).
Any word with a street ending and a small number after it reads as an address
("cykelsti 2"), unless a unit or time word follows ("i parken 2 timer") or it is
one of the common words listed in _NOT_STREETS; the word before an address may go
with it ("Hej Vestergade 12" -> "[address]"). A capitalised word that is not a
common word after "I'm" or "this is" reads as a name ("this is Diabetesforeningen").
Not covered: names without a self-introduction ("min søn Emil", "jeg er Ole"; see
bot/privacy/names.py for spaCy's named entities when da_core_news_sm is installed),
addresses without a house number or street ending ("Østerbro"), numbers written in
words, a number split over two messages (bot/privacy/across.py does that for a
conversation).
"""
from __future__ import annotations

import re
from typing import Callable, List, Match, Optional, Pattern, Tuple

import phonenumbers
from phonenumbers import Leniency, PhoneNumberMatcher

CPR = "[cpr]"
PHONE = "[phone]"
EMAIL = "[email]"
NUMBER = "[number]"
ADDRESS = "[address]"
NAME = "[name]"
PLACEHOLDERS = (CPR, PHONE, EMAIL, NUMBER, ADDRESS, NAME)

# A replacement and where in the text it ends, or None for no match (see _substitute).
_Replacement = Optional[Tuple[str, int]]


def _alternatives(words) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


# No digit (or decimal part of a number) directly before or after.
_START = r"(?<![\d])(?<!\d[.,])"
_END = r"(?!\d)(?![.,]\d)"
_DASH = "\\-\u2010\u2011\u2012\u2013\u2014\u2212"
# A clinical unit right after a group of numbers means they are values, not a phone number.
_UNIT = re.compile(r"\s*(?:mmol|mg|e|ie|u|enheder|units?|%|g|gram)(?![\w-])", re.IGNORECASE)

# The local part does not start with a quote, so "'ole@example.dk'" keeps its quotes.
_LOCAL = r"[\w!#$%&*+/=?^`{|}~-][\w!#$%&'*+/=?^`{|}~-]*"
_LABEL = r"[^\W_](?:[\w-]*[^\W_])?"
_EMAIL = re.compile(
    rf"(?<![\w.!#$%&*+/=?^`{{|}}~-])"
    rf"{_LOCAL}(?:\.[\w!#$%&'*+/=?^`{{|}}~-]+)*"
    rf"@(?:{_LABEL}\.)+[^\W\d_]{{2,}}"
    r"(?![\w-])"
)

# --- e-mail addresses written out ------------------------------------------------------

_OPEN, _CLOSE = r"[(\[{<]", r"[)\]}>]"
# "(at)", "[at]", "{@}", " snabel-a ", " @ ": always an e-mail address when a domain follows.
_STRONG_AT = (
    rf"(?:[ \t]*{_OPEN}[ \t]*(?:at|snabel-?a|@)[ \t]*{_CLOSE}[ \t]*"
    r"|[ \t]+snabel-?a[ \t]+|[ \t]+@[ \t]*|[ \t]*@[ \t]+)"
)
_PLAIN_AT = r"[ \t]+at[ \t]+"
_DOT_WORD = rf"(?:[ \t]*{_OPEN}[ \t]*(?:dot|punktum|punkt|prik)[ \t]*{_CLOSE}[ \t]*|[ \t]+(?:dot|punktum|punkt|prik)[ \t]+)"
_DOT = rf"(?:\.|{_DOT_WORD})"
# Top-level domains for a dot that is spelt out ("gmail dot com"); with a real dot any will do.
_TLDS = (
    "com", "dk", "net", "org", "se", "no", "de", "uk", "co", "io", "eu", "info", "biz", "me", "nu", "fi", "is",
    "fo", "gl", "nl", "fr", "es", "it", "ch", "be", "pl", "us", "ca", "au", "edu", "gov", "online",
)
# Mail providers: "ole at gmail.com" is an address even with a real dot.
_PROVIDERS = (
    "gmail", "googlemail", "hotmail", "outlook", "live", "msn", "yahoo", "icloud", "me", "mac", "aol", "gmx",
    "proton", "protonmail", "pm", "mail", "jubii", "ofir", "webspeed", "stofanet", "yandex", "zoho", "tdcadsl",
)
_WRITTEN_LOCAL = rf"{_LOCAL}(?:{_DOT}{_LOCAL}){{0,3}}?"
_WRITTEN_EMAIL = re.compile(
    rf"(?<![\w.!#$%&*+/=?^`{{|}}~@-])(?P<local>{_WRITTEN_LOCAL})"
    rf"(?:(?P<strong>{_STRONG_AT})|(?P<plain>{_PLAIN_AT}))"
    rf"(?P<domain>{_LABEL}(?:{_DOT}{_LABEL}){{0,4}}?)"
    rf"(?:\.[^\W\d_]{{2,}}|(?P<spelt>{_DOT_WORD})(?:{_alternatives(_TLDS)}))(?![\w-])",
    re.IGNORECASE,
)
_SPELT_DOT = re.compile(_DOT_WORD, re.IGNORECASE)


def _written_email(match: Match[str]) -> _Replacement:
    """An e-mail address written out, unless it is an ordinary sentence with "at" in it."""
    if match.group("plain") is not None and match.group("spelt") is None:
        domain = match.group("domain")
        provider = re.split(r"[\s.(\[{<]", domain, maxsplit=1)[0].lower() in _PROVIDERS
        if not (provider or _SPELT_DOT.search(domain)):
            return None
    return EMAIL, match.end()


# --- CPR numbers -----------------------------------------------------------------------

_CPR = re.compile(
    rf"{_START}(?P<date>\d{{6}})(?P<sep>[ \t]?[{_DASH}][ \t]?|[ \t]?)(?P<serial>\d{{4}}){_END}"
)
# 13.04.92-7121, 13.04.1992-7121: a date of birth with dots, a dash, the serial.
_DOTTED_CPR = re.compile(
    rf"{_START}(?P<day>\d{{2}})\.(?P<month>\d{{2}})\.(?:\d{{4}}|\d{{2}})[ \t]?[{_DASH}][ \t]?\d{{4}}{_END}"
)

# --- phone numbers ---------------------------------------------------------------------

_SEP = rf"[ {_DASH}]"
_DK_BODY = (
    rf"(?:\d{{8}}|\d{{4}}{_SEP}\d{{4}}|\d{{2}}{_SEP}\d{{2}}{_SEP}\d{{2}}{_SEP}\d{{2}}|\d{{2}}\.\d{{2}}\.\d{{2}}\.\d{{2}})"
)
_DK_PHONE = re.compile(rf"(?:(?<![\w+])(?:\+|00)[ ]?45[ {_DASH}]?|{_START}){_DK_BODY}{_END}")
# Country code, then up to five groups of digits (or an area code in brackets) with single
# separators; bounded, so a long run of digit groups is not taken whole and then left as it is.
_INTL_PHONE = re.compile(
    rf"(?<![\w+])(?:\+|00)[ ]?[1-9]\d{{0,2}}"
    rf"(?:[ {_DASH}]?\(\d{{1,5}}\)|[ {_DASH}]?\d{{1,14}}{_END}){{1,5}}"
)
# North American numbers: (555) 301-4167, 555-301-4167, 555.301.4167, +1.555.301.4167.
_NANP = re.compile(
    rf"(?<![\w+])(?:\+1[ .{_DASH}]?|{_START})"
    rf"(?:\(\d{{3}}\)[ ]?|\d{{3}}[ .{_DASH}])\d{{3}}[ .{_DASH}]\d{{4}}{_END}(?![\w{_DASH}])"
)
_LONG_NUMBER = re.compile(rf"{_START}\d{{9,15}}{_END}")
# What libphonenumber may find, and what is a date or a time rather than a phone number.
_DATE_SHAPE = re.compile(r"(?P<a>\d{1,4})(?P<sep>[.\-\u2013])(?P<b>\d{1,2})(?P=sep)(?P<c>\d{1,4})")
_TIME_RANGE = re.compile(rf"\d{{1,2}}[.:]\d{{2}}[ ]?[{_DASH}][ ]?\d{{1,2}}[.:]\d{{2}}")
_SEPARATOR = re.compile(r"[^\d]+")
_NO_BRACKETS = str.maketrans("()[]", "    ")
_ENOUGH_DIGITS = re.compile(r"(?:\d\D{0,3}){8}")

# --- street addresses ------------------------------------------------------------------

_L = r"[^\W\d_]"  # a letter
_CAP = "(?-i:[A-ZÆØÅÄÖÜÉ])"  # a capital, even in a case-insensitive pattern
_GAP = "[ \t\u00a0]"
_NAME = rf"(?:{_CAP}{_L}*\.?|(?:{_L}\.){{1,3}})"  # Kongens, Skt., H.C.
# Street endings, also written as words of their own ("Nørre Allé").
_ENDINGS = (
    "vej", "vejen", "gade", "gaden", "allé", "alle", "alléen", "alleen", "allén", "plads", "pladsen",
    "vænge", "vænget", "stræde", "strædet", "boulevard", "boulevarden", "torv", "torvet", "park", "parken",
    "have", "haven", "høj", "højen", "bakke", "bakken", "bakkerne", "sti", "stien", "toft",
    "toften", "engen", "marken", "lund", "lunden", "vang", "vangen", "gyde", "kvarter", "strand",
    "brygge", "bryggen",
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
_CAPITAL_ONLY = ("høj", "højen", "have", "haven", "engen", "strand")
_NOT_STREETS = frozenset({
    "omvej", "omvejen", "genvej", "genvejen", "luftvej", "luftvejen", "udvej", "udvejen", "motorvej",
    "arbejdsplads", "arbejdspladsen", "legeplads", "legepladsen", "parkeringsplads", "parkeringspladsen",
    "behave", "brigade", "renegade", "tvang", "strengen", "sengen", "drengen", "danmarken",
})
# Words that are not the first part of a street name ("på vej 3").
_FUNCTION_WORDS = frozenset({"på", "paa", "er", "en", "et", "af", "i", "til", "den", "det", "min", "din", "sin",
                             "vores", "jeres", "hans", "hendes", "ad", "og", "eller", "at", "hele", "halvvejs"})
# The first word of many two-word street names: Gammel Mønt, Ny Adelgade, Store Kongensgade.
_STREET_PREFIXES = ("Gammel", "Gamle", "Gl.", "Ny", "Nye", "Store", "Lille", "Nørre", "Søndre", "Vester", "Øster",
                    "Nordre", "Sankt", "Skt.", "Lange", "Indre", "Ydre", "Nedre", "Øvre")
# Devices, drugs and apps: "Ny Omnipod 5" is a pump, "this is Loop" no name.
_PRODUCTS = frozenset({
    "loop", "aaps", "androidaps", "trio", "omnipod", "dash", "libre", "freestyle", "dexcom", "medtronic",
    "minimed", "guardian", "tandem", "mobi", "accu-chek", "ypsopump", "eversense", "simplera", "camaps", "diasend",
    "glooko", "xdrip", "nightscout", "novorapid", "fiasp", "lyumjev", "humalog", "lantus", "tresiba", "levemir",
    "toujeo", "insulin", "ozempic", "iphone", "android", "version", "type", "pumpe", "sensor",
})
# A number followed by one of these is an amount or a time, not a house number.
_AMOUNT = (
    "timer|time|t|min|minutter|minut|sek|sekunder|dage|dag|døgn|uger|uge|måneder|måned|mdr|md|år|års|gange|gang|"
    "x|mmol|mg|e|ie|u|units?|enheder|enhed|kg|g|gram|km|m|meter|cm|mm|ml|l|stk|hours?|hrs?|days?|weeks?|months?|"
    "years?|times|kcal|kh|grader"
)


_FLOOR = (
    rf"(?:,?{_GAP}*(?:(?:st|kld|kælder)\b\.?|\d{{1,2}}(?:\.{_GAP}?(?:sal\b\.?)?|{_GAP}?sal\b\.?"
    rf"|(?={_GAP}?(?:th|tv|mf)\b)))(?:,?{_GAP}*(?:th|tv|mf)\b\.?)?|,?{_GAP}*(?:th|tv|mf)\b\.?)"
)
_HOUSE_NUMBER = rf"\d{{1,3}}(?:-\d{{1,3}})?(?!\d)(?:[a-z](?!\w)|{_GAP}(?-i:[A-H])(?![\w.]))?"
_NOT_AN_AMOUNT = rf"(?![.,:/]?\d)(?!{_GAP}*(?:{_AMOUNT}|%|°)(?!\w))"
_DK_ADDRESS = re.compile(
    rf"(?<![\w.@/\]])(?:"
    # Nørre Allé, H.C. Andersens Boulevard, Kongens Have, Gammel Strand
    rf"(?:{_NAME}{_GAP}){{1,3}}(?:{_alternatives(_WORD_ENDINGS_ANY_CASE)}|"
    rf"(?-i:{_alternatives(w.capitalize() for w in _ENDINGS)}))"
    # nørre allé
    rf"|(?P<first>{_L}+){_GAP}(?:{_alternatives(_WORD_ENDINGS_ANY_CASE)})"
    # Vestergade, Kongens Nytorv, Vænget
    rf"|(?:{_NAME}{_GAP}){{0,3}}(?P<street>{_L}*?(?:{_alternatives(_ENDINGS)}))"
    # Gammel Mønt, Ny Adelgade
    rf"|(?-i:{_alternatives(_STREET_PREFIXES)}){_GAP}(?P<prefixed>(?-i:[A-ZÆØÅ][a-zæøåéü]+))"
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

# --- names after a self-introduction ---------------------------------------------------

# Cues after which a name follows; after the strong ones a name may be in lower case.
_STRONG_CUES = (
    r"jeg[ \t]+hedder|hedder[ \t]+jeg|mit[ \t]+(?:fulde[ \t]+|for|efter)?navn[ \t]+er|navnet[ \t]+er"
    r"|my[ \t]+(?:full[ \t]+|first[ \t]+|last[ \t]+|sur)?name[ \t]+is|my[ \t]+name['’]s"
    r"|(?:navn|name)(?=[ \t]*:)"
)
_WEAK_CUES = r"i['’]m|i[ \t]+am|this[ \t]+is"
_TITLES = r"(?:(?-i:Dr|Mr|Mrs|Ms|Miss|Prof)\.?[ \t]+)?"
_ANY_WORD = r"[^\W\d_](?:[^\W\d_]|['’-](?=[^\W\d_]))*"
_NAMES = re.compile(
    rf"(?<![^\W\d_])(?:(?P<strong>{_STRONG_CUES})|(?P<weak>{_WEAK_CUES}))(?P<gap>[ \t]*:?[ \t]+){_TITLES}"
    rf"(?P<words>{_ANY_WORD}(?:[ \t]+{_ANY_WORD}){{0,2}})",
    re.IGNORECASE,
)
_WORD = re.compile(_ANY_WORD)
_TITLE_CASE = re.compile(r"[A-ZÆØÅÄÖÜÉ][a-zæøåäöüéèáàíóúñçß]+(?:['’-][A-ZÆØÅa-zæøå][a-zæøåäöüéèáàíóúñçß]*)*")
_LOWER_CASE = re.compile(r"[a-zæøåäöüéèáàíóúñçß]+(?:['’-][a-zæøå]+)*")
# Words after a cue that are not a name ("I'm Worried", "jeg hedder ikke", "this is Loop").
NOT_NAMES = frozenset({
    # Danish
    "ikke", "også", "bare", "lige", "ligegyldigt", "ligeglad", "egentlig", "faktisk", "det", "den", "de", "dem",
    "og", "men", "eller", "jeg", "du", "han", "hun", "vi", "i", "man", "min", "mit", "mine", "din", "dit", "sin",
    "hans", "hendes", "er", "har", "var", "bliver", "så", "som", "fra", "på", "med", "til", "af", "om", "en", "et",
    "mor", "far", "mormor", "morfar", "farmor", "farfar", "søn", "datter", "barn", "forælder", "hej", "tak", "nu",
    "her", "der", "hvad", "hvordan", "hvorfor", "noget", "ingenting", "anonym", "anonymt", "dansk", "engelsk",
    # English
    "not", "a", "an", "the", "so", "very", "really", "just", "also", "still", "here", "there", "back", "home",
    "ok", "okay", "fine", "good", "well", "sorry", "worried", "scared", "afraid", "tired", "new", "sure", "unsure",
    "glad", "happy", "sad", "in", "on", "at", "from", "with", "about", "for", "to", "of", "going", "trying",
    "looking", "writing", "asking", "wondering", "thinking", "diabetic", "diabetes", "mum", "mom", "mother", "dad",
    "father", "parent", "grandma", "grandmother", "grandpa", "grandfather", "teacher", "nurse", "doctor", "it",
    "this", "that", "what", "how", "why", "when", "where", "who", "my", "his", "our", "their", "your",
    "and", "but", "or", "is", "was", "am", "are", "be", "been", "hi", "hello", "thanks", "please", "anonymous",
    "one", "two", "three", "all", "no", "yes", "totally", "completely", "quite", "pretty", "kind", "bit",
    "danish", "english", "british", "american", "german", "swedish", "norwegian", "dane", "denmark", "danmark",
    "england", "urgent", "important", "irrelevant", "none", "nobody", "someone", "confused", "desperate",
    # days and months
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "mandag", "tirsdag", "onsdag",
    "torsdag", "fredag", "lørdag", "søndag", "january", "february", "march", "april", "may", "june", "july",
    "august", "september", "october", "november", "december", "januar", "februar", "marts", "juni", "juli",
    "oktober",
    # titles ("this is Dr Hansen": the title stays)
    "dr", "mr", "mrs", "ms", "miss", "prof",
}) | _PRODUCTS

_PERSONAL = re.compile(
    r"[\d@]|hedder|navn|name|(?<![^\W\d_])(?:at|snabel-?a|i['’]m|i[ \t]+am|this[ \t]+is)(?![^\W\d_])",
    re.IGNORECASE,
)
# A replacement can make its neighbour a match (a phone number whose "unit" was the start
# of an address); the second pass finds those, the limit keeps crafted input linear.
_MAX_PASSES = 4


def redact(text: str) -> str:
    """The text with CPR and phone numbers, e-mail and street addresses, introduced names replaced."""
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
    text = _substitute(_WRITTEN_EMAIL, text, _written_email)
    text = _DOTTED_CPR.sub(_dotted_cpr, text)
    text = _CPR.sub(_cpr, text)
    text = _INTL_PHONE.sub(_international, text)
    text = _DK_PHONE.sub(_danish, text)
    text = _NANP.sub(_north_american, text)
    text = _library_phones(text)
    text = _LONG_NUMBER.sub(NUMBER, text)
    text = _DK_ADDRESS.sub(_danish_address, text)
    text = _EN_ADDRESS.sub(ADDRESS, text)
    text = _POSTCODE_AFTER_ADDRESS.sub(ADDRESS, text)
    return _substitute(_NAMES, text, _name)


def _substitute(pattern: Pattern[str], text: str, replace: Callable[[Match[str]], _Replacement]) -> str:
    """pattern.sub() for a replace() that returns the replacement and where it ends, or None.

    A match replace() declines only moves the search on by one character, and the part of a
    match after its replacement is searched again, so a match starting inside it is still
    found ("hej at ole at gmail dot com", "I'm Anna, this is Peter").
    """
    parts: List[str] = []
    position = 0
    match = pattern.search(text)
    while match is not None:
        found = replace(match)
        if found is None:
            match = pattern.search(text, match.start() + 1)
            continue
        replacement, end = found
        parts.append(text[position:match.start()])
        parts.append(replacement)
        position = end
        match = pattern.search(text, max(position, match.start() + 1))
    parts.append(text[position:])
    return "".join(parts)


def _cpr(match: Match[str]) -> str:
    date = match.group("date")
    if match.group("sep").strip() or _is_date(date):
        return CPR
    return match.group(0)


def _dotted_cpr(match: Match[str]) -> str:
    if _is_date(match.group("day") + match.group("month")):
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
    # "0045" is "+45": its two zeros are not part of the number.
    zeros = 2 if number.startswith("00") else 0
    groups = list(_GROUP.finditer(number))
    # Give back trailing groups that make it too long, or that are values with a unit.
    while len(groups) > 1 and (
        _digits(number[: groups[-1].end()]) - zeros > limit
        or _UNIT.match(match.string, match.start() + groups[-1].end())
    ):
        groups.pop()
    end = groups[-1].end() if groups else len(number)
    if _digits(number[:end]) - zeros < 8:
        return number
    return PHONE + number[end:]


def _north_american(match: Match[str]) -> str:
    """(555) 301-4167 and the like, when libphonenumber finds it a possible US number."""
    if _UNIT.match(match.string, match.end()):
        return match.group(0)
    try:
        number = phonenumbers.parse(match.group(0), "US")
    except phonenumbers.NumberParseException:
        return match.group(0)
    return PHONE if phonenumbers.is_possible_number(number) else match.group(0)


def _library_phones(text: str) -> str:
    """Numbers libphonenumber finds valid (Danish, or international with +/00), unless they are values."""
    if not _ENOUGH_DIGITS.search(text):
        return text
    spans: List[Tuple[int, int]] = []
    # libphonenumber passes over a number in brackets ("(61 72 8391)"): read the text without them too.
    for version in {text, text.translate(_NO_BRACKETS)}:
        for found in PhoneNumberMatcher(version, "DK", leniency=Leniency.VALID, max_tries=len(text) + 1):
            if _is_phone_shaped(version, found.start, found.end, found.raw_string):
                spans.append((found.start, found.end))
    if not spans:
        return text
    parts, position = [], 0
    for start, end in sorted(spans):
        if start < position:  # found in both versions
            position = max(position, end)
            continue
        parts.append(text[position:start])
        parts.append(PHONE)
        position = end
    parts.append(text[position:])
    return "".join(parts)


def _is_phone_shaped(text: str, start: int, end: int, raw: str) -> bool:
    """Not a value with a unit, a date, a time range, a list of small numbers."""
    if _UNIT.match(text, end) or "/" in raw or ":" in raw:
        return False
    if raw.startswith(("+", "00")):
        return True
    date = _DATE_SHAPE.fullmatch(raw)
    if date and (_is_day_month(date.group("a"), date.group("b")) or _is_day_month(date.group("c"), date.group("b"))):
        return False  # 21-12-2023, 2024-03-12
    if _TIME_RANGE.fullmatch(raw):
        return False  # 22.30-23.45
    separators = {s.strip() or " " for s in _SEPARATOR.findall(raw)}
    groups = re.findall(r"\d+", raw)
    # One kind of separator ("61.72.83.91", "6172-8391"); no group of one digit ("4 5 6 7 8 9 10 11").
    return len(separators) <= 1 and min(len(g) for g in groups) >= 2


def _is_day_month(day: str, month: str) -> bool:
    return len(day) <= 2 and 1 <= int(day) <= 31 and 1 <= int(month) <= 12


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
    prefixed = match.group("prefixed")
    if prefixed is not None and prefixed.lower() in NOT_NAMES:
        return match.group(0)  # "Ny Omnipod 5", "Store Type 1"
    return ADDRESS


def _name(match: Match[str]) -> _Replacement:
    """The cue and [name] for the words that are a name; common words after the cue stay."""
    strong = match.group("strong") is not None
    words = list(_WORD.finditer(match.group("words")))
    taken = 0
    lower_case = False
    for word in words:
        text = word.group(0)
        if text.lower() in NOT_NAMES:
            break
        if _TITLE_CASE.fullmatch(text) and not lower_case:
            taken += 1
        elif strong and _LOWER_CASE.fullmatch(text) and (taken == 0 or lower_case):
            lower_case = True  # "jeg hedder mette hansen": the rest in lower case as well
            taken += 1
        else:
            break
    if not taken:
        return None
    end = match.start("words") + words[taken - 1].end()
    return match.string[match.start():match.start("words")] + NAME, end


_DANISH_PREFIX = re.compile(r"(?:\+|00) ?45")
_GROUP = re.compile(r"\(?\d+\)?")


def _digits(text: str) -> int:
    return sum(ch.isdigit() for ch in text)
