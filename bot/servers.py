"""Runs the trained assistant in the background: action server + Rasa server.

Used by the end-to-end tests and by `python -m bot eval`.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Dict, List, Optional

import requests

from bot import credentials

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = Path(os.environ.get("BOT_ARTIFACTS", ROOT / "tests" / "artifacts"))
VENV_BIN = Path(sys.executable).parent
MODEL = ROOT / "models" / "assistant.tar.gz"


def trained_model_path() -> Path:
    """Runs `make train`, which trains only when data, config or components changed."""
    subprocess.run(["make", "--no-print-directory", "train"], cwd=ROOT, check=True)
    assert MODEL.exists(), "make train did not produce the model"
    return MODEL


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class AssistantClient:
    """Talks to a running assistant through the REST channel and the HTTP API."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    @staticmethod
    def new_sender() -> str:
        return f"test-{uuid.uuid4().hex[:12]}"

    def send(self, sender: str, text: str, metadata: Optional[Dict[str, Any]] = None) -> List[Dict[str, Any]]:
        body: Dict[str, Any] = {"sender": sender, "message": text}
        if metadata:
            body["metadata"] = metadata
        response = requests.post(f"{self.url}/webhooks/rest/webhook", json=body, timeout=60)
        response.raise_for_status()
        return response.json()

    def tracker(self, sender: str) -> Dict[str, Any]:
        response = requests.get(f"{self.url}/conversations/{sender}/tracker", timeout=30)
        response.raise_for_status()
        return response.json()

    def slots(self, sender: str) -> Dict[str, Any]:
        return self.tracker(sender)["slots"]


class AssistantServers(AssistantClient):
    """Starts both servers on free ports, with the endpoints file pointing at each other."""

    def __init__(self, model: Path, env: Optional[Dict[str, str]] = None) -> None:
        """`env`: extra environment for both servers (channel secrets, test endpoints)."""
        self.model = model
        self.extra_env = dict(env or {})
        self.rasa_port = free_port()
        self.action_port = free_port()
        super().__init__(f"http://127.0.0.1:{self.rasa_port}")
        self._processes: List[subprocess.Popen] = []

    def start(self, timeout: float = 300) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        endpoints = ARTIFACTS / f"endpoints-{self.rasa_port}.yml"
        endpoints.write_text(
            f'action_endpoint:\n  url: "http://127.0.0.1:{self.action_port}/webhook"\n', encoding="utf-8"
        )
        env = {
            **os.environ,
            **self.extra_env,
            "PYTHONPATH": str(ROOT),
            "SANIC_HOST": "127.0.0.1",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "RASA_TELEMETRY_ENABLED": "false",
        }
        self._spawn(
            [str(VENV_BIN / "rasa"), "run", "actions", "--actions", "actions", "--port", str(self.action_port)],
            env,
            "actions.log",
        )
        self._spawn(
            [
                str(VENV_BIN / "rasa"), "run", "--enable-api", "--interface", "127.0.0.1",
                "--port", str(self.rasa_port), "--model", str(self.model),
                "--credentials", str(credentials.write(ARTIFACTS / f"credentials-{self.rasa_port}.yml", env)),
                "--endpoints", str(endpoints),
            ],
            env,
            "rasa.log",
        )
        deadline = time.time() + timeout
        while time.time() < deadline:
            for process in self._processes:
                if process.poll() is not None:
                    raise RuntimeError(f"a server exited early; see {ARTIFACTS}")
            if self._ready():
                return
            time.sleep(1)
        self.stop()
        raise RuntimeError(f"servers did not come up in {timeout}s; see {ARTIFACTS}")

    def _spawn(self, command: List[str], env: Dict[str, str], log_name: str) -> None:
        log = open(ARTIFACTS / f"{self.rasa_port}-{log_name}", "w", encoding="utf-8")
        self._processes.append(
            subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        )

    def _ready(self) -> bool:
        try:
            status = requests.get(f"{self.url}/status", timeout=2)
            health = requests.get(f"http://127.0.0.1:{self.action_port}/health", timeout=2)
        except requests.RequestException:
            return False
        return status.ok and bool(status.json().get("model_file")) and health.ok

    def stop(self) -> None:
        for process in self._processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self._processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        self._processes.clear()
