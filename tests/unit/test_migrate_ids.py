"""Conversations stored under the old shared ids move into their channel's namespace (#12)."""
from __future__ import annotations

import sqlalchemy as sa

from bot.persistence import migrate_ids

PSID = "1234567890123456"
WIDGET = "0123456789abcdef0123456789abcdef"
REST = ["test-0123456789ab", "crm-4711", "fb:999", "web:" + WIDGET]


def make_databases(tmp_path):
    tracker = f"sqlite:///{tmp_path}/conversations.db"
    helpline = f"sqlite:///{tmp_path}/helpline.db"
    engine = sa.create_engine(tracker)
    events = sa.Table("events", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
                      sa.Column("sender_id", sa.String(255)), sa.Column("timestamp", sa.Float))
    events.create(engine)
    with engine.begin() as connection:
        for sender in [PSID, PSID, WIDGET, *REST]:
            connection.execute(events.insert().values(sender_id=sender, timestamp=1.0))
    engine.dispose()
    engine = sa.create_engine(helpline)
    tickets = sa.Table("helpline_tickets", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
                       sa.Column("conversation_id", sa.String(255)))
    tickets.create(engine)
    with engine.begin() as connection:
        for conversation in (PSID, "crm-4711"):
            connection.execute(tickets.insert().values(conversation_id=conversation))
    engine.dispose()
    return tracker, helpline


def ids(url, table, column):
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        found = sorted(row[0] for row in connection.execute(sa.text(f"SELECT {column} FROM {table}")))
    engine.dispose()
    return found


def test_old_messenger_and_widget_ids_move_into_their_namespace(tmp_path):
    tracker, helpline = make_databases(tmp_path)
    dry = migrate_ids.migrate(tracker, helpline, dry_run=True)
    assert (dry.conversations, dry.tickets) == (2, 1)
    assert PSID in ids(tracker, "events", "sender_id")
    moved = migrate_ids.migrate(tracker, helpline)
    assert (moved.conversations, moved.tickets) == (2, 1)
    assert ids(tracker, "events", "sender_id") == sorted(["fb:" + PSID] * 2 + ["web:" + WIDGET] + REST)
    assert ids(helpline, "helpline_tickets", "conversation_id") == sorted(["fb:" + PSID, "crm-4711"])
    # a second run finds nothing left to move
    assert migrate_ids.migrate(tracker, helpline).conversations == 0


def test_nothing_stored_yet_is_nothing_to_move(tmp_path):
    moved = migrate_ids.migrate(f"sqlite:///{tmp_path}/none.db", f"sqlite:///{tmp_path}/none2.db")
    assert (moved.conversations, moved.tickets) == (0, 0)
    assert not (tmp_path / "none.db").exists()
