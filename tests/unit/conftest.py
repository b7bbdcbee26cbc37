"""Fixtures unit tests share: a fake Graph API, and the helpline the actions use."""
from __future__ import annotations

import pytest

from bot.helpline import service
from bot.helpline.config import HelplineConfig
from bot.helpline.service import Helpline
from tests.unit.test_messenger_channel import GraphRecorder


@pytest.fixture
async def graph():
    """A fake Graph API on loopback that records every call."""
    recorder = GraphRecorder()
    await recorder.server.start_server()
    yield recorder
    await recorder.server.close()


@pytest.fixture
def helpline(tmp_path, monkeypatch):
    """The actions' helpline (service.default()), with a SQLite database of the test's own.
    Its phone number is filled in and its hours are not, so no reply promises a time,
    whatever time the test runs at."""
    line = Helpline(HelplineConfig(database_url=f"sqlite:///{tmp_path}/h.db", phone=HELPLINE_PHONE, hours=None,
                                   database_timeout=2))
    monkeypatch.setattr(service, "default", lambda: line)
    yield line
    line.store.dispose()


HELPLINE_PHONE = "70 70 70 70"
