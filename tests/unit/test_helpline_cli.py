"""`python -m bot helpline list | show | claim | reply | close | add-staff | serve`."""
from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest
import requests

from bot.__main__ import main
from bot.helpline import cli, store
from bot.helpline.accounts import Accounts
from bot.paths import ROOT
from tests.unit.test_helpline_console import CSP, FAST_HASHER, FakeRasa, make_ticket

PASSWORD = "korrekt-hest-batteri"
EXECUTE = "/conversations/conv-42/execute?output_channel=latest"


@pytest.fixture
def env(tmp_path, monkeypatch):
    fake = FakeRasa()
    url = f"sqlite:///{tmp_path}/h.db"
    monkeypatch.setenv("HELPLINE_DATABASE_URL", url)
    monkeypatch.setenv("RASA_URL", fake.url)
    monkeypatch.delenv("RASA_TOKEN", raising=False)
    monkeypatch.delenv("HELPLINE_WEBHOOK_URL", raising=False)
    # fast password hashing for the accounts the commands open
    real = cli._accounts
    monkeypatch.setattr(cli, "_accounts", lambda config=None, **options: real(config, hasher=FAST_HASHER, **options))
    ticket_store = store.TicketStore(url)
    yield ticket_store, fake, url
    ticket_store.dispose()
    fake.stop()


def add_staff(monkeypatch, name, *extra, password=PASSWORD):
    monkeypatch.setattr(sys, "stdin", io.StringIO(password + "\n"))
    return main(["helpline", "add-staff", name, "--password-stdin", *extra])


def test_add_staff_reads_the_password_from_stdin_and_refuses_a_second_account_of_that_name(env, monkeypatch, capsys):
    _, _, url = env
    assert add_staff(monkeypatch, "Anna", "--display-name", "Anna") == 0
    assert "Staff account 'anna' added; the person sees replies from 'Anna'." in capsys.readouterr().out
    accounts = Accounts(url, hasher=FAST_HASHER)
    assert accounts.login("anna", PASSWORD).ok and not accounts.login("anna", PASSWORD + "x").ok

    assert add_staff(monkeypatch, "ANNA") == 1
    assert "A staff account named 'anna' already exists." in capsys.readouterr().err
    assert add_staff(monkeypatch, "bo", password="kort") == 1
    assert "at least 12 characters" in capsys.readouterr().err
    assert accounts.get("bo") is None
    assert add_staff(monkeypatch, "bo") == 0
    assert accounts.get("bo").display_name == "bo"
    accounts.dispose()


def test_add_staff_asks_for_the_password_twice(env, monkeypatch, capsys):
    _, _, url = env
    answers = iter([PASSWORD, PASSWORD + "-typo"])
    monkeypatch.setattr(cli.getpass, "getpass", lambda prompt="": next(answers))
    assert main(["helpline", "add-staff", "anna"]) == 1
    assert "The passwords differ" in capsys.readouterr().err
    answers = iter([PASSWORD, PASSWORD])
    assert main(["helpline", "add-staff", "anna", "--display-name", "Rådgiver"]) == 0
    assert Accounts(url).get("anna").display_name == "Rådgiver"


def test_list_in_queue_order_with_json_and_state_filter(env, capsys):
    ticket_store, _, _ = env
    older = make_ticket(ticket_store, summary="Bad om at tale med en person. Seneste besked: »[phone]«")
    emergency = make_ticket(ticket_store, conversation="fb:7", reason=store.EMERGENCY, triage="emergency",
                            pauses_conversation=False, created_at=older.created_at + timedelta(hours=1))
    closed = make_ticket(ticket_store, conversation="web:x")
    ticket_store.close(closed.id)

    assert main(["helpline", "list"]) == 0
    out = capsys.readouterr().out
    assert out.index(f"#{emergency.id}") < out.index(f"#{older.id}") and f"#{closed.id}" not in out
    assert "EMERGENCY" in out and "triage=settings_refused" in out and "[phone]" in out
    assert "01.03.2024 11:00" in out  # Danish time

    assert main(["helpline", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [t["id"] for t in listed] == [emergency.id, older.id]
    first = listed[0]
    for field in ("id", "state", "triage", "reason", "channel", "language", "created", "emergency", "waiting_seconds"):
        assert field in first, field
    assert (first["state"], first["triage"], first["channel"], first["emergency"]) == ("open", "emergency", "messenger", True)
    assert listed[1]["created"] == "2024-03-01T10:00:00Z"
    assert "callback_number" not in first

    assert main(["helpline", "list", "--state", "closed", "--json"]) == 0
    assert [t["id"] for t in json.loads(capsys.readouterr().out)] == [closed.id]
    assert main(["helpline", "list", "--closed", "--json"]) == 0  # the older spelling
    assert [t["id"] for t in json.loads(capsys.readouterr().out)] == [closed.id]
    assert main(["helpline", "list", "--state", "claimed"]) == 0
    assert "No claimed tickets." in capsys.readouterr().out
    ticket_store.claim(older.id, "Anna")
    assert main(["helpline", "list", "--state", "claimed", "--json"]) == 0
    assert [(t["id"], t["claimed_by"]) for t in json.loads(capsys.readouterr().out)] == [(older.id, "Anna")]
    assert main(["helpline", "list", "--state", "all", "--json"]) == 0
    assert {t["id"] for t in json.loads(capsys.readouterr().out)} == {older.id, emergency.id, closed.id}


def test_claim_reply_show_and_close(env, monkeypatch, capsys):
    ticket_store, fake, _ = env
    ticket = make_ticket(ticket_store, callback_number="+45 11 22 33 44")
    add_staff(monkeypatch, "anna", "--display-name", "Anna")
    capsys.readouterr()

    assert main(["helpline", "claim", str(ticket.id), "--as", "ANNA"]) == 0
    assert "claimed by Anna (anna)" in capsys.readouterr().out
    stored = ticket_store.get(ticket.id)
    assert stored.status == store.CLAIMED and stored.claimed_by == "Anna"

    assert main(["helpline", "reply", str(ticket.id), "Ring til os på 12 34 56 78."]) == 0  # the only account
    assert "delivered (from Anna)" in capsys.readouterr().out
    assert fake.posts == [{"path": EXECUTE, "json": {"name": "action_staff_message"}}]
    [message] = ticket_store.messages(ticket.id)
    assert message.text == "Ring til os på [phone]." and message.staff_name == "Anna"

    fake.status = 503
    assert main(["helpline", "reply", str(ticket.id), "Er du der?", "--as", "anna"]) == 2
    assert "stored but not delivered: the Rasa server answered HTTP 503" in capsys.readouterr().err
    fake.status = 200

    assert main(["helpline", "show", str(ticket.id), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["id"] == ticket.id and shown["state"] == "claimed" and shown["claimed_by"] == "Anna"
    assert shown["callback_number"] == "+45 11 22 33 44"
    assert [(m["speaker"], m["text"], m["staff_name"]) for m in shown["messages"]] == [
        ("staff", "Ring til os på [phone].", "Anna"), ("staff", "Er du der?", "Anna")]
    assert "pending_text" not in shown["messages"][1]

    assert main(["helpline", "show", str(ticket.id)]) == 0
    out = capsys.readouterr().out
    assert "hvad skal basalen være?" in out and "01.03.2024 11:00" in out and "conv-42" in out
    assert "handed over to the helpline" in out and "Anna" in out and "Ring til os på [phone]." in out
    assert "call back on:" in out and "+45 11 22 33 44" in out

    assert main(["helpline", "close", str(ticket.id)]) == 0
    assert "handed back to the assistant" in capsys.readouterr().out
    assert fake.posts[-1] == {"path": EXECUTE, "json": {"name": "action_hand_back"}}
    assert ticket_store.get(ticket.id).status == store.CLOSED

    assert main(["helpline", "reply", str(ticket.id), "hallo?"]) == 1
    assert "refused: the ticket is closed" in capsys.readouterr().err
    assert main(["helpline", "claim", str(ticket.id), "--as", "anna"]) == 1
    assert "is closed" in capsys.readouterr().err


def test_who_replies(env, monkeypatch, capsys):
    ticket_store, fake, _ = env
    ticket = make_ticket(ticket_store)
    assert main(["helpline", "reply", str(ticket.id), "hej"]) == 1
    assert "No staff accounts yet" in capsys.readouterr().err
    add_staff(monkeypatch, "anna")
    add_staff(monkeypatch, "bo", "--display-name", "Rådgiver")
    capsys.readouterr()
    assert main(["helpline", "reply", str(ticket.id), "hej"]) == 1
    assert "several staff accounts: say which with --as NAME" in capsys.readouterr().err
    assert main(["helpline", "claim", str(ticket.id), "--as", "carl"]) == 1
    assert "No staff account named 'carl'" in capsys.readouterr().err
    assert main(["helpline", "disable-staff", "bo"]) == 0
    assert main(["helpline", "reply", str(ticket.id), "hej", "--as", "bo"]) == 1
    assert "disabled" in capsys.readouterr().err
    monkeypatch.setattr(sys, "stdin", io.StringIO("to linjer\nfra stdin\n"))
    assert main(["helpline", "reply", str(ticket.id), "-"]) == 0  # anna is the only enabled account now
    assert ticket_store.messages(ticket.id)[0].text == "to linjer\nfra stdin"
    assert main(["helpline", "list-staff"]) == 0
    out = capsys.readouterr().out
    assert "anna" in out and "'Rådgiver'  (disabled)" in out
    assert fake.posts and ticket_store.get(ticket.id).claimed_by == "anna"


def test_unknown_tickets_and_a_failed_handback(env, capsys):
    ticket_store, fake, _ = env
    for command in (["show", "99"], ["close", "99"], ["claim", "99", "--as", "x"]):
        assert main(["helpline", *command]) == 1
    assert main(["helpline", "show", "99"]) == 1
    assert "No ticket #99." in capsys.readouterr().err
    ticket = make_ticket(ticket_store)
    fake.status = 503
    assert main(["helpline", "close", str(ticket.id)]) == 2
    assert "not handed back" in capsys.readouterr().err
    fake.status = 200
    assert main(["helpline", "close", str(ticket.id)]) == 0
    assert ticket_store.get(ticket.id).resumed_at is not None


def test_close_without_resuming(env):
    ticket_store, fake, _ = env
    ticket = make_ticket(ticket_store)
    assert main(["helpline", "close", str(ticket.id), "--no-resume"]) == 0
    assert fake.posts == [] and not ticket_store.get(ticket.id).is_open


def test_the_rasa_token_is_sent_as_a_query_parameter(env, monkeypatch):
    ticket_store, fake, _ = env
    monkeypatch.setenv("RASA_TOKEN", "rasa-secret")
    make_ticket(ticket_store, conversation="web:user-1_a.b@x/2")
    assert main(["helpline", "close", "1"]) == 0
    assert fake.posts[0]["path"] == "/conversations/web:user-1_a.b@x/2/execute?output_channel=latest&token=rasa-secret"


def test_the_module_entry_point_lists_and_serves_the_console(env):
    ticket_store, _, url = env
    make_ticket(ticket_store, created_at=datetime.now(timezone.utc))
    child_env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-m", "bot", "helpline", "list"], cwd=ROOT, capture_output=True,
                            text=True, env=child_env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "#1" in result.stdout

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "bot", "helpline", "serve", "--port", str(port)], cwd=ROOT,
                              env=child_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                page = requests.get(f"http://127.0.0.1:{port}/login", timeout=2)
                break
            except requests.ConnectionError:
                assert server.poll() is None, server.communicate()[1]
                assert time.monotonic() < deadline, "the console did not start"
                time.sleep(0.3)
        assert page.status_code == 200 and "Log ind" in page.text
        assert page.headers["Content-Security-Policy"] == CSP
        assert requests.get(f"http://127.0.0.1:{port}/tickets", timeout=5).status_code == 401
    finally:
        server.send_signal(signal.SIGTERM)
        out, err = server.communicate(timeout=30)
    assert f"Helpline console on http://127.0.0.1:{port}/" in out
    assert "No staff accounts yet" in err and "add-staff NAME" in err
    assert server.returncode == 0, err
