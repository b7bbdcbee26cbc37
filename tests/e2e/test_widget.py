"""The chat widget in headless Chromium against the running assistant, and the socket's origin check.

The page comes from `python -m bot.widget_server` on a free port; the assistant is
started with WIDGET_ALLOWED_ORIGINS set to that origin (conftest.py). Screenshots go
to tests/artifacts/.
"""
from __future__ import annotations

import base64
import os
import re
import socket
from typing import Tuple
from urllib.parse import urlsplit

import requests

from bot import replies
from bot.channels.webchat import TRANSPORTS
from bot.servers import ARTIFACTS

TEXTS = replies.load()


def expect(*args, **kwargs):
    from playwright.sync_api import expect as playwright_expect

    playwright_expect.set_options(timeout=60_000)  # a reply can take a while on 2 cores
    return playwright_expect(*args, **kwargs)


def tab_to(page, locator, limit: int = 20) -> None:
    """Presses Tab until `locator` has the focus, as a keyboard user would."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if locator.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError(f"{locator} not reached with {limit} presses of Tab")


def user_events(assistant, sender):
    return [event for event in assistant.tracker(sender)["events"] if event["event"] == "user"]


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name))


# ---- in the browser -------------------------------------------------------


def test_a_danish_conversation_with_the_keyboard_only(page, widget_server, webchat_assistant):
    page.goto(widget_server + "/")
    launcher = page.get_by_role("button", name="Spørg om looping")
    expect(launcher).to_have_attribute("aria-expanded", "false")
    dialog = page.get_by_role("dialog", name="Diabetesforeningens chatassistent")
    expect(dialog).to_be_hidden()

    tab_to(page, launcher)
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    expect(launcher).to_have_attribute("aria-expanded", "true")
    message_box = dialog.get_by_role("textbox", name="Skriv dit spørgsmål")
    expect(message_box).to_be_focused()  # focus goes to the input on open
    log = dialog.get_by_role("log", name="Samtale med chatassistenten")
    expect(log).to_have_attribute("aria-live", "polite")

    page.keyboard.type("hvad mener diabetesforeningen om looping?")
    page.keyboard.press("Enter")
    expect(log.locator(".dfchat-message--user")).to_have_text(["Du skrev: hvad mener diabetesforeningen om looping?"])
    expect(log.locator(".dfchat-message--bot", has_text="Diabetesforeningen mener")).to_have_count(1)
    replies_group = log.get_by_role("group", name="Forslag til svar")
    expect(replies_group.get_by_role("button")).to_have_text(["Fortæl mere", "Tal med en person"])

    expect(message_box).to_be_focused()  # still there after sending: type the next question
    page.keyboard.type("hvad skal min datters basal være?")
    page.keyboard.press("Enter")
    refusal = log.locator(".dfchat-message--bot", has_text="Jeg kan ikke give råd om indstillinger")
    expect(refusal).to_have_count(1)
    assert not any(ch.isdigit() for ch in refusal.inner_text())
    talk_to_a_person = log.get_by_role("button", name="Tal med en person")
    expect(talk_to_a_person).to_have_count(1)  # the refusal's one button; the earlier ones are gone
    expect(log.get_by_role("button", name="Fortæl mere")).to_have_count(0)
    screenshot(page, "widget-da.png")  # the answer, the refusal and its button

    # The quick reply, by keyboard: Shift+Tab from the input reaches the last button.
    bot_messages = log.locator(".dfchat-message--bot").count()
    page.keyboard.press("Shift+Tab")
    expect(talk_to_a_person).to_be_focused()
    page.keyboard.press("Enter")
    expect(log.locator(".dfchat-message--user").last).to_have_text("Du skrev: Tal med en person")
    expect(message_box).to_be_focused()

    sender = "web:" + page.evaluate("DFChat.sessionId()")
    expect(log.locator(".dfchat-message--bot").nth(bot_messages)).to_be_visible()  # the handoff reply
    screenshot(page, "widget-da-handoff.png")

    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(launcher).to_be_focused()  # focus back to the launcher on close
    expect(launcher).to_have_attribute("aria-expanded", "false")

    # The payload, not the title, reached the assistant, with the page language as metadata.
    events = user_events(webchat_assistant, sender)
    assert [e["text"] for e in events] == [
        "hvad mener diabetesforeningen om looping?", "hvad skal min datters basal være?", "/ask_human",
    ]
    # (Rasa adds model_id and assistant_id to the metadata; the page sent only the language.)
    assert [(e["input_channel"], e["metadata"].get("language")) for e in events] == [("socketio", "da")] * 3
    slots = webchat_assistant.slots(sender)
    assert (slots["language"], slots["triage"]) == ("da", "handoff")


def test_the_english_page_gets_english_strings_and_the_language_prior(page, widget_server, webchat_assistant):
    page.goto(widget_server + "/en.html")
    page.get_by_role("button", name="Ask about looping").click()
    dialog = page.get_by_role("dialog", name="Diabetesforeningen's chat assistant")
    expect(dialog.get_by_role("button", name="Close the chat")).to_be_visible()
    expect(dialog.get_by_role("button", name="Send")).to_be_visible()
    message_box = dialog.get_by_role("textbox", name="Type your question")
    expect(message_box).to_be_focused()

    page.keyboard.type("ok")  # too short to tell: the page language decides
    dialog.get_by_role("button", name="Send").click()
    log = dialog.get_by_role("log", name="Conversation with the chat assistant")
    # The greeting (the server's widget_texts, in the page language) is first; then the reply.
    expect(log.locator(".dfchat-message--bot").first).to_have_text(
        "The assistant replied: " + TEXTS.text("intro", "en")
    )
    expect(log.locator(".dfchat-message--bot")).not_to_have_count(1)
    sender = "web:" + page.evaluate("DFChat.sessionId()")
    assert user_events(webchat_assistant, sender)[-1]["metadata"]["language"] == "en"
    assert webchat_assistant.slots(sender)["language"] == "en"
    screenshot(page, "widget-en.png")

    # A reload (or another page in the same tab) continues the conversation.
    shown = log.locator(".dfchat-message").all_inner_texts()
    page.reload()
    expect(dialog).to_be_visible()  # it was open
    expect(log.locator(".dfchat-message")).to_have_text(shown)
    assert "web:" + page.evaluate("DFChat.sessionId()") == sender

    dialog.get_by_role("button", name="Close the chat").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("button", name="Ask about looping")).to_be_focused()


def test_messages_are_shown_as_text_never_as_html(page, widget_server, webchat_assistant):
    page.goto(widget_server + "/")
    page.get_by_role("button", name="Spørg om looping").click()
    log = page.get_by_role("log")

    typed = '<b>fed</b> <img src=x onerror="window.injected=1"><script>window.injected=2</script>'
    page.get_by_role("textbox", name="Skriv dit spørgsmål").fill(typed)
    page.keyboard.press("Enter")
    expect(log.locator(".dfchat-message--user .dfchat-text")).to_have_text([typed])
    expect(log.locator(".dfchat-message--bot").first).to_be_visible()  # the conversation is on the server

    # A bot message with HTML, sent to this conversation through the socket.io channel.
    sender = "web:" + page.evaluate("DFChat.sessionId()")
    bot_text = '<b>Fed skrift</b> <i>kursiv</i> <script>window.injected=3</script><img src=x onerror="window.injected=4">'
    response = requests.post(
        f"{webchat_assistant.url}/conversations/{sender}/tracker/events",
        params={"output_channel": "latest", "execute_side_effects": "true", **webchat_assistant.api_params()},
        json=[{"event": "bot", "text": bot_text}],
        timeout=30,
    )
    response.raise_for_status()
    expect(log.locator(".dfchat-message--bot .dfchat-text").last).to_have_text(bot_text)

    assert log.locator("b, i, img, script").count() == 0
    assert page.evaluate("window.injected") is None
    screenshot(page, "widget-html-as-text.png")


# ---- the socket's origin check (no browser) ------------------------------


def polling_handshake(url: str, origin: str) -> requests.Response:
    """Engine.IO's first request, as a browser page on `origin` sends it."""
    return requests.get(
        f"{url}/socket.io/", params={"EIO": "4", "transport": "polling"}, headers={"Origin": origin}, timeout=10
    )


def websocket_handshake(url: str, origin: str) -> Tuple[int, str]:
    """Status and text of a WebSocket upgrade to the socket.io endpoint from `origin`."""
    parts = urlsplit(url)
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
        f"Host: {parts.netloc}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nOrigin: {origin}\r\n\r\n"
    )
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as connection:
        connection.sendall(request.encode())
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = connection.recv(4096)
            if not chunk:
                break
            answer += chunk
        head, _, body = answer.partition(b"\r\n\r\n")
        length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
        while length and len(body) < int(length.group(1)):
            chunk = connection.recv(4096)
            if not chunk:
                break
            body += chunk
        answer = head + b"\r\n\r\n" + body
    text = answer.decode("utf-8", "replace")
    return int(text.split()[1]), text


def test_the_socket_refuses_origins_not_allowed(webchat_assistant, widget_origin):
    allowed = polling_handshake(webchat_assistant.url, widget_origin)
    assert allowed.status_code == 200 and allowed.headers["Access-Control-Allow-Origin"] == widget_origin
    status, text = websocket_handshake(webchat_assistant.url, widget_origin)
    if "websocket" in TRANSPORTS:
        assert status == 101
    else:  # Python 3.11: long-polling only (bot/channels/webchat.py)
        assert status == 400 and "Invalid transport" in text
        assert '"upgrades":[]' in allowed.text
    # WIDGET_ALLOWED_ORIGINS replaces the defaults: 8080 is not allowed on this server.
    for origin in ("https://evil.example", "http://127.0.0.1:8080", widget_origin.replace("127.0.0.1", "localhost")):
        refused = polling_handshake(webchat_assistant.url, origin)
        assert refused.status_code == 400, origin
        assert "Access-Control-Allow-Origin" not in refused.headers
        assert "not an accepted origin" in refused.text
        status, text = websocket_handshake(webchat_assistant.url, origin)
        assert status == 400 and "not an accepted origin" in text, origin


def test_by_default_only_the_local_demo_page_may_connect(assistant):
    """The shared assistant runs with the defaults (tests/conftest.py blanks WIDGET_ALLOWED_ORIGINS)."""
    for origin in ("http://127.0.0.1:8080", "http://localhost:8080"):
        assert polling_handshake(assistant.url, origin).status_code == 200, origin
    for origin in ("https://evil.example", "http://127.0.0.1:8081", "null"):
        assert polling_handshake(assistant.url, origin).status_code == 400, origin
        status, text = websocket_handshake(assistant.url, origin)
        assert status == 400 and "not an accepted origin" in text, origin
