"""Staff accounts, sessions and login throttling (bot/helpline/accounts.py)."""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from bot.helpline import store
from bot.helpline.accounts import AccountError, Accounts, csrf_ok

PASSWORD = "korrekt-hest-batteri"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


class CountingHasher(PasswordHasher):
    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=1024, parallelism=1)
        self.verified = 0

    def verify(self, hash, password):  # noqa: A002 - argon2's own names
        self.verified += 1
        return super().verify(hash, password)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def url(tmp_path):
    return f"sqlite:///{tmp_path}/h.db"


@pytest.fixture
def accounts(url, clock):
    made = Accounts(url, clock=clock, hasher=CountingHasher())
    made.add("Anna", PASSWORD, display_name="Anna")
    yield made
    made.dispose()


def rows(url, table):
    engine = sa.create_engine(url, future=True)
    with engine.connect() as connection:
        found = [dict(row) for row in connection.execute(sa.text(f"SELECT * FROM {table}")).mappings()]
    engine.dispose()
    return found


def test_accounts_live_in_the_ticket_database_with_argon2_hashes(tmp_path, url):
    ticket_store = store.TicketStore(url)
    make_ticket = store.NewTicket(conversation_id="c", reason=store.REQUESTED, triage="handoff", language="da",
                                  topic=None, summary="s", transcript=[], pauses_conversation=True)
    ticket_store.create(make_ticket)
    accounts = Accounts(url)  # the default hasher: argon2id
    staff = accounts.add("Bo.Hansen", PASSWORD)
    assert staff.name == "bo.hansen" and staff.display_name == "Bo.Hansen" and not staff.disabled
    assert accounts.get("BO.HANSEN") == staff
    [row] = rows(url, "helpline_staff")
    assert row["password_hash"].startswith("$argon2id$") and PASSWORD not in row["password_hash"]
    names = set(sa.inspect(sa.create_engine(url)).get_table_names())
    assert {"helpline_tickets", "helpline_staff", "helpline_sessions", "helpline_login_failures"} <= names
    assert accounts.login("bo.hansen", PASSWORD).ok
    accounts.dispose()
    ticket_store.dispose()


@pytest.mark.parametrize(
    "name, password, display, message",
    [
        ("anna", PASSWORD, None, "already exists"),
        ("ANNA", PASSWORD, None, "already exists"),
        ("new", "too-short", None, "at least 12 characters"),
        ("two words", PASSWORD, None, "no spaces"),
        ("", PASSWORD, None, "1 to 64"),
        ("x" * 65, PASSWORD, None, "1 to 64"),
        ("new", PASSWORD, "   ", "display name"),
        ("new", PASSWORD, "bell\x07", "display name"),
    ],
)
def test_accounts_that_cannot_be_made(accounts, name, password, display, message):
    with pytest.raises(AccountError) as refused:
        accounts.add(name, password, display_name=display)
    assert message in str(refused.value)
    assert PASSWORD not in str(refused.value)
    assert [s.name for s in accounts.all()] == ["anna"]


def test_each_login_is_its_own_session_stored_as_a_hash(accounts, url):
    first = accounts.login("anna", PASSWORD, "127.0.0.1").session
    second = accounts.login("ANNA", PASSWORD, "127.0.0.1").session
    assert first.token and second.token and first.token != second.token and first.csrf != second.csrf
    assert len(first.token) >= 43  # token_urlsafe(32)
    stored = rows(url, "helpline_sessions")
    assert [row["token_hash"] for row in stored] == [hashlib.sha256(s.token.encode()).hexdigest() for s in (first, second)]
    assert not any(first.token in str(row.values()) for row in stored)
    found = accounts.session(first.token)
    assert found.staff.name == "anna" and found.staff.display_name == "Anna" and found.csrf == first.csrf
    assert found.token is None  # only the login's own answer carries it
    assert csrf_ok(found, first.csrf) and not csrf_ok(found, second.csrf) and not csrf_ok(found, "") and not csrf_ok(found, None)
    assert accounts.session("not-a-token") is None and accounts.session("") is None and accounts.session(None) is None


def test_logout_revokes_and_expiry_ends_a_session(accounts, clock):
    first = accounts.login("anna", PASSWORD).session
    second = accounts.login("anna", PASSWORD).session
    assert accounts.logout(first.token) is True
    assert accounts.session(first.token) is None
    assert accounts.logout(first.token) is False  # already revoked
    assert accounts.session(second.token) is not None
    clock.advance(hours=7, minutes=59)
    assert accounts.session(second.token) is not None
    clock.advance(minutes=1)
    assert accounts.session(second.token) is None  # 8 hours, absolute


def test_the_session_lifetime_can_be_set(url, clock):
    accounts = Accounts(url, clock=clock, hasher=CountingHasher(), session_lifetime=timedelta(minutes=30))
    accounts.add("anna", PASSWORD)
    session = accounts.login("anna", PASSWORD).session
    assert session.expires_at == clock.now + timedelta(minutes=30)
    clock.advance(minutes=31)
    assert accounts.session(session.token) is None
    accounts.dispose()


def test_disabling_an_account_or_changing_its_password_ends_its_sessions(accounts):
    session = accounts.login("anna", PASSWORD).session
    accounts.set_disabled("anna")
    assert accounts.session(session.token) is None
    assert not accounts.login("anna", PASSWORD).ok
    accounts.set_disabled("anna", False)
    session = accounts.login("anna", PASSWORD).session
    accounts.set_password("anna", PASSWORD + "-new")
    assert accounts.session(session.token) is None
    assert not accounts.login("anna", PASSWORD).ok and accounts.login("anna", PASSWORD + "-new").ok
    with pytest.raises(AccountError):
        accounts.set_disabled("nobody")


def test_the_language_is_kept_in_the_session(accounts):
    session = accounts.login("anna", PASSWORD, language="en").session
    assert accounts.session(session.token).language == "en"
    accounts.set_language(accounts.session(session.token), "da")
    assert accounts.session(session.token).language == "da"
    assert accounts.login("anna", PASSWORD, language="fr").session.language == "da"


def test_five_failures_lock_the_account_even_for_the_right_password(accounts, clock):
    for n in range(4):
        result = accounts.login("anna", "wrong-password-1", f"10.0.0.{n}")
        assert not result.ok and not result.locked
    assert accounts.login("anna", "wrong-password-1", "10.0.0.4").locked  # the fifth locks at once
    refused = accounts.login("anna", PASSWORD, "10.0.1.1")
    assert not refused.ok and refused.locked
    clock.advance(minutes=14)
    assert accounts.login("anna", PASSWORD, "10.0.1.1").locked
    clock.advance(minutes=2)
    assert accounts.login("anna", PASSWORD, "10.0.1.1").ok


def test_five_failures_from_one_address_lock_that_address(accounts, clock):
    accounts.add("bo", PASSWORD)
    for n in range(5):
        accounts.login(f"guess{n}", "wrong-password-1", "192.0.2.7")
    assert accounts.login("bo", PASSWORD, "192.0.2.7").locked
    assert accounts.login("bo", PASSWORD, "192.0.2.8").ok
    clock.advance(minutes=16)
    assert accounts.login("bo", PASSWORD, "192.0.2.7").ok


def test_failures_spread_over_more_than_the_window_do_not_lock(accounts, clock):
    for _ in range(4):
        accounts.login("anna", "wrong-password-1", "10.0.0.1")
    clock.advance(minutes=16)
    assert not accounts.login("anna", "wrong-password-1", "10.0.0.1").locked
    assert accounts.login("anna", PASSWORD, "10.0.0.2").ok


def test_a_successful_login_clears_the_account_failures(accounts):
    for _ in range(4):
        accounts.login("anna", "wrong-password-1", f"10.0.0.{_}")
    assert accounts.login("anna", PASSWORD, "10.0.1.1").ok
    for n in range(4):
        assert not accounts.login("anna", "wrong-password-1", f"10.0.2.{n}").locked
    assert accounts.login("anna", PASSWORD, "10.0.3.1").ok


def test_no_account_enumeration_and_no_addresses_stored(accounts, url):
    hasher = accounts.hasher
    before = hasher.verified
    missing = accounts.login("nobody", PASSWORD, "203.0.113.9")
    assert hasher.verified == before + 1  # a dummy hash is checked: as slow as a wrong password
    wrong = accounts.login("anna", "wrong-password-1", "203.0.113.9")
    assert (missing.ok, missing.locked) == (wrong.ok, wrong.locked) == (False, False)
    for _ in range(5):
        accounts.login("nobody", "x", "198.51.100.1")
    assert accounts.login("nobody", PASSWORD, "198.51.100.2").locked  # locked like a real account
    dump = str(rows(url, "helpline_login_failures"))
    for clear in ("203.0.113.9", "198.51.100.1", "nobody", "anna", PASSWORD):
        assert clear not in dump
    assert len(rows(url, "helpline_login_failures")[0]["key"]) == 64


def test_old_failures_are_deleted(accounts, clock, url):
    accounts.login("anna", "wrong-password-1", "10.0.0.1")
    assert len(rows(url, "helpline_login_failures")) == 2  # one for the name, one for the address
    clock.advance(minutes=31)
    accounts.login("anna", PASSWORD, "10.0.0.2")
    assert rows(url, "helpline_login_failures") == []


def test_an_overlong_password_is_refused_without_hashing(accounts):
    before = accounts.hasher.verified
    assert not accounts.login("anna", "x" * 5000).ok
    assert accounts.hasher.verified == before
