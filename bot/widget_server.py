"""Serves web/: the chat widget and a demo page that embeds it (`python -m bot.widget_server`).

    python -m bot.widget_server [--host 127.0.0.1] [--port 8080] [--socket-url http://127.0.0.1:5005]

Environment: WIDGET_HOST, WIDGET_PORT, WIDGET_SOCKET_URL (the arguments win). The
demo pages (web/*.html) hold the embed snippet with the default socket URL,
http://127.0.0.1:5005; this server writes the configured one in its place. The Rasa
server must allow this page's origin (WIDGET_ALLOWED_ORIGINS, default
http://127.0.0.1:8080,http://localhost:8080; see docs/widget.md).

Standard library only. It is a demo and test server, not the association's web server:
on the real site the widget's files are copied next to the site's own.
"""
from __future__ import annotations

import argparse
import functools
import logging
import os
import sys
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import List, Optional, Sequence
from urllib.parse import urlsplit

from bot.serving import serve_until_stopped

logger = logging.getLogger(__name__)

WEB_ROOT = Path(__file__).resolve().parent.parent / "web"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
DEFAULT_SOCKET_URL = "http://127.0.0.1:5005"
# Characters that could leave the quoted string of the init call or the HTML text around it.
UNSAFE_URL_CHARACTERS = set("\"'<>&\\` \t\r\n")


def socket_url(value: str) -> str:
    """An http(s) URL of the Rasa server, safe to write into the page as it is."""
    value = value.strip().rstrip("/")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or UNSAFE_URL_CHARACTERS & set(value):
        raise argparse.ArgumentTypeError(f"not an http(s) URL of the Rasa server: {value!r}")
    return value


def port_number(value: str) -> int:
    port = int(value)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"not a port: {value}")
    return port


class WidgetRequestHandler(SimpleHTTPRequestHandler):
    """Static files from web/; the demo pages with the configured socket URL; no listings."""

    socket_url = DEFAULT_SOCKET_URL

    extensions_map = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript; charset=utf-8",
        ".css": "text/css; charset=utf-8",
        ".html": "text/html; charset=utf-8",
        ".map": "application/json",
        ".txt": "text/plain; charset=utf-8",
        ".md": "text/plain; charset=utf-8",
        "": "text/plain; charset=utf-8",
    }

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        page = self._demo_page()
        if page is None:
            super().do_GET()
            return
        body = page.read_text(encoding="utf-8").replace(DEFAULT_SOCKET_URL, self.socket_url).encode("utf-8")
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _demo_page(self) -> Optional[Path]:
        path = urlsplit(self.path).path
        if path == "/":
            path = "/index.html"
        if path.count("/") != 1 or not path.endswith(".html"):
            return None
        page = WEB_ROOT / path[1:]
        return page if page.is_file() else None

    def end_headers(self) -> None:
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Referrer-Policy", "no-referrer")
        super().end_headers()

    def list_directory(self, path):  # no directory listings
        self.send_error(HTTPStatus.NOT_FOUND)
        return None

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (http.server's signature)
        logger.debug("%s %s", self.address_string(), format % args)


def make_server(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, socket: str = DEFAULT_SOCKET_URL) -> ThreadingHTTPServer:
    """A server for web/ (not yet serving: call serve_forever())."""
    handler = type("ConfiguredWidgetRequestHandler", (WidgetRequestHandler,), {"socket_url": socket_url(socket)})
    server = ThreadingHTTPServer((host, port), functools.partial(handler, directory=str(WEB_ROOT)))
    server.daemon_threads = True
    return server


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bot.widget_server", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=os.environ.get("WIDGET_HOST", DEFAULT_HOST),
                        help="interface to listen on (WIDGET_HOST; default %(default)s)")
    parser.add_argument("--port", type=port_number, default=os.environ.get("WIDGET_PORT", str(DEFAULT_PORT)),
                        help="port (WIDGET_PORT; default %(default)s)")
    parser.add_argument("--socket-url", type=socket_url,
                        default=os.environ.get("WIDGET_SOCKET_URL", DEFAULT_SOCKET_URL),
                        help="the Rasa server the widget connects to (WIDGET_SOCKET_URL; default %(default)s)")
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        server = make_server(args.host, args.port, args.socket_url)
    except OSError as error:
        print(f"widget server: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1
    host, port = server.server_address[:2]

    serve_until_stopped(server, f"Chat widget demo: http://{host}:{port}/ (socket: {args.socket_url})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
