"""`python -m bot helpline list | show ID | close ID | serve`."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from bot.__main__ import main
from bot.helpline import rasa_api, store
from bot.paths import ROOT
from tests.unit.test_helpline_web import FakeRasa, make_ticket


@pytest.fixture
def env(tmp_path, monkeypatch):
    fake = FakeRasa()
    url = f"sqlite:///{tmp_path}/h.db"
    monkeypatch.setenv("HELPLINE_DATABASE_URL", url)
    monkeypatch.setenv("RASA_URL", fake.url)
    monkeypatch.delenv("RASA_TOKEN", raising=False)
    monkeypatch.delenv("HELPLINE_WEBHOOK_URL", raising=False)
    monkeypatch.delenv("HELPLINE_TOKEN", raising=False)
    ticket_store = store.TicketStore(url)
    yield ticket_store, fake
    ticket_store.dispose()
    fake.stop()


def test_list_show_close(env, capsys):
    ticket_store, fake = env
    ticket = make_ticket(ticket_store, summary="Bad om at tale med en person. Seneste besked: »[phone]«")

    assert main(["helpline", "list"]) == 0
    out = capsys.readouterr().out
    assert f"#{ticket.id}" in out and "after_refusal" in out and "triage=settings_refused" in out and "[phone]" in out

    assert main(["helpline", "show", str(ticket.id)]) == 0
    out = capsys.readouterr().out
    assert "conv-42" in out and "2024-03-01T10:00:00Z" in out and "hvad skal basalen være?" in out

    assert main(["helpline", "show", str(ticket.id), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["id"] == ticket.id

    assert main(["helpline", "close", str(ticket.id)]) == 0
    assert "resumed" in capsys.readouterr().out
    assert fake.posts == [{"path": "/conversations/conv-42/tracker/events", "json": rasa_api.RESUME_EVENTS}]
    assert not ticket_store.get(ticket.id).is_open

    assert main(["helpline", "list"]) == 0
    assert "No open tickets." in capsys.readouterr().out
    assert main(["helpline", "list", "--closed", "--json"]) == 0
    assert [t["id"] for t in json.loads(capsys.readouterr().out)] == [ticket.id]


def test_unknown_tickets_and_a_failed_resume(env, capsys):
    ticket_store, fake = env
    assert main(["helpline", "show", "99"]) == 1
    assert main(["helpline", "close", "99"]) == 1
    ticket = make_ticket(ticket_store)
    fake.status = 503
    assert main(["helpline", "close", str(ticket.id)]) == 2
    assert "not resumed" in capsys.readouterr().err
    fake.status = 200
    assert main(["helpline", "close", str(ticket.id)]) == 0
    assert ticket_store.get(ticket.id).resumed_at is not None


def test_close_without_resuming(env, capsys):
    ticket_store, fake = env
    ticket = make_ticket(ticket_store)
    assert main(["helpline", "close", str(ticket.id), "--no-resume"]) == 0
    assert fake.posts == [] and not ticket_store.get(ticket.id).is_open


def test_the_rasa_token_is_sent_as_a_query_parameter(env, monkeypatch):
    ticket_store, fake = env
    monkeypatch.setenv("RASA_TOKEN", "rasa-secret")
    ticket = make_ticket(ticket_store, conversation="web:user-1_a.b@x/2")
    assert main(["helpline", "close", str(ticket.id)]) == 0
    assert fake.posts[0]["path"] == "/conversations/web:user-1_a.b@x/2/tracker/events?token=rasa-secret"


def test_serve_refuses_to_start_without_a_token(env):
    with pytest.raises(SystemExit) as stopped:
        main(["helpline", "serve", "--port", "0"])
    assert "HELPLINE_TOKEN" in str(stopped.value)


def test_the_module_entry_point(env):
    ticket_store, _ = env
    make_ticket(ticket_store)
    result = subprocess.run(
        [sys.executable, "-m", "bot", "helpline", "list"], cwd=ROOT, capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "#1" in result.stdout
    result = subprocess.run(
        [sys.executable, "-m", "bot", "helpline", "serve"], cwd=ROOT, capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), "HELPLINE_TOKEN": ""}, timeout=60,
    )
    assert result.returncode != 0 and "HELPLINE_TOKEN is not set" in result.stderr
