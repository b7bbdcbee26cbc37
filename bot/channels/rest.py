"""The REST channel (/webhooks/rest/webhook), hardened: Rasa 3.6's `RestInput` with checks.

Registered in credentials.yml as `bot.channels.rest.SafeRestInput`; its name stays
"rest", so the URL does not change. The tests, `python -m bot chat` and the helpline
triage use it.

What Rasa's own channel did with bad input, and what this one does instead:

* A body that is not JSON (or not UTF-8) got Sanic's generic 400; a JSON array got a
  500; a missing sender became the shared conversation "default"; a non-string sender
  was turned into one; a `message` that is null, a number, a list or an object, or
  metadata that is not an object, crashed inside Rasa and got `200 []`, with the text
  written to the log. Here each of these is a 400 with a JSON error that names the
  field ({"error": ..., "detail": ...}), and nothing reaches Rasa.
* Any body size up to Sanic's 100 MB was processed; a 1 MB message went through the
  NLU and into the tracker. Here a body over MAX_BODY_BYTES is a 413, and a message
  that is empty or over input_text.MAX_CHARS characters gets the channel's reply
  (`200`, the usual list of {"recipient_id", "text"}) without reaching Rasa.
* The text is cleaned (input_text.clean: controls, bidi overrides, BOM, lone surrogates
  removed; NFC) before Rasa sees it.
* When the assistant fails on a message, Rasa answered `200 []` (with `?stream=true` the
  response never ended) and logged the text. Here the person gets an apology that says
  to call 112 in an emergency, and only the exception's class and place are logged.

Who may write where: the public channels keep their conversations under their own
prefix (Messenger `fb:<psid>`, the widget `web:<session>`); this channel keeps the
sender it is given, so integrations and the tracker API work as before, but refuses a
sender in another channel's namespace (403): a REST post could otherwise write into a
Messenger user's conversation. It is an integration channel: with REST_TOKEN set,
every post must carry it (`Authorization: Bearer <token>` or `?token=`), and
`python -m bot serve` refuses to listen off loopback without it (bot/access.py).
"""
from __future__ import annotations

import asyncio
import json
import logging
import unicodedata
from asyncio import CancelledError, Queue
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text, Union

import rasa.utils.endpoints
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import QueueOutputChannel, RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse, ResponseStream

from bot import access
from bot.channels import input_text

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024  # a 2,000-character message with metadata is far smaller
MAX_SENDER_CHARS = 128
MAX_INPUT_CHANNEL_CHARS = 64
# The conversation-id prefixes of the public channels; a REST sender may not use them.
OTHER_CHANNELS_NAMESPACES = ("fb:", "web:")
TOKEN_VARIABLE = access.REST_TOKEN_VARIABLE

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]
_DONE = object()  # ends a streamed answer (Rasa's "DONE" string could be a message)


class BadRequest(ValueError):
    """The request cannot be handled; `error` and `detail` are safe to send back."""

    def __init__(self, error: Text, detail: Optional[Text] = None, status: int = 400) -> None:
        super().__init__(error)
        self.error, self.detail, self.status = error, detail, status

    def as_response(self) -> HTTPResponse:
        body = {"error": self.error}
        if self.detail:
            body["detail"] = self.detail
        return response.json(body, status=self.status)


class Incoming:
    """A checked REST request: who sent what, from which channel, with which metadata."""

    def __init__(self, sender: Text, message: Text, input_channel: Text, metadata: Optional[Dict[Text, Any]]):
        self.sender, self.message, self.input_channel, self.metadata = sender, message, input_channel, metadata


def parse_request(body: Optional[bytes], default_channel: Text = "rest") -> Incoming:
    """The request body checked field by field; raises BadRequest (400/413) with the reason."""
    body = body or b""
    if len(body) > MAX_BODY_BYTES:
        raise BadRequest("the request body is too large",
                         f"at most {MAX_BODY_BYTES} bytes are accepted; this body has {len(body)}", status=413)
    if not body.strip():
        raise BadRequest("the request body is empty", 'send a JSON object: {"sender": "...", "message": "..."}')
    try:
        decoded = body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise BadRequest("the request body is not valid UTF-8", f"invalid byte at position {error.start}") from None
    try:
        payload = json.loads(decoded)
    except json.JSONDecodeError as error:
        raise BadRequest("the request body is not valid JSON",
                         f"{error.msg} at line {error.lineno}, column {error.colno}") from None
    except (ValueError, RecursionError):  # e.g. arrays nested thousands deep
        raise BadRequest("the request body is not valid JSON", "it could not be parsed") from None
    if not isinstance(payload, dict):
        raise BadRequest("the request body must be a JSON object",
                         f'got a JSON {_json_type(payload)}; send {{"sender": "...", "message": "..."}}')
    return Incoming(
        sender=_sender(payload),
        message=_message(payload),
        input_channel=_input_channel(payload, default_channel),
        metadata=_metadata(payload),
    )


def _sender(payload: Dict[Text, Any]) -> Text:
    if payload.get("sender") is None:
        raise BadRequest('"sender" is required', "the conversation ID, a non-empty string")
    sender = payload["sender"]
    if not isinstance(sender, str):
        raise BadRequest('"sender" must be a string', f"got a JSON {_json_type(sender)}")
    if not sender.strip():
        raise BadRequest('"sender" must not be empty')
    if len(sender) > MAX_SENDER_CHARS:
        raise BadRequest('"sender" is too long', f"at most {MAX_SENDER_CHARS} characters; got {len(sender)}")
    if any(unicodedata.category(char) in ("Cc", "Cs") for char in sender):
        raise BadRequest('"sender" must not contain control characters')
    if sender.strip().lower().startswith(OTHER_CHANNELS_NAMESPACES):
        raise BadRequest('"sender" belongs to another channel',
                         f"conversation ids starting with {', '.join(OTHER_CHANNELS_NAMESPACES)} are not this channel's",
                         status=403)
    return sender


def token_ok(request: Request, expected: Optional[Text]) -> bool:
    """True when no REST_TOKEN is set, or the request carries it."""
    if not expected:
        return True
    import hmac

    header = request.headers.get("authorization") or ""
    given = header[7:].strip() if header.lower().startswith("bearer ") else (request.args.get("token") or "")
    return hmac.compare_digest(given.encode(), expected.encode())


def _message(payload: Dict[Text, Any]) -> Text:
    if "message" not in payload:
        raise BadRequest('"message" is required', "the person's text, a string")
    message = payload["message"]
    if not isinstance(message, str):
        raise BadRequest('"message" must be a string', f"got a JSON {_json_type(message)}")
    return message


def _input_channel(payload: Dict[Text, Any], default: Text) -> Text:
    value = payload.get("input_channel")
    if value is None or value == "":
        return default
    if not isinstance(value, str) or len(value) > MAX_INPUT_CHANNEL_CHARS or not value.isprintable():
        raise BadRequest('"input_channel" must be a short string', f"at most {MAX_INPUT_CHANNEL_CHARS} characters")
    return value


def _metadata(payload: Dict[Text, Any]) -> Optional[Dict[Text, Any]]:
    metadata = payload.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise BadRequest('"metadata" must be a JSON object', f"got a JSON {_json_type(metadata)}")
    return metadata


def _json_type(value: Any) -> Text:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


class SafeRestInput(RestInput):
    """Rasa's REST channel with the checks in the module docstring; the URL is unchanged."""

    @classmethod
    def name(cls) -> Text:
        return "rest"

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        webhook = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> Union[ResponseStream, HTTPResponse]:
            try:
                return await self.handle(request, on_new_message)
            except Exception as error:  # a bug of ours must not become a 500 either
                input_text.log_failure(self.name(), error)
                return response.json([{"recipient_id": None, "text": input_text.error_reply()}])

        return webhook

    async def handle(self, request: Request, on_new_message: OnNewMessage) -> Union[ResponseStream, HTTPResponse]:
        """Checks the request, then answers it or hands the cleaned text to Rasa."""
        import os

        if not token_ok(request, (os.environ.get(TOKEN_VARIABLE) or "").strip() or None):
            logger.info("REST channel: 401, no valid %s.", TOKEN_VARIABLE)
            return response.json({"error": f"this channel needs the {TOKEN_VARIABLE} token"}, status=401)
        try:
            incoming = parse_request(request.body, self.name())
        except BadRequest as error:
            logger.info("REST channel: %s %s.", error.status, error.error)
            return error.as_response()
        stream = rasa.utils.endpoints.bool_arg(request, "stream", default=False)
        metadata = incoming.metadata or {}
        checked = input_text.check(incoming.message, prior=metadata.get("language"))
        if not checked.ok:
            logger.info("REST channel: message answered without the assistant (%s).", checked.reason)
            return self._respond([{"recipient_id": incoming.sender, "text": checked.reply}], stream)
        if stream:
            return response.stream(
                self._stream(on_new_message, checked.text, incoming), content_type="text/event-stream"
            )
        messages = await self._collect(on_new_message, checked.text, incoming)
        return response.json(messages)

    async def _collect(self, on_new_message: OnNewMessage, text: Text, incoming: Incoming) -> List[Dict[Text, Any]]:
        collector = CollectingOutputChannel()
        try:
            await on_new_message(self._user_message(text, collector, incoming))
        except (Exception, CancelledError) as error:  # Rasa catches the timeout's CancelledError too
            input_text.log_failure(self.name(), error)
            return collector.messages + [{"recipient_id": incoming.sender, "text": input_text.error_reply()}]
        return collector.messages

    def _stream(self, on_new_message: OnNewMessage, text: Text,
                incoming: Incoming) -> Callable[[Any], Awaitable[None]]:
        """Rasa's streamed answer (one JSON message per line), ended even when the assistant fails."""

        async def run(queue: Queue) -> None:
            try:
                await on_new_message(self._user_message(text, QueueOutputChannel(queue), incoming))
            except (Exception, CancelledError) as error:
                input_text.log_failure(self.name(), error)
                await queue.put({"recipient_id": incoming.sender, "text": input_text.error_reply()})
            finally:
                await queue.put(_DONE)

        async def stream(resp: Any) -> None:
            queue: Queue = Queue()
            task = asyncio.ensure_future(run(queue))
            while True:
                item = await queue.get()
                if item is _DONE:
                    break
                await resp.write(json.dumps(item) + "\n")
            await task

        return stream

    def _user_message(self, text: Text, output: CollectingOutputChannel, incoming: Incoming) -> UserMessage:
        return UserMessage(text, output, incoming.sender, input_channel=incoming.input_channel,
                           metadata=incoming.metadata)

    @staticmethod
    def _respond(messages: List[Dict[Text, Any]], stream: bool) -> Union[ResponseStream, HTTPResponse]:
        if not stream:
            return response.json(messages)

        async def lines(resp: Any) -> None:
            for message in messages:
                await resp.write(json.dumps(message) + "\n")

        return response.stream(lines, content_type="text/event-stream")

