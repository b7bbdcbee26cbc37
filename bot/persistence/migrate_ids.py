"""Moves conversations stored under the old, shared ids into their channel's namespace.

Until the channels had namespaces, Messenger conversations were stored under the bare
PSID and widget conversations under the bare session id, in the same space as the REST
channel's ids. Now they are `fb:<psid>` and `web:<session>` (bot/channels/). Run once
after upgrading: `python -m bot migrate-ids [--dry-run]`. It renames, in Rasa's events
table and in the helpline's tickets:

- ids of 10 to 20 digits (the shape of a Messenger page-scoped id) to `fb:<id>`;
- ids of 32 hexadecimal digits (the widget's session ids) to `web:<id>`.

A REST integration whose ids have one of these shapes would be moved too: such a
deployment should skip this step and let retention delete the old conversations.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Optional

import sqlalchemy as sa

EVENTS_TABLE = "events"
TICKETS_TABLE = "helpline_tickets"
SHAPES: Dict[str, "re.Pattern[str]"] = {
    "fb:": re.compile(r"\d{10,20}"),
    "web:": re.compile(r"[0-9a-f]{32}"),
}


def new_id(old: str) -> Optional[str]:
    """The namespaced id for an old one, or None when it keeps its id."""
    for prefix, shape in SHAPES.items():
        if shape.fullmatch(old or ""):
            return prefix + old
    return None


@dataclass
class Moved:
    conversations: int = 0
    tickets: int = 0


def _rename(url: str, table_name: str, column: str, dry_run: bool) -> int:
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and not Path(parsed.database).exists():
        return 0
    engine = sa.create_engine(url)
    try:
        if not sa.inspect(engine).has_table(table_name):
            return 0
        table = sa.Table(table_name, sa.MetaData(), autoload_with=engine)
        ids = table.c[column]
        with engine.begin() as connection:
            old_ids = [row[0] for row in connection.execute(sa.select(sa.distinct(ids)))]
            renames = {old: new for old in old_ids for new in [new_id(old)] if new}
            if not dry_run:
                for old, new in renames.items():
                    connection.execute(table.update().where(ids == old).values({column: new}))
        return len(renames)
    finally:
        engine.dispose()


def migrate(tracker_url: str, helpline_url: str, dry_run: bool = False) -> Moved:
    return Moved(
        conversations=_rename(tracker_url, EVENTS_TABLE, "sender_id", dry_run),
        tickets=_rename(helpline_url, TICKETS_TABLE, "conversation_id", dry_run),
    )


def main(dry_run: bool = False, echo: Callable[[str], None] = print) -> int:
    from bot.helpline import config as helpline_config
    from bot.persistence.tracker_store import database_url

    moved = migrate(database_url(), helpline_config.load().database_url, dry_run)
    verb = "Would move" if dry_run else "Moved"
    echo(f"{verb} {moved.conversations} conversations and the tickets of {moved.tickets} conversations "
         "to their channel's namespace (fb:, web:).")
    return 0
