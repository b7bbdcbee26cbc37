"""The input rules every channel shares (bot/channels/input_text.py), without a model."""
from __future__ import annotations

import unicodedata

import pytest

from bot import replies
from bot.channels import input_text
from bot.channels.input_text import MAX_CHARS, check, clean

TEXTS = replies.load()
LOOPING = "Hvad mener Diabetesforeningen om looping?"


# --- clean -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, cleaned",
    [
        ("hej\x00med\x07dig\x1b[31m", "hejmeddig[31m"),  # C0 controls, the ANSI escape's ESC
        ("a\x7fb\x85c\x9fd", "abcd"),  # DEL and C1 controls
        ("linje 1\nlinje 2\tmed tab", "linje 1\nlinje 2\tmed tab"),  # newline and tab stay
        ("windows\r\nlinje\rgammel mac", "windows\nlinje\ngammel mac"),  # CR becomes a newline
        ("\ufeffhej", "hej"),  # byte-order mark
        ("abc\u202edcba\u202c", "abcdcba"),  # right-to-left override and its pop
        ("\u2066isolate\u2069 \u202aembed\u202b", "isolate embed"),  # isolates and embeddings
        ("lone \ud800 surrogate", "lone  surrogate"),  # JSON's "\ud800" cannot be UTF-8 later
    ],
)
def test_clean_removes_controls_bidi_overrides_bom_and_lone_surrogates(raw, cleaned):
    assert clean(raw) == cleaned
    clean(raw).encode("utf-8")  # everything left can be written anywhere


def test_clean_keeps_right_to_left_text_emoji_and_html():
    for text in (
        "مرحبا، ما هو موقفكم من looping؟",  # Arabic
        "שלום, מה דעתכם על looping?",  # Hebrew
        "\u200fمرحبا\u200e",  # right-to-left / left-to-right marks are letters' helpers, kept
        "👨\u200d👩\u200d👧 👍🏽 🙂",  # zero-width joiner sequences and skin tones
        "<script>alert(1)</script>",
        "'; DROP TABLE events; --",
        "Ærø, Åbenrå og Øster Ulslev",
    ):
        assert clean(text) == text


def test_clean_is_nfc():
    decomposed = "A\u030abenra\u030a"  # "Åbenrå" with combining rings
    assert clean(decomposed) == "Åbenrå" == unicodedata.normalize("NFC", decomposed)


# --- check: passed on ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["🙂", "👨\u200d👩\u200d👧", "مرحبا", "שלום", "<script>alert(1)</script>", "'; DROP TABLE events; --", "/follow_up"],
)
def test_emoji_rtl_html_sql_and_payloads_are_passed_on_as_text(text):
    checked = check(text)
    assert checked.ok and checked.reason == "ok"
    assert checked.text == text and checked.reply is None


def test_the_text_passed_on_is_cleaned_and_stripped():
    checked = check("  \u202ehej\x00 med dig\r\n ")
    assert checked.ok and checked.text == "hej med dig"


# --- check: empty ----------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", " ", "\n\t \r\n", "\x00\x01\u202e\ufeff", "\u3000\u00a0", "\u200b\u200d\u200e", None, 5, ["hej"], {}])
def test_empty_whitespace_only_and_non_text_get_the_bilingual_reply(text):
    checked = check(text)
    assert not checked.ok and checked.reason == "empty" and checked.text is None
    danish, english = checked.reply.split("\n")
    assert danish == TEXTS.text("input.empty", "da") and english == TEXTS.text("input.empty", "en")
    assert "spørgsmål" in danish and "question" in english


# --- check: too long -------------------------------------------------------------------


def test_the_limit_is_exact():
    at_limit = "a" * MAX_CHARS
    assert check(at_limit).ok and check(at_limit).text == at_limit
    assert check("a" * (MAX_CHARS + 1)).reason == "too_long"
    # measured on the cleaned text: controls and surrounding blanks do not count
    assert check("  " + "a" * MAX_CHARS + "\x00\x00  ").ok


@pytest.mark.parametrize("length", [MAX_CHARS + 1, 10_000, 1_000_000])
def test_a_too_long_danish_message_gets_112_first_then_length_and_limit(length):
    text = (LOOPING + " ") * (length // (len(LOOPING) + 1) + 1)
    text = text[:length].strip()
    checked = check(text)
    assert not checked.ok and checked.reason == "too_long" and checked.text is None
    assert checked.length == len(text)
    reply = checked.reply
    assert reply.startswith("Er nogen i akut fare, så ring 112")
    assert reply.index("112") < reply.index("for lang")
    assert f"{len(text):,}".replace(",", ".") in reply and "2.000" in reply


def test_a_too_long_english_message_gets_the_english_reply():
    text = "What does the association think about looping and closed loop systems? " * 200
    reply = check(text).reply
    assert reply.startswith("If someone is in acute danger, call 112")
    assert reply.index("112") < reply.index("too long")
    assert f"{len(text.strip()):,}" in reply and "2,000" in reply


def test_the_reply_language_falls_back_to_the_prior_then_danish():
    undecided = "x" * (MAX_CHARS + 1)  # no language in it
    assert check(undecided).reply.startswith("Er nogen i akut fare")
    assert check(undecided, prior="en").reply.startswith("If someone is in acute danger")
    assert check("🙂" * (MAX_CHARS + 1)).reply.startswith("Er nogen i akut fare")


def test_a_failing_language_detector_still_gives_the_reply(monkeypatch):
    from bot import language

    def broken():
        raise RuntimeError("no lexicon")

    monkeypatch.setattr(language, "default", broken)
    assert check("a" * 3000).reply.startswith("Er nogen i akut fare, så ring 112")


# --- the apology -----------------------------------------------------------------------


def test_the_error_reply_names_112_in_both_languages():
    danish, english = input_text.error_reply().split("\n")
    assert "112" in danish and "Prøv igen" in danish
    assert "112" in english and "try again" in english


def test_the_error_reply_survives_a_broken_replies_file(monkeypatch):
    from bot import replies as replies_module

    def broken():
        raise RuntimeError("replies.yml unreadable")

    monkeypatch.setattr(replies_module, "default", broken)
    assert input_text.error_reply() == input_text.FALLBACK_ERROR


def test_failures_are_logged_without_the_text(caplog):
    try:
        raise ValueError("min søn er bevidstløs, CPR 120385-1234")
    except ValueError as error:
        input_text.log_failure("rest", error)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "ValueError" in logged and "test_input_text.py" in logged
    assert "bevidstløs" not in logged and "120385" not in logged
    assert all(record.exc_info is None for record in caplog.records)


# --- the widget's channel applies them (bot/channels/webchat.py) --------------------------


async def widget(on_new_message=None, session="session-1"):
    """The widget channel's user_uttered handler, with sio.emit recorded; socket "sid" holds `session`."""
    from bot.channels.webchat import WebchatInput

    received, emitted = [], []

    async def record(message):
        received.append(message)
        await message.output_channel.send_text_message(message.sender_id, f"svar på {message.text}")

    channel = WebchatInput(session_persistence=True, metadata_key="customData", allowed_origins=["http://x.test"])
    channel.blueprint(on_new_message or record)
    channel.sessions.claim("sid", session, None)  # the socket opened it (bot/channels/widget_sessions.py)

    async def emit(event, data=None, room=None, **kwargs):
        emitted.append((event, room, data))

    channel.sio.emit = emit
    return channel.sio.handlers["/"]["user_uttered"], received, emitted


@pytest.mark.parametrize("data", [None, "hej", ["hej"], 5, {"message": "hej"}, {"message": "hej", "session_id": 7},
                                  {"message": "hej", "session_id": "s" * 129}])
async def test_the_widget_ignores_data_it_cannot_answer(data):
    handler, received, emitted = await widget()
    await handler("sid", data)  # Rasa's handler raised on most of these
    assert received == [] and emitted == []


@pytest.mark.parametrize("message", [None, "", "  \n", 5, ["x"], {"text": "x"}])
async def test_the_widget_answers_an_empty_message_itself(message):
    handler, received, emitted = await widget()
    await handler("sid", {"message": message, "session_id": "session-1"})
    assert received == []
    assert emitted == [("bot_uttered", "web:session-1", {"text": input_text.empty_reply()})]


async def test_the_widget_answers_a_too_long_message_in_the_pages_language():
    handler, received, emitted = await widget(session="session-2")
    await handler("sid", {"message": "x" * 10_000, "session_id": "session-2", "customData": {"language": "en"}})
    assert received == []
    ((_, room, data),) = emitted
    assert room == "web:session-2" and data["text"].startswith("If someone is in acute danger, call 112")
    assert "10,000" in data["text"]


async def test_the_widget_hands_rasa_the_cleaned_text_and_metadata():
    handler, received, emitted = await widget(session="session-3")
    await handler("sid", {"message": "\u202e<b>hej</b>\x00", "session_id": "session-3", "customData": "{not json"})
    assert [(m.text, m.metadata, m.sender_id) for m in received] == [("<b>hej</b>", {}, "web:session-3")]
    assert emitted == [("bot_uttered", "web:session-3", {"text": "svar på <b>hej</b>"})]


async def test_the_widget_sends_the_apology_when_the_assistant_fails():
    async def broken(message):
        raise RuntimeError("boom")

    handler, _, emitted = await widget(broken, session="session-4")
    await handler("sid", {"message": "hej", "session_id": "session-4"})
    assert emitted == [("bot_uttered", "web:session-4", {"text": input_text.error_reply()})]
