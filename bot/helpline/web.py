"""The staff page: open tickets, one ticket, closing one. A small WSGI app, no external assets.

Access needs HELPLINE_TOKEN: sent as `Authorization: Bearer <token>` (scripts), or typed
once into the login form, which sets a session cookie (HttpOnly, SameSite=Strict) holding
an HMAC of the token, not the token. Without credentials: 401; with wrong ones: 403.
Comparisons are constant-time. Everything shown is HTML-escaped. Forms that change
something carry a CSRF token. `serve()` binds to 127.0.0.1 unless told otherwise.
"""
from __future__ import annotations

import hashlib
import hmac
import html
import logging
import re
import socketserver
from http import HTTPStatus
from typing import Callable, Dict, Iterable, List, Optional, Tuple
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from bot.helpline import store
from bot.helpline.service import Helpline
from bot.serving import serve_until_stopped

logger = logging.getLogger(__name__)

COOKIE = "helpline_session"
MIN_TOKEN_LENGTH = 16
MAX_BODY = 16 * 1024
SECURITY_HEADERS = [
    ("Content-Security-Policy", "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    ("Cache-Control", "no-store"),
]
CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#1d1d1d}
h1{font-size:1.4rem}h2{font-size:1.1rem}table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.4rem .5rem;border-bottom:1px solid #ddd;vertical-align:top}
.user{background:#f2f6fb}.bot{background:#fafafa}.meta{color:#555;font-size:.9rem}
.notice{padding:.6rem .8rem;background:#fff6d6;border:1px solid #e6cf7a}.error{background:#fde2e2;border-color:#e59a9a}
pre{white-space:pre-wrap;font-family:inherit;margin:0}form.inline{display:inline}
button{font:inherit;padding:.3rem .8rem}nav{margin-bottom:1rem}
"""

Start = Callable[[str, List[Tuple[str, str]]], None]


def e(value: object) -> str:
    """HTML-escaped text (quotes too)."""
    return html.escape("" if value is None else str(value), quote=True)


class StaffApp:
    """The WSGI application."""

    def __init__(self, helpline: Helpline, token: str) -> None:
        if not token:
            raise ValueError("HELPLINE_TOKEN is not set")
        self.helpline = helpline
        self._token = token.encode("utf-8")
        self._session = self._mac(b"helpline-session")
        self._csrf = self._mac(b"helpline-csrf")

    def __call__(self, environ: Dict, start_response: Start) -> Iterable[bytes]:
        try:
            status, headers, body = self.handle(environ)
        except Exception as error:  # noqa: BLE001
            logger.error("helpline page: %s on %s", type(error).__name__, environ.get("PATH_INFO"))
            status, headers, body = self._page(HTTPStatus.INTERNAL_SERVER_ERROR, "Fejl", "<p>Der skete en fejl. Se loggen.</p>")
        start_response(f"{status.value} {status.phrase}", headers + SECURITY_HEADERS)
        return [body]

    # -- routing ------------------------------------------------------------------------

    def handle(self, environ: Dict) -> Tuple[HTTPStatus, List[Tuple[str, str]], bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "/") or "/"
        if path == "/helpline.css" and method == "GET":
            return HTTPStatus.OK, [("Content-Type", "text/css; charset=utf-8")], CSS.encode("utf-8")
        if path == "/login":
            return self._login(environ, method)
        auth = self._authenticate(environ)
        if auth is None:
            return self._login_page(HTTPStatus.UNAUTHORIZED, extra=[("WWW-Authenticate", 'Bearer realm="helpline"')])
        if auth is False:
            return self._login_page(HTTPStatus.FORBIDDEN, error="Forkert adgangsnøgle.")
        by_cookie = auth == "cookie"
        if path == "/" and method == "GET":
            return self._redirect("/tickets")
        if path == "/logout" and method == "POST":
            if not self._csrf_ok(environ, by_cookie):
                return self._forbidden_csrf()
            return self._redirect("/login", cookie=f"{COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict")
        if path == "/tickets" and method == "GET":
            status = (parse_qs(environ.get("QUERY_STRING", "")).get("status") or [store.OPEN])[0]
            return self._list(status if status in store.STATUSES else store.OPEN)
        match = re.fullmatch(r"/tickets/(\d{1,12})(/close)?", path)
        if match and method == "GET" and not match.group(2):
            return self._show(int(match.group(1)))
        if match and method == "POST" and match.group(2):
            if not self._csrf_ok(environ, by_cookie):
                return self._forbidden_csrf()
            return self._close(int(match.group(1)))
        if match or path in ("/", "/tickets", "/logout"):
            return self._page(HTTPStatus.METHOD_NOT_ALLOWED, "Ikke tilladt", "<p>Metoden er ikke tilladt her.</p>")
        return self._page(HTTPStatus.NOT_FOUND, "Findes ikke", "<p>Siden findes ikke.</p>")

    # -- authentication -----------------------------------------------------------------

    def _mac(self, purpose: bytes) -> str:
        return hmac.new(self._token, purpose, hashlib.sha256).hexdigest()

    def _token_ok(self, candidate: str) -> bool:
        return hmac.compare_digest(candidate.encode("utf-8"), self._token)

    def _authenticate(self, environ: Dict):
        """'bearer' or 'cookie' when valid, False when credentials are wrong, None when absent."""
        header = environ.get("HTTP_AUTHORIZATION", "")
        if header:
            scheme, _, value = header.partition(" ")
            return "bearer" if scheme.lower() == "bearer" and self._token_ok(value.strip()) else False
        cookie = _cookies(environ.get("HTTP_COOKIE", "")).get(COOKIE)
        if cookie:
            return "cookie" if hmac.compare_digest(cookie.encode("utf-8"), self._session.encode("utf-8")) else False
        return None

    def _csrf_ok(self, environ: Dict, by_cookie: bool) -> bool:
        """A browser form (cookie) must carry the CSRF token; a Bearer request cannot be forged."""
        if not by_cookie:
            return True
        form = _form(environ)
        return hmac.compare_digest((form.get("csrf") or "").encode("utf-8"), self._csrf.encode("utf-8"))

    def _login(self, environ: Dict, method: str):
        if method == "GET":
            return self._login_page(HTTPStatus.OK)
        if method != "POST":
            return self._page(HTTPStatus.METHOD_NOT_ALLOWED, "Ikke tilladt", "<p>Metoden er ikke tilladt her.</p>")
        if not self._token_ok(_form(environ).get("token") or ""):
            return self._login_page(HTTPStatus.FORBIDDEN, error="Forkert adgangsnøgle.")
        cookie = f"{COOKIE}={self._session}; Path=/; HttpOnly; SameSite=Strict"
        if environ.get("wsgi.url_scheme") == "https":
            cookie += "; Secure"
        return self._redirect("/tickets", cookie=cookie)

    # -- pages --------------------------------------------------------------------------

    def _list(self, status: str):
        found = self.helpline.store.list(status)
        other = store.CLOSED if status == store.OPEN else store.OPEN
        rows = "".join(
            f"<tr><td><a href=\"/tickets/{t.id}\">#{t.id}</a></td><td>{e(store.iso(t.created_at))}</td>"
            f"<td>{e(t.reason)}</td><td>{e(t.triage)}</td><td>{e(t.language)}</td><td>{e(t.topic or '-')}</td>"
            f"<td>{e(t.summary)}</td></tr>"
            for t in found
        )
        title = "Åbne henvendelser" if status == store.OPEN else "Lukkede henvendelser"
        body = (
            f"<p class=\"meta\">{len(found)} {'åbne' if status == store.OPEN else 'lukkede'}. "
            f"<a href=\"/tickets?status={other}\">Vis {'lukkede' if other == store.CLOSED else 'åbne'}</a></p>"
            + (
                "<table><thead><tr><th>Nr.</th><th>Oprettet (UTC)</th><th>Årsag</th><th>Triage</th><th>Sprog</th>"
                f"<th>Emne</th><th>Resumé</th></tr></thead><tbody>{rows}</tbody></table>"
                if found
                else "<p>Ingen.</p>"
            )
        )
        return self._page(HTTPStatus.OK, title, body)

    def _show(self, ticket_id: int, notice: str = "", error: bool = False):
        ticket = self.helpline.store.get(ticket_id)
        if ticket is None:
            return self._page(HTTPStatus.NOT_FOUND, "Findes ikke", f"<p>Henvendelse #{ticket_id} findes ikke.</p>")
        fields = [
            ("Status", ticket.status),
            ("Årsag", ticket.reason),
            ("Triage", ticket.triage),
            ("Sprog", ticket.language),
            ("Emne", ticket.topic or "-"),
            ("Oprettet (UTC)", store.iso(ticket.created_at)),
            ("Samtale-id", ticket.conversation_id),
            ("Samtalen sat på pause", "ja" if ticket.pauses_conversation else "nej"),
            ("Webhook", ticket.delivery),
            ("Lukket (UTC)", store.iso(ticket.closed_at) if ticket.closed_at else "-"),
            ("Samtalen genoptaget (UTC)", store.iso(ticket.resumed_at) if ticket.resumed_at else "-"),
        ]
        table = "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in fields)
        lines = "".join(
            f"<tr class=\"{'user' if line.get('speaker') == 'user' else 'bot'}\">"
            f"<td>{e('Person' if line.get('speaker') == 'user' else 'Assistent')}</td>"
            f"<td class=\"meta\">{e(line.get('time'))}</td><td><pre>{e(line.get('text'))}</pre></td></tr>"
            for line in ticket.transcript or []
        )
        can_resume = ticket.pauses_conversation and ticket.resumed_at is None
        action = ""
        if ticket.is_open or can_resume:
            label = "Luk henvendelsen og genoptag samtalen" if ticket.is_open else "Prøv at genoptage samtalen igen"
            if ticket.is_open and not ticket.pauses_conversation:
                label = "Luk henvendelsen"
            action = (
                f"<form method=\"post\" action=\"/tickets/{ticket.id}/close\">"
                f"<input type=\"hidden\" name=\"csrf\" value=\"{e(self._csrf)}\"><button>{e(label)}</button></form>"
            )
        notice_html = f"<p class=\"notice{' error' if error else ''}\">{e(notice)}</p>" if notice else ""
        body = (
            f"{notice_html}<p class=\"meta\">Personoplysninger (CPR, telefon, e-mail) er fjernet.</p>"
            f"<h2>Resumé</h2><p>{e(ticket.summary)}</p>"
            f"<table>{table}</table>{action}"
            f"<h2>Samtalen</h2><table><tbody>{lines}</tbody></table>"
        )
        return self._page(HTTPStatus.OK, f"Henvendelse #{ticket.id}", body)

    def _close(self, ticket_id: int):
        closed = self.helpline.close(ticket_id)
        if closed is None:
            return self._page(HTTPStatus.NOT_FOUND, "Findes ikke", f"<p>Henvendelse #{ticket_id} findes ikke.</p>")
        if closed.error:
            return self._show(ticket_id, f"Lukket, men samtalen blev ikke genoptaget: {closed.error}", error=True)
        if closed.still_paused_by:
            others = ", ".join(f"#{n}" for n in closed.still_paused_by)
            return self._show(ticket_id, f"Lukket. Samtalen er stadig sat på pause af {others}.")
        return self._show(ticket_id, "Lukket. Samtalen er genoptaget." if closed.resumed else "Lukket.")

    def _login_page(self, status: HTTPStatus, error: str = "", extra: Optional[List[Tuple[str, str]]] = None):
        notice = f"<p class=\"notice error\">{e(error)}</p>" if error else ""
        body = (
            f"{notice}<form method=\"post\" action=\"/login\"><label>Adgangsnøgle (HELPLINE_TOKEN) "
            "<input type=\"password\" name=\"token\" autocomplete=\"current-password\" required></label> "
            "<button>Log ind</button></form>"
        )
        status, headers, page = self._page(status, "Log ind", body, nav=False)
        return status, headers + list(extra or []), page

    def _page(self, status: HTTPStatus, title: str, body: str, nav: bool = True):
        menu = (
            "<nav><a href=\"/tickets\">Åbne</a> · <a href=\"/tickets?status=closed\">Lukkede</a> · "
            f"<form class=\"inline\" method=\"post\" action=\"/logout\"><input type=\"hidden\" name=\"csrf\" "
            f"value=\"{e(self._csrf)}\"><button>Log ud</button></form></nav>"
            if nav
            else ""
        )
        page = (
            "<!doctype html><html lang=\"da\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{e(title)} · Rådgivningen</title><link rel=\"stylesheet\" href=\"/helpline.css\"></head>"
            f"<body>{menu}<h1>{e(title)}</h1>{body}</body></html>"
        )
        return status, [("Content-Type", "text/html; charset=utf-8")], page.encode("utf-8")

    def _redirect(self, location: str, cookie: Optional[str] = None):
        headers = [("Location", location), ("Content-Type", "text/plain; charset=utf-8")]
        if cookie:
            headers.append(("Set-Cookie", cookie))
        return HTTPStatus.SEE_OTHER, headers, b""

    def _forbidden_csrf(self):
        return self._page(HTTPStatus.FORBIDDEN, "Afvist", "<p>Formularen var for gammel eller ikke fra denne side. Prøv igen.</p>")


def _cookies(header: str) -> Dict[str, str]:
    found = {}
    for part in header.split(";"):
        name, sep, value = part.strip().partition("=")
        if sep:
            found[name] = value
    return found


def _form(environ: Dict) -> Dict[str, str]:
    """The url-encoded form body (read once, cached on the environ)."""
    if "helpline.form" not in environ:
        try:
            length = min(int(environ.get("CONTENT_LENGTH") or 0), MAX_BODY)
        except ValueError:
            length = 0
        raw = environ["wsgi.input"].read(length) if length > 0 else b""
        parsed = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
        environ["helpline.form"] = {k: v[0] for k, v in parsed.items()}
    return environ["helpline.form"]


class _ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    """Logs method, path and status only (no query strings, no addresses)."""

    def log_request(self, code="-", size="-") -> None:
        logger.info("helpline page: %s %s %s", self.command, self.path.split("?", 1)[0], code)

    def log_message(self, format: str, *args) -> None:  # noqa: A002
        logger.debug("helpline page: " + format, *args)


def check_token(token: Optional[str]) -> str:
    """The token, or SystemExit with the reason: the page never starts unprotected."""
    if not token:
        raise SystemExit("HELPLINE_TOKEN is not set: the helpline page will not start without it.")
    if len(token) < MIN_TOKEN_LENGTH:
        raise SystemExit(f"HELPLINE_TOKEN is too short: use at least {MIN_TOKEN_LENGTH} characters (e.g. `openssl rand -hex 32`).")
    return token


def make(helpline: Helpline, host: str, port: int, token: Optional[str]) -> WSGIServer:
    """The server, bound but not yet serving (port 0 picks a free port)."""
    app = StaffApp(helpline, check_token(token))
    return make_server(host, port, app, server_class=_ThreadingServer, handler_class=_QuietHandler)


def serve(helpline: Helpline, host: str, port: int, token: Optional[str]) -> None:
    server = make(helpline, host, port, token)
    serve_until_stopped(server, f"Helpline page on http://{host}:{server.server_port}/ (Ctrl-C stops it)")
