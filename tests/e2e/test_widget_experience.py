"""The chat widget as a person meets it, in headless Chromium against the running assistant:
reflow at 320 px and 400 % zoom, the full-screen dialog on a phone, the greeting and the
suggested questions, times, a new conversation, unread replies, messages that did not go
out, reload, the emergency reply, and an axe-core scan of each size (issue #11).

Each test opens its own browser context (`open_page` in conftest.py) with the viewport
it needs: 390x844 is a phone, 1280x800 a desktop, and 640x400 at device scale 2 and
320x200 at device scale 4 are that desktop at 200 % and 400 % zoom. Screenshots go to
tests/artifacts/ (ARTIFACTS), named after what they show.
"""
from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import pytest
import requests

from bot import replies
from bot.channels import widget_texts
from bot.privacy.retention import retention_days
from bot.servers import ARTIFACTS

VENDOR = Path(__file__).parent / "vendor"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
TEXTS = replies.load()
QUESTION = "Hvad mener Diabetesforeningen om looping?"
EMERGENCY = "min datter er bevidstløs"


def expect(*args, **kwargs):
    from playwright.sync_api import expect as playwright_expect

    playwright_expect.set_options(timeout=60_000)  # a reply can take a while on 2 cores
    return playwright_expect(*args, **kwargs)


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name))


def greeting(language: str = "da") -> str:
    return TEXTS.text("intro", language)


def privacy(language: str = "da") -> str:
    return TEXTS.text("privacy_note", language, retention_days=str(retention_days()))


def open_chat(page, language: str = "da"):
    """Opens the chat with its launcher and waits for the greeting; the dialog."""
    page.locator(".dfchat-launcher").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.locator(".dfchat-message--greeting")).to_have_count(1)
    return dialog


def ask(page, text: str) -> None:
    """Types a question and waits until the assistant's reply to it has come."""
    log = page.locator(".dfchat-log")
    before = log.locator(".dfchat-entry--bot").count()
    page.locator("#dfchat-input").fill(text)
    page.keyboard.press("Enter")
    expect(log.locator(".dfchat-entry--bot")).not_to_have_count(before)
    page.wait_for_timeout(1500)  # the rest of the turn (answers come in parts)


def sender(page) -> str:
    return "web:" + page.evaluate("DFChat.sessionId()")


def user_texts(assistant, conversation: str):
    events = assistant.tracker(conversation)["events"]
    return [event["text"] for event in events if event["event"] == "user"]


def say_as_bot(assistant, conversation: str, text: str, custom=None) -> None:
    """A bot message into the conversation, sent to the page through the socket.io channel
    (as the helpline sends staff messages)."""
    event = {"event": "bot", "text": text}
    if custom:
        event["data"] = {"custom": custom}
    response = requests.post(
        f"{assistant.url}/conversations/{conversation}/tracker/events",
        params={"output_channel": "latest", "execute_side_effects": "true", **assistant.api_params()},
        json=[event],
        timeout=30,
    )
    response.raise_for_status()


def box(page, selector: str):
    return page.locator(selector).first.bounding_box()


def assert_in_view_and_on_top(page, target) -> None:
    """The element (a selector or a locator) lies inside the viewport, and a click at its
    centre would reach it (it is not clipped or covered)."""
    locator = page.locator(target).first if isinstance(target, str) else target
    rect = locator.bounding_box()
    width, height = page.evaluate("[innerWidth, innerHeight]")
    assert rect is not None, f"{target} is not shown"
    assert rect["x"] >= -0.5 and rect["y"] >= -0.5, (target, rect)
    assert rect["x"] + rect["width"] <= width + 0.5 and rect["y"] + rect["height"] <= height + 0.5, (target, rect)
    on_top = locator.evaluate(
        """element => {
            const r = element.getBoundingClientRect();
            const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
            return !!hit && (hit === element || element.contains(hit));
        }"""
    )
    assert on_top, f"{target} is covered or clipped"


def no_horizontal_scrolling(page) -> None:
    widths = page.evaluate(
        """() => ({page: document.scrollingElement.scrollWidth, view: innerWidth,
                   panel: document.querySelector('.dfchat-panel').scrollWidth,
                   panelView: document.querySelector('.dfchat-panel').clientWidth})"""
    )
    assert widths["page"] <= widths["view"], widths
    assert widths["panel"] <= widths["panelView"], widths


# ---- reflow (WCAG 1.4.10) and the full-screen dialog ---------------------------------


@pytest.mark.parametrize("width, height, scale", [(320, 256, 4), (320, 200, 4), (640, 400, 2)])
def test_at_200_and_400_percent_zoom_the_header_log_and_input_stay_usable(open_page, width, height, scale):
    """A 1280-px window at 400 % zoom is 320 CSS px wide (1280x1024: 256, 1280x800: 200 tall);
    at 200 % 640x400. Old widget: a one-line conversation area at 200 %, at 400 % the header
    and the close button out of view."""
    page = open_page(width, height, scale)
    open_chat(page)
    ask(page, QUESTION)
    for selector in (".dfchat-title", ".dfchat-close", ".dfchat-restart", "#dfchat-input", ".dfchat-send"):
        assert_in_view_and_on_top(page, selector)
    body = box(page, ".dfchat-body")
    assert body["y"] >= 0 and body["y"] + body["height"] <= height + 0.5
    # the conversation has room: at least three lines, and (200 %) more than a third of the screen
    assert body["height"] >= (64 if height < 300 else height / 3), body
    log_in_view = page.evaluate(
        """() => { const log = document.querySelector('.dfchat-log').getBoundingClientRect();
                   const body = document.querySelector('.dfchat-body').getBoundingClientRect();
                   return Math.min(log.bottom, body.bottom) - Math.max(log.top, body.top); }"""
    )
    assert log_in_view >= body["height"] * 0.6, "the conversation does not fill its area"
    # the whole conversation can be scrolled to, and nothing scrolls sideways
    page.locator(".dfchat-body").evaluate("body => { body.scrollTop = body.scrollHeight; }")
    assert_in_view_and_on_top(page, page.locator(".dfchat-log > :last-child"))
    no_horizontal_scrolling(page)
    screenshot(page, f"widget-zoom-{400 if width == 320 else 200}-{width}x{height}-conversation.png")


def test_on_a_phone_the_chat_is_a_full_screen_modal_dialog(open_page):
    """Old widget: not full screen (the page around it), aria-modal="false", and Tab went on
    to the page content hidden behind the panel."""
    page = open_page(390, 844)
    launcher = page.get_by_role("button", name="Spørg om looping")
    dialog = open_chat(page)
    expect(dialog).to_have_attribute("aria-modal", "true")
    assert box(page, ".dfchat-panel") == {"x": 0, "y": 0, "width": 390, "height": 844}
    expect(launcher).to_be_hidden()  # under the full-screen chat
    # the page behind is inert and hidden from screen readers while the dialog is open
    for selector in ("main", "header.site-header", "a.skip"):
        expect(page.locator(selector)).to_have_attribute("inert", "")
        expect(page.locator(selector)).to_have_attribute("aria-hidden", "true")

    # Tab and Shift+Tab wrap inside the dialog
    page.locator("#dfchat-input").focus()
    for key in ["Tab"] * 14 + ["Shift+Tab"] * 14:
        page.keyboard.press(key)
        assert page.evaluate("document.getElementById('dfchat-panel').contains(document.activeElement)"), key
    first = dialog.get_by_role("button", name="Ny samtale")
    last = dialog.get_by_role("button", name="Send")
    last.focus()
    page.keyboard.press("Tab")
    expect(first).to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(last).to_be_focused()
    screenshot(page, "widget-phone-390x844-full-screen-greeting.png")

    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(launcher).to_be_focused()
    for selector in ("main", "header.site-header", "a.skip"):
        expect(page.locator(selector)).not_to_have_attribute("inert", "")
        expect(page.locator(selector)).not_to_have_attribute("aria-hidden", "true")
    expect(page.locator("html")).not_to_have_class(re.compile("dfchat-modal-open"))


def test_on_a_desktop_the_chat_is_a_panel_beside_the_page(open_page):
    page = open_page(1280, 800)
    dialog = open_chat(page)
    expect(dialog).to_have_attribute("aria-modal", "false")
    panel = box(page, ".dfchat-panel")
    assert panel["width"] < 640 and panel["x"] > 600  # bottom right, the page still usable
    expect(page.locator("main")).not_to_have_attribute("inert", "")
    page.keyboard.press("Escape")
    expect(page.get_by_role("button", name="Spørg om looping")).to_be_focused()


# ---- the opening: greeting, privacy note and suggestions from the server -----------------


@pytest.mark.parametrize("language, path", [("da", "/"), ("en", "/en.html")])
def test_the_chat_opens_with_greeting_privacy_note_and_suggested_questions(open_page, webchat_assistant, language, path):
    """Old widget: the panel opened empty, and the privacy note came in the first reply,
    after the first message was stored. The texts come from the server (replies.yml's intro
    and privacy_note, widget.yml's suggestions) in the page's language."""
    page = open_page(1280, 800, path=path)
    dialog = open_chat(page, language)
    log = dialog.get_by_role("log")
    notice = dialog.locator("#dfchat-notice")
    expect(notice).to_have_text(privacy(language))
    expect(notice).to_be_visible()
    assert float(page.evaluate("getComputedStyle(document.getElementById('dfchat-notice')).fontSize")[:-2]) >= 13
    expect(log.locator(".dfchat-message--bot .dfchat-text")).to_have_text([greeting(language)])
    suggestions = widget_texts.load_suggestions()[language]
    name = "Forslag til spørgsmål" if language == "da" else "Suggested questions"
    group = log.get_by_role("group", name=name)
    expect(group.get_by_role("button")).to_have_text([s["title"] for s in suggestions])
    # the privacy note and the greeting are in view before anyone types
    assert page.evaluate("document.querySelector('.dfchat-body').scrollTop") == 0
    screenshot(page, f"widget-desktop-1280x800-opening-{language}.png")

    group.get_by_role("button").first.click()
    expect(log.locator(".dfchat-message--user .dfchat-text")).to_have_text([suggestions[0]["title"]])
    expect(group).to_have_count(0)
    answer = log.locator(".dfchat-entry--bot").nth(1)
    expect(answer).to_be_visible()
    page.wait_for_timeout(1500)
    # the suggestion's payload reached the assistant, which answered the topic
    assert user_texts(webchat_assistant, sender(page)) == [suggestions[0]["payload"]]
    assert webchat_assistant.slots(sender(page))["topic"] == suggestions[0]["payload"][len("/ask_"):]
    # the greeting once, and the privacy note never as a message (it is in the notice)
    bubbles = log.locator(".dfchat-message .dfchat-text").all_inner_texts()
    assert bubbles.count(greeting(language)) == 1, bubbles
    assert all(privacy(language)[:40] not in text for text in bubbles), bubbles


def test_a_message_typed_before_the_connection_waits_for_the_privacy_note(open_page, webchat_assistant):
    """Typed at once after opening: sent only after the server's texts (and so the privacy
    note) are on the screen."""
    page = open_page(1280, 800)
    page.evaluate(
        """() => { window.noticeWhenSent = null;
                   const send = XMLHttpRequest.prototype.send;
                   XMLHttpRequest.prototype.send = function (body) {
                     if (typeof body === 'string' && body.includes('user_uttered') && window.noticeWhenSent === null) {
                       window.noticeWhenSent = document.getElementById('dfchat-notice').textContent;
                     }
                     return send.apply(this, arguments);
                   }; }"""
    )
    page.locator(".dfchat-launcher").click()
    page.locator("#dfchat-input").fill("hej")
    page.keyboard.press("Enter")
    expect(page.locator(".dfchat-entry--bot").nth(1)).to_be_visible()
    assert page.evaluate("window.noticeWhenSent") == privacy("da")
    texts = page.locator(".dfchat-message .dfchat-text").all_inner_texts()
    assert texts[:2] == [greeting("da"), "hej"]  # the greeting above the early message
    expect(page.get_by_role("group", name="Forslag til spørgsmål")).to_have_count(0)


# ---- times, a new conversation ------------------------------------------------------


def test_each_message_shows_its_time_and_keeps_it_over_a_reload(open_page):
    page = open_page(1280, 800)
    open_chat(page)
    ask(page, QUESTION)
    times = page.locator(".dfchat-entry .dfchat-meta time")
    count = page.locator(".dfchat-entry").count()
    expect(times).to_have_count(count)
    stamps = times.evaluate_all("nodes => nodes.map(n => [n.getAttribute('datetime'), n.textContent])")
    now = datetime.now().astimezone()
    for stamp, shown in stamps:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        assert abs((now - moment).total_seconds()) < 300, stamp
        assert re.fullmatch(r"\d\d:\d\d", shown) and shown == moment.astimezone().strftime("%H:%M"), shown
    page.reload()
    expect(page.locator(".dfchat-entry .dfchat-meta time")).to_have_count(count)
    again = page.locator(".dfchat-entry .dfchat-meta time").evaluate_all(
        "nodes => nodes.map(n => [n.getAttribute('datetime'), n.textContent])"
    )
    assert again == stamps


def test_new_conversation_starts_afresh_and_so_does_typing_restart(open_page, webchat_assistant):
    """Old widget: no restart control; a typed /restart reset the assistant while the old
    messages stayed on the screen."""
    page = open_page(390, 844)
    dialog = open_chat(page)
    ask(page, QUESTION)
    first = sender(page)
    first_token = page.evaluate("JSON.parse(sessionStorage.getItem('dfchat:v1')).sessionToken")
    assert first_token

    def assert_fresh(previous: str) -> str:
        expect(dialog.locator(".dfchat-message--user")).to_have_count(0)
        expect(dialog.locator(".dfchat-message .dfchat-text")).to_have_text([greeting("da")])
        expect(dialog.get_by_role("group", name="Forslag til spørgsmål").get_by_role("button")).to_have_count(
            len(widget_texts.load_suggestions()["da"])
        )
        conversation = sender(page)
        assert conversation != previous and re.fullmatch(r"web:[0-9a-f]{32}", conversation)
        page.wait_for_function("JSON.parse(sessionStorage.getItem('dfchat:v1')).sessionToken !== null")
        stored = page.evaluate("JSON.parse(sessionStorage.getItem('dfchat:v1'))")
        assert [m["text"] for m in stored["messages"]] == [greeting("da")]
        assert stored["sessionToken"] != first_token
        expect(dialog.locator("#dfchat-input")).to_be_focused()
        return conversation

    dialog.get_by_role("button", name="Ny samtale").click()
    second = assert_fresh(first)
    screenshot(page, "widget-phone-390x844-new-conversation.png")
    # the new conversation works, on the same socket, under its new id
    ask(page, "Hvad er looping?")
    assert user_texts(webchat_assistant, second) == ["Hvad er looping?"]

    page.locator("#dfchat-input").fill("  /RESTART ")
    page.keyboard.press("Enter")
    third = assert_fresh(second)
    page.wait_for_timeout(1000)
    # "/restart" went nowhere: not into the old conversations, and the new one is empty
    assert "/restart" not in [t.lower().strip() for t in user_texts(webchat_assistant, first) + user_texts(webchat_assistant, second)]
    assert user_texts(webchat_assistant, third) == []
    ask(page, "Hvad er looping?")
    assert user_texts(webchat_assistant, third) == ["Hvad er looping?"]


# ---- the closed chat, offline, reload ---------------------------------------------------


def unread(count: int):
    """The launcher's accessible name with the count of unread replies."""
    words = "1 ulæst besked" if count == 1 else f"{count} ulæste beskeder"
    return re.compile(r"^Spørg om looping\W+" + words + "$")


def test_replies_while_the_chat_is_closed_show_an_unread_count_that_survives_a_reload(open_page, webchat_assistant):
    """Old widget: a reply to a closed chat gave no sign."""
    page = open_page(1280, 800)
    open_chat(page)
    ask(page, QUESTION)
    conversation = sender(page)
    page.keyboard.press("Escape")
    launcher = page.locator(".dfchat-launcher")
    expect(launcher.locator(".dfchat-badge")).to_be_hidden()

    say_as_bot(webchat_assistant, conversation, "Har du flere spørgsmål?")
    expect(page.get_by_role("button", name=unread(1))).to_be_visible()
    expect(launcher.locator(".dfchat-badge")).to_have_text("1")
    say_as_bot(webchat_assistant, conversation, "Du kan også ringe til rådgivningen.")
    expect(page.get_by_role("button", name=unread(2))).to_be_visible()
    screenshot(page, "widget-desktop-1280x800-closed-with-2-unread.png")

    page.reload()  # the count is kept, and the closed chat still listens
    expect(page.get_by_role("button", name=unread(2))).to_be_visible()
    page.wait_for_function("DFChat.connected()")  # the closed chat connects again on load
    say_as_bot(webchat_assistant, conversation, "Vi er her, hvis du har brug for os.")
    expect(page.get_by_role("button", name=unread(3))).to_be_visible()

    page.get_by_role("button", name="Spørg om looping").click()
    expect(launcher.locator(".dfchat-badge")).to_be_hidden()
    expect(page.locator(".dfchat-message--bot").last).to_contain_text("Vi er her")
    page.reload()
    expect(launcher.locator(".dfchat-badge")).to_be_hidden()
    expect(page.get_by_role("button", name=re.compile("ulæst"))).to_have_count(0)


def test_a_message_sent_offline_is_marked_not_sent_and_can_be_retried(open_page, webchat_assistant):
    """Old widget: offline, a message looked sent."""
    page = open_page(390, 844)
    dialog = open_chat(page)
    conversation = sender(page)
    page.context.set_offline(True)
    try:
        page.locator("#dfchat-input").fill("er der nogen?")
        page.keyboard.press("Enter")
        failed = dialog.locator(".dfchat-entry--user", has_text="er der nogen?")
        expect(failed.get_by_text("Ikke sendt")).to_be_visible()
        expect(failed.get_by_role("button", name="Prøv igen")).to_be_visible()
        screenshot(page, "widget-phone-390x844-offline-not-sent.png")
    finally:
        page.context.set_offline(False)

    page.reload()  # kept over a reload, still marked
    failed = page.locator(".dfchat-entry--user", has_text="er der nogen?")
    expect(failed.get_by_text("Ikke sendt")).to_be_visible()
    failed.get_by_role("button", name="Prøv igen").click()
    expect(failed.get_by_text("Ikke sendt")).to_have_count(0)
    expect(page.locator(".dfchat-entry--bot").nth(1)).to_be_visible()
    page.wait_for_timeout(1500)
    assert user_texts(webchat_assistant, conversation) == ["er der nogen?"]
    expect(failed.get_by_text("Ikke sendt")).to_have_count(0)


def test_a_message_is_marked_not_sent_when_the_connection_breaks(open_page, webchat_assistant):
    """The server cannot be reached (the socket's requests fail): not sent; Retry sends it
    once the server is back."""
    page = open_page(1280, 800)
    dialog = open_chat(page)
    conversation = sender(page)
    page.route(re.compile(r".*/socket\.io/.*"), lambda route: route.abort())
    page.locator("#dfchat-input").fill("hvad er looping?")
    page.keyboard.press("Enter")
    failed = dialog.locator(".dfchat-entry--user", has_text="hvad er looping?")
    expect(failed.get_by_text("Ikke sendt")).to_be_visible()
    page.unroute(re.compile(r".*/socket\.io/.*"))
    failed.get_by_role("button", name="Prøv igen").click()
    expect(failed.get_by_text("Ikke sendt")).to_have_count(0)
    expect(dialog.locator(".dfchat-entry--bot").nth(1)).to_be_visible()
    page.wait_for_timeout(1500)
    assert user_texts(webchat_assistant, conversation) == ["hvad er looping?"]


def test_a_reload_keeps_the_quick_replies_and_the_scroll_position(open_page):
    """Old widget: a reload dropped the quick replies and scrolled to the top."""
    page = open_page(390, 640)
    open_chat(page)
    ask(page, QUESTION)
    ask(page, "Hvad er looping?")
    replies_group = page.get_by_role("group", name="Forslag til svar")
    titles = replies_group.get_by_role("button").all_inner_texts()
    assert titles
    body = page.locator(".dfchat-body")
    height, view = body.evaluate("b => [b.scrollHeight, b.clientHeight]")
    assert height > view + 150, "the conversation should be longer than the screen for this test"
    body.evaluate("b => { b.scrollTop = 150; b.dispatchEvent(new Event('scroll')); }")
    page.wait_for_timeout(400)
    page.reload()
    expect(page.get_by_role("group", name="Forslag til svar").get_by_role("button")).to_have_text(titles)
    page.wait_for_timeout(300)
    assert abs(page.locator(".dfchat-body").evaluate("b => b.scrollTop") - 150) <= 2

    # at the end before the reload: at the end after it
    page.locator(".dfchat-body").evaluate("b => { b.scrollTop = b.scrollHeight; b.dispatchEvent(new Event('scroll')); }")
    page.wait_for_timeout(400)
    page.reload()
    expect(page.get_by_role("group", name="Forslag til svar")).to_be_visible()
    page.wait_for_timeout(300)
    assert page.locator(".dfchat-body").evaluate("b => b.scrollHeight - b.scrollTop - b.clientHeight") < 4


# ---- the emergency reply and long replies ---------------------------------------------------


def assert_emergency_look(page, alert) -> None:
    expect(alert.get_by_role("link", name="Ring 112")).to_have_attribute("href", "tel:112")
    style = alert.evaluate(
        "a => { const s = getComputedStyle(a); return [s.fontWeight, s.borderTopColor, s.borderTopWidth, s.backgroundColor]; }"
    )
    assert int(style[0]) >= 700 and style[1] == "rgb(179, 38, 30)" and float(style[2][:-2]) >= 3, style
    link = alert.get_by_role("link", name="Ring 112").bounding_box()
    assert link["height"] >= 44 and link["width"] >= 100  # a big target to tap


def test_the_emergency_reply_is_an_alert_with_a_tap_to_call_link(open_page):
    """Old widget: the 112 reply looked like any other bubble. (This needs the emergency
    action to send the marker: actions set json_message={"emergency": {"call": "112"}}.)"""
    page = open_page(390, 844)
    dialog = open_chat(page)
    page.locator("#dfchat-input").fill(EMERGENCY)
    page.keyboard.press("Enter")
    alert = dialog.get_by_role("alert")
    expect(alert).to_have_count(1)
    expect(alert).to_contain_text(TEXTS.text("emergency", "da")[:20])
    assert_emergency_look(page, alert)
    screenshot(page, "widget-phone-390x844-emergency-reply.png")


def test_a_message_with_the_emergency_marker_is_shown_as_an_alert(open_page, webchat_assistant):
    """The widget's side of the marker, whatever sends it: through the channel's
    WebchatOutput as one message {"text", "emergency": {"call": "112"}}. Kept over a reload
    (without announcing it again)."""
    page = open_page(1280, 800)
    dialog = open_chat(page)
    ask(page, "hej")
    text = TEXTS.text("emergency", "da")
    say_as_bot(webchat_assistant, sender(page), text, custom={"emergency": {"call": "112"}})
    alert = dialog.get_by_role("alert")
    expect(alert).to_have_count(1)
    expect(alert.locator(".dfchat-text")).to_have_text(text)
    assert_emergency_look(page, alert)
    screenshot(page, "widget-desktop-1280x800-emergency-marker.png")
    page.reload()
    bubble = page.locator(".dfchat-message--emergency")
    expect(bubble).to_have_count(1)
    expect(bubble.get_by_role("link", name="Ring 112")).to_have_attribute("href", "tel:112")
    expect(page.get_by_role("alert")).to_have_count(0)


def test_no_bubble_is_taller_than_the_visible_conversation_on_a_phone(open_page):
    page = open_page(390, 844)
    open_chat(page)
    ask(page, QUESTION)
    view = page.locator(".dfchat-body").evaluate("b => b.clientHeight")
    heights = page.locator(".dfchat-message").evaluate_all("nodes => nodes.map(n => n.getBoundingClientRect().height)")
    assert heights and max(heights) <= view, (heights, view)
    # the start of the answer is in view after it came
    answer = page.locator(".dfchat-entry--bot").nth(1)
    top = answer.evaluate("e => e.getBoundingClientRect().top - document.querySelector('.dfchat-body').getBoundingClientRect().top")
    assert top >= -1
    screenshot(page, "widget-phone-390x844-answer.png")


# ---- axe-core ----------------------------------------------------------------------


def run_axe(page):
    page.add_script_tag(path=str(VENDOR / "axe.min.js"))
    return page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        AXE_TAGS,
    )


def describe(violations) -> str:
    return json.dumps(
        [{"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5],
          "summary": [n.get("failureSummary") for n in v["nodes"]][:2]} for v in violations],
        indent=1, ensure_ascii=False,
    )


@pytest.mark.parametrize(
    "name, width, height, scale",
    [
        ("phone-390x844", 390, 844, 1),
        ("desktop-1280x800", 1280, 800, 1),
        ("zoom200-640x400", 640, 400, 2),
        ("zoom400-320x200", 320, 200, 4),
    ],
)
def test_axe_finds_no_wcag_2_1_aa_violations_with_a_conversation_open(open_page, webchat_assistant, name, width, height, scale):
    """WCAG 2.0/2.1 A and AA rules of axe-core (tests/e2e/vendor/axe.min.js), with the chat
    open and in it: the greeting, an answer with quick replies, an emergency reply and a
    message that was not sent."""
    page = open_page(width, height, scale)
    open_chat(page)
    ask(page, QUESTION)
    say_as_bot(webchat_assistant, sender(page), TEXTS.text("emergency", "da"), custom={"emergency": {"call": "112"}})
    expect(page.get_by_role("alert")).to_have_count(1)
    page.context.set_offline(True)
    try:
        page.locator("#dfchat-input").fill("er du der?")
        page.keyboard.press("Enter")
        expect(page.get_by_text("Ikke sendt")).to_be_visible()
    finally:
        page.context.set_offline(False)
    page.locator(".dfchat-body").evaluate("b => { b.scrollTop = b.scrollHeight; }")
    page.wait_for_timeout(300)
    screenshot(page, f"widget-axe-{name}-conversation.png")
    result = run_axe(page)
    assert result["violations"] == [], describe(result["violations"])
    # and the opening screen, scrolled to the top
    page.locator(".dfchat-body").evaluate("b => { b.scrollTop = 0; }")
    page.wait_for_timeout(300)
    screenshot(page, f"widget-axe-{name}-top.png")
