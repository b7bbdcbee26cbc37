"""The staff console (bot/helpline/console/), run in-process on a free loopback port and
driven over HTTP with `requests`, against SQLite in tmp_path and a fake Rasa server."""
from __future__ import annotations

import asyncio
import json
import logging
import queue as queue_module
import re
import shutil
import socket
import subprocess
import threading
import time
from datetime import datetime, timedelta, timezone
from html import unescape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from argon2 import PasswordHasher

from bot.helpline import store
from bot.helpline.accounts import Accounts
from bot.helpline.config import HelplineConfig
from bot.helpline.console import COOKIE, make_app
from bot.helpline.console.app import CSP, SECURITY_HEADERS, STATIC, TEMPLATES
from bot.helpline.console.labels import load as load_labels
from bot.helpline.service import Helpline
from tests.helpers import require_service

NASTY = "<script>alert('x')</script> & \"quoted\" <img src=x onerror=alert(1)>"
ESCAPED = "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &#34;quoted&#34; &lt;img src=x onerror=alert(1)&gt;"
PASSWORD = "korrekt-hest-batteri"
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
START = datetime(2024, 11, 30, 13, 5, tzinfo=timezone.utc)


class FakeRasa:
    """Records what the helpline posts to Rasa's HTTP API."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.posts = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                fake.posts.append({"path": self.path, "json": json.loads(body or b"null")})
                self.send_response(fake.status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def make_ticket(ticket_store, conversation="conv-42", **extra):
    values = dict(
        conversation_id=conversation, reason=store.AFTER_REFUSAL, triage="settings_refused", language="da",
        topic=None, summary=f"Bad om en person. Seneste besked: »{NASTY}«",
        transcript=[
            {"speaker": "user", "text": f"hvad skal basalen være? {NASTY}", "time": "2024-03-01T10:00:00Z"},
            {"speaker": "bot", "text": "Jeg kan ikke give råd om indstillinger.", "time": "2024-03-01T10:00:01Z"},
        ],
        pauses_conversation=True, created_at=datetime(2024, 3, 1, 10, 0, tzinfo=timezone.utc),
    )
    values.update(extra)
    return ticket_store.create(store.NewTicket(**values))


class Clock:
    """A clock the tests move."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


class Running:
    """A Sanic app served by its own event loop in a background thread."""

    def __init__(self, app) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        ready = threading.Event()
        failure = []

        def run() -> None:
            asyncio.set_event_loop(self.loop)
            try:
                server = self.loop.run_until_complete(
                    app.create_server(sock=sock, return_asyncio_server=True, access_log=False)
                )
                self.loop.run_until_complete(server.startup())
                self.loop.run_until_complete(server.before_start())
                self.loop.run_until_complete(server.after_start())
                self.server = server
            except BaseException as error:  # noqa: BLE001 - reported to the test
                failure.append(error)
                ready.set()
                return
            ready.set()
            self.loop.run_forever()
            pending = [task for task in asyncio.all_tasks(self.loop) if not task.done()]
            for task in pending:
                task.cancel()
            self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self.loop.close()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        assert ready.wait(20), "the console did not start"
        if failure:
            raise failure[0]

    def stop(self) -> None:
        async def close() -> None:
            for connection in list(self.server.connections):
                connection.close()
            self.server.close()
            await self.server.wait_closed()

        asyncio.run_coroutine_threadsafe(close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


class Site:
    def __init__(self, url, helpline, accounts, clock, rasa):
        self.url = url
        self.helpline = helpline
        self.store = helpline.store
        self.accounts = accounts
        self.clock = clock
        self.rasa = rasa

    def browser(self) -> requests.Session:
        return requests.Session()

    def get(self, path, session=None, **kwargs):
        kwargs.setdefault("allow_redirects", False)
        return (session or requests).get(self.url + path, timeout=10, **kwargs)

    def post(self, path, session=None, **kwargs):
        kwargs.setdefault("allow_redirects", False)
        return (session or requests).post(self.url + path, timeout=10, **kwargs)

    def login(self, name="anna", password=PASSWORD, address=None, **kwargs):
        """A browser logged in as `name`, and the page's CSRF token."""
        browser = self.browser()
        headers = {"X-Forwarded-For": address} if address else {}
        answer = self.post("/login", browser, data={"name": name, "password": password, **kwargs}, headers=headers)
        assert answer.status_code == 303, answer.text
        return browser, csrf_of(self.get("/tickets", browser).text)


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def visible(page: str) -> str:
    """The text a person sees (tags and attributes removed)."""
    return unescape(re.sub(r"<[^>]+>", " ", page))


def row_ids(page: str):
    return [int(n) for n in re.findall(r'<tr(?: class="urgent")? data-ticket="(\d+)">', page)]


@pytest.fixture
def rasa():
    fake = FakeRasa()
    yield fake
    fake.stop()


@pytest.fixture
def make_site(tmp_path, rasa):
    running = []
    made = []

    def make(**options):
        url = f"sqlite:///{tmp_path}/h{len(made)}.db"
        clock = Clock(datetime.now(timezone.utc).replace(microsecond=0))
        ticket_store = store.TicketStore(url)
        helpline = Helpline(HelplineConfig(database_url=url, rasa_url=rasa.url, rasa_timeout=5), ticket_store)
        accounts = Accounts(url, hasher=FAST_HASHER, clock=clock, **options.pop("accounts", {}))
        accounts.add("anna", PASSWORD, display_name="Anna")
        accounts.add("bo", PASSWORD + "-bo", display_name="Rådgiver")
        options.setdefault("poll_interval", 0.1)
        options.setdefault("keepalive_interval", 1.0)
        server = Running(make_app(helpline, accounts, **options))
        running.append(server)
        made.append((ticket_store, accounts))
        return Site(server.url, helpline, accounts, clock, rasa)

    yield make
    for server in running:
        server.stop()
    for ticket_store, accounts in made:
        ticket_store.dispose()
        accounts.dispose()


@pytest.fixture
def site(make_site):
    return make_site()


# -- logging in ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/tickets", "/tickets/1", "/tickets?state=closed"])
def test_without_a_session_every_page_is_the_login_page(site, path):
    make_ticket(site.store)
    page = site.get(path)
    assert page.status_code == 401
    assert 'action="/login"' in page.text and "Log ind" in page.text
    assert "hvad skal basalen" not in page.text and "Bad om en person" not in page.text
    for fragment in ("/tickets?partial=1", "/tickets/1?partial=1", "/tickets/1/messages?partial=1", "/alerts", "/events"):
        answer = site.get(fragment)
        assert answer.status_code == 401 and "hvad skal basalen" not in answer.text


def test_login_with_the_right_and_a_wrong_password(site):
    wrong = site.post("/login", data={"name": "anna", "password": "forkert-forkert-forkert"})
    assert wrong.status_code == 401
    assert "Forkert brugernavn eller adgangskode." in wrong.text and COOKIE not in wrong.headers.get("Set-Cookie", "")
    assert site.post("/login", data={"name": "nobody", "password": PASSWORD}).status_code == 401

    login = site.post("/login", data={"name": "Anna", "password": PASSWORD})  # the name in any case
    assert login.status_code == 303 and login.headers["Location"] == "/tickets"
    cookie = login.headers["Set-Cookie"]
    assert f"{COOKIE}=" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain http on loopback
    assert PASSWORD not in cookie
    page = site.get("/tickets", cookies={COOKIE: login.cookies[COOKIE]})
    assert page.status_code == 200 and "Logget ind som Anna" in page.text


def test_the_cookie_is_secure_behind_an_https_proxy(make_site):
    site = make_site(proxies_count=1)
    login = site.post("/login", data={"name": "anna", "password": PASSWORD},
                      headers={"X-Forwarded-For": "10.0.0.1", "X-Forwarded-Proto": "https"})
    assert login.status_code == 303
    cookie = login.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie


def test_login_returns_to_the_page_asked_for_but_only_on_this_site(site):
    ticket = make_ticket(site.store)
    asked = site.get(f"/tickets/{ticket.id}")
    assert f'name="next" value="/tickets/{ticket.id}"' in asked.text
    browser = site.browser()
    answer = site.post("/login", browser, data={"name": "anna", "password": PASSWORD, "next": f"/tickets/{ticket.id}"})
    assert answer.headers["Location"] == f"/tickets/{ticket.id}"
    for evil in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        answer = site.post("/login", data={"name": "anna", "password": PASSWORD, "next": evil})
        assert answer.headers["Location"] == "/tickets"


def test_two_logins_get_different_cookies_and_logout_revokes_only_its_own(site):
    first, first_csrf = site.login()
    second, second_csrf = site.login()
    assert first.cookies[COOKIE] != second.cookies[COOKIE]
    assert first_csrf != second_csrf
    old_cookie = first.cookies[COOKIE]

    assert site.post("/logout", first).status_code == 403  # no CSRF token: still logged in
    assert site.post("/logout", first, data={"csrf": second_csrf}).status_code == 403  # another session's token
    assert site.get("/tickets", first).status_code == 200

    out = site.post("/logout", first, data={"csrf": first_csrf})
    assert out.status_code == 303 and out.headers["Location"].startswith("/login")
    assert "Max-Age=0" in out.headers["Set-Cookie"]
    assert "Du er logget ud." in site.get(out.headers["Location"]).text
    stale = site.get("/tickets", cookies={COOKIE: old_cookie})
    assert stale.status_code == 401 and 'action="/login"' in stale.text
    assert site.get("/events", cookies={COOKIE: old_cookie}).status_code == 401
    assert site.get("/tickets", second).status_code == 200


def test_a_session_expires(make_site):
    site = make_site(accounts={"session_lifetime": timedelta(hours=8)})
    browser, _ = site.login()
    site.clock.advance(hours=7, minutes=59)
    assert site.get("/tickets", browser).status_code == 200
    site.clock.advance(minutes=2)
    expired = site.get("/tickets", browser)
    assert expired.status_code == 401 and 'action="/login"' in expired.text


def test_lockout_per_account_and_per_address(make_site):
    site = make_site(proxies_count=1)  # addresses from X-Forwarded-For
    wrong = {"password": "wrong-password-123"}

    def attempt(name, password, address):
        return site.post("/login", data={"name": name, "password": password}, headers={"X-Forwarded-For": address})

    # five failures for one account, each from another address: the account is locked
    for n in range(4):
        assert attempt("anna", wrong["password"], f"10.0.0.{n}").status_code == 401
    fifth = attempt("anna", wrong["password"], "10.0.0.4")
    assert fifth.status_code == 429
    locked = attempt("anna", PASSWORD, "10.0.1.1")  # even the right password
    assert locked.status_code == 429
    assert "Forkert brugernavn eller adgangskode. Prøv igen senere." in locked.text
    assert COOKIE not in locked.headers.get("Set-Cookie", "")
    assert attempt("bo", PASSWORD + "-bo", "10.0.1.1").status_code == 303  # other accounts are not

    # an account that does not exist is locked the same way (no enumeration)
    for n in range(5):
        attempt("nobody", wrong["password"], f"10.0.2.{n}")
    assert visible(attempt("nobody", PASSWORD, "10.0.3.1").text) == visible(locked.text).replace("anna", "nobody")

    # five failures from one address, each for another name: the address is locked
    for n in range(5):
        attempt(f"guess{n}", wrong["password"], "10.9.9.9")
    assert attempt("bo", PASSWORD + "-bo", "10.9.9.9").status_code == 429
    assert attempt("bo", PASSWORD + "-bo", "10.9.9.8").status_code == 303

    # the lock lifts after 15 minutes
    site.clock.advance(minutes=16)
    assert attempt("anna", PASSWORD, "10.0.1.1").status_code == 303
    assert attempt("bo", PASSWORD + "-bo", "10.9.9.9").status_code == 303


# -- CSRF and origins -----------------------------------------------------------------------


@pytest.mark.parametrize("action", ["claim", "close", "reply"])
def test_a_post_without_the_right_csrf_token_is_refused(site, action):
    ticket = make_ticket(site.store)
    browser, csrf = site.login()
    for data in ({"text": "hej"}, {"text": "hej", "csrf": "x" * 43}):
        answer = site.post(f"/tickets/{ticket.id}/{action}", browser, data=data)
        assert answer.status_code == 403
        assert "Formularen var for gammel" in answer.text
    assert site.store.get(ticket.id).status == store.OPEN and site.store.messages(ticket.id) == []
    assert site.rasa.posts == []
    # from another site, even with the token
    answer = site.post(f"/tickets/{ticket.id}/{action}", browser, data={"text": "hej", "csrf": csrf},
                       headers={"Origin": "https://evil.example"})
    assert answer.status_code == 403 and site.store.get(ticket.id).status == store.OPEN
    # the header works for scripts (fetch)
    answer = site.post(f"/tickets/{ticket.id}/{action}", browser, data={"text": "hej"}, headers={"X-CSRF-Token": csrf})
    assert answer.status_code == 303


# -- the queue ------------------------------------------------------------------------------


def test_the_queue_puts_emergencies_first_then_the_longest_waiting_in_danish_words(site):
    older = make_ticket(site.store, conversation="web:old", created_at=START - timedelta(minutes=40))
    small = make_ticket(site.store, conversation="fb:123", reason=store.REQUESTED, triage="smalltalk",
                        created_at=START - timedelta(minutes=30))
    emergency = make_ticket(site.store, conversation="web:new", reason=store.EMERGENCY, triage="emergency",
                            pauses_conversation=False, created_at=START - timedelta(minutes=5))
    browser, _ = site.login()
    page = site.get("/tickets", browser)
    assert page.status_code == 200
    assert row_ids(page.text) == [emergency.id, older.id, small.id]
    text = visible(page.text)
    for word in ("Akut", "Afslag på indstillinger", "Efter afslag", "Småsnak", "Bad om en person", "Hjemmesiden",
                 "Messenger", "Åben", "Dansk"):
        assert word in text, word
    assert re.search(r'<strong class="badge badge-emergency">Akut</strong>', page.text)  # a word, not colour alone
    for code in ("after_refusal", "smalltalk", "settings_refused", "requested", "widget"):
        assert code not in text, code
    fragment = site.get("/tickets?partial=1", browser).text
    assert "after_refusal" not in fragment and "smalltalk" not in fragment and "<html" not in fragment
    assert row_ids(fragment) == [emergency.id, older.id, small.id]


def test_waiting_times_and_local_times(site):
    winter = make_ticket(site.store, created_at=datetime(2026, 11, 30, 13, 5, tzinfo=timezone.utc))
    summer = make_ticket(site.store, created_at=datetime(2026, 7, 1, 12, 0, tzinfo=timezone.utc))
    fresh = make_ticket(site.store, created_at=datetime.now(timezone.utc) - timedelta(minutes=12, seconds=5))
    browser, _ = site.login()
    page = site.get("/tickets", browser).text
    assert "30.11.2026 14:05" in page  # CET
    assert "01.07.2026 14:00" in page  # CEST
    assert re.search(rf'data-ticket="{fresh.id}">.*?<td data-label="Ventetid">12 min</td>', page, re.S)
    shown = site.get(f"/tickets/{winter.id}", browser).text
    assert "30.11.2026 14:05" in shown and "01.03.2024 11:00" in shown  # the transcript's times too
    assert "Alle tider er dansk tid." in shown
    assert summer.id


def test_filters_and_pages(site):
    for n in range(27):
        make_ticket(site.store, conversation=f"web:{n}", created_at=START + timedelta(minutes=n))
    messenger = make_ticket(site.store, conversation="fb:9", language="en", triage="handoff", created_at=START)
    claimed = make_ticket(site.store, conversation="rest-1", created_at=START)
    site.store.claim(claimed.id, "Anna")
    closed = make_ticket(site.store, conversation="rest-2", created_at=START)
    site.store.close(closed.id)
    browser, _ = site.login()

    first = site.get("/tickets", browser).text
    assert len(row_ids(first)) == 25
    assert "Viser 1–25 af 29." in first and "Side 1 af 2" in first
    assert 'href="/tickets?page=2"' in first and "Næste side" in first and "Forrige side" not in first
    second = site.get("/tickets?page=2", browser).text
    assert len(row_ids(second)) == 4 and "Forrige side" in second and "Næste side" not in second
    assert not set(row_ids(first)) & set(row_ids(second))
    assert closed.id not in row_ids(first) + row_ids(second)

    assert row_ids(site.get("/tickets?state=closed", browser).text) == [closed.id]
    assert row_ids(site.get("/tickets?state=claimed", browser).text) == [claimed.id]
    assert claimed.id not in row_ids(site.get("/tickets?state=open&page=2", browser).text)
    assert row_ids(site.get("/tickets?channel=messenger", browser).text) == [messenger.id]
    assert row_ids(site.get("/tickets?language=en", browser).text) == [messenger.id]
    assert row_ids(site.get("/tickets?triage=handoff", browser).text) == [messenger.id]
    assert set(row_ids(site.get("/tickets?channel=rest", browser).text)) == {claimed.id}
    # the filters are kept in the page links and shown as chosen
    page = site.get("/tickets?channel=widget&page=2", browser).text
    assert 'href="/tickets?channel=widget"' in page and '<option value="widget" selected>' in page
    # nonsense is ignored, not an error
    assert site.get("/tickets?state=<x>&page=abc&triage=%00", browser).status_code == 200


# -- one ticket -------------------------------------------------------------------------------


def test_the_ticket_page_shows_everything_and_escapes_it(site):
    ticket = make_ticket(
        site.store, conversation=f"web:{NASTY}", topic="responsibility", callback_number="+45 12 34 56 78",
        transcript=[
            {"speaker": "user", "text": f"det gør ondt {NASTY}", "time": "2026-11-30T13:00:00Z",
             "decision": {"category": "emergency", "stage": "acute", "layer": "lexicon"}},
            {"speaker": "bot", "text": "Ring 112.", "time": "2026-11-30T13:00:01Z"},
        ],
    )
    site.store.add_message(ticket.id, store.USER, "er der nogen?", decision={"category": "handoff", "layer": "handoff"},
                           when=datetime(2026, 11, 30, 13, 10, tzinfo=timezone.utc))
    site.store.add_message(ticket.id, store.STAFF, "Hej, det er Bo.", staff_name="Rådgiver",
                           when=datetime(2026, 11, 30, 13, 12, tzinfo=timezone.utc))
    browser, _ = site.login()
    page = site.get(f"/tickets/{ticket.id}", browser)
    assert page.status_code == 200
    html = page.text
    assert "<script>alert" not in html and "<img src=x" not in html
    assert ESCAPED in html
    text = visible(html)
    for expected in ("Henvendelse #1", "Åben", "Afslag på indstillinger", "Efter afslag", "Hjemmesiden", "Dansk",
                     "Ingen endnu", "+45 12 34 56 78", "Person", "Assistent", "Rådgiver", "30.11.2026 14:00",
                     "30.11.2026 14:12", "Værn: akut · akut (lag: ordliste)", "Værn: venter på en person (lag: overdragelse)", "Overdraget til rådgivningen",
                     "Hej, det er Bo.", "er der nogen?", "Personoplysninger"):
        assert expected in text, expected
    assert "Eget ansvar og risiko" in text and "responsibility" not in text  # the topic as the paper names it
    assert 'maxlength="2000"' in html and '<label for="reply-text">' in html
    # the callback number is on the ticket only
    assert "12 34 56 78" not in site.get("/tickets", browser).text
    # the fragments console.js swaps in
    messages = site.get(f"/tickets/{ticket.id}/messages?partial=1", browser).text
    assert "Hej, det er Bo." in messages and "<html" not in messages and ESCAPED in messages
    details = site.get(f"/tickets/{ticket.id}?partial=1", browser).text
    assert "Afslag på indstillinger" in details and "<html" not in details
    missing = site.get("/tickets/999", browser)
    assert missing.status_code == 404 and "Henvendelse #999 findes ikke." in missing.text


def test_claim_reply_and_close(site):
    ticket = make_ticket(site.store)
    browser, csrf = site.login()

    claimed = site.post(f"/tickets/{ticket.id}/claim", browser, data={"csrf": csrf}, allow_redirects=True)
    assert claimed.status_code == 200 and "Du har taget henvendelsen." in claimed.text
    stored = site.store.get(ticket.id)
    assert stored.status == store.CLAIMED and stored.claimed_by == "Anna"
    queue_page = visible(site.get("/tickets", browser).text)
    assert "Taget" in queue_page and "Anna" in queue_page
    assert "Du har taget henvendelsen." not in site.get(f"/tickets/{ticket.id}", browser).text  # shown once

    replied = site.post(f"/tickets/{ticket.id}/reply", browser, allow_redirects=True,
                        data={"csrf": csrf, "text": "Ring til os på 12 34 56 78, så hjælper vi."})
    assert replied.status_code == 200 and "Svaret er leveret til personen." in replied.text
    assert site.rasa.posts == [{"path": "/conversations/conv-42/execute?output_channel=latest",
                                "json": {"name": "action_staff_message"}}]
    [message] = site.store.messages(ticket.id)
    assert message.speaker == store.STAFF and message.staff_name == "Anna"
    assert message.text == "Ring til os på [phone], så hjælper vi."  # stored redacted
    assert "Ring til os på [phone], så hjælper vi." in replied.text and "12 34 56 78" not in replied.text

    # Rasa fails: stored, not delivered, the reason shown
    site.rasa.status = 500
    failed = site.post(f"/tickets/{ticket.id}/reply", browser, data={"csrf": csrf, "text": "Er du der?"},
                       allow_redirects=True)
    assert "Svaret er gemt, men ikke leveret til personen endnu" in failed.text
    assert "Teknisk årsag: the Rasa server answered HTTP 500" in failed.text
    assert "venter på levering" in failed.text
    site.rasa.status = 200

    empty = site.post(f"/tickets/{ticket.id}/reply", browser, data={"csrf": csrf, "text": "   "})
    assert empty.status_code == 400 and "Svaret er ikke sendt: svaret er tomt." in empty.text
    long_text = "x" * 2001
    too_long = site.post(f"/tickets/{ticket.id}/reply", browser, data={"csrf": csrf, "text": long_text})
    assert too_long.status_code == 400 and "svaret er for langt" in too_long.text and long_text in too_long.text

    closed = site.post(f"/tickets/{ticket.id}/close", browser, data={"csrf": csrf}, allow_redirects=True)
    assert "Lukket. Samtalen er givet tilbage til assistenten." in closed.text
    assert site.rasa.posts[-1] == {"path": "/conversations/conv-42/execute?output_channel=latest",
                                   "json": {"name": "action_hand_back"}}
    assert site.store.get(ticket.id).status == store.CLOSED
    assert "Henvendelsen er lukket; der kan ikke svares her." in closed.text and 'name="text"' not in closed.text
    after = site.post(f"/tickets/{ticket.id}/reply", browser, data={"csrf": csrf, "text": "hallo?"})
    assert after.status_code == 400 and "henvendelsen er lukket" in after.text
    assert site.post("/tickets/999/claim", browser, data={"csrf": csrf}).status_code == 404
    assert site.post("/tickets/999/reply", browser, data={"csrf": csrf, "text": "x"}).status_code == 404
    assert site.post("/tickets/999/close", browser, data={"csrf": csrf}).status_code == 404


def test_a_failed_handback_is_shown_and_can_be_retried(site):
    ticket = make_ticket(site.store)
    other = make_ticket(site.store)  # the same conversation, paused by two tickets
    browser, csrf = site.login()
    first = site.post(f"/tickets/{ticket.id}/close", browser, data={"csrf": csrf}, allow_redirects=True)
    assert f"#{other.id}" in first.text and site.rasa.posts == []
    site.rasa.status = 500
    failed = site.post(f"/tickets/{other.id}/close", browser, data={"csrf": csrf}, allow_redirects=True)
    assert "Lukket, men samtalen blev ikke givet tilbage til assistenten." in failed.text
    assert "Teknisk årsag: the Rasa server answered HTTP 500" in failed.text
    assert "Prøv igen at give samtalen tilbage" in failed.text
    site.rasa.status = 200
    again = site.post(f"/tickets/{other.id}/close", browser, data={"csrf": csrf}, allow_redirects=True)
    assert "Samtalen er givet tilbage til assistenten." in again.text
    assert site.store.get(other.id).resumed_at is not None


def test_a_ticket_without_a_conversation_takes_no_reply(site):
    ticket = make_ticket(site.store, reason=store.EMERGENCY, triage="emergency", pauses_conversation=False)
    browser, csrf = site.login()
    page = site.get(f"/tickets/{ticket.id}", browser).text
    assert "der kan ikke svares live her" in page and 'name="text"' not in page
    refused = site.post(f"/tickets/{ticket.id}/reply", browser, data={"csrf": csrf, "text": "hej"})
    assert refused.status_code == 400 and "henvendelsen holder ingen samtale på pause" in refused.text
    assert "Teknisk årsag: this ticket does not hold a live conversation" in refused.text
    assert site.rasa.posts == []


# -- live updates ---------------------------------------------------------------------------


def test_events_announce_a_change_within_seconds(site):
    browser, _ = site.login()
    answer = browser.get(site.url + "/events", stream=True, timeout=10)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/event-stream")
    assert answer.headers["Content-Security-Policy"] == CSP and answer.headers["Cache-Control"] == "no-store"
    lines: "queue_module.Queue[str]" = queue_module.Queue()

    def read() -> None:
        try:
            for line in answer.iter_lines(decode_unicode=True):
                lines.put(line)
        except Exception:  # noqa: BLE001 - the stream closed at the end of the test
            pass

    threading.Thread(target=read, daemon=True).start()

    def wait_for(prefix: str, seconds: float = 5.0) -> str:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=0.2)
            except queue_module.Empty:
                continue
            if line.startswith(prefix):
                return line
        raise AssertionError(f"no {prefix!r} within {seconds} s")

    wait_for("event: ready")
    started = time.monotonic()
    make_ticket(site.store)
    wait_for("event: changed")
    assert lines.get(timeout=2).startswith("data: 1:")
    assert time.monotonic() - started < 5
    wait_for(": keep-alive", seconds=4)  # every keepalive_interval (1 s here) while nothing changes
    answer.close()


def test_the_event_stream_ends_when_the_session_does(make_site):
    site = make_site(session_check_interval=0.2)
    browser, csrf = site.login()
    answer = browser.get(site.url + "/events", stream=True, timeout=10)
    assert answer.status_code == 200
    site.post("/logout", browser, data={"csrf": csrf})
    started = time.monotonic()
    seen = []
    for line in answer.iter_lines(decode_unicode=True):  # the server ends the stream after "logout"
        seen.append(line)
        assert time.monotonic() - started < 5
    assert "event: logout" in seen


def test_alerts_list_the_waiting_tickets_in_words(site):
    make_ticket(site.store, created_at=START - timedelta(minutes=20))
    emergency = make_ticket(site.store, reason=store.EMERGENCY, triage="emergency", created_at=START)
    claimed = make_ticket(site.store, created_at=START)
    site.store.claim(claimed.id, "Anna")
    browser, _ = site.login()
    answer = site.get("/alerts", browser)
    assert answer.status_code == 200 and answer.headers["Content-Security-Policy"] == CSP
    waiting = answer.json()["waiting"]
    assert [item["id"] for item in waiting] == [emergency.id, 1]
    assert waiting[0] == {"id": emergency.id, "emergency": True, "text": f"Ny akut henvendelse #{emergency.id}"}
    assert waiting[1]["text"] == "Ny henvendelse #1: Efter afslag"


def test_the_page_has_what_console_js_needs_and_no_inline_code(site):
    ticket = make_ticket(site.store)
    browser, _ = site.login()
    for path in ("/tickets", f"/tickets/{ticket.id}"):
        html = site.get(path, browser).text
        assert '<script src="/static/console.js" defer></script>' in html
        assert re.findall(r"<script(?![^>]*\bsrc=)", html) == []  # no inline script
        assert not re.search(r"<[^>]*\son[a-z]+\s*=", html)  # no event handler attributes
        assert not re.search(r"<style|<[^>]*\sstyle\s*=", html)  # no inline styles
        assert 'role="alert"' in html and 'data-live-events="/events"' in html
    assert 'data-live="/tickets?partial=1"' in site.get("/tickets", browser).text
    page = site.get(f"/tickets/{ticket.id}", browser).text
    assert f'data-live="/tickets/{ticket.id}/messages?partial=1"' in page
    # the reply box is outside every part that is swapped in
    live_parts = re.findall(r'<div id="[^"]+" data-live="[^"]+".*?</div>\n', page, re.S)
    assert live_parts and not any("reply-text" in part for part in live_parts)
    script = site.get("/static/console.js")
    assert script.status_code == 200 and script.headers["Content-Type"].startswith("text/javascript")
    for needed in ("new EventSource(", '"changed"', "AudioContext", "createOscillator", "sessionStorage",
                   '"(" + unseen.length + ") "', "data-live"):
        assert needed in script.text, needed
    assert "eval(" not in script.text and "new Function" not in script.text and "innerHTML" in script.text
    style = site.get("/static/console.css")
    assert style.status_code == 200 and style.headers["Content-Type"].startswith("text/css")
    assert ":focus" in style.text and "@media (max-width: 40rem)" in style.text
    assert site.get("/static/../app.py").status_code == 404
    assert site.get("/static/nothing.js").status_code == 404


CONSOLE_JS_HARNESS = r"""
// Runs console.js against a tiny fake DOM and prints what it did, as JSON.
"use strict";
const fs = require("fs");
const vm = require("vm");
const script = fs.readFileSync(process.argv[2], "utf8");
const log = { fetched: [], reloads: 0, oscillators: 0, submitted: 0 };

function element(attrs, extra) {
  const listeners = {};
  return Object.assign({
    attrs, innerHTML: "", hidden: !!attrs.hidden, textContent: "",
    getAttribute(name) { return name in this.attrs ? this.attrs[name] : null; },
    hasAttribute(name) { return name in this.attrs; },
    addEventListener(name, fn) { (listeners[name] = listeners[name] || []).push(fn); },
    fire(name, event) { (listeners[name] || []).forEach((fn) => fn(event || {})); },
    contains() { return false; },
    querySelector() { return null; },
  }, extra || {});
}
const alertText = element({});
const banner = element({ hidden: true }, { querySelector: (s) => (s === ".alert-text" ? alertText : null) });
const dismiss = element({});
const lost = element({ hidden: true });
const queue = element({ "data-live": "/tickets?partial=1" });
const form = { submit() { log.submitted += 1; } };
const select = element({ "data-autosubmit": "" }, { form });
const docListeners = {};
const body = element({ "data-live-events": "/events", "data-alerts": "/alerts" });
const document = {
  readyState: "complete", title: "Henvendelser · Rådgivningen", body, hidden: false, activeElement: body,
  querySelectorAll(s) {
    if (s === "[data-live]") return [queue];
    if (s === "select[data-autosubmit]") return [select];
    return [];
  },
  querySelector(s) { return s === ".alert-dismiss" ? dismiss : null; },
  getElementById(id) { return { "live-notice": banner, "live-lost": lost }[id] || null; },
  addEventListener(name, fn) { (docListeners[name] = docListeners[name] || []).push(fn); },
};
let waiting = [{ id: 1, emergency: false, text: "Ny henvendelse #1: Bad om en person" }];
let fragment = "<table>1</table>";
let status = 200;
function fetch(url) {
  log.fetched.push(url);
  return Promise.resolve({
    status, ok: status === 200,
    json: () => Promise.resolve({ waiting }),
    text: () => Promise.resolve(fragment),
  });
}
const storage = new Map();
let source = null;
class EventSource {
  constructor(url) { this.url = url; this.readyState = 1; this.listeners = {}; source = this; }
  addEventListener(name, fn) { (this.listeners[name] = this.listeners[name] || []).push(fn); }
  fire(name) { (this.listeners[name] || []).forEach((fn) => fn({})); }
  close() { this.readyState = 2; }
}
EventSource.CLOSED = 2;
class AudioContext {
  constructor() { this.state = "running"; this.currentTime = 0; this.destination = {}; }
  resume() {}
  createOscillator() {
    log.oscillators += 1;
    return { type: "", frequency: { setValueAtTime() {} }, connect() {}, start() {}, stop() {} };
  }
  createGain() { return { gain: { setValueAtTime() {}, exponentialRampToValueAtTime() {} }, connect() {} }; }
}
const window = {
  sessionStorage: { getItem: (k) => (storage.has(k) ? storage.get(k) : null), setItem: (k, v) => storage.set(k, v) },
  location: { reload() { log.reloads += 1; } },
  AudioContext, EventSource,
};
const context = vm.createContext({ window, document, fetch, EventSource, JSON, Array, Promise, console });
vm.runInContext(script, context);
const tick = () => new Promise((resolve) => setTimeout(resolve, 10));

(async () => {
  await tick();
  log.sourceUrl = source && source.url;
  log.afterLoad = { hidden: banner.hidden, title: document.title, seen: storage.get("helpline-console-seen") };
  // a new emergency arrives, before anyone has touched the page: banner and title, no sound
  waiting = waiting.concat([{ id: 2, emergency: true, text: "Ny akut henvendelse #2" }]);
  fragment = "<table>2</table>";
  source.fire("changed");
  await tick();
  log.afterFirst = { hidden: banner.hidden, text: alertText.textContent, title: document.title,
                     queue: queue.innerHTML, oscillators: log.oscillators };
  // the staff member presses a key; the next new ticket also beeps
  (docListeners.keydown || []).forEach((fn) => fn({}));
  waiting = waiting.concat([{ id: 3, emergency: false, text: "Ny henvendelse #3: Efter afslag" }]);
  source.fire("changed");
  await tick();
  log.afterSecond = { text: alertText.textContent, title: document.title, oscillators: log.oscillators };
  // nothing new: no further notice
  source.fire("changed");
  await tick();
  log.afterSame = { title: document.title, oscillators: log.oscillators };
  dismiss.fire("click");
  log.afterDismiss = { hidden: banner.hidden, title: document.title };
  select.fire("change");
  // the session ends: the stream closes and /alerts answers 401, so the page reloads (to the login)
  status = 401;
  source.readyState = 2;
  source.fire("error");
  await tick();
  log.finalReloads = log.reloads;
  console.log(JSON.stringify(log));
})();
"""


def test_console_js_swaps_fragments_and_announces_new_tickets(tmp_path):
    """console.js against a tiny fake DOM (Node.js): EventSource, fetch, the banner, the title, the beep.
    (tests/e2e/test_helpline_handoff.py runs it in Chromium as well.)"""
    require_service(shutil.which("node") is not None, "Node.js (to run console.js)")
    harness = tmp_path / "harness.js"
    harness.write_text(CONSOLE_JS_HARNESS, encoding="utf-8")
    result = subprocess.run(["node", str(harness), str(STATIC / "console.js")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    log = json.loads(result.stdout)
    assert log["sourceUrl"] == "/events"
    # what waits when the page opens is not news
    assert log["afterLoad"] == {"hidden": True, "title": "Henvendelser · Rådgivningen", "seen": "[1]"}
    # a new emergency: the queue swapped in, the banner and "(1) " shown, no sound before any interaction
    assert log["afterFirst"] == {"hidden": False, "text": "Ny akut henvendelse #2", "title": "(1) Henvendelser · Rådgivningen",
                                 "queue": "<table>2</table>", "oscillators": 0}
    # after a key press, the next new ticket beeps; the banner lists both
    assert log["afterSecond"] == {"text": "Ny akut henvendelse #2 · Ny henvendelse #3: Efter afslag",
                                  "title": "(2) Henvendelser · Rådgivningen", "oscillators": 1}
    assert log["afterSame"] == {"title": "(2) Henvendelser · Rådgivningen", "oscillators": 1}
    assert log["afterDismiss"] == {"hidden": True, "title": "Henvendelser · Rådgivningen"}
    assert log["submitted"] == 1  # the language select submits its form
    assert log["finalReloads"] == 1  # the session ended: reload (to the login page)


# -- headers, errors, languages ----------------------------------------------------------------


def test_security_headers_on_every_response(site):
    ticket = make_ticket(site.store)
    browser, csrf = site.login()
    answers = [
        site.get("/login"), site.get("/tickets"), site.get("/static/console.css"), site.get("/nothing"),
        site.get("/tickets", browser), site.get(f"/tickets/{ticket.id}", browser), site.get("/tickets/999", browser),
        site.get("/alerts", browser), site.post("/tickets", browser, data={"csrf": csrf}),
        site.post(f"/tickets/{ticket.id}/claim", browser, data={"csrf": csrf}),
        site.post("/login", data={"name": "anna", "password": "x"}),
    ]
    for answer in answers:
        for name, value in SECURITY_HEADERS.items():
            assert answer.headers.get(name) == value, (answer.url, name)
        assert not re.search(r"""(?:src|href|action)=["']?(?:https?:)?//""", answer.text)
    assert answers[3].status_code == 404 and "Siden findes ikke." in answers[3].text
    assert answers[8].status_code == 405 and "Det kan man ikke her." in answers[8].text


def test_an_error_is_a_danish_page_and_logs_only_its_class(site, monkeypatch, caplog):
    ticket = make_ticket(site.store)
    browser, _ = site.login()

    def broken(ticket_id):
        raise RuntimeError(f"secret text of ticket {ticket_id}: hvad skal basalen være")

    monkeypatch.setattr(site.store, "get", broken)
    with caplog.at_level(logging.INFO):
        answer = site.get(f"/tickets/{ticket.id}", browser)
    assert answer.status_code == 500
    assert "Der skete en fejl." in answer.text and "RuntimeError" not in answer.text and "secret" not in answer.text
    assert answer.headers["Content-Security-Policy"] == CSP
    assert "RuntimeError" in caplog.text and "secret" not in caplog.text and "basalen" not in caplog.text


def test_english_when_asked_and_kept_in_the_session(site):
    make_ticket(site.store, reason=store.EMERGENCY, triage="emergency", pauses_conversation=False)
    assert "Log in" in site.get("/login?lang=en").text and 'lang="en"' in site.get("/login?lang=en").text
    browser, _ = site.login()
    danish = site.get("/tickets", browser).text
    assert '<html lang="da">' in danish and "Henvendelser" in danish
    english = site.get("/tickets?lang=en", browser).text
    assert '<html lang="en">' in english and "Tickets" in english and "Emergency" in english
    assert "Henvendelser" not in english and "Akut" not in visible(english)
    again = site.get("/tickets", browser).text  # remembered
    assert '<html lang="en">' in again and "Signed in as Anna" in again
    assert "Ticket #1" in site.get("/tickets/1", browser).text
    # a login page asked for in English logs in to an English session
    other = site.browser()
    site.post("/login", other, data={"name": "bo", "password": PASSWORD + "-bo", "lang": "en"})
    assert '<html lang="en">' in site.get("/tickets", other).text


def test_every_label_the_templates_use_exists_in_both_languages():
    labels = load_labels()
    used = set()
    for template in TEMPLATES.glob("*.html"):
        used |= set(re.findall(r"\bt\.([a-z_]+(?:\.[a-z_]+)*)", template.read_text(encoding="utf-8")))
    assert used
    for language in ("da", "en"):
        for key in used:
            found = labels.lookup(language, key)  # a label, or a section looked up by code (t.languages[code])
            assert isinstance(found, str) or all(isinstance(v, str) for v in found.values()), (language, key)
    for section in ("triage", "reasons", "channels", "states", "speakers"):
        for code in labels.codes(section):
            assert labels.code("da", section, code) != code or code == "messenger"
    assert labels.code("da", "reasons", "after_refusal") == "Efter afslag"
    assert labels.code("da", "triage", "smalltalk") == "Småsnak"
    assert labels.code("da", "channels", "widget") == "Hjemmesiden"


def test_logs_hold_no_password_token_or_ticket_text(site, caplog):
    ticket = make_ticket(site.store)
    with caplog.at_level(logging.DEBUG):
        site.post("/login", data={"name": "anna", "password": "wrong-password-xyz"}, headers={"X-Forwarded-For": "10.1.2.3"})
        browser, csrf = site.login()
        site.post(f"/tickets/{ticket.id}/reply", browser, data={"csrf": csrf, "text": "Hemmeligt svar til dig"})
        site.post("/logout", browser, data={"csrf": csrf})
    token = browser.cookies.get(COOKIE) or ""
    for secret in ("wrong-password-xyz", PASSWORD, "Hemmeligt svar", "basalen", "10.1.2.3", csrf):
        assert secret not in caplog.text, secret
    assert not token or token not in caplog.text
    assert "logged in" in caplog.text


def test_a_pressed_button_reads_as_words_not_as_its_payload(site):
    ticket = make_ticket(site.store)
    site.store.add_message(ticket.id, store.USER, "/ask_human")
    site.store.add_message(ticket.id, store.USER, "/not_a_button")
    browser, _ = site.login()
    page = browser.get(site.url + f"/tickets/{ticket.id}").text
    assert "[knap: Tal med en person / Ja]" in page and "/ask_human" not in page
    assert "/not_a_button" in page
