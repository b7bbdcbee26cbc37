"""Fixtures for the chat widget's tests: an assistant open to the widget's origin, the
widget server (python -m bot.widget_server) and headless Chromium driven by Playwright.

The widget server runs on a free port, so the test does not clash with a `make run`
on 8080; the assistant started here allows exactly that origin (WIDGET_ALLOWED_ORIGINS),
which the shared `assistant` fixture (default origins) would not.

Chromium is Debian's (/usr/bin/chromium, or $CHROMIUM), installed by
scripts/install-browser.sh. Without it the browser tests are skipped, except under
CI=true, where a missing browser fails them.
"""
from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import pytest
import requests

from bot.servers import ARTIFACTS, ROOT, AssistantServers, free_port

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def widget_port():
    return free_port()


@pytest.fixture(scope="module")
def widget_origin(widget_port):
    return f"http://127.0.0.1:{widget_port}"


@pytest.fixture(scope="module")
def webchat_assistant(trained_model, widget_origin):
    """Both servers, with the socket.io channel open to the widget server's origin only."""
    servers = AssistantServers(trained_model, env={"WIDGET_ALLOWED_ORIGINS": widget_origin})
    servers.start()
    yield servers
    servers.stop()


@contextlib.contextmanager
def background_server(command: List[str], probe: str, log_name: str, env: Optional[Dict[str, str]] = None,
                      timeout: float = 60) -> Iterator[None]:
    """Runs `command` (from the repository root) until `probe` answers 2xx, then yields;
    stops it afterwards. Its output goes to tests/artifacts/<log_name>."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = open(ARTIFACTS / log_name, "w", encoding="utf-8")
    process = subprocess.Popen(
        command, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.time() + timeout
        while True:
            assert process.poll() is None, f"{command[2:4]} exited; see tests/artifacts/{log_name}"
            try:
                if requests.get(probe, timeout=2).ok:
                    break
            except requests.RequestException:
                pass
            assert time.time() < deadline, f"{probe} did not answer in {timeout:.0f} s"
            time.sleep(0.2)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture(scope="module")
def widget_server(webchat_assistant, widget_port, widget_origin):
    """`python -m bot.widget_server` on the free port, pointed at the assistant."""
    command = [sys.executable, "-m", "bot.widget_server", "--port", str(widget_port), "--socket-url", webchat_assistant.url]
    with background_server(command, widget_origin + "/", f"widget-server-{widget_port}.log", timeout=30):
        yield widget_origin


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium (and the playwright package); skipped when missing, unless CI=true."""
    missing = []
    if not CHROMIUM.exists():
        missing.append(f"{CHROMIUM} is missing: run scripts/install-browser.sh")
    if importlib.util.find_spec("playwright") is None:
        missing.append("the playwright package is missing: run make install")
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail("; ".join(missing) + " (CI=true: the browser test must run)")
        pytest.skip("; ".join(missing))
    return CHROMIUM


@pytest.fixture(scope="module")
def browser_context(chromium):
    """A headless Chromium with a fresh profile."""
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="widget-chromium-")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=str(chromium),
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1280, "height": 800},
            locale="da-DK",
        )
        context.set_default_timeout(60_000)
        try:
            yield context
        finally:
            context.close()
            shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def page(browser_context, widget_server):
    """A new tab (so a new sessionStorage: a new conversation)."""
    tab = browser_context.new_page()
    errors = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    yield tab
    tab.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture(scope="module")
def chromium_browser(chromium):
    """Headless Chromium for tests that need their own viewport, zoom or offline state per
    test (a new context each: `open_page`). Not for a module that uses `browser_context`
    (Playwright's sync API runs one instance per thread)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def open_page(chromium_browser, widget_server):
    """open_page(width, height, scale=1, path="/") -> a page of the demo site in a new context
    (new sessionStorage) of that CSS viewport; `scale` is the device pixel ratio, so 640x400
    at 2 is a 1280x800 window at 200 % zoom and 320x200 at 4 the same window at 400 %."""
    contexts = []
    errors: List[str] = []

    def opener(width: int, height: int, scale: float = 1, path: str = "/", locale: str = "da-DK"):
        context = chromium_browser.new_context(
            viewport={"width": width, "height": height}, device_scale_factor=scale, locale=locale,
        )
        context.set_default_timeout(60_000)
        contexts.append(context)
        tab = context.new_page()
        tab.on("pageerror", lambda error: errors.append(str(error)))
        tab.goto(widget_server + path)
        return tab

    yield opener
    for context in contexts:
        context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
