"""The live handoff in headless Chromium, with two browser contexts: a person in the
widget and a member of staff in the console.

The person asks for someone and confirms; the staff member sees the ticket arrive live
(server-sent events), claims it and replies; the person sees the reply live and
answers; the staff member sees the answer. An emergency during the handoff gets 112,
both sides see it, and the ticket is marked as an emergency. Closing the ticket hands
the conversation back to the assistant. Screenshots of both sides, at phone and desktop
width, go to tests/artifacts/.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

import pytest

from bot import replies
from bot.servers import ARTIFACTS, ROOT, AssistantServers, free_port
from tests.e2e.conftest import background_server

TEXTS = replies.load()
PASSWORD = "en-lang-adgangskode-til-test"


def expect(*args, **kwargs):
    from playwright.sync_api import expect as playwright_expect

    playwright_expect.set_options(timeout=60_000)
    return playwright_expect(*args, **kwargs)


def shoot(page, name: str, width: int) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": width, "height": 844 if width < 500 else 900})
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


@pytest.fixture(scope="module")
def helpline_database():
    folder = tempfile.mkdtemp(prefix="handoff-e2e-")
    return f"sqlite:///{folder}/helpline.db"


@pytest.fixture(scope="module")
def webchat_assistant(trained_model, widget_origin, helpline_database):
    """Overrides conftest's: the assistant with this module's own helpline database."""
    servers = AssistantServers(
        trained_model, env={"WIDGET_ALLOWED_ORIGINS": widget_origin, "HELPLINE_DATABASE_URL": helpline_database}
    )
    servers.start()
    yield servers
    servers.stop()


@pytest.fixture(scope="module")
def console(webchat_assistant, helpline_database):
    """A staff account and the staff console (`python -m bot helpline serve`) on a free port."""
    env = {
        **os.environ, "PYTHONPATH": str(ROOT), "HELPLINE_DATABASE_URL": helpline_database,
        "RASA_URL": webchat_assistant.url, "RASA_TOKEN": webchat_assistant.token,
    }
    made = subprocess.run(
        [sys.executable, "-m", "bot", "helpline", "add-staff", "anna", "--display-name", "Anna", "--password-stdin"],
        cwd=ROOT, env=env, input=PASSWORD + "\n", capture_output=True, text=True, timeout=120,
    )
    assert made.returncode == 0, made.stderr
    port = free_port()
    command = [sys.executable, "-m", "bot", "helpline", "serve", "--port", str(port)]
    with background_server(command, f"http://127.0.0.1:{port}/login", f"console-{port}.log", env=env):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def browser(chromium_browser):
    """One headless Chromium (tests/e2e/conftest.py); each side of the conversation gets its own context."""
    return chromium_browser


def new_page(browser, errors):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="da-DK")
    context.set_default_timeout(60_000)
    tab = context.new_page()
    tab.on("pageerror", lambda error: errors.append(str(error)))
    return context, tab


def test_a_person_and_a_member_of_staff_talk_live_and_the_assistant_takes_over_again(
    browser, widget_server, webchat_assistant, console
):
    errors = []
    person_context, person = new_page(browser, errors)
    staff_context, staff = new_page(browser, errors)
    try:
        # The staff member logs in and waits at the queue.
        staff.goto(console + "/")
        staff.get_by_label("Brugernavn").fill("anna")
        staff.get_by_label("Adgangskode").fill(PASSWORD)
        staff.get_by_role("button", name="Log ind").click()
        queue = staff.locator("table.queue tbody tr")
        expect(staff.locator("h1")).to_have_text("Henvendelser")

        # The person asks for someone, is asked first, and confirms.
        person.goto(widget_server + "/")
        person.get_by_role("button", name="Spørg om looping").click()
        dialog = person.get_by_role("dialog", name="Diabetesforeningens chatassistent")
        box = dialog.get_by_role("textbox", name="Skriv dit spørgsmål")
        log = dialog.get_by_role("log", name="Samtale med chatassistenten")
        status = dialog.locator(".dfchat-status")
        box.fill("hvordan kontakter jeg rådgivningen?")  # a wish for a person, not unambiguous wording
        box.press("Enter")
        confirm = log.locator(".dfchat-message--bot", has_text=TEXTS.text("handoff.confirm", "da"))
        expect(confirm).to_have_count(1)
        log.get_by_role("button", name="Ja").click()
        expect(log.locator(".dfchat-message--bot", has_text="Jeg har givet besked til Diabetesforeningens rådgivning")).to_have_count(1)
        expect(status).to_have_text("Venter på en medarbejder …")
        assert "[" not in log.inner_text()
        bot_count = log.locator(".dfchat-message--bot").count()
        box.fill("Hallo? Er der nogen?")
        box.press("Enter")
        expect(log.locator(".dfchat-message--user").last).to_have_text("Du skrev: Hallo? Er der nogen?")
        expect(status).to_have_text("Venter på en medarbejder …")  # never "Assistenten skriver …"

        # The ticket arrives in the staff member's queue without a reload.
        expect(queue).to_have_count(1)
        row = queue.first
        expect(row).to_contain_text("Bad om en person")  # the reason
        expect(row).to_contain_text("Hjemmesiden")
        shoot(staff, "console-queue-desktop.png", 1280)
        shoot(staff, "console-queue-phone.png", 390)
        staff.set_viewport_size({"width": 1280, "height": 900})
        row.get_by_role("link").click()

        # The message sent while waiting is in the ticket, and the assistant did not answer it.
        expect(staff.locator("#transcript")).to_contain_text("Hallo? Er der nogen?")
        assert log.locator(".dfchat-message--bot").count() == bot_count

        # Claim and reply.
        staff.get_by_role("button", name="Tag henvendelsen").click()
        expect(staff.locator("#ticket-details")).to_contain_text("Anna")
        staff.get_by_label("Dit svar").fill("Hej, det er Anna fra rådgivningen. Hvad kan jeg hjælpe med?")
        staff.get_by_role("button", name="Send svaret").click()

        # The person sees it live, from a person, and answers.
        from_staff = log.locator(".dfchat-message--staff")
        expect(from_staff).to_have_count(1)
        expect(from_staff).to_contain_text("Anna, Diabetesforeningen")
        expect(from_staff).to_contain_text("Hvad kan jeg hjælpe med?")
        expect(status).to_have_text("Du skriver med Anna fra rådgivningen")
        bot_count = log.locator(".dfchat-message--bot").count()
        box.fill("Vi overvejer at loope med vores søn. Hvad gør vi?")
        box.press("Enter")
        transcript = staff.locator("#transcript")
        expect(transcript).to_contain_text("Vi overvejer at loope med vores søn")
        assert log.locator(".dfchat-message--bot").count() == bot_count, "the assistant stays silent"
        expect(status).to_have_text("Du skriver med Anna fra rådgivningen")  # not "the assistant is typing"
        shoot(person, "handoff-widget-desktop.png", 1280)
        shoot(person, "handoff-widget-phone.png", 390)
        person.set_viewport_size({"width": 1280, "height": 900})

        # An emergency during the handoff: 112 at once, seen on both sides, the ticket marked.
        box.fill("han har kramper og vi kan ikke vække ham")
        box.press("Enter")
        emergency = log.locator(".dfchat-message--bot", has_text="Ring 112 nu.")
        expect(emergency).to_have_count(1)
        expect(transcript).to_contain_text("han har kramper")
        expect(transcript).to_contain_text("Ring 112 nu.")
        staff.reload()
        expect(staff.locator("h1 .badge-emergency")).to_have_text("Akut")
        shoot(staff, "console-ticket-desktop.png", 1280)
        shoot(staff, "console-ticket-phone.png", 390)
        staff.set_viewport_size({"width": 1280, "height": 900})

        # Closing hands the conversation back, in one line.
        staff.get_by_role("button", name="Luk og giv samtalen tilbage til assistenten").click()
        hand_back = log.locator(".dfchat-message--bot", has_text=TEXTS.text("handoff.hand_back", "da"))
        expect(hand_back).to_have_count(1)
        expect(status).to_have_text("")
        box.fill("hvad er looping?")
        box.press("Enter")
        expect(log.locator(".dfchat-message--bot").last).not_to_have_text(TEXTS.text("handoff.hand_back", "da"))
        sender = "web:" + person.evaluate("DFChat.sessionId()")
        deadline = time.time() + 60
        while time.time() < deadline and webchat_assistant.slots(sender)["triage"] not in ("answered", "emergency"):
            time.sleep(0.5)
        assert not webchat_assistant.tracker(sender)["paused"]
        assert webchat_assistant.slots(sender)["triage"] in ("answered", "emergency")
    finally:
        person_context.close()
        staff_context.close()
    assert not errors, f"JavaScript errors: {errors}"
