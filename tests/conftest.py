"""Session fixtures: the model is trained once per test session, the servers started once."""
from __future__ import annotations

import os

import pytest

from bot.servers import AssistantServers, trained_model_path


@pytest.fixture(scope="session", autouse=True)
def helpline_database(tmp_path_factory):
    """Tests never write into the real var/ databases (unit tests and the test servers):
    tickets and conversations go to SQLite files of this session, locks stay in memory."""
    folder = tmp_path_factory.mktemp("databases")
    os.environ["HELPLINE_DATABASE_URL"] = f"sqlite:///{folder}/helpline.db"
    os.environ["TRACKER_STORE_URL"] = f"sqlite:///{folder}/conversations.db"
    for name in ("HELPLINE_WEBHOOK_URL", "LOCK_STORE_URL", "RASA_TOKEN", "RASA_JWT_SECRET", "RETENTION_DAYS"):
        os.environ.pop(name, None)
    yield folder


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


@pytest.fixture(scope="session")
def guardrail_options():
    """The guardrail's settings exactly as config.yml gives them to the policy."""
    from policy.detectors import Options
    from policy.guardrail_policy import GuardrailPolicy
    from tests.helpers import ROOT, load_yaml

    entry = next(p for p in load_yaml(ROOT / "config.yml")["policies"] if p["name"].endswith("GuardrailPolicy"))
    return Options.from_config({**GuardrailPolicy.get_default_config(), **entry})


@pytest.fixture(scope="session")
def full_guardrail(guardrail_options):
    """The lexicon, the rules' action map and the classifier trained on data/guardrail/,
    with config.yml's thresholds: what `rasa train` builds, without a Rasa model."""
    from bot import paths
    from policy import classifier, detectors

    trained = classifier.GuardrailClassifier.train(classifier.load_examples(paths.DATA / "guardrail"))
    return detectors.load(classifier=trained, options=guardrail_options)
