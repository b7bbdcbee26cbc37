"""The live handoff on Messenger, through the running assistant and a fake Graph API.

Without FACEBOOK_HANDOVER_APP_ID a staff reply from the console (the helpline service)
reaches the Send API, named; with it, the conversation is passed to the other app
(pass_thread_control), the assistant stays silent for the person's messages while that
app owns the thread (standby), except for 112, and closing the ticket takes it back.
"""
from __future__ import annotations

import json
import random
import time
from typing import Any, List

import pytest

from bot import replies
from bot.helpline.config import load as load_config
from bot.helpline.service import Helpline
from bot.servers import AssistantServers
from tests.integration.test_messenger import (
    PAGE_ID,
    FakeGraphAPI,
    conversation,
    messenger_env,
    new_psid,
    post,
    say,
    sign,
    texts,
)

TEXTS = replies.load()
INBOX_APP = "263902037430900"  # Meta's Page Inbox


def start(model, folder, graph, **extra: str) -> AssistantServers:
    servers = AssistantServers(model, env={
        **messenger_env(graph), "HELPLINE_DATABASE_URL": f"sqlite:///{folder}/helpline.db", **extra,
    })
    servers.start()
    servers.folder = folder
    return servers


def staff(servers: AssistantServers) -> Helpline:
    return Helpline(load_config(env={
        "HELPLINE_DATABASE_URL": f"sqlite:///{servers.folder}/helpline.db", "RASA_URL": servers.url,
        "RASA_TOKEN": servers.token, **({"FACEBOOK_HANDOVER_APP_ID": servers.extra_env["FACEBOOK_HANDOVER_APP_ID"]}
                                         if "FACEBOOK_HANDOVER_APP_ID" in servers.extra_env else {}),
    }))


def thread_calls(graph: FakeGraphAPI, psid: str) -> List[str]:
    """The order of Send API messages and thread-control calls for one person."""
    found = []
    for call in graph.for_sender(psid):
        path = call["path"].rsplit("/", 1)[-1]
        if path == "messages" and "message" not in call["json"]:
            continue  # typing indicators, mark_seen
        found.append(path)
    return found


def standby(servers: AssistantServers, psid: str, text: str) -> None:
    """A message Meta delivers while another app owns the thread, and waits until the
    assistant has seen it (it sends nothing for it, so the tracker tells)."""
    before = len([e for e in servers.tracker(conversation(psid))["events"] if e["event"] == "user"])
    now = int(time.time() * 1000)
    event = {"sender": {"id": psid}, "recipient": {"id": PAGE_ID}, "timestamp": now,
             "message": {"mid": f"m_{psid}_{random.getrandbits(64):x}", "text": text}}
    body = json.dumps({"object": "page", "entry": [{"id": PAGE_ID, "time": now, "standby": [event]}]}).encode()
    assert post(servers, body, {"X-Hub-Signature-256": sign(body)}).status_code == 200
    deadline = time.time() + 60
    while time.time() < deadline:
        events = servers.tracker(conversation(psid))["events"]
        users = [e for e in events if e["event"] == "user"]
        if len(users) > before and events[-1]["event"] == "action" and events[-1]["name"] == "action_listen":
            return
        time.sleep(0.3)
    raise AssertionError("the standby message never reached the assistant")


def wait_for(condition, timeout: float = 30.0) -> Any:
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.2)
    return condition()


@pytest.fixture(scope="module")
def plain(trained_model, tmp_path_factory):
    graph = FakeGraphAPI()
    graph.start()
    servers = start(trained_model, tmp_path_factory.mktemp("messenger-handoff"), graph)
    yield servers, graph
    servers.stop()
    graph.stop()


@pytest.fixture(scope="module")
def handover(trained_model, tmp_path_factory):
    graph = FakeGraphAPI()
    graph.start()
    servers = start(trained_model, tmp_path_factory.mktemp("messenger-handover"), graph, FACEBOOK_HANDOVER_APP_ID=INBOX_APP)
    yield servers, graph
    servers.stop()
    graph.stop()


def test_a_staff_reply_reaches_the_send_api_named_and_the_assistant_stays_quiet(plain):
    servers, graph = plain
    psid = new_psid()
    handoff = say(servers, graph, psid, "jeg vil gerne tale med et menneske")
    assert texts(handoff)[-1].startswith("Jeg har givet besked til Diabetesforeningens rådgivning")
    assert all("helpline" not in json.dumps(m) for m in graph.messages(psid)), "the marker is never sent"
    assert servers.tracker(conversation(psid))["paused"]
    [ticket] = staff(servers).store.list()

    sent_before = len(graph.messages(psid))
    replied = staff(servers).reply(ticket.id, "Hej, jeg hedder Anna. Hvordan kan jeg hjælpe?", "Anna")
    assert replied.ok and replied.delivered, replied.error
    new = wait_for(lambda: graph.messages(psid)[sent_before:])
    assert texts(new) == ["Anna (Diabetesforeningen): Hej, jeg hedder Anna. Hvordan kan jeg hjælpe?"]

    assert say(servers, graph, psid, "tak, vi overvejer at loope") == []  # staff answer, not the assistant
    assert [m.speaker for m in staff(servers).store.messages(ticket.id)] == ["staff", "user"]
    assert thread_calls(graph, psid).count("pass_thread_control") == 0  # no Handover Protocol here

    sent_before = len(graph.messages(psid))
    closed = staff(servers).close(ticket.id)
    assert closed.resumed, closed.error
    assert texts(wait_for(lambda: graph.messages(psid)[sent_before:])) == [TEXTS.text("handoff.hand_back", "da")]
    assert not servers.tracker(conversation(psid))["paused"]


def test_with_the_handover_protocol_the_inbox_gets_the_thread_and_the_assistant_is_silent(handover):
    servers, graph = handover
    psid = new_psid()
    say(servers, graph, psid, "jeg vil gerne tale med et menneske")
    passed = wait_for(lambda: [c for c in graph.for_sender(psid) if c["path"].endswith("/me/pass_thread_control")])
    assert passed and passed[0]["json"]["target_app_id"] == int(INBOX_APP)
    assert thread_calls(graph, psid)[-2:] == ["messages", "pass_thread_control"]  # the text, then the pass

    sent = len(graph.messages(psid))
    standby(servers, psid, "hej, er der nogen?")
    assert len(graph.messages(psid)) == sent, "silent while the inbox owns the thread"
    [ticket] = staff(servers).store.list()
    replied = staff(servers).reply(ticket.id, "hej", "Anna")
    assert not replied.ok and "inbox" in replied.error  # staff answer in Meta's inbox

    standby(servers, psid, "han har kramper og vi kan ikke vække ham")
    emergency = wait_for(lambda: graph.messages(psid)[sent:])
    assert texts(emergency)[0].startswith("Ring 112 nu.")
    wait_for(lambda: thread_calls(graph, psid)[-1] == "pass_thread_control")
    assert thread_calls(graph, psid)[-3:] == ["take_thread_control", "messages", "pass_thread_control"]
    assert wait_for(lambda: staff(servers).store.get(ticket.id).triage == "emergency")

    sent = len(graph.messages(psid))
    closed = staff(servers).close(ticket.id)
    assert closed.resumed, closed.error
    back = wait_for(lambda: graph.messages(psid)[sent:])
    assert texts(back) == [TEXTS.text("handoff.hand_back", "da")]
    calls = thread_calls(graph, psid)
    assert calls[-2:] == ["take_thread_control", "messages"]  # the thread is taken back before the line

