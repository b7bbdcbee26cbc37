"""Command line: `python -m bot serve | actions | chat | eval | content | language | credentials | purge | migrate-ids | messenger-profile | helpline`."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import List, Optional

from bot import paths

DEFAULT_URL = "http://127.0.0.1:5005"
# the development sets: every file in data/eval/
DEFAULT_SETS = sorted((paths.DATA / "eval").glob("guardrail_dev*.yml"))


def chat(args: argparse.Namespace) -> int:
    """A terminal chat with the running assistant (make run), through the REST channel."""
    import requests

    from bot.servers import AssistantClient

    client = AssistantClient(args.url)
    sender = client.new_sender()
    print(f"Chatting with {args.url} as {sender}. Empty line or Ctrl-D to stop.")
    while True:
        try:
            text = input("> ").strip()
        except EOFError:
            break
        if not text:
            break
        try:
            for message in client.send(sender, text):
                print(message.get("text", ""))
                for button in message.get("buttons") or []:
                    print(f"   [{button['title']}]  (type {button['payload']})")
        except requests.RequestException as error:
            print(f"The assistant did not answer ({error}). Is `make run` running?", file=sys.stderr)
            return 1
    return 0


def evaluate(args: argparse.Namespace) -> int:
    """Scores the guardrail on labelled sets through the trained assistant."""
    from bot import evaluation
    from bot.servers import MODEL, AssistantClient, AssistantServers

    cases = [case for path in args.sets for case in evaluation.load_cases(Path(path))]
    if args.url:
        report = evaluation.evaluate(AssistantClient(args.url), cases)
    else:
        servers = AssistantServers(MODEL)
        print("Starting the assistant...", file=sys.stderr)
        servers.start()
        try:
            report = evaluation.evaluate(servers, cases)
        finally:
            servers.stop()
    print(report.render())
    return 1 if report.failures() else 0


def content(args: argparse.Namespace) -> int:
    """Prints what the assistant answers on each topic, for editors of the paper file."""
    from bot import content as paper_module

    paper = paper_module.load(Path(args.file) if args.file else None)
    for topic in paper.topics.values():
        if args.topic and topic.id != args.topic:
            continue
        print(f"# {topic.id}: {topic.title[args.lang]}")
        for statement in topic.statements:
            marker = "*" if statement in topic.lead else "-"
            print(f"{marker} [{statement.id}] {statement.text[args.lang]}")
        print()
    return 0


def language(args: argparse.Namespace) -> int:
    from bot import language as language_module

    decision = language_module.default().resolve(" ".join(args.text), previous=args.previous)
    print(f"{decision.language} ({decision.reason})")
    return 0


def credentials(args: argparse.Namespace) -> int:
    """Writes Rasa's credentials file from the environment (secrets never live in the repo)."""
    from bot import credentials as credentials_module

    print(credentials_module.write(Path(args.out)))
    return 0


def serve(args: argparse.Namespace) -> int:
    """Rasa's server (channels + HTTP API), refusing to start unprotected off loopback."""
    from bot import access, launch

    try:
        launch.serve_rasa(args.model, args.port, args.interface, args.credentials, args.endpoints)
    except access.AccessError as error:
        print(error, file=sys.stderr)
        return error.code
    return 0


def actions(args: argparse.Namespace) -> int:
    """The action server, on loopback unless ACTION_HOST says otherwise."""
    from bot import launch

    launch.serve_actions(args.port)
    return 0


def purge(args: argparse.Namespace) -> int:
    """Deletes conversations and helpline tickets older than the retention period."""
    from bot.privacy import retention

    return retention.main(args.older_than, dry_run=args.dry_run)


def migrate_ids(args: argparse.Namespace) -> int:
    """Moves conversations stored under the old, shared ids into fb: and web: (bot/persistence/migrate_ids.py)."""
    from bot.persistence import migrate_ids as module

    return module.main(dry_run=args.dry_run)


def messenger_profile(args: argparse.Namespace) -> int:
    """Sets the Page's Messenger welcome screen: greeting and Get Started (bot/channels/messenger_profile.py)."""
    from bot.channels import messenger_profile as module

    return module.main(dry_run=args.dry_run)


def helpline(argv: List[str]) -> int:
    """Helpline tickets: list | show ID | close ID | serve (bot/helpline/cli.py)."""
    from bot.helpline import cli

    return cli.main(argv)


def main(argv: Optional[List[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["helpline"]:
        return helpline(argv[1:])  # its own options and sub-commands
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("serve", help="start Rasa's server (needs RASA_TOKEN off loopback)")
    p.add_argument("--model", default="models/assistant.tar.gz")
    p.add_argument("--port", type=int, default=5005)
    p.add_argument("--interface", default=os.environ.get("RASA_INTERFACE") or "127.0.0.1")
    p.add_argument("--credentials", default=".rasa/credentials.yml")
    p.add_argument("--endpoints", default="endpoints.yml")
    p.set_defaults(func=serve)

    p = commands.add_parser("actions", help="start the action server (loopback unless ACTION_HOST is set)")
    p.add_argument("--port", type=int, default=5055)
    p.set_defaults(func=actions)

    p = commands.add_parser("purge", help="delete conversations and tickets older than the retention period")
    p.add_argument("--older-than", type=int, metavar="DAYS",
                   help="age in days (default: RETENTION_DAYS or config/privacy.yml)")
    p.add_argument("--dry-run", action="store_true", help="only count what would be deleted")
    p.set_defaults(func=purge)

    p = commands.add_parser("migrate-ids", help="move conversations stored under old ids into fb: and web: (once)")
    p.add_argument("--dry-run", action="store_true", help="only count what would be moved")
    p.set_defaults(func=migrate_ids)

    p = commands.add_parser("messenger-profile",
                            help="set the Page's Messenger greeting and Get Started button (once per Page)")
    p.add_argument("--dry-run", action="store_true", help="only print the profile body")
    p.set_defaults(func=messenger_profile)

    p = commands.add_parser("chat", help="chat with the running assistant in the terminal")
    p.add_argument("--url", default=DEFAULT_URL)
    p.set_defaults(func=chat)

    p = commands.add_parser("eval", help="score the guardrail on labelled conversation sets")
    p.add_argument("sets", nargs="*", default=DEFAULT_SETS, help="YAML sets (default: the development set)")
    p.add_argument("--url", help="a running assistant; without it, one is started from models/")
    p.set_defaults(func=evaluate)

    p = commands.add_parser("content", help="print the answers the position paper file gives")
    p.add_argument("topic", nargs="?")
    p.add_argument("--lang", choices=["da", "en"], default="da")
    p.add_argument("--file", help="another paper file to check")
    p.set_defaults(func=content)

    p = commands.add_parser("language", help="which language a message would be answered in")
    p.add_argument("text", nargs="+")
    p.add_argument("--previous", choices=["da", "en"])
    p.set_defaults(func=language)

    p = commands.add_parser("credentials", help="write Rasa's credentials file from the environment")
    p.add_argument("--out", default=".rasa/credentials.yml")
    p.set_defaults(func=credentials)

    commands.add_parser("helpline", help="helpline tickets: list | show ID | close ID | serve (see helpline --help)")

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
