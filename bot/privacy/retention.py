"""Retention: conversations and helpline tickets are deleted after a number of days.

The number is `retention_days` in config/privacy.yml, or RETENTION_DAYS in the
environment. `python -m bot purge [--older-than DAYS]` deletes
- every stored conversation event older than that (Rasa's `events` table, in the
  tracker store at TRACKER_STORE_URL), so a conversation goes as a whole once its
  last message is that old;
- every helpline ticket created before then, open or not (the count of open ones
  is printed, so staff can see what they missed).
make run purges at start and once a day; a deployment runs the same command from cron.
"""
from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Mapping, Optional

import sqlalchemy as sa

from bot import paths
from bot.yamlfile import load_mapping

CONFIG = paths.ROOT / "config" / "privacy.yml"
ENV_DAYS = "RETENTION_DAYS"
EVENTS_TABLE = "events"  # Rasa's SQLTrackerStore


# A hundred years: beyond it no date can be computed (and nothing is that old).
MAX_DAYS = 36_500


def retention_days(env: Optional[Mapping[str, str]] = None) -> int:
    """RETENTION_DAYS, else config/privacy.yml; a whole number of days, at least 1."""
    env = os.environ if env is None else env
    raw = (env.get(ENV_DAYS) or "").strip() or load_mapping(CONFIG).get("retention_days")
    try:
        days = int(raw)
    except (TypeError, ValueError):
        raise SystemExit(f"{ENV_DAYS} / config/privacy.yml retention_days must be a whole number of days, not {raw!r}") from None
    if not 1 <= days <= MAX_DAYS:
        raise SystemExit(f"The retention period must be between 1 and {MAX_DAYS} days, not {days}")
    return days


@dataclass
class Purged:
    events: int
    conversations: int
    tickets: int
    open_tickets: int

    def render(self, days: int, dry_run: bool) -> str:
        verb = "Would delete" if dry_run else "Deleted"
        line = (
            f"{verb} {self.events} conversation events ({self.conversations} conversations) "
            f"and {self.tickets} helpline tickets older than {days} days."
        )
        if self.open_tickets:
            line += f" {self.open_tickets} of those tickets were still open."
        return line


def purge_events(url: str, cutoff: datetime, dry_run: bool = False) -> tuple:
    """Deletes tracker events older than `cutoff`; (events, conversations) counted."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and not Path(parsed.database).exists():
        return 0, 0  # nothing stored yet (a fresh install): nothing to delete, no file to create
    engine = sa.create_engine(url)
    try:
        if not sa.inspect(engine).has_table(EVENTS_TABLE):
            return 0, 0
        table = sa.Table(EVENTS_TABLE, sa.MetaData(), autoload_with=engine)
        old = table.c.timestamp < cutoff.timestamp()
        with engine.begin() as connection:
            events = connection.execute(sa.select(sa.func.count()).where(old)).scalar() or 0
            conversations = connection.execute(
                sa.select(sa.func.count(sa.distinct(table.c.sender_id))).where(old)
            ).scalar() or 0
            if not dry_run:
                connection.execute(table.delete().where(old))
        return int(events), int(conversations)
    finally:
        engine.dispose()


def purge(days: int, now: Optional[datetime] = None, dry_run: bool = False) -> Purged:
    """Deletes what is older than `days` in the tracker store and the helpline's store."""
    from bot.helpline import config as helpline_config
    from bot.helpline.store import TicketStore
    from bot.persistence.tracker_store import database_url

    cutoff = (now or datetime.now(timezone.utc)) - timedelta(days=days)
    events, conversations = purge_events(database_url(), cutoff, dry_run)
    store = TicketStore(helpline_config.load().database_url)
    try:
        tickets = store.delete_created_before(cutoff, dry_run)
    finally:
        store.dispose()
    return Purged(events, conversations, tickets["tickets"], tickets["open_tickets"])


def main(older_than: Optional[int] = None, dry_run: bool = False) -> int:
    days = older_than if older_than is not None else retention_days()
    if not 0 <= days <= MAX_DAYS:
        print(f"--older-than must be between 0 and {MAX_DAYS} days, not {days}", file=sys.stderr)
        return 2
    started = time.monotonic()
    result = purge(days, dry_run=dry_run)
    print(f"{result.render(days, dry_run)} ({time.monotonic() - started:.1f}s)")
    return 0
