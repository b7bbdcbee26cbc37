"""Facebook Messenger, hardened: Rasa 3.6's `FacebookInput` with stricter checks.

Registered in Rasa's credentials as `bot.channels.messenger.SecureFacebookInput` (see
bot/credentials.py); the routes stay Rasa's: `/webhooks/facebook/webhook`.

What it adds to Rasa's channel (docs/messenger.md):

* Incoming posts must carry `X-Hub-Signature-256: sha256=<HMAC-SHA256 of the raw body
  with the app secret>`, compared in constant time. The SHA-1 header alone is not
  accepted. Unsigned or wrongly signed posts get 403 and nothing is processed.
* The body is checked before anything is processed: not JSON, or not a Messenger page
  webhook (`object: page`, `entry[].messaging[]` with `sender.id`) is a 400. Nothing the
  request holds can make the handler answer 500.
* Typed text goes through bot.channels.input_text, as on every channel: cleaned
  (controls, bidi overrides, BOM removed; NFC); an empty message or one over 2,000
  characters is answered through the Send API without reaching Rasa (the too-long reply
  starts with 112). When the assistant fails on a message, the person gets an apology
  that names 112, and only the exception's class is logged.
* A post that passed the checks is answered 200 at once; its events are handled in the
  background (Meta retries a webhook that is slow to answer). Every messaging event of a
  batch is handled (Rasa's stops at the first one), one sender's events in the order they
  came, also across posts. Meta's redeliveries (same message id) are answered once, also
  when one arrives while the first delivery is still being answered: the id is remembered
  before the 200. Echoes of the page's own messages are ignored.
* Conversation ids are namespaced: a Messenger user's conversation is `fb:<PSID>`
  (`conversation_id`), so no other channel's sender id can name it; the output channel
  sends to the bare PSID (`psid_of`) and refuses a conversation id without the prefix.
* The verification handshake needs `hub.mode=subscribe` and the right token; otherwise 403.
* Replies go through our own small Send API client (aiohttp, so the event loop is never
  blocked): texts over Messenger's 2,000-character limit are split at paragraph,
  sentence or word boundaries; buttons become quick replies (at most 13, titles at most
  20 characters). The Graph API base URL comes from FACEBOOK_GRAPH_URL (https, or http
  on the loopback interface only, since the page access token is sent to it).
* No secret is logged: not the app secret, the page access token, the verify token
  (also redacted from Sanic's access log) or the signature.
* A postback (the welcome screen's Get Started button, payload "/get_started": see
  bot/channels/messenger_profile.py) goes to Rasa as its payload, like a quick reply, never
  marked as typed (payloads.TYPED_KEY), so a payload the assistant offers acts as its intent.

The emergency reply's call button:

* The 112 reply's bot message carries `{"emergency": {"call": "112", "title": "Ring 112"}}`
  in `custom` (`emergency_marker`). It is never sent as JSON: the text goes out as ONE
  button template (text at most 640 characters) with one `phone_number` button, the title
  from the marker (at most 20 characters) and the number as the Send API requires it,
  "+<country code><number>" (`call_number`: "112" becomes "+45112"). A longer text goes
  out as plain messages first (112 stays first) and then the template, with the text's
  first sentence (or the title) as its short text. A marker with a number that cannot be
  dialled is dropped and the text is sent as usual. The message takes the same way as
  any other (`_sending`), so in a thread the helpline's app owns it is sent between a
  take and a pass back, as a plain emergency text is.

Handoff to the helpline, and Meta's Handover Protocol:

* The assistant marks handoff moments with a `custom` payload on the bot message:
  `{"helpline": {"status": "waiting"}}` (handed to staff), `{"status": "live", "staff":
  "<name>"}` (a staff reply) and `{"status": "ended"}` (the handback). Such a payload is
  never sent to the Send API as a message; the output only acts on it (`helpline_marker`).
  A staff reply's text goes out prefixed with the staff member's name (`STAFF_PREFIX`).
* FACEBOOK_HANDOVER_APP_ID (the numeric id of the app staff's inbox is, e.g. Page Inbox;
  anything else stops the server at start) switches the Handover Protocol on: on
  `waiting` the output passes the thread to that app (`pass_thread_control`) after the
  text; on `ended` it takes the thread back (`take_thread_control`) before the text.
  While the other app owns a thread, Meta delivers the person's messages as
  `entry[].standby[]`: they go to Rasa like other messages, with metadata
  `{"standby": true}` and without typing indicators or mark_seen (the conversation is
  paused, so the assistant stays silent unless the guardrail sees an emergency). A
  message the output must send to such a thread (an emergency reply) goes out between
  a take and a pass back, so staff keep the thread. Which PSIDs are passed is kept in
  memory (`Handover`), shared by the input channel and its outputs. Without the variable
  there are no thread-control calls and standby entries are ignored. Graph API errors on
  these calls are logged (without personal data or secrets), never raised.
"""
from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import os
import re
import weakref
from collections import OrderedDict, deque
from contextvars import ContextVar
from typing import (
    Any,
    AsyncIterator,
    Awaitable,
    Callable,
    Deque,
    Dict,
    Iterable,
    List,
    NamedTuple,
    Optional,
    Sequence,
    Set,
    Text,
    Tuple,
    Union,
)
from urllib.parse import urlsplit

import aiohttp
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.facebook import FacebookInput
from rasa.shared.exceptions import RasaException
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels import input_text, payloads

logger = logging.getLogger(__name__)

GRAPH_URL_ENV = "FACEBOOK_GRAPH_URL"
DEFAULT_GRAPH_URL = "https://graph.facebook.com/v21.0"
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}

SIGNATURE_HEADER = "X-Hub-Signature-256"
SIGNATURE_PATTERN = re.compile(r"sha256=([0-9a-fA-F]{64})")

TEXT_LIMIT = 2000  # Messenger: "text ... has a 2000 character limit"
QUICK_REPLY_LIMIT = 13
QUICK_REPLY_TITLE_LIMIT = 20
QUICK_REPLY_PAYLOAD_LIMIT = 1000
MAX_BODY_BYTES = 1024 * 1024  # Meta batches at most 1,000 events; real bodies are far smaller
SEEN_MESSAGE_IDS = 2048
SEND_TIMEOUT_SECONDS = 15.0
MAX_CONCURRENT_TURNS = 16  # background turns answered at once (one sender's are always one at a time)
SHUTDOWN_GRACE_SECONDS = 10.0  # at shutdown, turns still running get this long to finish

# Messenger conversations are stored under "fb:<PSID>": all channels share one space of
# conversation ids, and without the prefix a REST post naming a PSID as its sender would
# write into that person's conversation.
SENDER_PREFIX = "fb:"

# The helpline handoff (module doc). The marker is the contract with the assistant's
# actions: {"helpline": {"status": "waiting" | "live" | "ended", "staff": "<name>"}}.
HELPLINE_KEY = "helpline"
WAITING, LIVE, ENDED = "waiting", "live", "ended"
STAFF_PREFIX = "{staff} (Diabetesforeningen): "  # before a staff reply's text
STAFF_PREFIX_UNNAMED = "Diabetesforeningen: "  # a staff reply without a staff name
STAFF_NAME_LIMIT = 60

# The emergency reply's call button (module doc). The marker is the contract with the
# assistant's actions: {"emergency": {"call": "112", "title": "Ring 112"}}.
EMERGENCY_KEY = "emergency"
BUTTON_TEMPLATE_TEXT_LIMIT = 640  # Messenger: the button template's text, "up to 640 characters"
BUTTON_TITLE_LIMIT = 20  # Messenger: a button's title, "20 character limit"
# The call button's payload "must have + prefix followed by the country code" (Meta's Call
# button reference); a number without one is Danish: "112" is sent as "+45112".
CALL_COUNTRY_CODE = "+45"
CALL_NUMBER_PATTERN = re.compile(r"\+[0-9]{3,15}")  # E.164: at most 15 digits

# Meta's Handover Protocol, on when FACEBOOK_HANDOVER_APP_ID names the app to pass to.
HANDOVER_APP_ENV = "FACEBOOK_HANDOVER_APP_ID"
HANDOVER_APP_ID_PATTERN = re.compile(r"[0-9]{1,20}")
MESSAGES_PATH = "me/messages"
PASS_THREAD_PATH = "me/pass_thread_control"
TAKE_THREAD_PATH = "me/take_thread_control"
PASS_METADATA = "helpline handoff"
TAKE_METADATA = "helpline closed"
EMERGENCY_METADATA = "helpline emergency reply"
STANDBY_KEY = "standby"  # in a UserMessage's metadata: the message came in entry[].standby[]


class MessengerConfigError(RasaException):
    """The channel's credentials or FACEBOOK_GRAPH_URL are missing or unsafe."""


class PayloadError(ValueError):
    """The body is not a Messenger page webhook; the message is safe to send back."""


# --- signatures ------------------------------------------------------------------------


def signature(app_secret: Text, body: bytes) -> Text:
    """The value Meta puts in X-Hub-Signature-256 for `body`."""
    return "sha256=" + hmac.new(app_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def valid_signature(app_secret: Text, body: bytes, header: Optional[Text]) -> bool:
    """True only for `sha256=<64 hex>` matching the HMAC-SHA256 of the raw body."""
    if not app_secret or not header:
        return False
    match = SIGNATURE_PATTERN.fullmatch(header.strip())
    if not match:
        return False
    expected = hmac.new(app_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode("ascii"), match.group(1).lower().encode("ascii"))


# --- conversation ids ------------------------------------------------------------------


def conversation_id(psid: Union[Text, int]) -> Text:
    """The Rasa conversation (sender) id of the Messenger user `psid`: "fb:<PSID>"."""
    return SENDER_PREFIX + str(psid)


def psid_of(conversation: Text) -> Optional[Text]:
    """The PSID in a Messenger conversation id ("fb:<PSID>"); None for any other id."""
    if not isinstance(conversation, str) or not conversation.startswith(SENDER_PREFIX):
        return None
    return conversation[len(SENDER_PREFIX):] or None


# --- payload ---------------------------------------------------------------------------


def parse_payload(body: bytes, standby: bool = False) -> Dict[Text, Any]:
    """The webhook body as a dict, checked for Messenger's page-webhook structure; with
    `standby` (Handover Protocol on), `entry[].standby[]` is checked like `messaging`.

    Raises PayloadError with a short reason (sent back with the 400).
    """
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: arrays nested thousands deep
        raise PayloadError("the body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise PayloadError("the body must be a JSON object")
    if payload.get("object") != "page":
        raise PayloadError('not a Messenger webhook: "object" must be "page"')
    entries = payload.get("entry")
    if not isinstance(entries, list) or not entries:
        raise PayloadError('not a Messenger webhook: "entry" must be a non-empty list')
    for entry in entries:
        if not isinstance(entry, dict):
            raise PayloadError('not a Messenger webhook: every "entry" item must be an object')
        _check_events(entry, "messaging")
        if standby:
            _check_events(entry, "standby")
    return payload


def _check_events(entry: Dict[Text, Any], field: Text) -> None:
    events = entry.get(field, [])
    if not isinstance(events, list):
        raise PayloadError(f'not a Messenger webhook: "entry[].{field}" must be a list')
    for event in events:
        if not isinstance(event, dict):
            raise PayloadError(f"not a Messenger webhook: every {field} event must be an object")
        sender = event.get("sender")
        if not isinstance(sender, dict) or not _is_id(sender.get("id")):
            raise PayloadError(f'not a Messenger webhook: every {field} event needs "sender.id"')
        for key in ("message", "postback"):
            if key in event and not isinstance(event[key], dict):
                raise PayloadError(f'not a Messenger webhook: "{key}" must be an object')


def _is_id(value: Any) -> bool:
    return (isinstance(value, str) and bool(value.strip())) or (isinstance(value, int) and not isinstance(value, bool))


def messaging_events(payload: Dict[Text, Any]) -> Iterable[Dict[Text, Any]]:
    for entry in payload["entry"]:
        yield from entry.get("messaging", [])


def page_events(payload: Dict[Text, Any], standby: bool = False) -> Iterable[Tuple[Dict[Text, Any], bool]]:
    """(event, came in standby) for every messaging event, entry by entry; with `standby`,
    each entry's `standby[]` events follow its `messaging[]` ones (parse_payload checked them)."""
    for entry in payload["entry"]:
        for event in entry.get("messaging", []):
            yield event, False
        if standby:
            for event in entry.get("standby", []):
                yield event, True


def event_is_echo(event: Dict[Text, Any]) -> bool:
    message = event.get("message")
    return isinstance(message, dict) and bool(message.get("is_echo"))


def event_text(event: Dict[Text, Any]) -> Optional[Text]:
    """What the person sent, as text for Rasa: a quick reply's payload, the typed text (even
    blank: input_text answers that), or a postback's payload. None for anything else
    (attachments, reads, deliveries, echoes)."""
    message = event.get("message")
    if isinstance(message, dict):
        if message.get("is_echo"):
            return None
        quick_reply = message.get("quick_reply")
        if isinstance(quick_reply, dict) and isinstance(quick_reply.get("payload"), str) and quick_reply["payload"]:
            return quick_reply["payload"]
        text = message.get("text")
        return text if isinstance(text, str) else None
    postback = event.get("postback")
    if isinstance(postback, dict):
        payload = postback.get("payload")
        return payload if isinstance(payload, str) and payload.strip() else None
    return None


def event_is_typed(event: Dict[Text, Any]) -> bool:
    """True for text the person typed (not a quick reply or a postback): never a "/" payload
    (bot/channels/payloads.py)."""
    message = event.get("message")
    return isinstance(message, dict) and not isinstance(message.get("quick_reply"), dict)


def event_message_id(event: Dict[Text, Any]) -> Optional[Text]:
    message = event.get("message") if isinstance(event.get("message"), dict) else event.get("postback")
    if isinstance(message, dict) and isinstance(message.get("mid"), str) and message["mid"]:
        return message["mid"]
    return None


# --- outgoing texts --------------------------------------------------------------------


def text_units(text: Text) -> int:
    """Length as Messenger counts it at worst: UTF-16 code units (an emoji may count twice)."""
    return len(text.encode("utf-16-le")) // 2


# Abbreviations whose full stop does not end a sentence (Danish and English).
ABBREVIATIONS = {
    "f.eks", "fx", "bl.a", "ca", "dvs", "mht", "pga", "evt", "jf", "jvf", "nr", "kl", "hhv", "osv", "mv",
    "inkl", "ekskl", "vedr", "iflg", "ift", "gl", "stk", "dr", "mr", "mrs", "ms", "prof", "e.g", "i.e",
    "etc", "vs", "approx", "no", "st", "cf",
}
SENTENCE_END = re.compile(r"[.!?…][\"'»”’)\]]*\s+(?=[\"'«»„“(\[]?[A-ZÆØÅÄÖÜÉ0-9])")


def split_text(text: Text, limit: int = TEXT_LIMIT) -> List[Text]:
    """`text` in pieces of at most `limit` UTF-16 units, cut at the last paragraph break,
    line break, sentence end or space that keeps the piece at least half full (in that
    order); a word longer than the limit is cut where it must be."""
    text = text.strip()
    pieces: List[Text] = []
    while text and text_units(text) > limit:
        cut = _cut_point(text, limit)
        head, text = text[:cut].rstrip(), text[cut:].lstrip()
        if head:
            pieces.append(head)
    if text:
        pieces.append(text)
    return pieces


def _cut_point(text: Text, limit: int) -> int:
    fits = _prefix_fitting(text, limit)
    window = text[:fits]
    floor = max(1, fits // 2)
    for candidates in (
        [m.end() for m in re.finditer(r"\n\s*\n", window)],
        [m.end() for m in re.finditer(r"\n", window)],
        [m.end() for m in SENTENCE_END.finditer(text, 0, fits + 1) if m.end() <= fits and _ends_sentence(text, m.start())],
    ):
        good = [c for c in candidates if c >= floor]
        if good:
            return good[-1]
    spaces = [m.end() for m in re.finditer(r"\s+", window)]
    good = [c for c in spaces if c >= floor] or spaces
    if good and good[-1] > 0:
        return good[-1]
    return fits  # one word longer than the limit


def _prefix_fitting(text: Text, limit: int) -> int:
    """The largest n with text_units(text[:n]) <= limit (at least 1)."""
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return max(1, index)
    return len(text)


def _ends_sentence(text: Text, stop: int) -> bool:
    """False when the full stop at `stop` closes an abbreviation such as "f.eks." or "fx."."""
    if text[stop] != ".":
        return True
    word = re.search(r"[\w.]+$", text[:stop])
    return not (word and word.group(0).lower().strip(".") in ABBREVIATIONS)


def shorten(title: Text, limit: int = QUICK_REPLY_TITLE_LIMIT) -> Text:
    """A title of at most `limit` characters, cut at a word with "…" when it must be cut."""
    title = " ".join(title.split())
    if len(title) <= limit:
        return title
    head = title[: limit - 1]
    if " " in head.strip():
        head = head[: head.rstrip().rfind(" ")]
    return head.rstrip(" ,.;:-") + "…"


def quick_replies(buttons: Optional[Sequence[Dict[Text, Any]]]) -> List[Dict[Text, Text]]:
    """Rasa buttons (`title`, `payload`) as Messenger quick replies (text, at most 13)."""
    converted: List[Dict[Text, Text]] = []
    for button in buttons or []:
        payload = button.get("payload") if isinstance(button, dict) else None
        if not isinstance(payload, str) or not payload.strip():
            logger.warning("A button without a payload cannot be a Messenger quick reply; left out.")
            continue
        if len(payload) > QUICK_REPLY_PAYLOAD_LIMIT:
            logger.warning("A button payload over %d characters was left out.", QUICK_REPLY_PAYLOAD_LIMIT)
            continue
        title = button.get("title")
        title = title if isinstance(title, str) and title.strip() else payload.lstrip("/")
        converted.append({"content_type": "text", "title": shorten(title), "payload": payload})
    if len(converted) > QUICK_REPLY_LIMIT:
        logger.warning("Messenger shows at most %d quick replies; %d left out.", QUICK_REPLY_LIMIT,
                       len(converted) - QUICK_REPLY_LIMIT)
        converted = converted[:QUICK_REPLY_LIMIT]
    return converted


# --- the helpline handoff --------------------------------------------------------------


def helpline_marker(custom: Any) -> Tuple[Optional[Dict[Text, Any]], Any]:
    """The helpline marker in a bot message's `custom` payload, and the payload without it.

    `custom` is a dict or a list of dicts; a dict with a "helpline" key is the marker (as
    a whole: it is never sent as a message). Returns (the marker's value, {} when that is
    not an object; or None when there is no marker) and what is left to send (None when
    nothing is).
    """
    if isinstance(custom, dict):
        if HELPLINE_KEY not in custom:
            return None, custom
        value = custom[HELPLINE_KEY]
        return (value if isinstance(value, dict) else {}), None
    if isinstance(custom, list):
        markers = [item for item in custom if isinstance(item, dict) and HELPLINE_KEY in item]
        if not markers:
            return None, custom
        value = markers[0][HELPLINE_KEY]
        rest = [item for item in custom if not (isinstance(item, dict) and HELPLINE_KEY in item)]
        return (value if isinstance(value, dict) else {}), (rest or None)
    return None, custom


def emergency_marker(custom: Any) -> Tuple[Optional[Dict[Text, Any]], Any]:
    """The emergency marker in a bot message's `custom` payload, and the payload without it.

    As `helpline_marker`: `custom` is a dict or a list of dicts; a dict with an "emergency"
    key is the marker as a whole (never sent), except that a helpline marker in the same
    dict is kept for `helpline_marker`. Returns (the marker's value, {} when that is not an
    object; or None when there is no marker) and what is left (None when nothing is).
    """

    def kept(item: Dict[Text, Any]) -> Optional[Dict[Text, Any]]:
        return {HELPLINE_KEY: item[HELPLINE_KEY]} if HELPLINE_KEY in item else None

    if isinstance(custom, dict):
        if EMERGENCY_KEY not in custom:
            return None, custom
        value = custom[EMERGENCY_KEY]
        return (value if isinstance(value, dict) else {}), kept(custom)
    if isinstance(custom, list):
        markers = [item for item in custom if isinstance(item, dict) and EMERGENCY_KEY in item]
        if not markers:
            return None, custom
        rest: List[Any] = []
        for item in custom:
            if isinstance(item, dict) and EMERGENCY_KEY in item:
                left = kept(item)
                if left is not None:
                    rest.append(left)
            else:
                rest.append(item)
        value = markers[0][EMERGENCY_KEY]
        return (value if isinstance(value, dict) else {}), (rest or None)
    return None, custom


def call_number(number: Any) -> Optional[Text]:
    """`number` as the Send API's call button wants it, "+<country code><number>": a number
    without a country code is Danish ("112" becomes "+45112"; "0045..." is "+45...").
    None for anything that is not a phone number."""
    if isinstance(number, int) and not isinstance(number, bool):
        number = str(number)
    if not isinstance(number, str):
        return None
    digits = re.sub(r"[\s\-().]", "", number)
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    elif digits and not digits.startswith("+"):
        digits = CALL_COUNTRY_CODE + digits
    return digits if CALL_NUMBER_PATTERN.fullmatch(digits) else None


def call_button(marker: Dict[Text, Any]) -> Optional[Dict[Text, Text]]:
    """The `phone_number` button for an emergency marker, or None when its number cannot be
    dialled. The title is the marker's (at most 20 characters), else the number as given."""
    number = call_number(marker.get("call"))
    if number is None:
        return None
    title = marker.get("title")
    if not isinstance(title, str) or not title.strip():
        title = str(marker.get("call"))
    return {"type": "phone_number", "title": shorten(title, BUTTON_TITLE_LIMIT), "payload": number}


def call_template(text: Text, button: Dict[Text, Text]) -> Dict[Text, Any]:
    """A Send API message: a button template with `text` above the one `button`."""
    return {"attachment": {"type": "template", "payload": {"template_type": "button", "text": text,
                                                           "buttons": [button]}}}


def first_sentence(text: Text) -> Text:
    """The text up to the end of its first sentence (all of it when it has one sentence)."""
    for match in SENTENCE_END.finditer(text):
        if _ends_sentence(text, match.start()):
            return text[:match.end()].strip()
    return text.strip()


def emergency_messages(text: Optional[Text], marker: Dict[Text, Any],
                       replies: Sequence[Dict[Text, Text]] = ()) -> List[Dict[Text, Any]]:
    """The Send API messages for a reply with an emergency marker (module doc): one button
    template when the text fits its 640 characters; else the text as plain messages and the
    template last, with the text's first sentence (or the button's title) as its text.
    Quick replies go with the last message. Without a dialable number: the text alone."""
    pieces = split_text(text or "")
    button = call_button(marker)
    if button is None:
        logger.warning("Messenger: an emergency marker without a number to call; the text is sent without a button.")
        messages: List[Dict[Text, Any]] = [{"text": piece} for piece in pieces]
    elif len(pieces) == 1 and text_units(pieces[0]) <= BUTTON_TEMPLATE_TEXT_LIMIT:
        messages = [call_template(pieces[0], button)]
    else:
        short = first_sentence(pieces[0]) if pieces else ""
        if not short or text_units(short) > BUTTON_TEMPLATE_TEXT_LIMIT:
            short = button["title"]
        messages = [*({"text": piece} for piece in pieces), call_template(short, button)]
    if replies:
        if not messages:
            messages = [{"text": "…"}]  # quick replies need a message to hang on
        messages[-1]["quick_replies"] = list(replies)
    return messages


def staff_prefix(staff: Any) -> Text:
    """What goes before a staff reply: `STAFF_PREFIX` with the staff member's display name
    (cleaned, on one line, at most 60 characters), or `STAFF_PREFIX_UNNAMED` without one."""
    name = " ".join(input_text.clean(staff).split())[:STAFF_NAME_LIMIT].strip() if isinstance(staff, str) else ""
    return STAFF_PREFIX.format(staff=name) if name else STAFF_PREFIX_UNNAMED


def handover_app_id(value: Optional[Text] = None) -> Optional[int]:
    """The app to pass threads to (FACEBOOK_HANDOVER_APP_ID, or `value`); None when unset
    (the Handover Protocol is off). Anything but an app id of digits is a config error."""
    raw = value if value is not None else os.environ.get(HANDOVER_APP_ENV)
    raw = (raw or "").strip()
    if not raw:
        return None
    if not HANDOVER_APP_ID_PATTERN.fullmatch(raw) or int(raw) == 0:
        raise MessengerConfigError(
            f"{HANDOVER_APP_ENV} must be the numeric app id of the app that gets the conversation during a "
            f"handoff (e.g. Page Inbox: 263902037430900), or unset to leave the Handover Protocol off."
        )
    return int(raw)


# --- the Send API ----------------------------------------------------------------------


def graph_url(value: Optional[Text] = None) -> Text:
    """The Graph API base URL (with version): FACEBOOK_GRAPH_URL or Facebook's.

    Only https, or http to the loopback interface (tests), because every call carries
    the page access token.
    """
    url = (value if value is not None else os.environ.get(GRAPH_URL_ENV) or DEFAULT_GRAPH_URL).strip().rstrip("/")
    parts = urlsplit(url)
    local = (parts.hostname or "") in LOOPBACK_HOSTS
    if parts.scheme not in ("https", "http") or not parts.hostname or (parts.scheme == "http" and not local):
        raise MessengerConfigError(
            f"{GRAPH_URL_ENV} must be an https URL (http only on 127.0.0.1/localhost), e.g. {DEFAULT_GRAPH_URL}"
        )
    if parts.query or parts.fragment or parts.username or parts.password:
        raise MessengerConfigError(f"{GRAPH_URL_ENV} must not hold a query, fragment or credentials")
    return url


class GraphAPI:
    """Posts to the Send API (`<graph url>/me/messages`) and the Handover Protocol's calls
    with the page access token and its appsecret_proof. Failures are logged (without
    secrets or the recipient's id) and never raised."""

    def __init__(self, page_access_token: Text, app_secret: Text, base_url: Optional[Text] = None,
                 timeout: float = SEND_TIMEOUT_SECONDS) -> None:
        self.base_url = graph_url(base_url)
        self._params = {
            "access_token": page_access_token,
            "appsecret_proof": hmac.new(
                app_secret.encode("utf-8"), page_access_token.encode("utf-8"), hashlib.sha256
            ).hexdigest(),
        }
        self._secrets = [s for s in (page_access_token, app_secret) if s]
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    def __repr__(self) -> Text:
        return f"GraphAPI(base_url={self.base_url!r})"

    async def send(self, body: Dict[Text, Any]) -> bool:
        """POSTs one Send API call; True when the Graph API accepted it."""
        return await self.post(MESSAGES_PATH, body)

    async def post(self, path: Text, body: Dict[Text, Any]) -> bool:
        """POSTs `body` to `<graph url>/<path>` (e.g. "me/pass_thread_control"); True when
        the Graph API accepted it."""
        what = "The Send API" if path == MESSAGES_PATH else f"The Graph API ({path})"
        recipient = body.get("recipient") if isinstance(body.get("recipient"), dict) else {}
        hide = [str(recipient["id"])] if recipient.get("id") else []
        try:
            async with aiohttp.ClientSession(timeout=self._timeout) as session:
                async with session.post(f"{self.base_url}/{path}", params=self._params, json=body) as answer:
                    if answer.status < 400:
                        return True
                    detail = await answer.text()
                    logger.error("%s refused %s (HTTP %s): %s", what,
                                 "a message" if path == MESSAGES_PATH else "the call", answer.status,
                                 self._redact(_graph_error(detail), hide))
        except asyncio.CancelledError:
            raise
        except Exception as error:  # network, timeout, anything: log the kind, never the URL
            logger.error("%s could not be reached: %s", what, type(error).__name__)
        return False

    def _redact(self, text: Text, hide: Sequence[Text] = ()) -> Text:
        for secret in [*self._secrets, *hide]:
            text = text.replace(secret, "[redacted]")
        return re.sub(r"(access_token|appsecret_proof)=[^&\s\"']+", r"\1=[redacted]", text)


def _graph_error(detail: Text) -> Text:
    """The Graph API's error object, summarised: code, type, message, fbtrace_id."""
    try:
        error = json.loads(detail).get("error", {})
        return ", ".join(f"{key}={error[key]}" for key in ("code", "error_subcode", "type", "message", "fbtrace_id")
                         if key in error)[:500]
    except (ValueError, AttributeError):
        return detail[:200]


class Handover:
    """Meta's Handover Protocol for the page: who owns which person's thread.

    One instance is shared by the input channel and every output it creates. `app_id` is
    the app threads are passed to during a handoff (FACEBOOK_HANDOVER_APP_ID); None turns
    the protocol off (no thread-control calls, nothing is ever "passed"). The PSIDs whose
    thread that app owns are kept in memory: added when a pass succeeds or a standby event
    arrives, removed when the assistant takes a thread back at the end of a handoff.
    """

    def __init__(self, graph: GraphAPI, app_id: Optional[int] = None) -> None:
        self.graph = graph
        self.app_id = app_id
        self._passed: Set[Text] = set()
        # per PSID: one sender at a time while thread control may change
        self._locks: "weakref.WeakValueDictionary[Text, asyncio.Lock]" = weakref.WeakValueDictionary()

    @classmethod
    def from_env(cls, graph: GraphAPI) -> "Handover":
        return cls(graph, handover_app_id())

    def __repr__(self) -> Text:
        return f"Handover(app_id={self.app_id!r}, passed={len(self._passed)})"

    @property
    def enabled(self) -> bool:
        return self.app_id is not None

    def is_passed(self, psid: Text) -> bool:
        return psid in self._passed

    def mark_passed(self, psid: Text) -> None:
        """Another app owns the thread (a standby event came)."""
        if self.enabled:
            self._passed.add(psid)

    def lock(self, psid: Text) -> asyncio.Lock:
        lock = self._locks.get(psid)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[psid] = lock
        return lock

    async def pass_thread(self, psid: Text, metadata: Text) -> bool:
        """`pass_thread_control` to the helpline's app; True when Meta accepted it."""
        if not self.enabled:
            return False
        passed = await self.graph.post(
            PASS_THREAD_PATH, {"recipient": {"id": psid}, "target_app_id": self.app_id, "metadata": metadata}
        )
        if passed:
            self._passed.add(psid)
            logger.info("Messenger: a thread was passed to the helpline's app (%s).", metadata)
        else:
            logger.warning("Messenger: a thread could not be passed to the helpline's app (%s).", metadata)
        return passed

    async def take_thread(self, psid: Text, metadata: Text, release: bool = False) -> bool:
        """`take_thread_control` back from the helpline's app; with `release` the PSID is
        no longer counted as passed (also when Meta refuses: the handoff is over)."""
        if not self.enabled:
            return False
        if release:
            self._passed.discard(psid)
        taken = await self.graph.post(TAKE_THREAD_PATH, {"recipient": {"id": psid}, "metadata": metadata})
        if taken:
            logger.info("Messenger: a thread was taken back from the helpline's app (%s).", metadata)
        else:
            logger.warning("Messenger: a thread could not be taken back from the helpline's app (%s).", metadata)
        return taken


# Per asyncio task: the PSIDs whose lock it holds, and those whose thread it has borrowed
# (taken for a message, to be passed back), so nested sends neither wait for themselves
# nor take and pass once per piece of a message.
_HELD: "ContextVar[frozenset]" = ContextVar("messenger_threads_held", default=frozenset())
_BORROWED: "ContextVar[frozenset]" = ContextVar("messenger_threads_borrowed", default=frozenset())


class SecureMessengerBot(OutputChannel):
    """Sends the assistant's messages to one person on Messenger through `GraphAPI`.

    Every `recipient_id` it is given is a conversation id ("fb:<PSID>"); the Send API gets
    the bare PSID. A conversation id of another channel is refused (logged, nothing sent).
    A helpline marker in `custom` is acted on, never sent (module doc); `handover` is the
    channel's shared `Handover` (read from FACEBOOK_HANDOVER_APP_ID when not given).
    """

    @classmethod
    def name(cls) -> Text:
        return "facebook"

    def __init__(self, graph: GraphAPI, handover: Optional[Handover] = None) -> None:
        super().__init__()
        self.graph = graph
        self.handover = handover if handover is not None else Handover.from_env(graph)

    @contextlib.asynccontextmanager
    async def _hold(self, psid: Optional[Text]) -> AsyncIterator[None]:
        """With the Handover Protocol on, one sender at a time per PSID (re-entrant)."""
        held = _HELD.get()
        if psid is None or not self.handover.enabled or psid in held:
            yield
            return
        async with self.handover.lock(psid):
            token = _HELD.set(held | {psid})
            try:
                yield
            finally:
                _HELD.reset(token)

    @contextlib.asynccontextmanager
    async def _borrow(self, psid: Optional[Text]) -> AsyncIterator[None]:
        """Messages to a thread the helpline's app owns (an emergency reply) go out between
        take_thread_control and pass_thread_control back, so staff keep the thread."""
        borrowed = _BORROWED.get()
        if psid is None or psid in borrowed or not self.handover.is_passed(psid):
            yield
            return
        token = _BORROWED.set(borrowed | {psid})
        try:
            await self.handover.take_thread(psid, EMERGENCY_METADATA)
            yield
        finally:
            _BORROWED.reset(token)
            await self.handover.pass_thread(psid, EMERGENCY_METADATA)

    @contextlib.asynccontextmanager
    async def _sending(self, recipient_id: Text) -> AsyncIterator[None]:
        psid = psid_of(recipient_id)
        async with self._hold(psid), self._borrow(psid):
            yield

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        """Rasa's send_response; a helpline marker in `custom` is acted on, never sent:
        `waiting` passes the thread after the text, `ended` takes it back before the text,
        `live` puts the staff member's name before the text."""
        message = dict(message)
        call, custom = emergency_marker(message.get("custom"))
        if call is not None:
            if custom is None:
                message.pop("custom", None)
            else:
                message["custom"] = custom
        marker, rest = helpline_marker(message.get("custom"))
        if marker is None:
            async with self._sending(recipient_id):
                await self._respond(recipient_id, message, call)
            return
        if rest is None:
            message.pop("custom", None)
        else:
            message["custom"] = rest
        status = marker.get("status")
        if status not in (WAITING, LIVE, ENDED):
            logger.warning("Messenger: a helpline marker without a known status; the message is sent without it.")
        text = message.get("text")
        if status == LIVE and isinstance(text, str) and text.strip():
            message["text"] = staff_prefix(marker.get("staff")) + text.strip()
        psid = psid_of(recipient_id)
        async with self._hold(psid):
            if status == ENDED:
                await self._take_back(psid)
            async with self._borrow(psid):
                await self._respond(recipient_id, message, call)
            if status == WAITING:
                await self._pass_on(psid)

    async def _respond(self, recipient_id: Text, message: Dict[Text, Any],
                       call: Optional[Dict[Text, Any]]) -> None:
        """Rasa's send_response; with an emergency marker (`call`), the text and its quick
        replies go out with the call button (`emergency_messages`), then whatever else the
        message holds."""
        if call is None:
            await super().send_response(recipient_id, message)
            return
        text = message.pop("text", None)
        buttons = message.pop("quick_replies", None) or message.pop("buttons", None)
        message.pop("buttons", None)
        await self._send_call(recipient_id, text if isinstance(text, str) else None, call, quick_replies(buttons))
        await super().send_response(recipient_id, message)

    async def _send_call(self, recipient_id: Text, text: Optional[Text], call: Dict[Text, Any],
                         replies: Sequence[Dict[Text, Text]] = ()) -> None:
        async with self._sending(recipient_id):  # one take and pass for all the messages
            for message in emergency_messages(text, call, replies):
                await self._send_message(recipient_id, message)

    async def _pass_on(self, psid: Optional[Text]) -> None:
        """The handoff begins: the thread goes to the helpline's app (Handover Protocol on)."""
        if psid is not None and self.handover.enabled and not self.handover.is_passed(psid):
            await self.handover.pass_thread(psid, PASS_METADATA)

    async def _take_back(self, psid: Optional[Text]) -> None:
        """The handoff is over: the assistant takes the thread back (Handover Protocol on)."""
        if psid is not None and self.handover.enabled:
            await self.handover.take_thread(psid, TAKE_METADATA, release=True)

    @staticmethod
    def _recipient(recipient_id: Text) -> Optional[Dict[Text, Text]]:
        psid = psid_of(recipient_id)
        if psid is None:
            logger.warning("Messenger: not a Messenger conversation id (no %r prefix); nothing sent.", SENDER_PREFIX)
            return None
        return {"id": psid}

    async def _send_message(self, recipient_id: Text, message: Dict[Text, Any]) -> bool:
        recipient = self._recipient(recipient_id)
        if recipient is None:
            return False
        async with self._sending(recipient_id):
            return await self.graph.send({"recipient": recipient, "messaging_type": "RESPONSE", "message": message})

    async def send_action(self, recipient_id: Text, sender_action: Text) -> None:
        """mark_seen, typing_on or typing_off."""
        recipient = self._recipient(recipient_id)
        if recipient is not None:
            await self.graph.send({"recipient": recipient, "sender_action": sender_action})

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        await self._send_texts(recipient_id, text, [])

    async def send_text_with_buttons(self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]],
                                     **kwargs: Any) -> None:
        await self._send_texts(recipient_id, text, quick_replies(buttons))

    async def send_quick_replies(self, recipient_id: Text, text: Text, quick_replies: List[Dict[Text, Any]],
                                 **kwargs: Any) -> None:
        await self.send_text_with_buttons(recipient_id, text, quick_replies)

    async def _send_texts(self, recipient_id: Text, text: Optional[Text], replies: List[Dict[Text, Text]]) -> None:
        """The text in pieces of at most 2,000 characters; quick replies go with the last."""
        pieces = split_text(text or "")
        if not pieces and replies:
            pieces = ["…"]  # quick replies need a message to hang on
        if not pieces:
            return
        async with self._sending(recipient_id):  # one take and pass for all the pieces
            for index, piece in enumerate(pieces):
                message: Dict[Text, Any] = {"text": piece}
                if replies and index == len(pieces) - 1:
                    message["quick_replies"] = replies
                await self._send_message(recipient_id, message)

    async def send_image_url(self, recipient_id: Text, image: Text, **kwargs: Any) -> None:
        await self._send_message(
            recipient_id, {"attachment": {"type": "image", "payload": {"url": image, "is_reusable": True}}}
        )

    async def send_attachment(self, recipient_id: Text, attachment: Text, **kwargs: Any) -> None:
        await self.send_text_message(recipient_id, str(attachment))

    async def send_elements(self, recipient_id: Text, elements: Iterable[Dict[Text, Any]], **kwargs: Any) -> None:
        elements = list(elements)
        for element in elements:
            for button in element.get("buttons", []) or []:
                button.setdefault("type", "postback")
        await self._send_message(
            recipient_id,
            {"attachment": {"type": "template", "payload": {"template_type": "generic", "elements": elements}}},
        )

    async def send_custom_json(self, recipient_id: Text, json_message: Union[List, Dict[Text, Any]],
                               **kwargs: Any) -> None:
        """A custom payload is sent as the Send API `message` object, as it is; a helpline
        marker is never sent, only acted on (`waiting` passes the thread, `ended` takes it
        back, with the Handover Protocol on); an emergency marker on its own becomes the
        call button, with its title as the text."""
        call, json_message = emergency_marker(json_message)
        marker, rest = helpline_marker(json_message)
        if marker is not None:
            psid = psid_of(recipient_id)
            async with self._hold(psid):
                if marker.get("status") == ENDED:
                    await self._take_back(psid)
                elif marker.get("status") == WAITING:
                    await self._pass_on(psid)
        if call is not None:
            await self._send_call(recipient_id, None, call)
        for message in rest if isinstance(rest, list) else [rest]:
            if isinstance(message, dict):
                await self._send_message(recipient_id, message)


# --- the input channel -----------------------------------------------------------------


class _RedactVerifyToken(logging.Filter):
    """Keeps the verify token out of Sanic's access log (the handshake sends it in the URL)."""

    PATTERN = re.compile(r"(hub\.verify_token=)[^&\s]*")

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        if isinstance(request, str):
            record.request = self.PATTERN.sub(r"\1[redacted]", request)
        return True


class _Turn(NamedTuple):
    """One accepted messaging event, waiting to be handled in the background."""

    psid: Text
    text: Text
    message_id: Optional[Text]
    metadata: Optional[Dict[Text, Any]]
    on_new_message: Callable[[UserMessage], Awaitable[Any]]
    standby: bool = False  # came in entry[].standby[]: the helpline's app owns the thread


def _install_access_log_filter() -> None:
    from sanic.log import access_logger

    if not any(isinstance(f, _RedactVerifyToken) for f in access_logger.filters):
        access_logger.addFilter(_RedactVerifyToken())


class SecureFacebookInput(FacebookInput):
    """Rasa's Facebook channel with signature, payload and handshake checks (module doc)."""

    @classmethod
    def name(cls) -> Text:
        return "facebook"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        if not credentials:
            cls.raise_missing_credentials_exception()
        values = {}
        for key in ("verify", "secret", "page-access-token"):
            value = credentials.get(key)
            if isinstance(value, int) and not isinstance(value, bool):
                value = str(value)  # an all-digit token written unquoted in YAML
            values[key] = value.strip() if isinstance(value, str) else ""
        missing = [key for key, value in values.items() if not value]
        if missing:
            raise MessengerConfigError(f"The Messenger channel needs non-empty credentials: {', '.join(missing)}.")
        return cls(values["verify"], values["secret"], values["page-access-token"])

    def __init__(self, fb_verify: Text, fb_secret: Text, fb_access_token: Text,
                 graph_base_url: Optional[Text] = None) -> None:
        if not (fb_verify and fb_secret and fb_access_token):
            raise MessengerConfigError("The Messenger channel needs the verify token, app secret and page token.")
        super().__init__(fb_verify, fb_secret, fb_access_token)
        self.graph = GraphAPI(fb_access_token, fb_secret, graph_base_url)
        self.handover = Handover.from_env(self.graph)  # shared with every output channel
        self._seen: "OrderedDict[Text, None]" = OrderedDict()
        self._queues: Dict[Text, Deque[_Turn]] = {}  # per PSID: turns not yet started
        self._tasks: Set["asyncio.Task[None]"] = set()  # references, so running tasks are not collected
        self._slots = asyncio.Semaphore(MAX_CONCURRENT_TURNS)

    def __repr__(self) -> Text:
        return f"SecureFacebookInput(graph={self.graph!r})"

    @staticmethod
    def validate_hub_signature(app_secret: Text, request_payload: bytes, hub_signature_header: Text) -> bool:
        """SHA-256 only (the X-Hub-Signature-256 value); Rasa's accepted any hashlib name."""
        return valid_signature(app_secret, request_payload, hub_signature_header)

    def get_output_channel(self) -> OutputChannel:
        return SecureMessengerBot(self.graph, self.handover)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        _install_access_log_filter()
        fb_webhook = Blueprint("secure_fb_webhook", __name__)

        @fb_webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @fb_webhook.route("/webhook", methods=["GET"])
        async def token_verification(request: Request) -> HTTPResponse:
            return self.verify_handshake(request.args.get("hub.mode"), request.args.get("hub.verify_token"),
                                         request.args.get("hub.challenge"))

        @fb_webhook.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            try:
                return await self.receive(request, on_new_message)
            except Exception:  # never a 500 from here; the request was authentic or it would not get this far
                logger.exception("Messenger webhook: unexpected error; the event was dropped.")
                return response.json({"status": "error", "detail": "the event could not be handled"}, status=200)

        @fb_webhook.listener("before_server_stop")
        async def finish_turns(app: Any, loop: Any) -> None:
            await self.shut_down(SHUTDOWN_GRACE_SECONDS)

        return fb_webhook

    def verify_handshake(self, mode: Optional[Text], token: Optional[Text], challenge: Optional[Text]) -> HTTPResponse:
        """Meta's subscription check: echo hub.challenge when the mode and token are right."""
        if mode != "subscribe" or not isinstance(token, str) or not hmac.compare_digest(
            token.encode("utf-8"), self.fb_verify.encode("utf-8")
        ):
            logger.warning("Messenger verification refused: wrong hub.mode or hub.verify_token.")
            return response.json({"error": "verification failed"}, status=403)
        if not challenge:
            return response.json({"error": "hub.challenge is missing"}, status=400)
        logger.info("Messenger webhook verified.")
        return response.text(challenge)

    async def receive(self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> HTTPResponse:
        body = request.body or b""
        if len(body) > MAX_BODY_BYTES:
            return response.json({"error": "the body is too large"}, status=413)
        if not valid_signature(self.fb_secret, body, request.headers.get(SIGNATURE_HEADER)):
            logger.warning("Messenger webhook refused: missing or wrong %s.", SIGNATURE_HEADER)
            return response.json({"error": f"missing or invalid {SIGNATURE_HEADER}"}, status=403)
        standby = self.handover.enabled  # without the Handover Protocol, standby events are ignored
        try:
            payload = parse_payload(body, standby=standby)
        except PayloadError as error:
            logger.warning("Messenger webhook refused: %s.", error)
            return response.json({"error": str(error)}, status=400)
        metadata = self.get_metadata(request)
        # Everything up to the 200 is synchronous: the message ids are remembered and the
        # turns queued before Meta has its answer, so a retry of this post finds them seen.
        for event, in_standby in page_events(payload, standby=standby):
            turn = self._accept(event, on_new_message, metadata, in_standby)
            if turn is not None:
                self._schedule(turn)
        return response.text("EVENT_RECEIVED")

    def _accept(self, event: Dict[Text, Any], on_new_message: Callable[[UserMessage], Awaitable[Any]],
                metadata: Optional[Dict[Text, Any]], standby: bool = False) -> Optional[_Turn]:
        """The event as a turn to handle, or None when there is nothing (new) to answer.

        A standby event (Handover Protocol on) says the helpline's app owns the sender's
        thread; its text goes to Rasa with metadata {"standby": true}."""
        if standby and not event_is_echo(event):
            self.handover.mark_passed(str(event["sender"]["id"]))
        text = event_text(event)
        if text is None:
            logger.debug("Messenger event with no text for the assistant; ignored.")
            return None
        message_id = event_message_id(event)
        if message_id and self._already_seen(message_id):
            logger.info("Messenger redelivered a message already handled; ignored.")
            return None
        if event_is_typed(event):
            metadata = {**(metadata or {}), payloads.TYPED_KEY: True}
        if standby:
            metadata = {**(metadata or {}), STANDBY_KEY: True}
        return _Turn(str(event["sender"]["id"]), text, message_id, metadata, on_new_message, standby)

    def _schedule(self, turn: _Turn) -> None:
        """Queues the turn behind its sender's earlier ones; starts a worker when none runs."""
        queue = self._queues.get(turn.psid)
        if queue is not None:
            queue.append(turn)
            return
        self._queues[turn.psid] = deque([turn])
        task = asyncio.get_running_loop().create_task(self._work_through(turn.psid))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _work_through(self, psid: Text) -> None:
        """Handles one sender's queued turns, one after another, until the queue is empty."""
        queue = self._queues[psid]
        try:
            while queue:
                turn = queue.popleft()
                try:
                    async with self._slots:
                        await self._handle_turn(turn)
                except asyncio.CancelledError:
                    raise
                except Exception as error:  # the class only: a message may quote the person's text
                    logger.error("Messenger: an event could not be handled (%s); it was dropped.",
                                 type(error).__name__)
        finally:
            if self._queues.get(psid) is queue:
                del self._queues[psid]

    async def _handle_turn(self, turn: _Turn) -> None:
        conversation = conversation_id(turn.psid)
        out_channel = self.get_output_channel()
        # A standby message's thread belongs to the helpline's app: no typing or seen from us.
        quiet = turn.standby
        if not quiet:
            await out_channel.send_action(conversation, "mark_seen")
            await out_channel.send_action(conversation, "typing_on")
        try:
            checked = input_text.check(turn.text)
            if not checked.ok:
                if quiet and checked.reason == "empty":  # nothing to keep silent about
                    logger.info("Messenger: an empty standby message was ignored.")
                    return
                logger.info("Messenger: message answered without the assistant (%s).", checked.reason)
                await out_channel.send_text_message(conversation, checked.reply)
                return
            await turn.on_new_message(
                UserMessage(checked.text, out_channel, conversation, input_channel=self.name(),
                            message_id=turn.message_id, metadata=turn.metadata)
            )
        except Exception as error:
            input_text.log_failure(self.name(), error)
            await out_channel.send_text_message(conversation, input_text.error_reply())
        finally:
            if not quiet:
                await out_channel.send_action(conversation, "typing_off")

    async def wait_idle(self, timeout: Optional[float] = None) -> bool:
        """Waits until every accepted event has been handled; False when `timeout` (seconds)
        ran out first."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            running = [task for task in self._tasks if not task.done()]
            if not running:
                return True
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                return False
            await asyncio.wait(running, timeout=remaining)

    async def shut_down(self, grace: float = SHUTDOWN_GRACE_SECONDS) -> None:
        """Lets the turns in hand finish for up to `grace` seconds, then cancels the rest."""
        if await self.wait_idle(grace):
            return
        waiting = sum(len(queue) for queue in self._queues.values())
        logger.warning("Messenger: stopping with %d conversation(s) still being answered (%d event(s) not started).",
                       len(self._queues), waiting)
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _already_seen(self, message_id: Text) -> bool:
        if message_id in self._seen:
            return True
        self._seen[message_id] = None
        while len(self._seen) > SEEN_MESSAGE_IDS:
            self._seen.popitem(last=False)
        return False
