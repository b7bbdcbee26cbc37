"""Rasa's HTTP API refuses every request without the right token; the channels stay open.

The shared test servers run as a deployment should: with RASA_TOKEN set.
"""
from __future__ import annotations

import pytest
import requests

CONVERSATION = "access-test-conversation"

# Every route of Rasa 3.6's HTTP API (rasa/server.py) that reads or changes conversations
# or the model. Bodies are valid enough that only the missing token can stop them.
PROTECTED = [
    ("GET", "/status", None),
    ("GET", f"/conversations/{CONVERSATION}/tracker", None),
    ("POST", f"/conversations/{CONVERSATION}/tracker/events", {"event": "slot", "name": "topic", "value": "x"}),
    ("PUT", f"/conversations/{CONVERSATION}/tracker/events", []),
    ("GET", f"/conversations/{CONVERSATION}/story", None),
    ("POST", f"/conversations/{CONVERSATION}/execute", {"name": "action_listen"}),
    ("POST", f"/conversations/{CONVERSATION}/trigger_intent", {"name": "greet"}),
    ("POST", f"/conversations/{CONVERSATION}/predict", None),
    ("POST", f"/conversations/{CONVERSATION}/messages", {"text": "hej", "sender": "user"}),
    ("POST", "/model/train", {}),
    ("POST", "/model/test/stories", None),
    ("POST", "/model/test/intents", None),
    ("POST", "/model/predict", []),
    ("POST", "/model/parse", {"text": "hej"}),
    ("PUT", "/model", {"model_file": "models/assistant.tar.gz"}),
    ("DELETE", "/model", None),
    ("GET", "/domain", None),
]


def call(assistant, method, path, body, params=None, headers=None):
    return requests.request(
        method, f"{assistant.url}{path}", json=body, params=params, headers=headers, timeout=60
    )


@pytest.mark.parametrize("method,path,body", PROTECTED, ids=[f"{m} {p}" for m, p, _ in PROTECTED])
def test_without_a_token_every_api_route_refuses(assistant, method, path, body):
    response = call(assistant, method, path, body)
    assert response.status_code == 401, response.text
    assert response.json()["reason"] == "NotAuthenticated"


@pytest.mark.parametrize("method,path,body", PROTECTED, ids=[f"{m} {p}" for m, p, _ in PROTECTED])
def test_a_wrong_token_is_refused_too(assistant, method, path, body):
    for params, headers in (({"token": "wrong-" + assistant.token}, None), (None, {"Authorization": "Bearer x.y.z"})):
        response = call(assistant, method, path, body, params=params, headers=headers)
        assert response.status_code == 401, response.text


def test_refused_writes_changed_nothing(assistant):
    for method, path, body in PROTECTED:
        if method in ("POST", "PUT") and path.startswith("/conversations/"):
            call(assistant, method, path, body)
    tracker = assistant.tracker(CONVERSATION)
    assert [event["event"] for event in tracker["events"]] in ([], ["action", "session_started", "action"])
    assert tracker["slots"]["topic"] is None


def test_with_the_token_the_api_answers(assistant):
    status = call(assistant, "GET", "/status", None, params=assistant.api_params())
    assert status.status_code == 200 and status.json()["model_file"]


def test_the_channels_need_no_token(assistant):
    sender = assistant.new_sender()
    replies = assistant.send(sender, "Hvad mener Diabetesforeningen om looping?")
    assert replies and all(reply.get("text") for reply in replies)
    assert requests.get(f"{assistant.url}/webhooks/rest/", timeout=30).status_code == 200
