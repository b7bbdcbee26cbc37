"""Every log record of the process redacted before any handler sees it.

Messages may quote what a person wrote (health data), and any library may log them:
Rasa, Sanic, SQLAlchemy (statements and their parameters), ours. So instead of a filter
per logger or handler, `install()` wraps the process's LogRecord factory: each record's
message is formatted with its args at once and redacted (bot/privacy/redact.py), and
args are dropped, so no handler or formatter can put the raw values back.

A traceback is formatted (as logging.Formatter does) and redacted into `exc_text`,
which standard formatters print instead of formatting `exc_info` again; `stack_info`
is redacted too. Limits: a handler that formats `exc_info` itself (e.g. an error
tracker) sees the raw exception, and fields given with `extra=` are set on the record
after the factory runs, so they are not redacted (Sanic's access log puts the request
line there; bot/channels/messenger.py filters the one secret it can hold).
"""
from __future__ import annotations

import logging
from typing import Any

from bot.privacy.redact import redact

_MARK = "_redacts_personal_data"
_TRACEBACKS = logging.Formatter()


def install() -> None:
    """Wraps the current LogRecord factory; a second call (or a second import) does nothing."""
    current = logging.getLogRecordFactory()
    if getattr(current, _MARK, False):
        return

    def redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return redact_record(current(*args, **kwargs))

    setattr(redacting_factory, _MARK, True)
    logging.setLogRecordFactory(redacting_factory)


def installed() -> bool:
    return bool(getattr(logging.getLogRecordFactory(), _MARK, False))


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """The record with its message (args merged in), traceback and stack redacted."""
    record.msg = redact(_message(record))
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
