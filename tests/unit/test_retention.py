"""Retention: the configured period, and purge deleting exactly what is older."""
from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.helpline.store import NewTicket, TicketStore
from bot.persistence.tracker_store import PrivateSQLTrackerStore
from bot.privacy import retention
from tests.helpers import ROOT

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)


def test_default_retention_comes_from_config_privacy_yml():
    assert retention.retention_days({}) == 30


def test_retention_days_from_the_environment():
    assert retention.retention_days({"RETENTION_DAYS": "7"}) == 7


@pytest.mark.parametrize("value", ["0", "-3", "seven", "1.5"])
def test_bad_retention_values_stop_with_a_message(value):
    with pytest.raises(SystemExit, match="day"):
        retention.retention_days({"RETENTION_DAYS": value})


@pytest.fixture
def stores(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKER_STORE_URL", f"sqlite:///{tmp_path}/conversations.db")
    monkeypatch.setenv("HELPLINE_DATABASE_URL", f"sqlite:///{tmp_path}/helpline.db")
    domain = Domain.load(str(ROOT / "domain.yml"))
    trackers = PrivateSQLTrackerStore(domain=domain)
    tickets = TicketStore(f"sqlite:///{tmp_path}/helpline.db")
    yield domain, trackers, tickets, tmp_path
    tickets.dispose()


def save_conversation(domain, store, sender, when):
    tracker = DialogueStateTracker(sender, domain.slots)
    stamp = when.timestamp()
    for event in (ActionExecuted("action_session_start"), SessionStarted(), UserUttered("hej")):
        event.timestamp = stamp
        tracker.update(event)
    asyncio.run(store.save(tracker))


def new_ticket(store, conversation_id, when):
    return store.create(
        NewTicket(
            conversation_id=conversation_id, reason="requested", triage="handoff", language="da", topic=None,
            created_at=when, summary="s", transcript=[], pauses_conversation=False,
        )
    )


def senders(path):
    with sqlite3.connect(path / "conversations.db") as connection:
        return {row[0] for row in connection.execute("SELECT DISTINCT sender_id FROM events")}


def test_purge_deletes_only_what_is_older_than_the_period(stores):
    domain, trackers, tickets, path = stores
    save_conversation(domain, trackers, "old", NOW - timedelta(days=31))
    save_conversation(domain, trackers, "recent", NOW - timedelta(days=29))
    old_ticket = new_ticket(tickets, "old", NOW - timedelta(days=40))
    recent_ticket = new_ticket(tickets, "recent", NOW - timedelta(days=1))

    result = retention.purge(30, now=NOW)

    assert (result.events, result.conversations, result.tickets, result.open_tickets) == (3, 1, 1, 1)
    assert senders(path) == {"recent"}
    assert tickets.get(old_ticket.id) is None
    assert tickets.get(recent_ticket.id) is not None


def test_dry_run_deletes_nothing(stores):
    domain, trackers, tickets, path = stores
    save_conversation(domain, trackers, "old", NOW - timedelta(days=31))
    new_ticket(tickets, "old", NOW - timedelta(days=40))
    result = retention.purge(30, now=NOW, dry_run=True)
    assert (result.events, result.tickets) == (3, 1)
    assert senders(path) == {"old"}
    assert len(tickets.list(status=None)) == 1
    assert "Would delete 3 conversation events (1 conversations) and 1 helpline tickets" in result.render(30, True)


def test_purge_on_empty_databases_is_fine(tmp_path, monkeypatch):
    """A fresh install: no var/ folder, no database file yet (make run purges at start)."""
    monkeypatch.setenv("TRACKER_STORE_URL", f"sqlite:///{tmp_path}/var/none.db")
    monkeypatch.setenv("HELPLINE_DATABASE_URL", f"sqlite:///{tmp_path}/none-helpline.db")
    result = retention.purge(30, now=NOW)
    assert (result.events, result.tickets) == (0, 0)
    assert not (tmp_path / "var" / "none.db").exists()


def test_the_command_line_purges_and_says_what_it_did(stores):
    domain, trackers, tickets, path = stores
    save_conversation(domain, trackers, "now", datetime.now(timezone.utc) - timedelta(minutes=5))
    result = subprocess.run(
        [sys.executable, "-m", "bot", "purge", "--older-than", "0"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**__import__("os").environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr
    assert "Deleted 3 conversation events (1 conversations)" in result.stdout
    assert senders(path) == set()


@pytest.mark.parametrize("days", ["99999999", "36501", "-1"])
def test_an_out_of_range_age_gets_a_clear_error_not_a_traceback(days):
    import subprocess
    import sys

    from tests.helpers import ROOT

    done = subprocess.run([sys.executable, "-m", "bot", "purge", "--older-than", days, "--dry-run"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 2
    assert "between 0 and 36500 days" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_out_of_range_retention_period_is_refused():
    from bot.privacy import retention

    with pytest.raises(SystemExit, match="between 1 and 36500"):
        retention.retention_days({"RETENTION_DAYS": "99999999"})
