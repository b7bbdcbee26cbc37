"""The staff console: a Sanic app with Jinja2 templates (autoescaped), no external assets.

Pages: the queue (`/`, `/tickets`: emergencies first, then the longest waiting; filters
and pages as GET parameters), one ticket (`/tickets/<id>`: details, the whole redacted
transcript with the guardrail's decisions, claim, reply, close), `/login` and `/logout`.
Live updates: `/events` (server-sent events: `event: changed` when the store's version
changes, a comment every ~15 s to keep the connection open) tells console.js to fetch
the fragments again (`?partial=1`); `/alerts` (JSON) lists the open tickets, so that a
new emergency or a new request for a person shows a banner and beeps.

Who is who: the staff member's *display name* is what the helpline stores as the
ticket's `claimed_by` and as the sender of a staff reply, and what the person sees in the
chat (`Helpline.reply` claims the ticket under the name it signs the reply with, so one
name must serve both). Login names stay in the accounts table and in the log.

Security: a session cookie (`helpline_session`: HttpOnly, SameSite=Strict, Path=/, Secure
over https) holding a random token per login (bot/helpline/accounts.py); every POST
carries the session's CSRF token (form field `csrf` or header `X-CSRF-Token`) and, when
the browser sends an Origin, must come from this site; strict headers on every response
(`SECURITY_HEADERS`); errors are logged by class name only and shown as a page in the
staff member's language. Every label comes from data/content/console.yml.
"""
from __future__ import annotations

import asyncio
import itertools
import logging
import math
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional
from urllib.parse import urlencode, urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context
from sanic import Sanic, response
from sanic.exceptions import SanicException
from sanic.handlers import ErrorHandler
from sanic.request import Request
from sanic.response import HTTPResponse
from zoneinfo import ZoneInfo

from bot.helpline import store
from bot.helpline.accounts import Accounts, Session, csrf_ok
from bot.helpline.console import labels as labels_module
from bot.helpline.service import MAX_REPLY_CHARS, Helpline

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
COOKIE = "helpline_session"
LOCAL_ZONE = ZoneInfo("Europe/Copenhagen")
LANGUAGES = labels_module.LANGUAGES
PAGE_SIZE = 25
STATE_FILTERS = ("active", store.OPEN, store.CLAIMED, store.CLOSED)
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
ADD_STAFF_COMMAND = ".venv/bin/python -m bot helpline add-staff NAME"
# Helpline.reply's reasons for refusing a reply (its `error` when nothing was stored),
# and the label that says each in the staff member's language.
REFUSALS = (
    ("no such ticket", "missing"),
    ("the ticket is closed", "closed"),
    ("the reply is empty", "empty"),
    ("the reply is longer", "too_long"),
    ("this ticket does not hold", "not_live"),
    ("this conversation is answered in Meta", "handover"),
)
_names = itertools.count(1)


@dataclass(frozen=True)
class Notice:
    """What the last action did, shown once on the ticket page (after the redirect)."""

    ticket_id: int
    text: str
    error: bool = False
    technical: Optional[str] = None


class Console:
    """The app's state and handlers (one per `make_app`)."""

    def __init__(
        self,
        helpline: Helpline,
        accounts: Accounts,
        labels: labels_module.ConsoleLabels,
        page_size: int,
        poll_interval: float,
        keepalive_interval: float,
        session_check_interval: float,
        clock: Callable[[], datetime],
    ) -> None:
        self.helpline = helpline
        self.store = helpline.store
        self.accounts = accounts
        self.labels = labels
        self.page_size = max(1, int(page_size))
        self.poll_interval = poll_interval
        self.keepalive_interval = keepalive_interval
        self.session_check_interval = session_check_interval
        self.clock = clock
        self.notices: Dict[int, Notice] = {}  # session id -> the notice of its last action
        self.static = {path.name: path.read_bytes() for path in STATIC.iterdir() if path.suffix in STATIC_TYPES}
        self.env = Environment(
            loader=FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=StrictUndefined,
            trim_blocks=True, lstrip_blocks=True,
        )
        self.env.filters.update(fill=_fill, code=self._code, local=self._local, iso=_iso, waiting=self._waiting,
                                said=self._said)
        self._version: Optional[str] = None
        self._version_at = 0.0
        self._version_lock: Optional[asyncio.Lock] = None

    # -- helpers ------------------------------------------------------------------------

    @staticmethod
    async def run(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Blocking work (the database, Rasa's HTTP API, password hashing) off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(None, partial(function, *args, **kwargs))

    def text(self, request: Request, key: str, **values: Any) -> str:
        return self.labels.text(_lang(request), key, **values)

    @pass_context
    def _code(self, context: Any, value: Optional[str], section: str) -> str:
        return self.labels.code(context["lang"], section, value)

    @pass_context
    def _said(self, context: Any, text: Any) -> Any:
        """A button the person pressed (its payload, e.g. /ask_human) as words; other text as it is."""
        if isinstance(text, str) and text.startswith("/") and " " not in text:
            try:
                value = self.labels.lookup(context["lang"], f"buttons.{text[1:]}")
            except (KeyError, TypeError):
                return text
            return value if isinstance(value, str) else text
        return text

    @pass_context
    def _local(self, context: Any, value: Optional[datetime]) -> str:
        if value is None:
            return self.labels.text(context["lang"], "ticket.none")
        return value.astimezone(LOCAL_ZONE).strftime(self.labels.text(context["lang"], "time.format"))

    @pass_context
    def _waiting(self, context: Any, ticket: store.Ticket) -> str:
        return self.duration(context["lang"], ticket.waiting_seconds(self.clock()))

    def duration(self, language: str, seconds: int) -> str:
        minutes = seconds // 60
        if minutes < 1:
            return self.labels.text(language, "time.under_a_minute")
        if minutes < 60:
            return self.labels.text(language, "time.minutes", m=minutes)
        hours, minutes = divmod(minutes, 60)
        if hours < 24:
            return self.labels.text(language, "time.hours", h=hours, m=minutes)
        days, hours = divmod(hours, 24)
        return self.labels.text(language, "time.days", d=days, h=hours)

    def render(self, request: Request, template: str, status: int = 200, page_path: Optional[str] = None,
               **context: Any) -> HTTPResponse:
        language = _lang(request)
        session: Optional[Session] = getattr(request.ctx, "session", None)
        keep = [] if page_path else [(k, v[0]) for k, v in request.args.items() if k not in ("lang", "partial") and v]
        values = {
            "t": self.labels.for_language(language), "lang": language, "languages": LANGUAGES,
            "staff": session.staff if session else None, "csrf": session.csrf if session else "",
            "path": page_path or request.path, "keep": keep,
        }
        values.update(context)
        return response.html(self.env.get_template(template).render(values), status=status)

    def error_page(self, request: Request, status: int, key: str) -> HTTPResponse:
        return self.render(request, "error.html", status=status, page_path="/tickets", message=self.text(request, f"errors.{key}"))

    def login_page(self, request: Request, status: int = 200, message: str = "", error: bool = False,
                   next_path: str = "/tickets", name: str = "") -> HTTPResponse:
        return self.render(request, "login.html", status=status, page_path="/login", message=message, error=error,
                           next=next_path, name=name, add_staff_command=ADD_STAFF_COMMAND)

    def guard(self, request: Request, fragment: bool = False) -> Optional[HTTPResponse]:
        """None when the request has a valid session; else what to answer instead."""
        if getattr(request.ctx, "unavailable", False):
            return self.error_page(request, 503, "unavailable")
        if request.ctx.session is None:
            if fragment:
                return response.text("", status=401)
            wanted = request.path + (f"?{request.query_string}" if request.query_string else "")
            return self.login_page(request, status=401, message=self.text(request, "login.intro"),
                                   next_path=_safe_next(wanted) if request.method == "GET" else "/tickets")
        return None

    def guard_post(self, request: Request) -> Optional[HTTPResponse]:
        refused = self.guard(request)
        if refused is not None:
            return refused
        candidate = request.form.get("csrf") if request.form else None
        if not csrf_ok(request.ctx.session, candidate or request.headers.get("x-csrf-token")):
            logger.warning("helpline console: POST %s refused (CSRF token missing or wrong)", request.path)
            return self.error_page(request, 403, "forbidden")
        return None

    async def version(self) -> str:
        """The store's version, read at most about once per poll interval for all listeners together."""
        if self._version_lock is None:
            self._version_lock = asyncio.Lock()
        async with self._version_lock:
            now = time.monotonic()
            if self._version is None or now - self._version_at >= self.poll_interval * 0.5:
                self._version = await self.run(self.store.version)
                self._version_at = now
            return self._version

    # -- middleware ---------------------------------------------------------------------

    async def load_session(self, request: Request) -> Optional[HTTPResponse]:
        if hasattr(request.ctx, "session"):  # runs again for an error response
            return None
        request.ctx.session = None
        request.ctx.unavailable = False
        request.ctx.lang = labels_module.DEFAULT_LANGUAGE
        if request.path.startswith("/static/"):
            return None
        token = request.cookies.get(COOKIE)
        if token:
            try:
                request.ctx.session = await self.run(self.accounts.session, token)
            except Exception as error:  # noqa: BLE001 - the page says the database does not answer
                logger.error("helpline console: session not read (%s)", type(error).__name__)
                request.ctx.unavailable = True
        session: Optional[Session] = request.ctx.session
        if session is not None:
            request.ctx.lang = session.language
        wanted = request.args.get("lang")
        if wanted in LANGUAGES:
            request.ctx.lang = wanted
            if session is not None and session.language != wanted:
                try:
                    request.ctx.session = await self.run(self.accounts.set_language, session, wanted)
                except Exception as error:  # noqa: BLE001 - shown in the language asked for anyway
                    logger.error("helpline console: language not stored (%s)", type(error).__name__)
        if request.method == "POST" and not _same_origin(request):
            logger.warning("helpline console: POST %s refused (from another origin)", request.path)
            return self.error_page(request, 403, "forbidden")
        return None

    @staticmethod
    async def add_headers(request: Request, reply: HTTPResponse) -> None:
        for name, value in SECURITY_HEADERS.items():
            reply.headers[name] = value

    # -- pages --------------------------------------------------------------------------

    async def static_file(self, request: Request, name: str) -> HTTPResponse:
        body = self.static.get(name)
        if body is None:
            return self.error_page(request, 404, "not_found")
        return response.raw(body, content_type=STATIC_TYPES[Path(name).suffix])

    async def login_form(self, request: Request) -> HTTPResponse:
        if request.ctx.session is not None and "logged_out" not in request.args:
            return response.redirect("/tickets", status=303)
        if "logged_out" in request.args:
            return self.login_page(request, message=self.text(request, "login.logged_out"))
        return self.login_page(request, next_path=_safe_next(request.args.get("next")))

    async def login(self, request: Request) -> HTTPResponse:
        form = request.form
        name = (form.get("name") or "")[:256]
        password = form.get("password") or ""
        next_path = _safe_next(form.get("next"))
        language = form.get("lang") if form.get("lang") in LANGUAGES else _lang(request)
        request.ctx.lang = language
        address = request.remote_addr or request.ip or ""
        result = await self.run(self.accounts.login, name, password, address, language)
        if not result.ok:
            message = self.text(request, "login.wrong")
            if result.locked:
                message += " " + self.text(request, "login.later")
            return self.login_page(request, status=429 if result.locked else 401, message=message, error=True,
                                   next_path=next_path, name=name)
        old = request.cookies.get(COOKIE)
        if old:
            await self.run(self.accounts.logout, old)
        reply = response.redirect(next_path, status=303)
        _set_cookie(reply, result.session.token or "", secure=request.scheme == "https")
        return reply

    async def logout(self, request: Request) -> HTTPResponse:
        if request.ctx.session is not None:
            refused = self.guard_post(request)
            if refused is not None:
                return refused
            await self.run(self.accounts.logout, request.cookies.get(COOKIE))
            self.notices.pop(request.ctx.session.id, None)
            logger.info("helpline console: staff account %s logged out", request.ctx.session.staff.name)
        reply = response.redirect(f"/login?logged_out=1&lang={_lang(request)}", status=303)
        _set_cookie(reply, "", secure=request.scheme == "https", delete=True)
        return reply

    async def queue(self, request: Request) -> HTTPResponse:
        partial_view = request.args.get("partial") == "1"
        refused = self.guard(request, fragment=partial_view)
        if refused is not None:
            return refused
        args = request.args
        filters = {
            "state": args.get("state") if args.get("state") in STATE_FILTERS else "active",
            "triage": args.get("triage") if args.get("triage") in self.labels.codes("triage") else "",
            "language": args.get("language") if args.get("language") in LANGUAGES else "",
            "channel": args.get("channel") if args.get("channel") in store.CHANNELS else "",
        }
        try:
            page = min(max(1, int(args.get("page") or 1)), 100000)
        except ValueError:
            page = 1
        query = partial(
            self.store.queue, status=filters["state"], triage=filters["triage"] or None,
            language=filters["language"] or None, channel=filters["channel"] or None, limit=self.page_size,
        )
        tickets, total = await self.run(query, offset=(page - 1) * self.page_size)
        pages = max(1, math.ceil(total / self.page_size))
        if page > pages:
            page = pages
            tickets, total = await self.run(query, offset=(page - 1) * self.page_size)
        chosen = {k: v for k, v in filters.items() if v and not (k == "state" and v == "active")}

        def page_url(number: int, **extra: str) -> str:
            values = dict(chosen, **({"page": str(number)} if number > 1 else {}), **extra)
            return "/tickets" + (f"?{urlencode(values)}" if values else "")

        first = (page - 1) * self.page_size + 1 if tickets else 0
        context = dict(
            tickets=tickets, total=total, page=page, pages=pages, first=first, last=first + len(tickets) - 1 if tickets else 0,
            filters=filters, page_url=page_url, live_url=page_url(page, partial="1"),
            state_options=STATE_FILTERS, triage_options=self.labels.codes("triage"), channel_options=store.CHANNELS,
        )
        return self.render(request, "_queue.html" if partial_view else "queue.html", **context)

    async def ticket(self, request: Request, ticket_id: int) -> HTTPResponse:
        partial_view = request.args.get("partial") == "1"
        refused = self.guard(request, fragment=partial_view)
        if refused is not None:
            return refused
        ticket = await self.run(self.store.get, ticket_id)
        if ticket is None:
            if partial_view:
                return response.text("", status=404)
            return self.render(request, "error.html", status=404, page_path="/tickets",
                               message=self.text(request, "ticket.not_found", id=ticket_id))
        if partial_view:
            return self.render(request, "_ticket.html", ticket=ticket)
        messages = await self.run(self.store.messages, ticket_id)
        notice = self.notices.get(request.ctx.session.id)
        if notice is not None and notice.ticket_id == ticket_id:
            self.notices.pop(request.ctx.session.id, None)
        else:
            notice = None
        return self.ticket_page(request, ticket, messages, notice=notice)

    def ticket_page(self, request: Request, ticket: store.Ticket, messages: List[store.LiveMessage], status: int = 200,
                    notice: Optional[Notice] = None, draft: str = "") -> HTTPResponse:
        return self.render(
            request, "ticket.html", status=status, page_path=f"/tickets/{ticket.id}", ticket=ticket,
            lines=self.lines(request, ticket, messages), notice=notice, draft=draft, max_reply=MAX_REPLY_CHARS,
        )

    async def messages(self, request: Request, ticket_id: int) -> HTTPResponse:
        if request.args.get("partial") != "1":
            return response.redirect(f"/tickets/{ticket_id}", status=303)
        refused = self.guard(request, fragment=True)
        if refused is not None:
            return refused
        ticket = await self.run(self.store.get, ticket_id)
        if ticket is None:
            return response.text("", status=404)
        messages = await self.run(self.store.messages, ticket_id)
        return self.render(request, "_messages.html", lines=self.lines(request, ticket, messages))

    def lines(self, request: Request, ticket: store.Ticket, messages: List[store.LiveMessage]) -> List[Dict[str, Any]]:
        """The transcript up to the handoff, a marker, then the live messages, ready for the template."""
        language = _lang(request)
        found = []
        for line in ticket.transcript or []:
            speaker = line.get("speaker") if line.get("speaker") in (store.USER, store.BOT) else store.BOT
            found.append(_line(speaker, self.labels.code(language, "speakers", speaker), _parse_time(line.get("time")),
                               line.get("text"), line.get("decision")))
        if messages:
            found.append({"marker": True})
        for message in messages:
            who = self.labels.code(language, "speakers", message.speaker)
            if message.speaker == store.STAFF and message.staff_name:
                who = message.staff_name
            found.append(_line(message.speaker, who, message.created_at, message.text, message.decision,
                               awaiting=message.speaker == store.STAFF and message.delivered_at is None))
        return found

    # -- actions ------------------------------------------------------------------------

    async def claim(self, request: Request, ticket_id: int) -> HTTPResponse:
        refused = self.guard_post(request)
        if refused is not None:
            return refused
        session: Session = request.ctx.session
        ticket = await self.run(self.store.get, ticket_id)
        if ticket is None:
            return self.not_found(request, ticket_id)
        if not ticket.is_open:
            return self.done(request, ticket_id, self.text(request, "claim.closed"), error=True)
        await self.run(self.helpline.claim, ticket_id, session.staff.display_name)
        logger.info("helpline console: ticket %d claimed by staff account %s", ticket_id, session.staff.name)
        return self.done(request, ticket_id, self.text(request, "claim.done"))

    async def reply(self, request: Request, ticket_id: int) -> HTTPResponse:
        refused = self.guard_post(request)
        if refused is not None:
            return refused
        session: Session = request.ctx.session
        text = request.form.get("text") or ""
        replied = await self.run(self.helpline.reply, ticket_id, text, session.staff.display_name)
        if replied.message is None:  # refused: nothing stored, nothing sent
            key = next((key for prefix, key in REFUSALS if (replied.error or "").startswith(prefix)), "other")
            if key == "missing":
                return self.not_found(request, ticket_id)
            ticket = await self.run(self.store.get, ticket_id)
            if ticket is None:
                return self.not_found(request, ticket_id)
            messages = await self.run(self.store.messages, ticket_id)
            reason = self.text(request, f"reply.reasons.{key}")
            notice = Notice(ticket_id, self.text(request, "reply.refused", reason=reason), error=True, technical=replied.error)
            return self.ticket_page(request, ticket, messages, status=400, notice=notice, draft=text[:MAX_REPLY_CHARS * 2])
        logger.info("helpline console: staff account %s replied on ticket %d (%s)", session.staff.name, ticket_id,
                    "delivered" if replied.delivered else "not delivered")
        if replied.delivered:
            return self.done(request, ticket_id, self.text(request, "reply.delivered"))
        return self.done(request, ticket_id, self.text(request, "reply.not_delivered"), error=True, technical=replied.error)

    async def close(self, request: Request, ticket_id: int) -> HTTPResponse:
        refused = self.guard_post(request)
        if refused is not None:
            return refused
        closed = await self.run(self.helpline.close, ticket_id)
        if closed is None:
            return self.not_found(request, ticket_id)
        logger.info("helpline console: ticket %d closed by staff account %s", ticket_id, request.ctx.session.staff.name)
        if closed.error:
            return self.done(request, ticket_id, self.text(request, "close.not_resumed"), error=True, technical=closed.error)
        if closed.still_paused_by:
            others = ", ".join(f"#{n}" for n in closed.still_paused_by)
            return self.done(request, ticket_id, self.text(request, "close.still_paused", others=others))
        return self.done(request, ticket_id, self.text(request, "close.resumed" if closed.resumed else "close.closed"))

    def done(self, request: Request, ticket_id: int, text: str, error: bool = False,
             technical: Optional[str] = None) -> HTTPResponse:
        """Post/redirect/get: the notice is kept for the session, and shown once by the ticket page
        (so that reloading the page does not send a reply twice)."""
        self.notices[request.ctx.session.id] = Notice(ticket_id, text, error, technical)
        return response.redirect(f"/tickets/{ticket_id}", status=303)

    def not_found(self, request: Request, ticket_id: int) -> HTTPResponse:
        return self.render(request, "error.html", status=404, page_path="/tickets",
                           message=self.text(request, "ticket.not_found", id=ticket_id))

    # -- live updates -------------------------------------------------------------------

    async def alerts(self, request: Request) -> HTTPResponse:
        """The open tickets (nobody has them yet), each with the banner's words for it."""
        refused = self.guard(request, fragment=True)
        if refused is not None:
            return refused
        waiting, _ = await self.run(self.store.queue, status=store.OPEN, limit=200)
        language = _lang(request)
        items = []
        for ticket in waiting:
            if ticket.is_emergency:
                text = self.labels.text(language, "notice.emergency", id=ticket.id)
            else:
                text = self.labels.text(language, "notice.handoff", id=ticket.id,
                                        reason=self.labels.code(language, "reasons", ticket.reason))
            items.append({"id": ticket.id, "emergency": ticket.is_emergency, "text": text})
        return response.json({"waiting": items})

    async def events(self, request: Request) -> Optional[HTTPResponse]:
        """Server-sent events: `changed` (data: the new version) whenever tickets or
        messages change; a comment as keep-alive; `logout` when the session has ended."""
        refused = self.guard(request, fragment=True)
        if refused is not None:
            return refused
        token = request.cookies.get(COOKIE)
        stream = await request.respond(
            content_type="text/event-stream; charset=utf-8", headers={"X-Accel-Buffering": "no"}
        )
        last = await self._version_or_none()
        await stream.send(f"retry: 3000\nevent: ready\ndata: {last or '-'}\n\n")
        sent = checked = time.monotonic()
        while True:
            await asyncio.sleep(self.poll_interval)
            now = time.monotonic()
            if now - checked >= self.session_check_interval:
                checked = now
                try:
                    still = await self.run(self.accounts.session, token)
                except Exception as error:  # noqa: BLE001
                    logger.error("helpline console: session not read (%s)", type(error).__name__)
                    still = request.ctx.session
                if still is None:
                    await stream.send("event: logout\ndata: -\n\n")
                    break
            version = await self._version_or_none()
            if version is not None and version != last:
                last = version
                await stream.send(f"event: changed\ndata: {version}\n\n")
                sent = now
            elif now - sent >= self.keepalive_interval:
                await stream.send(": keep-alive\n\n")
                sent = now
        await stream.eof()
        return None

    async def _version_or_none(self) -> Optional[str]:
        try:
            return await self.version()
        except Exception as error:  # noqa: BLE001 - tried again on the next poll
            logger.error("helpline console: store version not read (%s)", type(error).__name__)
            return None

    async def root(self, request: Request) -> HTTPResponse:
        return await self.queue(request)


class _ConsoleSanic(Sanic):
    """Sanic 21.12 rewrites some of its class's methods ("touch-up") whenever an app starts,
    from what the previous start left, which fails at the second start in one process (the
    tests start many). With `test_mode` it starts from the original methods every time;
    otherwise the flag only lets two apps share a name, and ours have unique names anyway."""

    test_mode = True


class _Errors(ErrorHandler):
    """Every error as a page in the staff member's language; logged by class name only
    (an exception's text may quote a ticket)."""

    def __init__(self) -> None:
        super().__init__()
        self.console: Optional[Console] = None

    def default(self, request: Request, exception: BaseException) -> HTTPResponse:
        status = exception.status_code if isinstance(exception, SanicException) else 500
        if status >= 500:
            logger.error("helpline console: %s on %s %s", type(exception).__name__, request.method, request.path)
        key = {400: "bad_request", 403: "forbidden", 404: "not_found", 405: "method", 413: "bad_request",
               503: "unavailable"}.get(status, "server" if status >= 500 else "bad_request")
        try:
            if not hasattr(request.ctx, "lang"):
                request.ctx.lang = labels_module.DEFAULT_LANGUAGE
            if not hasattr(request.ctx, "session"):
                request.ctx.session = None
            reply = self.console.error_page(request, status, key)  # type: ignore[union-attr]
        except Exception as error:  # noqa: BLE001 - the plainest page there is
            logger.error("helpline console: error page failed (%s)", type(error).__name__)
            text = self.console.labels.text(labels_module.DEFAULT_LANGUAGE, "errors.server") if self.console else ""
            reply = response.text(text, status=status)
        for name, value in SECURITY_HEADERS.items():
            reply.headers[name] = value
        return reply


def make_app(
    helpline: Helpline,
    accounts: Accounts,
    labels: Optional[labels_module.ConsoleLabels] = None,
    *,
    page_size: int = PAGE_SIZE,
    poll_interval: float = 1.0,
    keepalive_interval: float = 15.0,
    session_check_interval: float = 30.0,
    proxies_count: int = 0,
    clock: Callable[[], datetime] = store.utcnow,
    name: Optional[str] = None,
) -> Sanic:
    """The console as a Sanic app (a new, unique app name per call).

    `proxies_count`: how many reverse proxies in front of it to trust for the client's
    address and scheme (X-Forwarded-For/-Proto); 0 when it is reached directly."""
    console = Console(helpline, accounts, labels or labels_module.load(), page_size, poll_interval,
                      keepalive_interval, session_check_interval, clock)
    errors = _Errors()
    errors.console = console
    app = _ConsoleSanic(name or f"helpline_console_{next(_names)}_{uuid.uuid4().hex[:8]}", error_handler=errors,
                configure_logging=False)
    app.config.REQUEST_MAX_SIZE = 64 * 1024
    app.config.GRACEFUL_SHUTDOWN_TIMEOUT = 2.0
    app.config.PROXIES_COUNT = max(0, int(proxies_count))
    app.config.FALLBACK_ERROR_FORMAT = "html"
    app.ctx.console = console

    app.register_middleware(console.load_session, "request")
    app.register_middleware(console.add_headers, "response")
    app.add_route(console.root, "/", methods=["GET"])
    app.add_route(console.queue, "/tickets", methods=["GET"])
    app.add_route(console.ticket, "/tickets/<ticket_id:int>", methods=["GET"])
    app.add_route(console.messages, "/tickets/<ticket_id:int>/messages", methods=["GET"])
    app.add_route(console.claim, "/tickets/<ticket_id:int>/claim", methods=["POST"])
    app.add_route(console.reply, "/tickets/<ticket_id:int>/reply", methods=["POST"])
    app.add_route(console.close, "/tickets/<ticket_id:int>/close", methods=["POST"])
    app.add_route(console.login_form, "/login", methods=["GET"])
    app.add_route(console.login, "/login", methods=["POST"])
    app.add_route(console.logout, "/logout", methods=["POST"])
    app.add_route(console.alerts, "/alerts", methods=["GET"])
    app.add_route(console.events, "/events", methods=["GET"])
    app.add_route(console.static_file, "/static/<name:str>", methods=["GET"])
    return app


def serve(helpline: Helpline, accounts: Accounts, host: str = "127.0.0.1", port: int = 8090,
          labels: Optional[labels_module.ConsoleLabels] = None, proxies_count: int = 0) -> None:
    """Runs the console until Ctrl-C or SIGTERM."""
    app = make_app(helpline, accounts, labels, proxies_count=proxies_count)
    print(f"Helpline console on http://{host}:{port}/ (Ctrl-C stops it). "
          f"Make an account with: {ADD_STAFF_COMMAND}", flush=True)
    app.run(host=host, port=port, access_log=False, debug=False, auto_reload=False, motd=False, workers=1)


# -- small pieces ---------------------------------------------------------------------


def _lang(request: Request) -> str:
    return getattr(request.ctx, "lang", labels_module.DEFAULT_LANGUAGE)


def _fill(label: str, **values: Any) -> str:
    return str(label).format(**values)


def _iso(value: Optional[datetime]) -> str:
    return store.iso(value) if value else ""


def _parse_time(value: Any) -> Optional[datetime]:
    if isinstance(value, datetime):
        return value
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _line(speaker: str, who: str, when: Optional[datetime], text: Any, decision: Any, awaiting: bool = False) -> Dict[str, Any]:
    return {
        "marker": False, "speaker": speaker, "who": who, "time": when, "text": "" if text is None else str(text),
        "decision": _decision(decision), "awaiting": awaiting,
    }


def _decision(decision: Any) -> Optional[Dict[str, Optional[str]]]:
    """The guardrail's decision on a message, as the template shows it (None when there is none)."""
    if not isinstance(decision, dict) or not decision:
        return None
    return {
        "category": str(decision.get("category") or "none"),
        "stage": str(decision["stage"]) if decision.get("stage") else None,
        "layer": str(decision.get("layer") or "none"),
    }


def _safe_next(value: Optional[str]) -> str:
    """Where to go after logging in: a path on this site only."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value or value.startswith("/login"):
        return "/tickets"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return "/tickets"
    query = "&".join(p for p in parts.query.split("&") if p and not p.startswith("partial="))
    return parts.path + (f"?{query}" if query else "")


def _same_origin(request: Request) -> bool:
    """A POST whose Origin (when the browser sends one) is this site, and not marked cross-site.

    Under `Referrer-Policy: no-referrer` Chromium sends `Origin: null` with a form post;
    then Sec-Fetch-Site decides (the CSRF token and the SameSite=Strict cookie stay)."""
    site = request.headers.get("sec-fetch-site")
    if site in ("cross-site", "same-site"):
        return False
    origin = request.headers.get("origin")
    if not origin:
        return True
    if origin == "null":
        return site in (None, "same-origin")
    return urlsplit(origin).netloc.lower() == (request.host or "").lower()


def _set_cookie(reply: HTTPResponse, value: str, secure: bool, delete: bool = False) -> None:
    reply.cookies[COOKIE] = value
    cookie = reply.cookies[COOKIE]
    cookie["path"] = "/"
    cookie["httponly"] = True
    cookie["samesite"] = "Strict"
    if secure:
        cookie["secure"] = True
    if delete:
        cookie["max-age"] = 0

