"""Every log record of the process redacted before any handler sees it.

Messages may quote what a person wrote (health data), and any library may log them:
Rasa, Sanic, SQLAlchemy (statements and their parameters), ours. So instead of a filter
per logger or handler, `install()` wraps the process's LogRecord factory: each record's
message is formatted with its args at once and redacted (bot/privacy/redact.py), and
args are dropped, so no handler or formatter can put the raw values back.

A traceback is formatted (as logging.Formatter does) and redacted into `exc_text`,
which standard formatters print instead of formatting `exc_info` again; `stack_info`
is redacted too. Fields given with `extra=` (Sanic's access log puts the request line
there) are set after the factory runs: `Logger.makeRecord` is wrapped so that string
extras are redacted too.

Python's `warnings` bypass logging (Rasa reports a message it cannot read as a "/"
payload through them, quoting the whole message): `install()` routes them through
logging (`logging.captureWarnings`), so they are redacted like every record.

A message may hold line breaks and control characters: written as they are, a line
break and "ticket 1 closed" forge a log line. Every message and extra is written on one line,
with control characters escaped (a backslash and n, r, t, or x and the code).

Limit: a handler that formats `exc_info` itself (e.g. an error tracker) sees the raw
exception.
"""
from __future__ import annotations

import logging
import re
from typing import Any

from bot.privacy.redact import redact

_MARK = "_redacts_personal_data"
_TRACEBACKS = logging.Formatter()
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\u0085]")
_COLOURS = re.compile(r"\x1b\[[0-9;]*m")
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def one_line(text: str) -> str:
    """The text on one line: terminal colour codes (Rasa colours its warnings) removed,
    line breaks and other control characters escaped."""
    text = _COLOURS.sub("", text)
    return _CONTROL.sub(lambda m: _ESCAPES.get(m.group(0), f"\\x{ord(m.group(0)):02x}"), text)


def clean(text: str) -> str:
    """What may be logged of a text: redacted, on one line."""
    return one_line(redact(text))


def install() -> None:
    """Wraps the current LogRecord factory; a second call (or a second import) does nothing."""
    current = logging.getLogRecordFactory()
    if getattr(current, _MARK, False):
        return

    def redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return redact_record(current(*args, **kwargs))

    setattr(redacting_factory, _MARK, True)
    logging.setLogRecordFactory(redacting_factory)
    _wrap_make_record()
    logging.captureWarnings(True)


def _wrap_make_record() -> None:
    """Redacts the string fields given with `extra=`, set after the factory has run."""
    original = logging.Logger.makeRecord
    if getattr(original, _MARK, False):
        return

    def make_record(self: logging.Logger, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = original(self, *args, **kwargs)
        extra = kwargs.get("extra") if "extra" in kwargs else (args[8] if len(args) > 8 else None)
        for key in extra or ():
            value = record.__dict__.get(key)
            if isinstance(value, str):
                record.__dict__[key] = clean(value)
        return record

    setattr(make_record, _MARK, True)
    logging.Logger.makeRecord = make_record  # type: ignore[method-assign]


def installed() -> bool:
    return bool(getattr(logging.getLogRecordFactory(), _MARK, False))


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """The record with its message (args merged in) redacted on one line, and its traceback
    and stack redacted."""
    record.msg = clean(_message(record))
    record.args = None
    if record.exc_info and not record.exc_text:
        try:
            record.exc_text = _TRACEBACKS.formatException(record.exc_info)
        except Exception:  # a broken exception must not stop the log call
            record.exc_text = "(traceback could not be formatted)"
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


def _message(record: logging.LogRecord) -> str:
    """What the handler would print; with args that do not fit the message, the message alone."""
    try:
        return record.getMessage()
    except Exception:
        try:
            return str(record.msg)
        except Exception:
            return f"(unprintable log message of type {type(record.msg).__name__})"
