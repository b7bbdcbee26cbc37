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


# --- warnings, line breaks and extras (issue #12) -------------------------------------------


@pytest.fixture
def warnings_handler():
    collect = Collect()
    logger = logging.getLogger("py.warnings")
    logger.addHandler(collect)
    yield collect
    logger.removeHandler(collect)


def test_warnings_go_through_the_redacting_log(warnings_handler):
    """Rasa reports a message it cannot read as a payload through `warnings`, quoting it."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("always")
        # pytest puts its own showwarning in place for each test: route it again, as install() does
        logging.captureWarnings(False)
        logging.captureWarnings(True)
        warnings.warn("Failed to find intent 'hej mit cpr er 130492-7141' in domain", UserWarning, stacklevel=2)
    assert len(warnings_handler.lines) == 1
    assert "130492-7141" not in warnings_handler.lines[0] and "[cpr]" in warnings_handler.lines[0]


def test_importing_bot_routes_warnings_through_logging():
    """In a process of its own (pytest handles warnings itself): nothing raw reaches stderr."""
    import subprocess
    import sys

    from tests.helpers import ROOT

    code = (
        "import logging, sys, warnings, bot\n"
        "logging.basicConfig(stream=sys.stderr, format='%(name)s %(message)s')\n"
        "warnings.warn(\"Failed to find intent 'hej mit cpr er 130492-7141\\nticket 1 closed' in domain\")\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr[-500:]
    assert "130492-7141" not in done.stderr and "py.warnings" in done.stderr and "[cpr]" in done.stderr
    assert not any(line.startswith("ticket 1 closed") for line in done.stderr.splitlines())


@pytest.mark.parametrize("text", ["hej\nticket 1 closed", "hej\r\nticket 1 closed", "hej\u2028ticket 1 closed", "a\x1b[31mred"])
def test_a_message_cannot_forge_a_log_line(handler, text):
    logging.getLogger("bot.test").info("user wrote: %s", text)
    [line] = handler.lines
    assert "\n" not in line and "\r" not in line and "\u2028" not in line and "\x1b" not in line
    assert line.startswith("bot.test user wrote: ")


def test_extras_are_redacted_and_on_one_line():
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    keep = Keep()
    logger = logging.getLogger("sanic.access.test")
    logger.addHandler(keep)
    logger.setLevel(logging.INFO)
    try:
        logger.info("", extra={"request": "GET /x?mail=ole@example.dk\nforged", "status": 200})
    finally:
        logger.removeHandler(keep)
    assert "ole@example.dk" not in records[0].request and "[email]" in records[0].request
    assert records[0].request.endswith("\\nforged") and "\n" not in records[0].request
    assert records[0].status == 200
