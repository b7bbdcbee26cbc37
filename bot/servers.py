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
import yaml

from bot import access, credentials

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = Path(os.environ.get("BOT_ARTIFACTS", ROOT / "tests" / "artifacts"))
VENV_BIN = Path(sys.executable).parent
MODEL = ROOT / "models" / "assistant.tar.gz"


def trained_model_path() -> Path:
    """Runs `make train`, which trains only when data, config or components changed.

    TEST_MODEL=<path> uses that model as it is (for working on one part while the
    training data changes under it); CI never sets it."""
    if os.environ.get("TEST_MODEL"):
        return Path(os.environ["TEST_MODEL"])
    subprocess.run(["make", "--no-print-directory", "train"], cwd=ROOT, check=True)
    assert MODEL.exists(), "make train did not produce the model"
    return MODEL


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class AssistantClient:
    """Talks to a running assistant through the REST channel and the HTTP API."""

    def __init__(self, url: str, token: Optional[str] = None) -> None:
        self.url = url.rstrip("/")
        self.token = token

    def api_params(self) -> Dict[str, str]:
        """Query parameters that authenticate to Rasa's HTTP API (its `?token=`)."""
        return {"token": self.token} if self.token else {}

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
        response = requests.get(f"{self.url}/conversations/{sender}/tracker", params=self.api_params(), timeout=30)
        response.raise_for_status()
        return response.json()

    def slots(self, sender: str) -> Dict[str, Any]:
        return self.tracker(sender)["slots"]


class AssistantServers(AssistantClient):
    """Starts both servers on free ports, with the endpoints file pointing at each other.

    They run as `make run` runs them (python -m bot serve / actions, endpoints.yml's
    tracker and lock stores), with a random API token unless `env` brings RASA_TOKEN.
    """

    def __init__(self, model: Path, env: Optional[Dict[str, str]] = None,
                 endpoints: Optional[Dict[str, Any]] = None) -> None:
        """`env`: extra environment for both servers (channel secrets, store URLs);
        `endpoints`: extra entries for the endpoints file (an event broker)."""
        self.model = model
        self.extra_env = dict(env or {})
        self.extra_endpoints = dict(endpoints or {})
        self.extra_env.setdefault(access.TOKEN_VARIABLE, uuid.uuid4().hex + uuid.uuid4().hex)
        self.rasa_port = free_port()
        self.action_port = free_port()
        super().__init__(f"http://127.0.0.1:{self.rasa_port}", token=self.extra_env[access.TOKEN_VARIABLE] or None)
        self._actions: Optional[subprocess.Popen] = None
        self._rasa: Optional[subprocess.Popen] = None

    @property
    def rasa_pid(self) -> Optional[int]:
        return self._rasa.pid if self._rasa else None

    @property
    def action_pid(self) -> Optional[int]:
        return self._actions.pid if self._actions else None

    def environment(self) -> Dict[str, str]:
        return {
            **os.environ,
            **self.extra_env,
            "PYTHONPATH": str(ROOT),
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "RASA_TELEMETRY_ENABLED": "false",
        }

    def start(self, timeout: float = 300) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        env = self.environment()
        self._actions = self._spawn(
            [str(VENV_BIN / "python"), "-m", "bot", "actions", "--port", str(self.action_port)], env, "actions.log"
        )
        self.start_rasa(timeout)

    def start_rasa(self, timeout: float = 300) -> None:
        """(Re)starts only the Rasa server, on the same port (the restart and scale-out tests)."""
        env = self.environment()
        endpoints = yaml.safe_load((ROOT / "endpoints.yml").read_text(encoding="utf-8"))
        endpoints["action_endpoint"] = {"url": f"http://127.0.0.1:{self.action_port}/webhook"}
        endpoints.update(self.extra_endpoints)
        endpoints_file = ARTIFACTS / f"endpoints-{self.rasa_port}.yml"
        endpoints_file.write_text(yaml.safe_dump(endpoints, sort_keys=False), encoding="utf-8")
        credentials_file = credentials.write(ARTIFACTS / f"credentials-{self.rasa_port}.yml", env)
        self._rasa = self._spawn(
            [
                str(VENV_BIN / "python"), "-m", "bot", "serve", "--interface", "127.0.0.1",
                "--port", str(self.rasa_port), "--model", str(self.model),
                "--credentials", str(credentials_file), "--endpoints", str(endpoints_file),
            ],
            env,
            "rasa.log",
        )
        deadline = time.time() + timeout
        while time.time() < deadline:
            for process in (self._actions, self._rasa):
                if process is not None and process.poll() is not None:
                    self.stop()
                    raise RuntimeError(f"a server exited early; see {ARTIFACTS}")
            if self._ready():
                return
            time.sleep(1)
        self.stop()
        raise RuntimeError(f"servers did not come up in {timeout}s; see {ARTIFACTS}")

    def _spawn(self, command: List[str], env: Dict[str, str], log_name: str) -> subprocess.Popen:
        log = open(ARTIFACTS / f"{self.rasa_port}-{log_name}", "a", encoding="utf-8")
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def _ready(self) -> bool:
        try:
            status = requests.get(f"{self.url}/status", params=self.api_params(), timeout=2)
            health = requests.get(f"http://127.0.0.1:{self.action_port}/health", timeout=2)
        except requests.RequestException:
            return False
        return status.ok and bool(status.json().get("model_file")) and health.ok

    def kill_rasa(self) -> None:
        """SIGKILL to the Rasa server only: a crash, with no chance to clean up."""
        if self._rasa is not None and self._rasa.poll() is None:
            os.killpg(self._rasa.pid, signal.SIGKILL)
            self._rasa.wait(timeout=20)
        self._rasa = None

    def stop(self) -> None:
        processes = [process for process in (self._rasa, self._actions) if process is not None]
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=20)
        self._rasa = self._actions = None
