"""`rasa train` timed as a fresh, full training: --force, a new output directory and an
empty training cache of its own (RASA_CACHE_DIRECTORY), so nothing is reused from earlier
runs and models/assistant.tar.gz is never touched."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
# The same inputs as the Makefile's $(MODEL) rule.
OUR_TRAIN_ARGS = ["--config", "config.yml", "--domain", "domain.yml", "--data", "data/nlu", "data/rules", "data/stories"]


@dataclass
class TrainingResult:
    seconds: float
    ok: bool
    model: Optional[Path]
    log: Path


def timed_train(cwd: Path, extra_args: List[str], out_dir: Path, name: str, log_dir: Path) -> TrainingResult:
    out_dir.mkdir(parents=True, exist_ok=True)
    cache = out_dir / "cache"
    command = [str(VENV_BIN / "rasa"), "train", *extra_args, "--out", str(out_dir),
               "--fixed-model-name", name, "--force"]
    env = {**os.environ, "RASA_CACHE_DIRECTORY": str(cache), "RASA_TELEMETRY_ENABLED": "false",
           "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(ROOT)}
    log = log_dir / f"train-{name}.log"
    with open(log, "w", encoding="utf-8") as handle:
        started = time.perf_counter()
        code = subprocess.run(command, cwd=cwd, env=env, stdout=handle, stderr=subprocess.STDOUT).returncode
        seconds = time.perf_counter() - started
    model = out_dir / f"{name}.tar.gz"
    ok = code == 0 and model.exists()
    return TrainingResult(seconds, ok, model if ok else None, log)


def train_ours(out_dir: Path, log_dir: Path) -> TrainingResult:
    return timed_train(ROOT, OUR_TRAIN_ARGS, out_dir, "ours", log_dir)


def train_stock(project: Path, out_dir: Path, log_dir: Path) -> TrainingResult:
    return timed_train(project, [], out_dir, "stock", log_dir)
