"""Personal data sent through every channel is absent from every stored file and from the API.

One assistant runs with all three channels (REST, the widget's socket.io, Messenger with
a fake Graph API) and its own SQLite files for conversations and helpline tickets. Through
each channel a person writes a CPR number, a phone number, an e-mail and an address, asks
a question, and asks for a person (which stores a ticket). Then every file the servers
wrote (databases, their journals, logs) is read byte by byte, and the HTTP API's trackers
are read too. The answers show that the NLU and the guardrail still saw the original text.
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List

import pytest

from bot import replies
from bot.servers import ARTIFACTS
from tests.integration import test_messenger as messenger
from tests.widget_client import WidgetVisitor

TEXTS = replies.load()
ORIGIN = "http://127.0.0.1:8080"

# Each channel gets its own person, so a leak names its channel. The second set of formats
# is the one a privacy probe found stored raw (#12): dotted CPR and phone numbers, 0045
# and American numbers, e-mail written out in words, -boulevarden and two-word streets,
# and a name given in a self-introduction.
PEOPLE = {
    "rest": {"cpr": "120385-1234", "phone": "+45 20 30 40 50", "email": "anna.jensen@example.dk",
             "address": "Vestergade 12, 8000 Aarhus C", "name": "Anna Jensen", "cpr2": "13.04.92-7121",
             "phone2": "61.72.83.91", "email2": "anna.j at gmail dot com", "address2": "Nørre Boulevarden 61"},
    "widget": {"cpr": "0304951122", "phone": "22 33 44 55", "email": "bo@post.example.com",
               "address": "Nørrebrogade 44B, 2200 København N", "name": "Bo Madsen", "cpr2": "14.05.93-1234",
               "phone2": "0045 6172 8396", "email2": "bo.m(at)gmail.com", "address2": "Gammel Strand 61"},
    "messenger": {"cpr": "311299-4321", "phone": "0045 61 62 63 64", "email": "mor.til.ida@example.org",
                  "address": "Kongevejen 7, 2800 Kongens Lyngby", "name": "Ida Holm", "cpr2": "15.06.94-5678",
                  "phone2": "(555) 301-4167", "email2": "ida.h @ gmail.com", "address2": "Strandboulevarden 12"},
}


def messages_for(person: Dict[str, str]) -> List[str]:
    return [
        f"Mit CPR-nummer er {person['cpr']} og min mail er {person['email']}. "
        "Hvad mener Diabetesforeningen om looping?",
        f"Min søn har basal 0,8 E/t og BS 14,2 mmol/l. Skal jeg sætte hans basal op? Ring på {person['phone']}",
        f"Jeg hedder {person['name']}. CPR {person['cpr2']}, telefon {person['phone2']}, mail {person['email2']}, "
        f"vi bor på {person['address2']}. Er looping på eget ansvar?",
        f"Jeg bor på {person['address']}. Jeg vil gerne tale med en person.",
    ]


@pytest.fixture(scope="module")
def world(trained_model, tmp_path_factory):
    folder = tmp_path_factory.mktemp("privacy")
    with messenger.three_channels(trained_model, folder, ORIGIN) as (servers, graph):
        answers = {
            "rest": talk_rest(servers, messages_for(PEOPLE["rest"])),
            "widget": talk_widget(servers, messages_for(PEOPLE["widget"])),
            "messenger": talk_messenger(servers, graph, messages_for(PEOPLE["messenger"])),
        }
        yield {"servers": servers, "folder": folder, "answers": answers}


def talk_rest(servers, texts):
    sender = servers.new_sender()
    return sender, [[m.get("text", "") for m in servers.send(sender, text)] for text in texts]


def talk_widget(servers, texts):
    """A widget visitor: socket.io long-polling from the allowed origin."""
    visitor = WidgetVisitor(servers.url, ORIGIN)
    try:
        turns = [visitor.say(text) for text in texts]
    finally:
        visitor.close()
    return visitor.conversation_id, turns


def talk_messenger(servers, graph, texts):
    psid = messenger.new_psid()
    return "fb:" + psid, [messenger.texts(messenger.say(servers, graph, psid, text)) for text in texts]


def stored_files(world) -> List[Path]:
    port = world["servers"].rasa_port
    files = [p for p in world["folder"].iterdir() if p.is_file()]
    files += [ARTIFACTS / f"{port}-rasa.log", ARTIFACTS / f"{port}-actions.log"]
    return [f for f in files if f.exists()]


def personal_strings(person: Dict[str, str]) -> List[str]:
    found = list(person.values())
    found.append(person["phone"].replace(" ", ""))
    found.append(person["address"].split(",")[0])  # the street and number alone
    return found


def test_the_databases_were_written(world):
    names = {p.name for p in stored_files(world)}
    assert {"conversations.db", "helpline.db"} <= names


@pytest.mark.parametrize("channel", sorted(PEOPLE))
def test_no_stored_file_holds_the_personal_data(world, channel):
    for path in stored_files(world):
        data = path.read_bytes()
        for secret in personal_strings(PEOPLE[channel]):
            assert secret.encode("utf-8") not in data, f"{channel}: {secret!r} found in {path.name}"


@pytest.mark.parametrize("channel", sorted(PEOPLE))
def test_the_api_returns_redacted_conversations_with_clinical_values_kept(world, channel):
    sender, _ = world["answers"][channel]
    tracker = world["servers"].tracker(sender)
    dumped = str(tracker)
    for secret in personal_strings(PEOPLE[channel]):
        assert secret not in dumped, f"{channel}: {secret!r} in the tracker"
    users = [e["text"] for e in tracker["events"] if e["event"] == "user"]
    assert len(users) == 4, users
    assert "[cpr]" in users[0] and "[email]" in users[0]
    assert "0,8 E/t" in users[1] and "14,2 mmol/l" in users[1] and "[phone]" in users[1]
    for placeholder in ("[name]", "[cpr]", "[phone]", "[email]", "[address]"):
        assert placeholder in users[2], (placeholder, users[2])
    assert "[address]" in users[3]


@pytest.mark.parametrize("channel", sorted(PEOPLE))
def test_the_assistant_still_understood_the_original_messages(world, channel):
    _, turns = world["answers"][channel]
    first, second, third, fourth = (" ".join(" ".join(t.split()) for t in turn) for turn in turns)
    privacy = " ".join(TEXTS.text("privacy_note", "da", retention_days="30").split())
    # REST says it in the first reply; the widget and Messenger before the first message (issue #11)
    assert (privacy in first) == (channel == "rest")
    quoted = "Fra budskabspapiret, afsnittet"
    assert quoted in first
    assert TEXTS.text("settings_refusal.opening", "da") in second
    assert quoted in third, "the question after the name and numbers was answered"
    assert TEXTS.text("handoff.unknown", "da") in fourth  # handed over at once: "tale med en person" is unambiguous


def test_the_tickets_are_stored_redacted(world):
    import sqlite3

    with sqlite3.connect(world["folder"] / "helpline.db") as connection:
        rows = connection.execute("SELECT conversation_id, summary, transcript FROM helpline_tickets").fetchall()
    assert {row[0] for row in rows} == {sender for sender, _ in world["answers"].values()}
    assert all("[address]" in row[1] + row[2] for row in rows)
