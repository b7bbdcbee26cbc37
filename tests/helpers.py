"""Shared test helpers: rasa-sdk trackers and the data files tests read."""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Dict, List, Optional

import yaml
from rasa_sdk import Tracker

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent


def load_yaml(path: Path) -> Any:
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def tracker(
    text: str = "",
    intent: Optional[str] = None,
    slots: Optional[Dict[str, Any]] = None,
    events: Optional[List[Dict[str, Any]]] = None,
    metadata: Optional[Dict[str, Any]] = None,
    channel: str = "rest",
) -> Tracker:
    """A rasa-sdk tracker whose latest user message is `text` classified as `intent`,
    received on `channel` (rest, socketio for the widget, facebook for Messenger)."""
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 1.0} if intent else {},
        "entities": [],
        "metadata": metadata or {},
    }
    return Tracker(
        sender_id="test-user",
        slots=dict(slots or {}),
        latest_message=latest,
        events=list(events or []) + [{"event": "user", "text": text, "parse_data": latest, "input_channel": channel}],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


def earlier_bot_turn() -> List[Dict[str, Any]]:
    """Events of a session in which the bot has already spoken."""
    return [
        {"event": "session_started"},
        {"event": "user", "text": "hej"},
        {"event": "bot", "text": "Hej"},
    ]


def require_service(available: bool, what: str) -> None:
    """Skips a test whose service is absent, except on CI (CI=true), where that must fail."""
    import os

    import pytest

    if available:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{what} is not reachable, and CI=true requires it")
    pytest.skip(f"{what} is not reachable")


@contextlib.asynccontextmanager
async def running_channel(channel: Any, agent: Any):
    """A channel's blueprint in a Sanic server on a free loopback port, as Rasa registers it;
    `agent` stands in for Rasa's (it only needs `handle_message`). Yields the base URL."""
    import uuid

    from rasa.core.channels.channel import register
    from sanic import Sanic

    from bot.servers import free_port

    Sanic.test_mode = True  # as sanic-testing does: lets one process start several apps
    app = Sanic(f"channel_unit_{uuid.uuid4().hex}")
    app.ctx.agent = agent
    register([channel], app, "/webhooks/")
    port = free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False)
    await server.startup()
    await server.before_start()
    await server.after_start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await server.before_stop()
        await server.close()
        await server.after_stop()


@contextlib.contextmanager
def installed_as_da_core_news_sm(pipeline: Any, folder: Path, monkeypatch: Any):
    """Packages a (tiny) spaCy pipeline as da_core_news_sm with spaCy's own packager and puts
    it on sys.path for the test: the model path is tested without the real model."""
    import importlib
    import sys
    import zipfile

    from spacy.cli.package import package

    source = folder / "source"
    pipeline.meta.update(name="core_news_sm", version="3.4.0")
    pipeline.to_disk(source)
    (folder / "dist").mkdir()
    package(source, folder / "dist", create_sdist=False, create_wheel=True, force=True)
    wheel = next((folder / "dist").glob("**/*.whl"))
    site = folder / "site"
    zipfile.ZipFile(wheel).extractall(site)
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    try:
        yield
    finally:
        for module in [m for m in sys.modules if m.startswith("da_core_news_sm")]:
            del sys.modules[module]
