"""Session fixtures: the model is trained once per test session, the servers started once."""
from __future__ import annotations

import pytest

from bot.servers import AssistantServers, trained_model_path


@pytest.fixture(scope="session")
def trained_model():
    """Trains the assistant if its data or config changed (make train), once per session."""
    return trained_model_path()


@pytest.fixture(scope="session")
def assistant(trained_model):
    """The action server and the Rasa server (REST + HTTP API), running on free loopback ports."""
    servers = AssistantServers(trained_model)
    servers.start()
    yield servers
    servers.stop()
