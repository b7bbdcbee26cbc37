"""Log records are redacted before any handler sees them, whoever logs them."""
from __future__ import annotations

import logging

import pytest

import bot  # noqa: F401  (importing bot installs the redaction, as in every process)
from bot.privacy import logs

PERSONAL = "cpr 010190-1234, tlf +45 12 34 56 78, ole@example.dk, Vestergade 12, 2. th., 8000 Aarhus C"
REDACTED = "cpr [cpr], tlf [phone], [email], [address]"


class Collect(logging.Handler):
    """A handler of its own, with a plain formatter: what any handler would print."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(message)s"))
        self.lines = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def handler():
    collect = Collect()
    loggers = [logging.getLogger(name) for name in ("bot.test", "sanic.error", "sqlalchemy.engine.test", "rasa.test")]
    for logger in loggers:
        logger.addHandler(collect)
        logger.setLevel(logging.DEBUG)
    yield collect
    for logger in loggers:
        logger.removeHandler(collect)
        logger.setLevel(logging.NOTSET)


def test_importing_bot_installs_it():
    assert logs.installed()


@pytest.mark.parametrize("name", ["bot.test", "sanic.error", "sqlalchemy.engine.test", "rasa.test"])
def test_personal_data_in_the_message_is_redacted(handler, name):
    logging.getLogger(name).warning(f"the person wrote: {PERSONAL}")
    assert handler.lines == [f"{name} the person wrote: {REDACTED}"]


def test_personal_data_in_the_args_is_redacted(handler):
    logging.getLogger("bot.test").info("user %s said %r", "ole@example.dk", PERSONAL)
    logging.getLogger("sqlalchemy.engine.test").info("[parameters] %(text)s", {"text": PERSONAL})
    assert handler.lines == [
        f"bot.test user [email] said '{REDACTED}'",
        f"sqlalchemy.engine.test [parameters] {REDACTED}",
    ]


def test_the_record_keeps_no_raw_args(handler, caplog):
    caplog.set_level(logging.INFO)
    logging.getLogger("bot.test").info("phone %s", "12345678")
    record = caplog.records[-1]
    assert record.msg == "phone [phone]"
    assert not record.args
    assert record.getMessage() == "phone [phone]"
    assert "12345678" not in caplog.text


def test_glucose_values_and_clinical_text_stay(handler):
    text = "BS 12 i morges, 5,6 mmol/l nu, basal 0,6 E/t, HbA1c 53, kl. 14, Loop 3.2"
    logging.getLogger("bot.test").info("message: %s", text)
    assert handler.lines == [f"bot.test message: {text}"]


def test_a_traceback_is_redacted(handler):
    try:
        raise ValueError(f"cannot parse {PERSONAL}")
    except ValueError:
        logging.getLogger("bot.test").exception("failed for %s", "a@b.dk")
    (line,) = handler.lines
    assert line.startswith("bot.test failed for [email]\nTraceback")
    assert f"ValueError: cannot parse {REDACTED}" in line
    assert "1234" not in line and "@" not in line


def test_stack_info_is_redacted(handler):
    logging.getLogger("bot.test").info("here", stack_info=True)
    assert handler.lines[0].startswith("bot.test here\nStack (most recent call last)")


def test_args_that_do_not_fit_the_message_do_not_break_logging(handler):
    logging.getLogger("bot.test").info("two %s %s", "12345678")
    logging.getLogger("bot.test").info("a number %d", "ole@example.dk")
    assert handler.lines == ["bot.test two %s %s", "bot.test a number %d"]


def test_a_message_that_is_not_a_string_is_redacted(handler):
    logging.getLogger("bot.test").info({"email": "ole@example.dk"})
    logging.getLogger("bot.test").info(ValueError("12345678"))
    assert handler.lines == ["bot.test {'email': '[email]'}", "bot.test [phone]"]


def test_install_is_idempotent():
    factory = logging.getLogRecordFactory()
    logs.install()
    logs.install()
    assert logging.getLogRecordFactory() is factory


def test_install_wraps_whatever_factory_was_there():
    original = logging.getLogRecordFactory()
    seen = []

    def other_factory(*args, **kwargs):
        record = logging.LogRecord(*args, **kwargs)
        seen.append(record)
        return record

    logging.setLogRecordFactory(other_factory)
    try:
        logs.install()
        record = logging.getLogger("bot.test").makeRecord("bot.test", logging.INFO, __file__, 1, "mail %s", ("a@b.dk",), None)
        assert seen == [record]
        assert record.getMessage() == "mail [email]"
        wrapped = logging.getLogRecordFactory()
        logs.install()
        assert logging.getLogRecordFactory() is wrapped
    finally:
        logging.setLogRecordFactory(original)
    assert logs.installed()
