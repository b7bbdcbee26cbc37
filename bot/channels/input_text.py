"""What every channel does with a person's text before Rasa sees it.

One place for the rules the REST channel, the website widget and Messenger share, so
that bad input gets the same answer whichever way it comes in:

* `clean(text)`: Unicode NFC, without the characters that are never part of a question
  but can confuse logs, terminals, the staff page or the NLU (C0/C1 controls except
  newline and tab, bidirectional overrides and isolates, the byte-order mark, lone
  surrogates). Everything else stays: right-to-left letters, emoji (with their zero-width
  joiners), HTML and SQL-looking text (they are only ever text to the assistant).
* `check(text)`: the cleaned text to hand to Rasa, or a reply to send back instead. An
  empty message (nothing but blanks and invisible format characters) and one over MAX_CHARS characters never reach Rasa, so they leave no
  trace in the conversation. Because a refused message is not seen by the guardrail, the
  too-long reply says first that anyone in acute danger must call 112.

The reply texts are in data/content/replies.yml under `input:`.
"""
from __future__ import annotations

import logging
import re
import traceback
import unicodedata
from dataclasses import dataclass
from typing import Any, Optional

logger = logging.getLogger(__name__)

MAX_CHARS = 2000
# How much of a too-long message decides the reply's language (langdetect needs no more).
LANGUAGE_SAMPLE_CHARS = 1000

# C0 controls except \t and \n (\r is turned into \n first), DEL, C1 controls,
# bidi embeddings/overrides (U+202A-U+202E) and isolates (U+2066-U+2069), the BOM /
# zero-width no-break space, and lone surrogates (JSON's "\ud800" decodes to one, and it
# cannot be encoded as UTF-8 later: in a reply, a log line or the tracker store).
_REMOVED = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]")
_NEWLINES = re.compile(r"\r\n?")

# Used when replies.yml cannot be read: the error reply must never fail itself.
FALLBACK_ERROR = (
    "Noget gik galt. Prøv igen om lidt. Er der akut fare, så ring 112.\n"
    "Something went wrong. Please try again in a moment. In an emergency, call 112."
)


@dataclass(frozen=True)
class Checked:
    """Either `text` (cleaned, for Rasa) or `reply` (to send back instead); `reason` says which.

    reason: "ok", "empty" or "too_long". `length` is the cleaned text's length.
    """

    text: Optional[str]
    reply: Optional[str]
    reason: str
    length: int = 0

    @property
    def ok(self) -> bool:
        return self.reply is None


def clean(text: str) -> str:
    """`text` in NFC without control, bidi-override, BOM and lone-surrogate characters."""
    text = _NEWLINES.sub("\n", text)
    text = _REMOVED.sub("", text)
    return unicodedata.normalize("NFC", text)


def check(text: Any, prior: Optional[str] = None) -> Checked:
    """The cleaned text for Rasa, or the reply for an empty or too-long message.

    Anything that is not a string counts as empty. `prior` is a language hint ("da" or
    "en", e.g. the widget page's language) for the too-long reply when the text itself
    does not tell.
    """
    cleaned = clean(text).strip() if isinstance(text, str) else ""
    if not _visible(cleaned):
        return Checked(None, empty_reply(), "empty")
    if len(cleaned) > MAX_CHARS:
        return Checked(None, too_long_reply(cleaned, prior), "too_long", len(cleaned))
    return Checked(cleaned, None, "ok", len(cleaned))


def _visible(text: str) -> bool:
    """True when the text holds something besides blanks and invisible format characters
    (zero-width space, joiner, marks), i.e. something a person could have meant."""
    return any(not char.isspace() and unicodedata.category(char) != "Cf" for char in text)


def empty_reply() -> str:
    """One message, Danish then English: we cannot tell the language of nothing."""
    return _bilingual("input.empty")


def error_reply() -> str:
    """The apology when the assistant failed on a message (bilingual, with 112)."""
    try:
        return _bilingual("input.error")
    except Exception:  # the error path must not fail: a broken replies.yml still gets a text
        logger.error("input.error is missing from replies.yml; the built-in text was sent.")
        return FALLBACK_ERROR


def too_long_reply(text: str, prior: Optional[str] = None) -> str:
    """112 first, then the length and the limit, in the message's language."""
    from bot import language, replies

    try:
        lang = language.default().resolve(text[:LANGUAGE_SAMPLE_CHARS], prior=prior).language
    except Exception as error:  # language detection is a nicety here, not a reason to fail
        logger.warning("Language of a too-long message not detected (%s); Danish used.", type(error).__name__)
        lang = language.DEFAULT_LANGUAGE
    return replies.default().text(
        "input.too_long", lang, length=_number(len(text), lang), limit=_number(MAX_CHARS, lang)
    )


def log_failure(channel: str, error: BaseException) -> None:
    """Logs the exception's class and where it was raised, never its message (it may quote the text)."""
    frames = traceback.extract_tb(error.__traceback__)
    where = f" at {frames[-1].filename}:{frames[-1].lineno}" if frames else ""
    logger.error("%s channel: the assistant failed on a message (%s%s); the person got the apology.",
                 channel, type(error).__name__, where)


def _bilingual(key: str) -> str:
    from bot import replies

    texts = replies.default()
    return f"{texts.text(key, 'da')}\n{texts.text(key, 'en')}"


def _number(value: int, lang: str) -> str:
    """10.000 in Danish, 10,000 in English."""
    grouped = f"{value:,}"
    return grouped.replace(",", ".") if lang == "da" else grouped
