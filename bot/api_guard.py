"""The Rasa server refuses browsers and foreign hosts before any route is reached.

A web page the person visits can send requests to a server on their machine or network:
a cross-origin POST (text/plain needs no preflight) injected events into a conversation,
and a page on a domain that resolves to 127.0.0.1 (DNS rebinding) read and wrote the HTTP
API. So, on every request:

- **Host.** The Host header must name the server: a loopback name or address, the
  address it listens on (any IP address when it listens on all of them), or a public
  name from PUBLIC_HOSTNAMES (comma-separated; a deployment behind a domain sets it).
  Anything else is refused with 421. A rebinding page always sends its own domain name.
- **Origin.** A request that carries an Origin (browsers send one on cross-origin and
  on POST requests) is refused with 403 unless the origin is listed in
  API_ALLOWED_ORIGINS (comma-separated; default: none). The widget's socket.io path
  has its own list (WIDGET_ALLOWED_ORIGINS, bot/channels/webchat.py) and is left to it.

The token rules (bot/access.py) stay as they are: these checks come on top of them.
"""
from __future__ import annotations

import ipaddress
import logging
from typing import Any, Mapping, Optional, Set

from bot.access import is_loopback

logger = logging.getLogger(__name__)

HOSTS_VARIABLE = "PUBLIC_HOSTNAMES"
ORIGINS_VARIABLE = "API_ALLOWED_ORIGINS"
# the widget channel checks its own origins (bot/channels/webchat.py)
OWN_ORIGIN_CHECK = ("/socket.io",)
WILDCARDS = ("0.0.0.0", "::", "")


def _names(value: Optional[str]) -> Set[str]:
    return {item.strip().lower().rstrip("/") for item in (value or "").split(",") if item.strip()}


def host_name(header: Optional[str]) -> str:
    """The host part of a Host header: without the port, IPv6 brackets removed, lower case."""
    header = (header or "").strip().lower()
    if header.startswith("["):
        return header[1:].split("]", 1)[0]
    if header.count(":") == 1:
        return header.split(":", 1)[0]
    return header


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        return False


class Guard:
    """The Host and Origin rules for one server."""

    def __init__(self, interface: str, env: Mapping[str, str]) -> None:
        self.interface = (interface or "").strip().strip("[]").lower()
        self.public = _names(env.get(HOSTS_VARIABLE))
        self.origins = _names(env.get(ORIGINS_VARIABLE))

    def host_allowed(self, header: Optional[str]) -> bool:
        name = host_name(header)
        if not name:
            return False
        if is_loopback(name) or name == self.interface or name in self.public:
            return True
        # listening on every address: any address literal names this server; a name does not
        return self.interface in WILDCARDS and _is_ip(name)

    def origin_allowed(self, path: str, origin: Optional[str]) -> bool:
        if origin is None or path.startswith(OWN_ORIGIN_CHECK):
            return True
        return origin.strip().lower().rstrip("/") in self.origins

    def refusal(self, path: str, headers: Mapping[str, str]) -> Optional[tuple]:
        """(status, message) for a request to refuse, or None."""
        if not self.host_allowed(headers.get("host")):
            return 421, f"This server does not answer for that host name. Set {HOSTS_VARIABLE} to serve a public name."
        if not self.origin_allowed(path, headers.get("origin")):
            return 403, "Requests from web pages are not accepted here."
        return None


def install(app: Any, interface: str, env: Mapping[str, str]) -> Guard:
    """Adds the checks to a Sanic app as its first request middleware."""
    from sanic import response

    guard = Guard(interface, env)

    async def refuse_browsers_and_foreign_hosts(request: Any) -> Any:
        refused = guard.refusal(request.path, request.headers)
        if refused is None:
            return None
        status, message = refused
        logger.info("Refused a request (%d): %s", status, "foreign host" if status == 421 else "foreign origin")
        return response.json({"error": message}, status=status)

    app.register_middleware(refuse_browsers_and_foreign_hosts, "request")
    return guard
