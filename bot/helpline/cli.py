"""`python -m bot helpline ...`: what the staff console does, from the command line.

    list [--state active|open|claimed|closed|all] [--json]   tickets in queue order (default: active)
    show ID [--json]                                           one ticket, its transcript and live messages
    claim ID --as NAME                                         the ticket is NAME's
    reply ID TEXT [--as NAME]                                  a live reply to the person (TEXT "-": stdin)
    close ID [--no-resume]                                     close, and hand the conversation back
    add-staff NAME [--display-name X] [--password-stdin]       a staff account (password asked twice)
    list-staff | disable-staff NAME | enable-staff NAME        the accounts
    serve [--host H] [--port P]                                the console (127.0.0.1:8090 by default)

Names: NAME is a staff account's login name (bot/helpline/accounts.py). What the helpline
stores as the ticket's `claimed_by` and as the sender of a reply is the account's *display
name*, which is also what the person sees in the chat (`Helpline.reply` claims a ticket
under the name it signs the reply with, so one name serves both); the console does the same.
`reply` without --as uses the only account there is, and asks for --as when there are more.

Exit codes: 0 done; 1 refused (no such ticket or account, a closed ticket, bad input);
2 done only in part: a reply stored but not delivered, a ticket closed but the
conversation not handed back (the reason on stderr; both are tried again later).
Times are shown in Danish time (Europe/Copenhagen); --json gives ISO 8601 UTC.
"""
from __future__ import annotations

import argparse
import getpass
import json
import logging
import sys
from datetime import datetime
from typing import List, Optional

from zoneinfo import ZoneInfo

from bot.helpline import store
from bot.helpline.accounts import AccountError, Accounts, Staff, normalize_name
from bot.helpline.config import HelplineConfig
from bot.helpline.config import load as load_config
from bot.helpline.service import Helpline

LOCAL_ZONE = ZoneInfo("Europe/Copenhagen")
STATES = ("active", store.OPEN, store.CLAIMED, store.CLOSED, "all")
PAGE = 500


def _config() -> HelplineConfig:
    return load_config()


def _helpline(config: Optional[HelplineConfig] = None) -> Helpline:
    return Helpline(config or _config())


def _accounts(config: Optional[HelplineConfig] = None, **options) -> Accounts:
    config = config or _config()
    return Accounts(config.database_url, timeout=config.database_timeout, **options)


def _local(value: Optional[datetime]) -> str:
    return value.astimezone(LOCAL_ZONE).strftime("%d.%m.%Y %H:%M") if value else "-"


def _waiting(seconds: int) -> str:
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours < 24 else f"{hours // 24} d {hours % 24} h"


def _fail(message: str) -> int:
    print(message, file=sys.stderr)
    return 1


# -- tickets ----------------------------------------------------------------------------


def list_tickets(args: argparse.Namespace) -> int:
    state = "all" if args.all else (store.CLOSED if args.closed else args.state)
    ticket_store = _helpline().store
    found: List[store.Ticket] = []
    while True:  # every page, in the console's order
        page, total = ticket_store.queue(status=None if state == "all" else state, offset=len(found), limit=PAGE)
        found.extend(page)
        if not page or len(found) >= total:
            break
    if args.json:
        print(json.dumps([t.as_dict() for t in found], ensure_ascii=False, indent=2))
        return 0
    if not found:
        print("No tickets." if state == "all" else f"No {state} tickets.")
        return 0
    for t in found:
        flag = "EMERGENCY  " if t.is_emergency else ""
        print(f"#{t.id}  {flag}{t.status:<7}  waiting {_waiting(t.waiting_seconds()):<10}  created {_local(t.created_at)}  "
              f"triage={t.triage}  reason={t.reason}  channel={t.channel}  lang={t.language}  topic={t.topic or '-'}"
              + (f"  claimed by {t.claimed_by}" if t.claimed_by else ""))
        print(f"     {t.summary}")
    print("(times in Danish time)")
    return 0


def show(args: argparse.Namespace) -> int:
    ticket_store = _helpline().store
    ticket = ticket_store.get(args.id)
    if ticket is None:
        return _fail(f"No ticket #{args.id}.")
    messages = ticket_store.messages(ticket.id)
    if args.json:
        data = ticket.as_dict()
        data["callback_number"] = ticket.callback_number
        data["messages"] = [m.as_dict() for m in messages]
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return 0
    print(f"Ticket #{ticket.id} ({ticket.status}{', EMERGENCY' if ticket.is_emergency else ''})")
    fields = [
        ("reason", ticket.reason),
        ("triage", ticket.triage),
        ("channel", ticket.channel),
        ("language", ticket.language),
        ("topic", ticket.topic or "-"),
        ("created", _local(ticket.created_at)),
        ("waiting", _waiting(ticket.waiting_seconds())),
        ("claimed by", ticket.claimed_by or "-"),
        ("conversation", ticket.conversation_id),
        ("pauses conversation", "yes" if ticket.pauses_conversation else "no"),
        ("webhook", ticket.delivery),
        ("closed", _local(ticket.closed_at)),
        ("handed back", _local(ticket.resumed_at)),
        ("summary", ticket.summary),
    ]
    if ticket.callback_number:
        fields.insert(8, ("call back on", ticket.callback_number))
    for label, value in fields:
        print(f"  {label + ':':<21} {value}")
    print("Transcript (personal data redacted; Danish time):")
    for line in ticket.transcript or []:
        who = "person" if line.get("speaker") == store.USER else "assistant"
        _print_line(_parse_time(line.get("time")), who, line.get("text"), line.get("decision"))
    if messages:
        print("  -- handed over to the helpline --")
    for message in messages:
        who = {store.USER: "person", store.BOT: "assistant"}.get(message.speaker) or (message.staff_name or "staff")
        pending = message.speaker == store.STAFF and message.delivered_at is None
        _print_line(message.created_at, who + (" (not yet delivered)" if pending else ""), message.text, message.decision)
    return 0


def _parse_time(value) -> Optional[datetime]:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except (TypeError, ValueError):
        return None


def _print_line(when: Optional[datetime], who: str, text, decision) -> None:
    tag = ""
    if isinstance(decision, dict) and decision:
        tag = f"  [guardrail: {decision.get('category') or 'none'}" + (f"/{decision['stage']}" if decision.get("stage") else "") + "]"
    body = str(text or "").replace("\n", "\n" + " " * 22)
    print(f"  {_local(when):<16}  {who}: {body}{tag}")


def _staff(accounts: Accounts, name: Optional[str]) -> "Staff | str":
    """The account to act as, or why there is none."""
    if name:
        staff = accounts.get(name)
        if staff is None:
            return f"No staff account named {name!r} (make one with `python -m bot helpline add-staff {name}`)."
        if staff.disabled:
            return f"The staff account {staff.name!r} is disabled."
        return staff
    enabled = [s for s in accounts.all() if not s.disabled]
    if len(enabled) == 1:
        return enabled[0]
    if not enabled:
        return "No staff accounts yet: make one with `python -m bot helpline add-staff NAME`, then use --as NAME."
    return "There are several staff accounts: say which with --as NAME."


def claim(args: argparse.Namespace) -> int:
    config = _config()
    staff = _staff(_accounts(config), args.as_name)
    if isinstance(staff, str):
        return _fail(staff)
    helpline = _helpline(config)
    ticket = helpline.store.get(args.id)
    if ticket is None:
        return _fail(f"No ticket #{args.id}.")
    if not ticket.is_open:
        return _fail(f"Ticket #{args.id} is closed; it cannot be claimed.")
    helpline.claim(args.id, staff.display_name)
    print(f"Ticket #{args.id} claimed by {staff.display_name} ({staff.name}).")
    return 0


def reply(args: argparse.Namespace) -> int:
    config = _config()
    staff = _staff(_accounts(config), args.as_name)
    if isinstance(staff, str):
        return _fail(staff)
    text = sys.stdin.read() if args.text == "-" else args.text
    replied = _helpline(config).reply(args.id, text, staff.display_name)
    if replied.message is None:
        return _fail(f"Reply to ticket #{args.id} refused: {replied.error}.")
    if not replied.delivered:
        print(f"Reply to ticket #{args.id} stored but not delivered: {replied.error}. "
              f"It goes out with the next reply.", file=sys.stderr)
        return 2
    print(f"Reply to ticket #{args.id} delivered (from {staff.display_name}).")
    return 0


def close(args: argparse.Namespace) -> int:
    closed = _helpline().close(args.id, resume=not args.no_resume)
    if closed is None:
        return _fail(f"No ticket #{args.id}.")
    if closed.error:
        print(f"Ticket #{args.id} closed, but the conversation was not handed back: {closed.error}. "
              f"Run `close {args.id}` again to retry.", file=sys.stderr)
        return 2
    if closed.still_paused_by:
        others = ", ".join(f"#{n}" for n in closed.still_paused_by)
        print(f"Ticket #{args.id} closed. The conversation stays paused by {others}.")
    elif closed.resumed:
        print(f"Ticket #{args.id} closed. The conversation is handed back to the assistant.")
    else:
        print(f"Ticket #{args.id} closed.")
    return 0


# -- accounts ---------------------------------------------------------------------------


def add_staff(args: argparse.Namespace) -> int:
    accounts = _accounts()
    if accounts.get(args.name) is not None:  # before asking for a password
        return _fail(f"A staff account named {normalize_name(args.name)!r} already exists.")
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password (at least 12 characters): ")
        if getpass.getpass("The same password again: ") != password:
            return _fail("The passwords differ; no account was made.")
    try:
        staff = accounts.add(args.name, password, display_name=args.display_name)
    except AccountError as error:
        return _fail(f"No account was made: {error}.")
    print(f"Staff account {staff.name!r} added; the person sees replies from {staff.display_name!r}.")
    return 0


def list_staff(args: argparse.Namespace) -> int:
    found = _accounts().all()
    if not found:
        print("No staff accounts. Make one with `python -m bot helpline add-staff NAME`.")
    for staff in found:
        print(f"{staff.name:<24} shown as {staff.display_name!r}" + ("  (disabled)" if staff.disabled else ""))
    return 0


def disable_staff(args: argparse.Namespace) -> int:
    try:
        staff = _accounts().set_disabled(args.name, args.command == "disable-staff")
    except AccountError as error:
        return _fail(f"{error}.")
    print(f"Staff account {staff.name!r} {'disabled (its sessions have ended)' if staff.disabled else 'enabled'}.")
    return 0


def serve(args: argparse.Namespace) -> int:
    from datetime import timedelta

    from bot.helpline.console import serve as serve_console

    config = _config()
    accounts = _accounts(config, session_lifetime=timedelta(hours=args.session_hours))
    if not any(not s.disabled for s in accounts.all()):
        print("No staff accounts yet: nobody can log in. Make one with "
              "`.venv/bin/python -m bot helpline add-staff NAME`.", file=sys.stderr)
    serve_console(_helpline(config), accounts, args.host or config.web_host, args.port or config.web_port,
                  proxies_count=args.proxies)
    return 0


def _positive(value: str) -> float:
    number = float(value)
    if not number > 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return number


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot helpline", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("list", help="tickets in the queue's order (emergencies first, then the longest waiting)")
    p.add_argument("--state", choices=STATES, default="active", help="default: active (open and claimed)")
    p.add_argument("--closed", action="store_true", help=argparse.SUPPRESS)  # older spelling of --state closed
    p.add_argument("--all", action="store_true", help=argparse.SUPPRESS)  # older spelling of --state all
    p.add_argument("--json", action="store_true", help="a JSON array of tickets")
    p.set_defaults(func=list_tickets)

    p = commands.add_parser("show", help="one ticket with its (redacted) transcript and live messages")
    p.add_argument("id", type=int)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=show)

    p = commands.add_parser("claim", help="the ticket is this staff member's")
    p.add_argument("id", type=int)
    p.add_argument("--as", dest="as_name", required=True, metavar="NAME", help="a staff account's name")
    p.set_defaults(func=claim)

    p = commands.add_parser("reply", help="reply to the person, live (claims the ticket)")
    p.add_argument("id", type=int)
    p.add_argument("text", help='the reply ("-" reads it from stdin)')
    p.add_argument("--as", dest="as_name", metavar="NAME", help="a staff account's name (default: the only one)")
    p.set_defaults(func=reply)

    p = commands.add_parser("close", help="close a ticket and hand the conversation back to the assistant")
    p.add_argument("id", type=int)
    p.add_argument("--no-resume", action="store_true", help="leave the conversation paused")
    p.set_defaults(func=close)

    p = commands.add_parser("add-staff", help="make a staff account (the password is asked twice)")
    p.add_argument("name", help="the login name (letters, digits, . @ - _)")
    p.add_argument("--display-name", help='what the person sees, e.g. "Anna" or "Rådgiver" (default: NAME)')
    p.add_argument("--password-stdin", action="store_true", help="read the password from one line of stdin")
    p.set_defaults(func=add_staff)

    p = commands.add_parser("list-staff", help="the staff accounts")
    p.set_defaults(func=list_staff)
    for name, what in (("disable-staff", "disable an account (ends its sessions)"), ("enable-staff", "enable it again")):
        p = commands.add_parser(name, help=what)
        p.add_argument("name")
        p.set_defaults(func=disable_staff)

    p = commands.add_parser("serve", help="the staff console (log in with a staff account)")
    p.add_argument("--host", help="default 127.0.0.1 (config/helpline.yml: web.host)")
    p.add_argument("--port", type=int, help="default 8090 (config/helpline.yml: web.port)")
    p.add_argument("--proxies", type=int, default=0, metavar="N",
                   help="reverse proxies in front of it whose X-Forwarded-For/-Proto to trust (default 0)")
    p.add_argument("--session-hours", type=_positive, default=8.0, help="how long a login lasts (default 8)")
    p.set_defaults(func=serve)

    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.command == "serve" else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
