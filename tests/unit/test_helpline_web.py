"""The staff page: token required, list/show/close, everything escaped, no external assets."""
from __future__ import annotations

import json
import re
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from bot.helpline import rasa_api, store, web
from bot.helpline.config import HelplineConfig
from bot.helpline.service import Helpline

TOKEN = "staff-token-0123456789abcdef"
NASTY = "<script>alert('x')</script> & \"quoted\" <img src=x onerror=alert(1)>"


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


@pytest.fixture
def rasa():
    fake = FakeRasa()
    yield fake
    fake.stop()


@pytest.fixture
def site(tmp_path, rasa):
    """The staff page on a free loopback port, with its store and a fake Rasa server."""
    ticket_store = store.TicketStore(f"sqlite:///{tmp_path}/h.db")
    helpline = Helpline(HelplineConfig(rasa_url=rasa.url, rasa_timeout=5), ticket_store)
    server = web.make(helpline, "127.0.0.1", 0, TOKEN)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    class Site:
        url = f"http://127.0.0.1:{server.server_port}"
        store = ticket_store
        fake_rasa = rasa

        def get(self, path, **kwargs):
            return requests.get(self.url + path, allow_redirects=False, timeout=10, **kwargs)

        def post(self, path, **kwargs):
            return requests.post(self.url + path, allow_redirects=False, timeout=10, **kwargs)

    yield Site()
    server.shutdown()
    server.server_close()
    ticket_store.dispose()


BEARER = {"Authorization": f"Bearer {TOKEN}"}


@pytest.mark.parametrize("path", ["/", "/tickets", "/tickets/1", "/tickets?status=closed"])
def test_without_a_token_the_page_is_401(site, path):
    make_ticket(site.store)
    response = site.get(path)
    assert response.status_code == 401
    assert "WWW-Authenticate" in response.headers
    assert "hvad skal basalen" not in response.text and "Bad om en person" not in response.text


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer wrong-token-0123456789"},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Cookie": f"{web.COOKIE}=forged"},
        {"Cookie": f"{web.COOKIE}={TOKEN}"},  # the token itself is not the session
    ],
)
def test_with_a_wrong_token_the_page_is_403(site, headers):
    make_ticket(site.store)
    for response in (site.get("/tickets", headers=headers), site.get("/tickets/1", headers=headers),
                     site.post("/tickets/1/close", headers=headers)):
        assert response.status_code == 403
        assert "hvad skal basalen" not in response.text
    assert site.store.get(1).is_open


def test_closing_without_a_token_does_nothing(site):
    ticket = make_ticket(site.store)
    assert site.post(f"/tickets/{ticket.id}/close").status_code == 401
    assert site.store.get(ticket.id).is_open
    assert site.fake_rasa.posts == []


def test_list_show_and_close_with_the_token(site):
    first = make_ticket(site.store)
    second = make_ticket(site.store, conversation="conv-43", reason=store.EMERGENCY, triage="emergency", pauses_conversation=False)
    listing = site.get("/tickets", headers=BEARER)
    assert listing.status_code == 200
    assert f'href="/tickets/{first.id}"' in listing.text and f'href="/tickets/{second.id}"' in listing.text
    assert "after_refusal" in listing.text and "settings_refused" in listing.text

    shown = site.get(f"/tickets/{first.id}", headers=BEARER)
    assert shown.status_code == 200
    assert "conv-42" in shown.text and "2024-03-01T10:00:00Z" in shown.text
    assert "Jeg kan ikke give råd om indstillinger." in shown.text

    closed = site.post(f"/tickets/{first.id}/close", headers=BEARER)
    assert closed.status_code == 200 and "genoptaget" in closed.text
    assert not site.store.get(first.id).is_open and site.store.get(first.id).resumed_at is not None
    assert site.fake_rasa.posts == [{"path": "/conversations/conv-42/tracker/events", "json": rasa_api.RESUME_EVENTS}]
    listing = site.get("/tickets", headers=BEARER)
    assert f'href="/tickets/{first.id}"' not in listing.text and f'href="/tickets/{second.id}"' in listing.text
    assert f'href="/tickets/{first.id}"' in site.get("/tickets?status=closed", headers=BEARER).text

    # a ticket that did not pause the conversation closes without touching Rasa
    site.post(f"/tickets/{second.id}/close", headers=BEARER)
    assert not site.store.get(second.id).is_open and len(site.fake_rasa.posts) == 1
    assert site.get("/tickets/999", headers=BEARER).status_code == 404


def test_everything_shown_is_escaped(site):
    ticket = make_ticket(site.store, conversation=NASTY, topic=None)
    for page in (site.get("/tickets", headers=BEARER).text, site.get(f"/tickets/{ticket.id}", headers=BEARER).text):
        assert "<script>" not in page and "<img" not in page
        assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;quoted&quot;" in page


def test_no_external_assets_and_strict_headers(site):
    ticket = make_ticket(site.store)
    for path in ("/tickets", f"/tickets/{ticket.id}"):
        response = site.get(path, headers=BEARER)
        assert not re.search(r"""(?:src|href|action)=["']?(?:https?:)?//""", response.text)
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["X-Frame-Options"] == "DENY"
    assert site.get("/helpline.css").status_code == 200


def test_the_browser_logs_in_once_and_forms_carry_a_csrf_token(site):
    ticket = make_ticket(site.store)
    assert site.get("/login").status_code == 200
    assert site.post("/login", data={"token": "wrong"}).status_code == 403
    login = site.post("/login", data={"token": TOKEN})
    assert login.status_code == 303 and login.headers["Location"] == "/tickets"
    cookie = login.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and TOKEN not in cookie
    session = {web.COOKIE: login.cookies[web.COOKIE]}

    page = site.get(f"/tickets/{ticket.id}", cookies=session)
    assert page.status_code == 200
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)
    assert site.post(f"/tickets/{ticket.id}/close", cookies=session).status_code == 403  # no CSRF token
    assert site.post(f"/tickets/{ticket.id}/close", cookies=session, data={"csrf": "0" * 64}).status_code == 403
    assert site.store.get(ticket.id).is_open
    assert site.post(f"/tickets/{ticket.id}/close", cookies=session, data={"csrf": csrf}).status_code == 200
    assert not site.store.get(ticket.id).is_open


def test_a_failed_resume_is_shown_and_can_be_retried(site):
    ticket = make_ticket(site.store)
    site.fake_rasa.status = 500
    page = site.post(f"/tickets/{ticket.id}/close", headers=BEARER)
    assert "ikke genoptaget" in page.text and "HTTP 500" in page.text
    assert site.store.get(ticket.id).resumed_at is None
    site.fake_rasa.status = 200
    assert "genoptaget" in site.post(f"/tickets/{ticket.id}/close", headers=BEARER).text
    assert site.store.get(ticket.id).resumed_at is not None


def test_a_conversation_paused_by_two_tickets_resumes_when_both_are_closed(site):
    first = make_ticket(site.store)
    second = make_ticket(site.store)
    assert f"#{second.id}" in site.post(f"/tickets/{first.id}/close", headers=BEARER).text
    assert site.fake_rasa.posts == []
    site.post(f"/tickets/{second.id}/close", headers=BEARER)
    assert len(site.fake_rasa.posts) == 1


@pytest.mark.parametrize("token", [None, "", "short"])
def test_the_page_refuses_to_start_without_a_proper_token(tmp_path, token):
    helpline = Helpline(HelplineConfig(database_url=f"sqlite:///{tmp_path}/h.db"))
    with pytest.raises(SystemExit) as stopped:
        web.make(helpline, "127.0.0.1", 0, token)
    assert "HELPLINE_TOKEN" in str(stopped.value)
