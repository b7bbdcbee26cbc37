"""The live handoff, the assistant's side: asking first, honest wording, silence that
records, staff replies and the handback, emergencies while waiting, callbacks."""
from __future__ import annotations

import dataclasses
import re
from datetime import datetime, time, timezone

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.callback import ActionCallback, phone_number
from actions.guardrail import ActionEmergency
from actions.helpline import ActionHandBack, ActionSessionStart, ActionStaffMessage, ActionWaitForStaff
from actions.referral import ActionHandoff
from bot import replies
from bot.channels.payloads import known
from bot.helpline import config as config_module
from bot.helpline import handoff_lexicon, service, store, wording
from bot.helpline.config import HelplineConfig
from tests.helpers import earlier_bot_turn, tracker
from tests.unit.conftest import HELPLINE_PHONE as PHONE

TEXTS = replies.load()

WEEKDAYS = {day: (time(9), time(15)) for day in ("monday", "tuesday", "wednesday", "thursday")}
FILLED = HelplineConfig(phone=PHONE, email="raadgivning@example.org", hours={**WEEKDAYS, "friday": (time(9), time(12))})
COPENHAGEN = config_module.ZoneInfo("Europe/Copenhagen")


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=COPENHAGEN)


async def run(action, track):
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, track, {})
    await service.wait_for_background()
    return events, dispatcher.messages


def slots(events):
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


def paused_tracker(text, intent="other", decision=None):
    track = tracker(text, intent, {"language": "da", "guardrail": decision or {}}, earlier_bot_turn() + [{"event": "pause"}])
    track._paused = True
    return track


def open_live_ticket(line, conversation="test-user"):
    return line.store.create(store.NewTicket(
        conversation_id=conversation, reason=store.REQUESTED, triage="handoff", language="da", topic=None,
        summary="Bad om at tale med en person.", transcript=[], pauses_conversation=True,
    ))


# -- asking first -----------------------------------------------------------------------

async def test_a_vague_wish_for_a_person_is_asked_about_first(helpline):
    events, messages = await run(ActionHandoff(), tracker("kan I hjælpe mig?", "ask_human", {"language": "da"}, earlier_bot_turn()))
    assert [m["text"] for m in messages] == [TEXTS.text("handoff.confirm", "da")]
    assert messages[0]["buttons"] == [{"title": "Ja", "payload": "/ask_human"}, {"title": "Nej", "payload": "/deny"}]
    assert slots(events)["handoff_asked"] is True and slots(events)["triage"] == "handoff"
    assert not any(e["event"] == "pause" for e in events)
    assert helpline.store.list() == []


async def test_yes_to_the_question_hands_over(helpline):
    state = {"language": "da", "handoff_asked": True}
    events, messages = await run(ActionHandoff(), tracker("ja tak", "affirm", state, earlier_bot_turn()))
    assert messages[0]["custom"] == {"helpline": {"status": "waiting"}}
    assert messages[0]["text"].startswith(TEXTS.text("handoff.unknown", "da"))
    assert events[-1]["event"] == "pause" and slots(events)["handoff_asked"] is None
    assert len(helpline.store.list()) == 1


async def test_yes_with_no_question_asked_hands_nothing_over(helpline):
    events, messages = await run(ActionHandoff(), tracker("ja", "affirm", {"language": "da"}, earlier_bot_turn()))
    assert [m["text"] for m in messages] == [TEXTS.text("handoff.nothing_to_confirm", "da")]
    assert helpline.store.list() == [] and not any(e["event"] == "pause" for e in events)


@pytest.mark.parametrize("text", [
    "jeg vil tale med et menneske", "kan jeg snakke med en medarbejder", "stil mig om til en rådgiver",
    "Stil mig over til en medarbejder", "kan jeg få fat i en rådgiver", "jeg har brug for at snakke med nogen",
    "I want to talk to a real person", "can I speak to a member of staff", "I want to talk to staff",
    "Can I talk to someone?", "Is there someone I can chat with?", "Can I book a call with a counsellor?", "/ask_human",
])
async def test_unambiguous_wording_or_the_button_hands_over_at_once(helpline, text):
    events, messages = await run(ActionHandoff(), tracker(text, "ask_human", {"language": "da"}, earlier_bot_turn()))
    assert events[-1]["event"] == "pause" and messages[0]["custom"]["helpline"]["status"] == "waiting"


@pytest.mark.parametrize("text", [
    "hjælp", "kan I hjælpe mig", "min mail er a@b.dk", "ring til mig på 20123456", "help", "Har I en telefonrådgivning?",
    "hvordan kontakter jeg rådgivningen", "what's your phone number?", "do you have a phone line",
])
def test_the_lexicon_stays_narrow(text):
    assert not handoff_lexicon.is_explicit(text)


def test_yes_and_no_buttons_act_as_payloads():
    assert {"/affirm", "/deny", "/ask_human"} <= known(["affirm", "deny", "ask_human", "ask_settings"])


# -- what the person is told ------------------------------------------------------------

def test_within_opening_hours_staff_answer_here_and_roughly_when():
    text = wording.handoff_text(FILLED, TEXTS, "da", local(2026, 11, 30, 10, 0))  # a Monday
    assert "svarer dig her i chatten, som regel inden for 15 minutter" in text
    assert PHONE in text and "mandag-torsdag kl. 09:00-15:00, fredag kl. 09:00-12:00" in text and "112" in text


@pytest.mark.parametrize("now, when", [
    (local(2026, 11, 30, 16, 0), "i morgen kl. 09:00"),   # Monday after closing
    (local(2026, 12, 1, 7, 30), "i dag kl. 09:00"),       # Tuesday before opening
    (local(2026, 12, 4, 13, 0), "mandag kl. 09:00"),      # Friday afternoon
])
def test_outside_opening_hours_when_it_opens_and_the_number_to_call(now, when):
    text = wording.handoff_text(FILLED, TEXTS, "da", now)
    assert f"åbner igen {when}" in text and f"ringe til rådgivningen på {PHONE}" in text


def test_english_outside_hours():
    text = wording.handoff_text(FILLED, TEXTS, "en", local(2026, 12, 4, 13, 0))
    assert "opens again on Monday at 09:00" in text and "Monday-Thursday 09:00-15:00" in text


@pytest.mark.parametrize("language", ["da", "en"])
def test_the_shipped_placeholders_never_reach_a_person(language):
    shipped = config_module.load(env={})
    for now in (local(2026, 11, 30, 10, 0), local(2026, 11, 29, 23, 0)):
        for text in (wording.handoff_text(shipped, TEXTS, language, now), wording.unavailable_text(shipped, TEXTS, language)):
            assert "[" not in text and "]" not in text and "udfyldes" not in text and "filled in" not in text
            assert TEXTS.text("helpline.contact.neutral", language) in text


def test_a_production_start_refuses_placeholders_and_names_them():
    shipped = config_module.load(env={})
    with pytest.raises(SystemExit) as refused:
        config_module.check_deployment(shipped, {"ASSISTANT_ENV": "production"})
    assert "phone, email, hours" in str(refused.value)
    config_module.check_deployment(shipped, {})  # the demo goes on
    config_module.check_deployment(FILLED, {"ASSISTANT_ENV": "production"})


def test_hours_that_are_not_times_are_refused(tmp_path):
    path = tmp_path / "helpline.yml"
    path.write_text('phone: "1"\nemail: "a@b.dk"\nhours:\n  monday: "9 to 3"\n', encoding="utf-8")
    with pytest.raises(Exception, match="HH:MM-HH:MM"):
        config_module.load(env={}, path=path)


# -- while a person is awaited ----------------------------------------------------------

async def test_a_message_while_waiting_gets_no_reply_and_reaches_the_ticket(helpline):
    ticket = open_live_ticket(helpline)
    decision = {"category": "handoff", "layer": "state", "reasons": ["x"]}
    events, messages = await run(ActionWaitForStaff(), paused_tracker("er der nogen? ring 20123456", decision=decision))
    assert messages == []
    assert slots(events)["triage"] == "handoff"
    [message] = helpline.store.messages(ticket.id)
    assert (message.speaker, message.text) == ("user", "er der nogen? ring [phone]")
    assert message.decision == {"category": "handoff", "layer": "state"}


async def test_an_emergency_while_waiting_gets_112_and_marks_the_ticket(helpline):
    ticket = open_live_ticket(helpline)
    decision = {"category": "emergency", "stage": "acute", "layer": "lexicon"}
    _, messages = await run(ActionEmergency(), paused_tracker("han vågner ikke", "emergency", decision))
    assert "112" in messages[0]["text"]
    live = helpline.store.messages(ticket.id)
    assert [m.speaker for m in live] == ["user", "bot"] and "112" in live[1].text
    assert live[0].decision["category"] == "emergency"
    shown = helpline.store.get(ticket.id)
    assert shown.triage == "emergency" and shown.is_emergency
    assert len(helpline.store.list(None)) == 1, "no second ticket"


async def test_staff_replies_are_sent_once_marked_as_staff(helpline):
    ticket = open_live_ticket(helpline)
    helpline.store.add_message(ticket.id, store.STAFF, "Ring [phone]", staff_name="Anna", pending_text="Ring 70 70 70 70")
    events, messages = await run(ActionStaffMessage(), tracker("", None, {"language": "da"}))
    assert messages == [dict(messages[0], text="Ring 70 70 70 70", custom={"helpline": {"status": "live", "staff": "Anna"}})]
    assert [(e["event"], e.get("name")) for e in events] == [("action", "action_listen")]
    [stored] = helpline.store.messages(ticket.id)
    assert stored.pending_text is None and stored.delivered_at is not None and stored.text == "Ring [phone]"
    _, again = await run(ActionStaffMessage(), tracker("", None, {"language": "da"}))
    assert again == []


async def test_the_handback_resumes_and_says_so_in_one_line():
    events, messages = await run(ActionHandBack(), tracker("", None, {"language": "en"}))
    assert [m["text"] for m in messages] == [TEXTS.text("handoff.hand_back", "en")]
    assert messages[0]["custom"] == {"helpline": {"status": "ended"}}
    assert [e["event"] for e in events][0] == "resume" and events[-1]["name"] == "action_listen"


async def test_a_new_session_keeps_waiting_for_the_person():
    waiting = tracker("", None, {"language": "da"}, earlier_bot_turn() + [{"event": "pause"}])
    events, _ = await run(ActionSessionStart(), waiting)
    kinds = [e["event"] for e in events]
    assert kinds[0] == "session_started" and "pause" in kinds and kinds[-1] == "action"
    assert {"event": "slot", "name": "language", "value": "da", "timestamp": None} in events
    resumed = tracker("", None, {}, earlier_bot_turn() + [{"event": "pause"}, {"event": "resume"}])
    events, _ = await run(ActionSessionStart(), resumed)
    assert "pause" not in [e["event"] for e in events]


# -- callbacks and contact details ------------------------------------------------------

async def test_contact_details_in_passing_are_not_a_handoff(helpline):
    for text in ("min mail er jens@gmail.com", "my number is 20123456"):
        events, messages = await run(ActionCallback(), tracker(text, "give_contact", {"language": "da"}, earlier_bot_turn()))
        assert slots(events)["triage"] == "out_of_scope" and not any(e["event"] == "pause" for e in events)
        assert "gemmer ikke kontaktoplysninger" in messages[0]["text"] or "don't keep contact details" in messages[0]["text"]
    assert helpline.store.list(None) == []


async def test_a_number_given_in_answer_to_the_consent_question_is_taken_as_yes(helpline):
    events, messages = await run(ActionCallback(), tracker("mit nummer er 28 41 66 03", "give_contact",
                                                           {"language": "da", "callback_step": "consent"}, earlier_bot_turn()))
    assert messages[0]["text"] == TEXTS.text("callback.stored", "da") and slots(events)["triage"] == "handoff"
    [ticket] = helpline.store.list(None)
    assert ticket.callback_number == "+45 28 41 66 03"


async def test_a_callback_asks_consent_then_the_number_and_keeps_it_only_in_the_ticket(helpline):
    events, messages = await run(ActionCallback(), tracker("ring til mig på 20123456", "request_callback", {"language": "da"}, earlier_bot_turn()))
    assert "Vil du have, at rådgivningen ringer dig op?" in messages[0]["text"]
    assert [b["payload"] for b in messages[0]["buttons"]] == ["/affirm", "/deny"]
    assert slots(events)["callback_step"] == "consent" and helpline.store.list(None) == []
    events, messages = await run(ActionCallback(), tracker("ja", "affirm", {"language": "da", "callback_step": "consent"}, earlier_bot_turn()))
    assert messages[0]["text"] == TEXTS.text("callback.which_number", "da") and slots(events)["callback_step"] == "number"
    events, messages = await run(ActionCallback(), tracker("det er 20 12 34 56", "give_contact", {"language": "da", "callback_step": "number"}, earlier_bot_turn()))
    assert messages[0]["text"] == TEXTS.text("callback.stored", "da") and slots(events)["callback_step"] is None
    [ticket] = helpline.store.list(None)
    assert ticket.reason == store.CALLBACK and ticket.callback_number == "+45 20 12 34 56" and not ticket.pauses_conversation
    assert "20 12 34 56" not in repr(ticket.transcript) and "callback_number" not in ticket.as_dict()


def test_phone_numbers_are_found_in_danish_and_international_form():
    assert phone_number("ring på 20123456") == "+45 20 12 34 56"
    assert phone_number("call me on +46 70 123 45 67") == "+46 70 123 45 67"
    assert phone_number("ingen nummer her") is None


# -- the store --------------------------------------------------------------------------

def test_the_queue_puts_emergencies_first_then_the_longest_waiting(helpline):
    def make(conversation, triage, minute):
        return helpline.store.create(store.NewTicket(
            conversation_id=conversation, reason=store.REQUESTED, triage=triage, language="da", topic=None, summary="s",
            transcript=[], pauses_conversation=True, created_at=datetime(2026, 11, 30, 9, minute, tzinfo=timezone.utc)))
    old, new, urgent = make("web:a", "handoff", 0), make("fb:b", "handoff", 5), make("c", "emergency", 9)
    tickets, total = helpline.store.queue()
    assert [t.id for t in tickets] == [urgent.id, old.id, new.id] and total == 3
    assert [t.channel for t in tickets] == ["rest", "widget", "messenger"]
    assert [t.id for t in helpline.store.queue(channel="messenger")[0]] == [new.id]
    assert [t.id for t in helpline.store.queue(limit=1, offset=1)[0]] == [old.id]
    before = helpline.store.version()
    helpline.store.claim(old.id, "anna")
    assert helpline.store.version() != before
    assert helpline.store.get(old.id).state == "claimed" and helpline.store.get(old.id).claimed_by == "anna"
    assert [t.id for t in helpline.store.queue(status="open")[0]] == [urgent.id, new.id]
    data = helpline.store.get(old.id).as_dict()
    assert {"id", "state", "triage", "channel", "language", "created"} <= set(data)


def test_an_older_database_gets_the_new_columns(tmp_path):
    import sqlalchemy as sa

    url = f"sqlite:///{tmp_path}/old.db"
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text(
            "CREATE TABLE helpline_tickets (id INTEGER PRIMARY KEY, conversation_id VARCHAR(255) NOT NULL, "
            "status VARCHAR(16) NOT NULL, reason VARCHAR(32) NOT NULL, triage VARCHAR(32) NOT NULL, language VARCHAR(8) NOT NULL, "
            "topic VARCHAR(64), created_at DATETIME NOT NULL, summary TEXT NOT NULL, transcript JSON NOT NULL, "
            "pauses_conversation BOOLEAN NOT NULL, delivery VARCHAR(16) NOT NULL, closed_at DATETIME, resumed_at DATETIME)"))
    ticket_store = store.TicketStore(url)
    made = ticket_store.create(store.NewTicket(conversation_id="web:x", reason=store.REQUESTED, triage="handoff", language="da",
                                               topic=None, summary="s", transcript=[], pauses_conversation=True))
    assert ticket_store.get(made.id).channel == "widget"
    ticket_store.dispose()


# -- staff replies through the service --------------------------------------------------

def test_a_staff_reply_is_stored_redacted_and_delivered_through_rasa(helpline, monkeypatch):
    calls = []
    monkeypatch.setattr(service.rasa_api, "execute", lambda url, conversation, action, **kw: calls.append((conversation, action)))
    ticket = open_live_ticket(helpline, "web:abc")
    replied = helpline.reply(ticket.id, "Ring til os på 70 70 70 70", "Anna")
    assert replied.ok and replied.delivered and calls == [("web:abc", "action_staff_message")]
    [message] = helpline.store.messages(ticket.id)
    assert message.text == "Ring til os på [phone]" and message.pending_text == "Ring til os på 70 70 70 70"
    assert helpline.store.get(ticket.id).claimed_by == "Anna"
    helpline.close(ticket.id)
    assert calls[-1] == ("web:abc", "action_hand_back")
    refused = helpline.reply(ticket.id, "hej", "Anna")
    assert not refused.ok and "closed" in refused.error


def test_a_messenger_ticket_under_the_handover_protocol_is_answered_in_metas_inbox(helpline, monkeypatch):
    monkeypatch.setattr(helpline, "config", dataclasses.replace(helpline.config, handover_app_id="263902037430900"))
    ticket = open_live_ticket(helpline, "fb:123")
    replied = helpline.reply(ticket.id, "hej", "Anna")
    assert not replied.ok and re.search("inbox", replied.error)


def test_an_undelivered_reply_says_why_and_is_kept(helpline, monkeypatch):
    def down(*args, **kwargs):
        raise service.rasa_api.ResumeError("the Rasa server did not answer (ConnectionError)")

    monkeypatch.setattr(service.rasa_api, "execute", down)
    ticket = open_live_ticket(helpline)
    replied = helpline.reply(ticket.id, "hej", "Anna")
    assert replied.message is not None and not replied.delivered and "did not answer" in replied.error
    assert helpline.store.messages(ticket.id)[0].pending_text == "hej"


async def test_an_explicit_request_for_a_person_with_contact_details_still_hands_over(helpline):
    text = "jeg vil gerne tale med et menneske, mit nummer er 12345678"
    events, messages = await run(ActionCallback(), tracker(text, "give_contact", {"language": "da"}, earlier_bot_turn()))
    assert events[-1]["event"] == "pause" and messages[0]["custom"] == {"helpline": {"status": "waiting"}}
    [ticket] = helpline.store.list()
    assert "12345678" not in repr(ticket.as_dict())


@pytest.mark.parametrize("command", ["serve", "actions"])
def test_a_production_start_of_the_servers_stops_at_the_placeholders(command):
    import os
    import subprocess
    import sys

    from bot import paths

    env = {**os.environ, "ASSISTANT_ENV": "production", "PYTHONPATH": str(paths.ROOT)}
    env.pop("HELPLINE_CONFIG", None)
    started = subprocess.run([sys.executable, "-m", "bot", command], cwd=paths.ROOT, env=env,
                             capture_output=True, text=True, timeout=120)
    assert started.returncode != 0
    assert "config/helpline.yml still holds placeholders: phone, email, hours" in started.stderr


def test_retention_deletes_a_tickets_live_messages_with_it(helpline):
    from datetime import timedelta

    ticket = open_live_ticket(helpline)
    helpline.store.add_message(ticket.id, store.STAFF, "Ring [phone]", staff_name="Anna", pending_text="Ring 70 70 70 70")
    helpline.store.add_message(ticket.id, store.USER, "tak")
    counted = helpline.store.delete_created_before(datetime.now(timezone.utc) + timedelta(seconds=1))
    assert counted == {"tickets": 1, "open_tickets": 1}
    assert helpline.store.get(ticket.id) is None and helpline.store.messages(ticket.id) == []


async def test_contact_details_with_a_question_answer_the_question(helpline):
    text = "min mail er lise@gmail.com. hvad mener I om looping?"
    track = tracker(text, "give_contact", {"language": "da"}, earlier_bot_turn())
    track.latest_message["intent_ranking"] = [
        {"name": "give_contact", "confidence": 0.6}, {"name": "ask_association_stance", "confidence": 0.3},
    ]
    events, messages = await run(ActionCallback(), track)
    assert messages == []
    assert {"event": "slot", "name": "intent_hint", "value": "ask_association_stance", "timestamp": None} in events
    assert events[-1]["event"] == "followup" and events[-1]["name"] == "action_answer_topic"
    plain = tracker("min mail er lise@gmail.com", "give_contact", {"language": "da"}, earlier_bot_turn())
    plain.latest_message["intent_ranking"] = [{"name": "give_contact", "confidence": 0.9}, {"name": "ask_denmark", "confidence": 0.05}]
    _, messages = await run(ActionCallback(), plain)
    assert "gemmer ikke kontaktoplysninger" in messages[0]["text"]
