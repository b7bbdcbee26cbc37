"""Only the assistant's own payloads act as intents; the server refuses browsers and
foreign hosts (issue #12, findings 3 and 5)."""
from __future__ import annotations

import pytest
from rasa.nlu.classifiers.regex_message_handler import RegexMessageHandler
from rasa.shared.core.domain import Domain
from rasa.shared.nlu.training_data.message import Message

from bot import api_guard, rasa_patches
from bot.channels import payloads
from tests.helpers import ROOT


@pytest.fixture(scope="module")
def domain():
    return Domain.load(str(ROOT / "domain.yml"))


@pytest.mark.parametrize("text", ["/ask_human", "/follow_up", "/ask_denmark", "/restart", " /ask_human "])
def test_the_assistants_own_payloads_act(domain, text):
    assert payloads.acts(text, domain.intents)


@pytest.mark.parametrize(
    "text",
    ["/emergency", "/ask_settings", "/ask_human@0.1", "/session_start", "/back", "/greet",
     "/hej mit cpr er 130492-7141", "/ask_human{\"x\": 1}", "/ask_human please", "hej"],
)
def test_anything_else_that_starts_with_a_slash_is_text(domain, text):
    assert not payloads.acts(text, domain.intents)


def test_a_typed_payload_is_text_where_the_channel_says_it_was_typed(domain):
    assert not payloads.acts("/ask_human", domain.intents, {payloads.TYPED_KEY: True})


def unpack(domain, text, metadata=None):
    handler = RegexMessageHandler()
    message = Message({"text": text, "metadata": metadata or {}})
    return rasa_patches._unpack_known_payloads(handler, [message], domain)[0].get("intent")


def test_rasas_regex_handler_unpacks_only_known_payloads(domain):
    assert unpack(domain, "/ask_human")["name"] == "ask_human"
    assert unpack(domain, "/restart")["name"] == "restart"
    for text in ("/emergency", "/ask_human@0.1", "/session_start"):
        assert unpack(domain, text) is None, text
    assert unpack(domain, "/ask_human", {"typed": True}) is None


# --- Host and Origin -----------------------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1:5005", "localhost:5005", "[::1]:5005", "127.0.0.1"])
def test_loopback_hosts_are_allowed(host):
    assert api_guard.Guard("127.0.0.1", {}).host_allowed(host)


@pytest.mark.parametrize("host", ["evil.example", "evil.example:5005", "rebind.127.0.0.1.nip.io:5005", "", None, "10.0.0.5:5005"])
def test_foreign_hosts_are_refused_on_loopback(host):
    assert not api_guard.Guard("127.0.0.1", {}).host_allowed(host)


def test_a_public_name_must_be_configured():
    guard = api_guard.Guard("0.0.0.0", {"PUBLIC_HOSTNAMES": "assistant.diabetes.dk, chat.diabetes.dk"})
    assert guard.host_allowed("assistant.diabetes.dk") and guard.host_allowed("CHAT.diabetes.dk:443")
    assert guard.host_allowed("192.168.1.20:5005"), "listening on every address, an address literal is this server"
    assert not guard.host_allowed("evil.example")


@pytest.mark.parametrize(
    "path, origin, allowed",
    [
        ("/conversations/x/tracker/events", None, True),
        ("/conversations/x/tracker/events", "http://evil.example", False),
        ("/webhooks/rest/webhook", "http://evil.example", False),
        ("/socket.io/", "http://127.0.0.1:8080", True),  # the widget channel checks its own origins
        ("/status", "https://diabetes.dk", True),
    ],
)
def test_requests_from_web_pages_are_refused_unless_listed(path, origin, allowed):
    guard = api_guard.Guard("127.0.0.1", {"API_ALLOWED_ORIGINS": "https://diabetes.dk"})
    assert guard.origin_allowed(path, origin) is allowed


def test_by_default_no_origin_is_allowed():
    assert not api_guard.Guard("127.0.0.1", {}).origin_allowed("/status", "https://diabetes.dk")


def test_the_refusal_names_what_to_configure():
    status, message = api_guard.Guard("127.0.0.1", {}).refusal("/status", {"host": "evil.example"})
    assert status == 421 and "PUBLIC_HOSTNAMES" in message
