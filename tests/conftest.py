"""Session fixtures: the model is trained once per test session, the servers started once."""
from __future__ import annotations

import os

import pytest

from bot.servers import AssistantServers, trained_model_path


@pytest.fixture(scope="session", autouse=True)
def helpline_database(tmp_path_factory):
    """Tests never write tickets into the real var/helpline.db (unit tests and the test servers)."""
    os.environ["HELPLINE_DATABASE_URL"] = f"sqlite:///{tmp_path_factory.mktemp('helpline')}/helpline.db"
    os.environ.pop("HELPLINE_WEBHOOK_URL", None)
    yield


@pytest.fixture(scope="session")
def trained_model():
    """Trains the assistant if its data or config changed (make train), once per session."""
    return trained_model_path()


@pytest.fixture(scope="session")
def assistant(trained_model):
    """The action server and the Rasa server (REST + HTTP API), running on free loopback ports."""
    # The shared servers always run with the widget's default allowed origins, whatever
    # this shell has set, so the tests that rely on the defaults never need to skip.
    servers = AssistantServers(trained_model, env={"WIDGET_ALLOWED_ORIGINS": ""})
    servers.start()
    yield servers
    servers.stop()
