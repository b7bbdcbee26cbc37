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
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import os
import re
from collections import OrderedDict, deque
from typing import (
    Any,
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


def parse_payload(body: bytes) -> Dict[Text, Any]:
    """The webhook body as a dict, checked for Messenger's page-webhook structure.

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
        events = entry.get("messaging", [])
        if not isinstance(events, list):
            raise PayloadError('not a Messenger webhook: "entry[].messaging" must be a list')
        for event in events:
            if not isinstance(event, dict):
                raise PayloadError('not a Messenger webhook: every messaging event must be an object')
            sender = event.get("sender")
            if not isinstance(sender, dict) or not _is_id(sender.get("id")):
                raise PayloadError('not a Messenger webhook: every messaging event needs "sender.id"')
            for key in ("message", "postback"):
                if key in event and not isinstance(event[key], dict):
                    raise PayloadError(f'not a Messenger webhook: "{key}" must be an object')
    return payload


def _is_id(value: Any) -> bool:
    return (isinstance(value, str) and bool(value.strip())) or (isinstance(value, int) and not isinstance(value, bool))


def messaging_events(payload: Dict[Text, Any]) -> Iterable[Dict[Text, Any]]:
    for entry in payload["entry"]:
        yield from entry.get("messaging", [])


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
    """Posts to the Send API (`<graph url>/me/messages`) with the page access token and
    its appsecret_proof. Failures are logged (without secrets) and never raised."""

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
        try:
            async with aiohttp.ClientSession(timeout=self._timeout) as session:
                async with session.post(f"{self.base_url}/me/messages", params=self._params, json=body) as answer:
                    if answer.status < 400:
                        return True
                    detail = await answer.text()
                    logger.error("The Send API refused a message (HTTP %s): %s", answer.status,
                                 self._redact(_graph_error(detail)))
        except asyncio.CancelledError:
            raise
        except Exception as error:  # network, timeout, anything: log the kind, never the URL
            logger.error("The Send API could not be reached: %s", type(error).__name__)
        return False

    def _redact(self, text: Text) -> Text:
        for secret in self._secrets:
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


class SecureMessengerBot(OutputChannel):
    """Sends the assistant's messages to one person on Messenger through `GraphAPI`.

    Every `recipient_id` it is given is a conversation id ("fb:<PSID>"); the Send API gets
    the bare PSID. A conversation id of another channel is refused (logged, nothing sent).
    """

    @classmethod
    def name(cls) -> Text:
        return "facebook"

    def __init__(self, graph: GraphAPI) -> None:
        super().__init__()
        self.graph = graph

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
        """A custom payload is sent as the Send API `message` object, as it is."""
        for message in json_message if isinstance(json_message, list) else [json_message]:
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
        return SecureMessengerBot(self.graph)

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
        try:
            payload = parse_payload(body)
        except PayloadError as error:
            logger.warning("Messenger webhook refused: %s.", error)
            return response.json({"error": str(error)}, status=400)
        metadata = self.get_metadata(request)
        # Everything up to the 200 is synchronous: the message ids are remembered and the
        # turns queued before Meta has its answer, so a retry of this post finds them seen.
        for event in messaging_events(payload):
            turn = self._accept(event, on_new_message, metadata)
            if turn is not None:
                self._schedule(turn)
        return response.text("EVENT_RECEIVED")

    def _accept(self, event: Dict[Text, Any], on_new_message: Callable[[UserMessage], Awaitable[Any]],
                metadata: Optional[Dict[Text, Any]]) -> Optional[_Turn]:
        """The event as a turn to handle, or None when there is nothing (new) to answer."""
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
        return _Turn(str(event["sender"]["id"]), text, message_id, metadata, on_new_message)

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
        await out_channel.send_action(conversation, "mark_seen")
        await out_channel.send_action(conversation, "typing_on")
        try:
            checked = input_text.check(turn.text)
            if not checked.ok:
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
