"""`python -m bot helpline list | show ID | close ID | serve`: the helpline's tickets for staff."""
from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import List, Optional

from bot.helpline import store
from bot.helpline.config import load as load_config
from bot.helpline.service import Helpline


def _helpline() -> Helpline:
    return Helpline(load_config())


def list_tickets(args: argparse.Namespace) -> int:
    status = None if args.all else (store.CLOSED if args.closed else store.OPEN)
    found = _helpline().store.list(status)
    if args.json:
        print(json.dumps([t.as_dict() for t in found], ensure_ascii=False, indent=2))
        return 0
    if not found:
        print("No tickets." if status is None else f"No {status} tickets.")
        return 0
    for t in found:
        print(f"#{t.id}  {store.iso(t.created_at)}  {t.status:<6}  {t.reason:<13}  triage={t.triage}  "
              f"lang={t.language}  topic={t.topic or '-'}")
        print(f"     {t.summary}")
    return 0


def show(args: argparse.Namespace) -> int:
    ticket = _helpline().store.get(args.id)
    if ticket is None:
        print(f"No ticket #{args.id}.", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(ticket.as_dict(), ensure_ascii=False, indent=2))
        return 0
    print(f"Ticket #{ticket.id} ({ticket.status})")
    for label, value in [
        ("reason", ticket.reason),
        ("triage", ticket.triage),
        ("language", ticket.language),
        ("topic", ticket.topic or "-"),
        ("created (UTC)", store.iso(ticket.created_at)),
        ("conversation", ticket.conversation_id),
        ("pauses conversation", "yes" if ticket.pauses_conversation else "no"),
        ("webhook", ticket.delivery),
        ("closed (UTC)", store.iso(ticket.closed_at) if ticket.closed_at else "-"),
        ("resumed (UTC)", store.iso(ticket.resumed_at) if ticket.resumed_at else "-"),
        ("summary", ticket.summary),
    ]:
        print(f"  {label + ':':<21} {value}")
    print("Transcript (personal data redacted):")
    for line in ticket.transcript or []:
        who = "person" if line.get("speaker") == "user" else "bot"
        text = str(line.get("text", "")).replace("\n", "\n" + " " * 34)
        print(f"  {line.get('time', ''):<20} {who:>6}: {text}")
    return 0


def close(args: argparse.Namespace) -> int:
    closed = _helpline().close(args.id, resume=not args.no_resume)
    if closed is None:
        print(f"No ticket #{args.id}.", file=sys.stderr)
        return 1
    if closed.error:
        print(f"Ticket #{args.id} closed, but the conversation was not resumed: {closed.error}. "
              f"Run `close {args.id}` again to retry.", file=sys.stderr)
        return 2
    if closed.still_paused_by:
        others = ", ".join(f"#{n}" for n in closed.still_paused_by)
        print(f"Ticket #{args.id} closed. The conversation stays paused by {others}.")
    elif closed.resumed:
        print(f"Ticket #{args.id} closed. The conversation is resumed.")
    else:
        print(f"Ticket #{args.id} closed.")
    return 0


def serve(args: argparse.Namespace) -> int:
    from bot.helpline import web

    config = load_config()
    web.check_token(config.token)
    web.serve(Helpline(config), args.host or config.web_host, args.port or config.web_port, config.token)
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot helpline", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("list", help="open tickets (oldest first)")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--closed", action="store_true", help="closed tickets instead")
    which.add_argument("--all", action="store_true", help="open and closed tickets")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=list_tickets)

    p = commands.add_parser("show", help="one ticket with its (redacted) transcript")
    p.add_argument("id", type=int)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=show)

    p = commands.add_parser("close", help="close a ticket and resume the conversation it paused")
    p.add_argument("id", type=int)
    p.add_argument("--no-resume", action="store_true", help="leave the conversation paused")
    p.set_defaults(func=close)

    p = commands.add_parser("serve", help="the staff web page (needs HELPLINE_TOKEN)")
    p.add_argument("--host", help="default 127.0.0.1 (config/helpline.yml: web.host)")
    p.add_argument("--port", type=int, help="default 8090 (config/helpline.yml: web.port)")
    p.set_defaults(func=serve)

    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.command == "serve" else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
