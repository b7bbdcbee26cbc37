"""Webhook delivery: a local HTTP server receives the ticket and checks its signature."""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bot.helpline import store, webhook
from bot.helpline.config import HelplineConfig
from bot.helpline.service import Helpline

SECRET = "s3cret-for-the-webhook-test"


class Receiver:
    """A local webhook receiver that verifies the signature like a real one would."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.requests = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                signature = self.headers.get(webhook.SIGNATURE_HEADER)
                expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
                receiver.requests.append(
                    {"body": body, "signature": signature, "valid": hmac.compare_digest(expected, signature or ""),
                     "content_type": self.headers.get("Content-Type"), "path": self.path}
                )
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def ticket_payload():
    return {"id": 7, "summary": "Bad om at tale med en person. »æøå«", "transcript": [{"speaker": "user", "text": "[phone]"}]}


def test_sign_and_verify():
    data = webhook.body(ticket_payload())
    signature = webhook.sign(data, SECRET)
    assert signature == "sha256=" + hmac.new(SECRET.encode(), data, hashlib.sha256).hexdigest()
    assert webhook.verify(data, signature, SECRET)
    assert not webhook.verify(data + b" ", signature, SECRET)
    assert not webhook.verify(data, signature, "another secret")
    assert not webhook.verify(data, None, SECRET)
    assert not webhook.verify(data, "sha256=" + "0" * 64, SECRET)
    assert not webhook.verify(data, "sha256=ø", SECRET)


def test_the_receiver_gets_the_ticket_as_signed_json():
    with Receiver() as receiver:
        assert webhook.deliver(receiver.url, SECRET, ticket_payload(), timeout=5, attempts=1)
    [request] = receiver.requests
    assert request["valid"], "the signature did not verify"
    assert request["content_type"].startswith("application/json")
    assert json.loads(request["body"].decode("utf-8")) == ticket_payload()
    assert webhook.verify(request["body"], request["signature"], SECRET)


def test_a_refusing_receiver_is_not_retried_and_a_failing_one_is(caplog):
    with Receiver(status=400) as receiver:
        assert not webhook.deliver(receiver.url, SECRET, ticket_payload(), timeout=5, attempts=3, backoff=0)
    assert len(receiver.requests) == 1
    with Receiver(status=503) as receiver:
        assert not webhook.deliver(receiver.url, SECRET, ticket_payload(), timeout=5, attempts=3, backoff=0)
    assert len(receiver.requests) == 3


def test_an_unreachable_receiver_is_logged_without_personal_data(caplog):
    caplog.set_level(logging.INFO)
    payload = {"summary": "ring til 12345678", "transcript": [{"text": "a@b.dk"}]}
    url = "http://127.0.0.1:1/hook?key=in-the-url"
    assert not webhook.deliver(url, SECRET, payload, timeout=2, attempts=2, backoff=0, label="ticket 3")
    logged = caplog.text
    assert "ticket 3" in logged and "not delivered" in logged
    for secret in ("12345678", "a@b.dk", "in-the-url", SECRET, "127.0.0.1:1"):
        assert secret not in logged


def test_without_a_secret_nothing_is_sent(caplog):
    with Receiver() as receiver:
        assert not webhook.deliver(receiver.url, None, ticket_payload())
    assert receiver.requests == []
    assert "HELPLINE_WEBHOOK_SECRET" in caplog.text


def test_the_helpline_delivers_new_tickets_and_records_it(tmp_path):
    ticket_store = store.TicketStore(f"sqlite:///{tmp_path}/h.db")
    with Receiver() as receiver:
        config = HelplineConfig(webhook_url=receiver.url, webhook_secret=SECRET, webhook_attempts=1)
        ticket = Helpline(config, ticket_store).open(
            store.NewTicket(
                conversation_id="c1", reason=store.REQUESTED, triage="handoff", language="da", topic=None,
                summary="Bad om at tale med en person.", transcript=[{"speaker": "user", "text": "[phone]", "time": "t"}],
                pauses_conversation=True, created_at=datetime(2024, 3, 1, 10, 0, tzinfo=timezone.utc),
            )
        )
    [request] = receiver.requests
    assert request["valid"]
    sent = json.loads(request["body"])
    assert sent["id"] == ticket.id and sent["created_at"] == "2024-03-01T10:00:00Z"
    assert sent["transcript"] == [{"speaker": "user", "text": "[phone]", "time": "t"}]
    assert ticket_store.get(ticket.id).delivery == store.DELIVERED


def test_a_failed_delivery_keeps_the_ticket(tmp_path):
    ticket_store = store.TicketStore(f"sqlite:///{tmp_path}/h.db")
    config = HelplineConfig(webhook_url="http://127.0.0.1:1/hook", webhook_secret=SECRET, webhook_attempts=1, webhook_timeout=2)
    ticket = Helpline(config, ticket_store).open(
        store.NewTicket(
            conversation_id="c1", reason=store.EMERGENCY, triage="emergency", language="en", topic=None,
            summary="s", transcript=[], pauses_conversation=False,
        )
    )
    assert ticket_store.get(ticket.id).delivery == store.FAILED
    assert ticket_store.get(ticket.id).is_open


@pytest.mark.parametrize("redirect", [301, 302, 307])
def test_redirects_are_not_followed(redirect):
    with Receiver(status=redirect) as receiver:
        assert not webhook.deliver(receiver.url, SECRET, ticket_payload(), attempts=1)
    assert len(receiver.requests) == 1
