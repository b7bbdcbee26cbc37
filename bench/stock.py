"""The stock assistant: `rasa init`'s project, trained and served the way Rasa ships it.

`rasa init --no-prompt` trains as it creates the project, which would hide the training
time inside project creation; so the project is copied from the same template `rasa init`
copies (rasa/cli/initial_project) and `rasa train` is timed separately, like ours.
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional
from urllib.parse import unquote, urlsplit

import requests
import yaml

VENV_BIN = Path(sys.executable).parent


def template_dir() -> Path:
    """rasa/cli/initial_project, the files `rasa init` copies (rasa.cli.scaffold.scaffold_path)."""
    spec = importlib.util.find_spec("rasa")
    assert spec and spec.origin, "rasa is not installed"
    return Path(spec.origin).parent / "cli" / "initial_project"


def create_project(path: Path) -> Path:
    """Copies `rasa init`'s project into `path` (no training, no prompts, no network)."""
    shutil.copytree(template_dir(), path, ignore=shutil.ignore_patterns("__pycache__"), dirs_exist_ok=True)
    return path


def shared_endpoints(tracker_store_url: str, lock_store_url: str) -> Dict[str, Any]:
    """Rasa's built-in SQL tracker store and Redis lock store, from the same URLs that
    our assistant reads from TRACKER_STORE_URL and LOCK_STORE_URL."""
    sql = urlsplit(tracker_store_url)
    redis = urlsplit(lock_store_url)
    dialect = sql.scheme.split("+")[0]
    tracker: Dict[str, Any] = {
        "type": "SQL",
        "dialect": "postgresql" if dialect == "postgres" else dialect,
        "url": sql.hostname or "127.0.0.1",
        "port": sql.port or 5432,
        "db": sql.path.strip("/"),
    }
    if sql.username:
        tracker["username"] = unquote(sql.username)
    if sql.password:
        tracker["password"] = unquote(sql.password)
    lock: Dict[str, Any] = {
        "type": "redis",
        "url": redis.hostname or "127.0.0.1",
        "port": redis.port or 6379,
        "db": int(redis.path.strip("/") or 0),
    }
    if redis.password:
        lock["password"] = unquote(redis.password)
    return {"tracker_store": tracker, "lock_store": lock}


class StockServer:
    """`rasa run --enable-api` in the stock project on a given port (no action server: the
    stock project has no custom actions). Without `endpoints`, the project's own
    endpoints.yml applies: in-memory tracker and lock stores, Rasa's defaults."""

    def __init__(self, project: Path, model: Path, port: int, log_dir: Path,
                 endpoints: Optional[Dict[str, Any]] = None) -> None:
        self.project = project
        self.model = model
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_dir = log_dir
        self.endpoints = endpoints
        self._process: Optional[subprocess.Popen] = None

    @property
    def rasa_pid(self) -> Optional[int]:
        return self._process.pid if self._process else None

    def tracker(self, sender: str) -> Dict[str, Any]:
        response = requests.get(f"{self.url}/conversations/{sender}/tracker", timeout=30)
        response.raise_for_status()
        return response.json()

    def start(self, timeout: float = 300) -> None:
        endpoints_file = self.project / "endpoints.yml"
        if self.endpoints is not None:
            endpoints_file = self.log_dir / f"stock-endpoints-{self.port}.yml"
            endpoints_file.write_text(yaml.safe_dump(self.endpoints, sort_keys=False), encoding="utf-8")
        command: List[str] = [
            str(VENV_BIN / "rasa"), "run", "--enable-api", "--interface", "127.0.0.1", "--port", str(self.port),
            "--model", str(self.model), "--credentials", "credentials.yml", "--endpoints", str(endpoints_file),
        ]
        env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}
        log = open(self.log_dir / f"stock-rasa-{self.port}.log", "a", encoding="utf-8")
        self._process = subprocess.Popen(command, cwd=self.project, env=env, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        log.close()
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"the stock Rasa server exited early; see {log.name}")
            try:
                status = requests.get(f"{self.url}/status", timeout=2)
                if status.ok and status.json().get("model_file"):
                    return
            except requests.RequestException:
                pass
            time.sleep(1)
        self.stop()
        raise RuntimeError(f"the stock Rasa server did not come up in {timeout}s; see {log.name}")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=20)
