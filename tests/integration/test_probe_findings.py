"""What a probe of the running assistant found, checked against the running servers
(issue #12): "/" payloads typed by anyone, raw personal data and forged lines in the
server log, and an HTTP API that answered web pages and foreign host names."""
from __future__ import annotations

import json
import time

import requests

from bot.servers import ARTIFACTS

CPR = "130492-7141"


def rasa_log(assistant) -> str:
    return (ARTIFACTS / f"{assistant.rasa_port}-rasa.log").read_text(encoding="utf-8", errors="replace")


def events(assistant, sender):
    return assistant.tracker(sender)["events"]


# --- 1. the log ------------------------------------------------------------------------------


def test_a_slash_message_with_a_cpr_number_reaches_no_log_raw(assistant):
    sender = assistant.new_sender()
    reply = assistant.send(sender, f"/hej mit cpr er {CPR}")
    assert reply and all(m.get("text") for m in reply), reply
    time.sleep(1)  # the log is written by another process
    assert CPR not in rasa_log(assistant)
    assert CPR.replace("-", "") not in rasa_log(assistant)


def test_a_line_break_cannot_forge_a_log_line(assistant):
    sender = assistant.new_sender()
    assistant.send(sender, "hej\nticket 1 closed\nINFO helpline: conversation resumed")
    time.sleep(1)
    lines = rasa_log(assistant).splitlines()
    assert not any(line.startswith("ticket 1 closed") or line.startswith("INFO helpline: conversation resumed") for line in lines)


# --- 3. only known payloads act ---------------------------------------------------------------


def test_typed_payloads_cannot_pause_a_conversation_or_force_an_intent(assistant):
    sender = assistant.new_sender()
    assistant.send(sender, "What does Diabetesforeningen think about looping?")
    assistant.send(sender, "/ask_human@0.1")
    tracker = assistant.tracker(sender)
    assert not tracker["paused"]
    assert tracker["slots"]["triage"] != "handoff"
    assistant.send(sender, "/session_start")
    starts = [e for e in events(assistant, sender) if e["event"] == "session_started"]
    assert len(starts) == 1
    assert assistant.slots(sender)["language"] == "en", "slots were not reset"
    user = [e for e in events(assistant, sender) if e["event"] == "user"]
    assert user[-1]["text"] == "/session_start"
    assert user[-1]["parse_data"]["intent"]["name"] != "session_start"


def test_the_assistants_own_buttons_and_restart_still_act(assistant):
    sender = assistant.new_sender()
    assistant.send(sender, "hvad mener I om looping?")
    more = assistant.send(sender, "/follow_up")
    assert assistant.slots(sender)["triage"] == "answered" and more
    assistant.send(sender, "/restart")
    every = requests.get(f"{assistant.url}/conversations/{sender}/tracker", timeout=30,
                         params={**assistant.api_params(), "include_events": "ALL"}).json()["events"]
    assert any(e["event"] == "restart" for e in every)
    assert assistant.slots(sender)["topic"] is None, "a new conversation starts"


# --- 5. browsers and foreign hosts ------------------------------------------------------------


def test_a_cross_origin_post_to_the_api_is_refused_and_changes_nothing(assistant):
    sender = assistant.new_sender()
    assistant.send(sender, "hej")
    before = len(events(assistant, sender))
    body = json.dumps([{"event": "pause"}])
    answer = requests.post(
        f"{assistant.url}/conversations/{sender}/tracker/events", data=body, params=assistant.api_params(),
        headers={"Content-Type": "text/plain", "Origin": "http://evil.example"}, timeout=30,
    )
    assert answer.status_code == 403
    assert "error" in answer.json()
    tracker = assistant.tracker(sender)
    assert not tracker["paused"] and len(tracker["events"]) == before


def test_a_foreign_host_name_is_refused(assistant):
    answer = requests.get(f"{assistant.url}/status", params=assistant.api_params(),
                          headers={"Host": "rebind.evil.example"}, timeout=30)
    assert answer.status_code == 421
    chat = requests.post(f"{assistant.url}/webhooks/rest/webhook", json={"sender": "x", "message": "hej"},
                         headers={"Host": "rebind.evil.example"}, timeout=30)
    assert chat.status_code == 421


def test_the_server_still_answers_its_own_host(assistant):
    assert requests.get(f"{assistant.url}/status", params=assistant.api_params(), timeout=30).status_code == 200
