"""The assistant's side: handoff and emergency tickets, the pause, and the replies."""
from __future__ import annotations

import re

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.guardrail import ActionEmergency, ActionRefuseSettings
from actions.referral import ActionHandoff
from bot import replies
from bot.helpline import config as config_module
from bot.helpline import service, store, tickets
from bot.privacy.redact import redact
from tests.helpers import earlier_bot_turn, tracker
from tests.unit.conftest import HELPLINE_PHONE as PHONE

TEXTS = replies.load()


class BrokenStore(store.TicketStore):
    def create(self, new):
        raise RuntimeError("database down")

    def open_for(self, conversation_id, reason):
        raise RuntimeError("database down")


async def run(action, track):
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, track, {})
    await service.wait_for_background()
    return events, [m["text"] for m in dispatcher.messages], dispatcher.messages


def slots(events):
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


def paused(events):
    return any(e["event"] == "pause" for e in events)


REQUEST = "jeg vil gerne tale med et menneske, mit nummer er 12345678 og min mail er a@b.dk"
# The reply language is the message's own (actions/base.py), so each language has its text.
REQUESTS = {"da": REQUEST, "en": "I would like to talk to a human, my number is 12345678 and my mail is a@b.dk"}
EMERGENCIES = {
    "da": "min søn har kramper og vi kan ikke vække ham, han er på 12345678",
    "en": "my son is having seizures and we cannot wake him, he is on 12345678",
}


@pytest.mark.parametrize("language", ["da", "en"])
async def test_a_request_for_a_person_opens_a_ticket_says_what_happens_next_and_pauses(helpline, language):
    state = {"language": language, "triage": None, "last_topic": "responsibility"}
    events, texts, _ = await run(ActionHandoff(), tracker(REQUESTS[language], "ask_human", state, earlier_bot_turn()))
    contact = TEXTS.text("helpline.contact.phone", language, phone=PHONE)
    assert texts == [" ".join([TEXTS.text("handoff.unknown", language), contact, TEXTS.text("handoff.emergency_line", language)])]
    assert PHONE in texts[0] and "112" in texts[0] and "[" not in texts[0]
    assert slots(events)["triage"] == "handoff" and paused(events)
    assert events[-1] == {"event": "pause", "timestamp": None}
    [ticket] = helpline.store.list()
    assert (ticket.reason, ticket.triage, ticket.language, ticket.topic) == ("requested", "handoff", language, "responsibility")
    assert ticket.pauses_conversation and ticket.conversation_id == "test-user"
    assert ticket.summary.startswith(TEXTS.text("helpline.summary.requested", "da"))
    assert "[phone]" in ticket.summary and "[email]" in ticket.summary
    assert [line["speaker"] for line in ticket.transcript] == ["user", "bot", "user", "bot"]
    assert ticket.transcript[2]["text"] == REQUESTS[language].replace("12345678", "[phone]").replace("a@b.dk", "[email]")
    assert ticket.transcript[3]["text"] == redact(texts[0])
    stored = repr(ticket.as_dict())
    assert "12345678" not in stored and "a@b.dk" not in stored


async def test_the_first_reply_still_introduces_the_assistant(helpline):
    _, texts, _ = await run(ActionHandoff(), tracker(REQUEST, "ask_human", {"language": "da"}))
    assert texts[0] == TEXTS.text("intro", "da") and len(texts) == 3
    assert texts[1] == TEXTS.text("privacy_note", "da", retention_days="30")


async def test_a_person_after_a_refusal_records_the_refusal_and_the_refused_question(helpline):
    question = "hvad skal min datters basal være om natten? ring 87654321"
    refusal_events, refusal_texts, refusal_messages = await run(
        ActionRefuseSettings(), tracker(question, "ask_settings", {"language": "da"}, earlier_bot_turn())
    )
    assert {"title": TEXTS.text("buttons.ask_human", "da"), "payload": "/ask_human"} in refusal_messages[0]["buttons"]
    history = earlier_bot_turn() + [
        {"event": "user", "text": question, "parse_data": {"intent": {"name": "ask_settings"}}},
        {"event": "bot", "text": refusal_texts[0]},
    ]
    events, _, _ = await run(ActionHandoff(), tracker("/ask_human", "ask_human", {"language": "da", "triage": "settings_refused"}, history))
    assert paused(events) and slots(events)["triage"] == "handoff"
    [ticket] = helpline.store.list()
    assert (ticket.reason, ticket.triage) == (store.AFTER_REFUSAL, "settings_refused")
    assert ticket.summary == (
        TEXTS.text("helpline.summary.after_refusal", "da") + " "
        + TEXTS.text("helpline.summary.question", "da", question="hvad skal min datters basal være om natten? ring [phone]")
    )
    assert [line["text"] for line in ticket.transcript][-2] == "/ask_human"


async def test_a_refusal_in_an_earlier_session_does_not_count(helpline):
    history = [{"event": "user", "text": "basal?"}, {"event": "bot", "text": "Nej"}, {"event": "session_started"}]
    await run(ActionHandoff(), tracker("kan jeg tale med en person?", "ask_human", {"language": "da", "triage": "settings_refused"}, history))
    [ticket] = helpline.store.list()
    assert (ticket.reason, ticket.triage) == (store.REQUESTED, "handoff")
    assert [line["text"] for line in ticket.transcript][0] == "kan jeg tale med en person?"


async def test_when_no_ticket_can_be_stored_the_person_gets_the_contact_details_and_no_pause(helpline):
    helpline.store = BrokenStore(helpline.config.database_url)
    events, texts, _ = await run(ActionHandoff(), tracker(REQUESTS["en"], "ask_human", {"language": "en"}, earlier_bot_turn()))
    contact = TEXTS.text("helpline.contact.phone", "en", phone=PHONE)
    assert texts == [TEXTS.text("helpline.unavailable", "en", contact=contact)]
    assert PHONE in texts[0] and "112" in texts[0]
    assert not paused(events) and slots(events)["triage"] == "handoff"


@pytest.mark.parametrize("language, first_line", [("da", "Ring 112 nu."), ("en", "Call 112 now.")])
async def test_an_emergency_reply_is_unchanged_and_a_ticket_is_opened_silently(helpline, language, first_line):
    events, texts, _ = await run(ActionEmergency(), tracker(EMERGENCIES[language], "emergency", {"language": language}))
    assert texts == [TEXTS.text("emergency", language)]  # alone: no privacy note under 112 (issue #11)
    assert texts[0].startswith(first_line)
    assert not paused(events) and slots(events)["triage"] == "emergency"
    [ticket] = helpline.store.list()
    assert (ticket.reason, ticket.triage, ticket.language, ticket.pauses_conversation) == ("emergency", "emergency", language, False)
    assert [(entry["speaker"], entry["text"]) for entry in ticket.transcript[-len(texts):]] == [("bot", text) for text in texts]
    assert "[phone]" in ticket.transcript[0]["text"] and "12345678" not in repr(ticket.as_dict())


async def test_a_second_emergency_message_updates_the_open_emergency_ticket(helpline):
    first = "min datter har kramper"
    await run(ActionEmergency(), tracker(first, "emergency", {"language": "da"}))
    history = [{"event": "user", "text": first}, {"event": "bot", "text": TEXTS.text("emergency", "da")}]
    await run(ActionEmergency(), tracker("hun vågner stadig ikke", "emergency", {"language": "da"}, history))
    [ticket] = helpline.store.list()
    assert [line["text"] for line in ticket.transcript if line["speaker"] == "user"] == [first, "hun vågner stadig ikke"]


async def test_an_emergency_reply_goes_out_even_when_the_store_is_down(helpline):
    helpline.store = BrokenStore(helpline.config.database_url)
    events, texts, _ = await run(ActionEmergency(), tracker("han er bevidstløs", "emergency", {"language": "da"}))
    assert texts[0] == TEXTS.text("emergency", "da") and slots(events)["triage"] == "emergency"


def test_the_transcript_is_the_current_session_capped_and_timed_in_utc():
    events = [
        {"event": "user", "text": "old session 12345678", "timestamp": 1.0},
        {"event": "session_started"},
        {"event": "user", "text": "hej a@b.dk", "timestamp": 1709287200.0},
        {"event": "slot", "name": "x"},
        {"event": "bot", "text": "Hej", "timestamp": 1709287201.5},
        {"event": "user", "text": "", "timestamp": 1709287202.0},
    ]
    lines = tickets.transcript(tickets.session_events(events), ["svar"], store.utcnow(), max_messages=50)
    assert [line["text"] for line in lines] == ["hej [email]", "Hej", "svar"]
    assert lines[0]["time"] == "2024-03-01T10:00:00Z" and lines[1]["time"] == "2024-03-01T10:00:01Z"
    assert len(tickets.transcript(events, [], store.utcnow(), max_messages=2)) == 2
    long = tickets.transcript([{"event": "user", "text": "x" * 50}], [], store.utcnow(), max_chars=10)
    assert long[0]["text"] == "x" * 9 + "…"


def test_a_long_question_is_shortened_after_redaction():
    question = "ring 12345678 " + "ord " * 100
    text = tickets.summary(store.REQUESTED, question, "en", TEXTS, max_chars=40)
    assert "[phone]" in text and "1234" not in text and text.endswith("…\"")


def test_the_shipped_configuration_holds_placeholders_not_invented_contact_details():
    config = config_module.load(env={})
    assert config.placeholders() == ["phone", "email", "hours"]
    assert config.hours is None and "udfyldes af Diabetesforeningen" in config.phone
    assert not re.search(r"\d", config.phone + config.email), "no invented numbers"
    assert config.database_url.endswith("/var/helpline.db") and config.webhook_url is None


def test_the_environment_overrides_the_file(tmp_path):
    config = config_module.load(
        env={
            "HELPLINE_DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/test",
            "HELPLINE_WEBHOOK_URL": "https://example.org/hook",
            "HELPLINE_WEBHOOK_SECRET": "webhook-secret-value",
            "RASA_URL": "http://rasa:5005/",
            "RASA_TOKEN": "rasa-token-value",
        }
    )
    assert config.database_url == "postgresql://postgres@127.0.0.1:5432/test"
    assert (config.webhook_url, config.webhook_secret) == ("https://example.org/hook", "webhook-secret-value")
    assert (config.rasa_url, config.rasa_token) == ("http://rasa:5005", "rasa-token-value")
    for secret in ("webhook-secret-value", "staff-token-value-0123", "rasa-token-value"):
        assert secret not in repr(config)
