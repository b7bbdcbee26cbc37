"""Rasa's own checks on the trained project: data validation, conversation tests, NLU evaluation."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT

RASA = str(Path(sys.executable).parent / "rasa")
RESULTS = ROOT / "results"
TRAINING_DATA = ["data/nlu", "data/rules", "data/stories"]


def rasa(*args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([RASA, *args], cwd=ROOT, capture_output=True, text=True)
    print(result.stdout[-4000:], result.stderr[-4000:])
    return result


def test_rasa_data_validate():
    result = rasa("data", "validate", "--config", "config.yml", "--domain", "domain.yml", "--data", *TRAINING_DATA, "--fail-on-warnings")
    assert result.returncode == 0


def test_conversation_tests_in_both_languages(trained_model):
    out = RESULTS / "conversations"
    result = rasa(
        "test", "core", "--model", str(trained_model), "--stories", "tests/conversations",
        "--out", str(out), "--fail-on-prediction-errors",
    )
    assert result.returncode == 0, (out / "failed_test_stories.yml").read_text() if (out / "failed_test_stories.yml").exists() else ""
    failed = out / "failed_test_stories.yml"
    assert not failed.exists() or "story:" not in failed.read_text()


@pytest.mark.parametrize("language", ["da", "en"])
def test_nlu_macro_f1_on_the_held_out_set(trained_model, language):
    out = RESULTS / f"nlu_{language}"
    result = rasa("test", "nlu", "--model", str(trained_model), "--nlu", f"tests/nlu/heldout_{language}.yml", "--out", str(out))
    assert result.returncode == 0
    report = json.loads((out / "intent_report.json").read_text())
    macro_f1 = report["macro avg"]["f1-score"]
    print(f"NLU macro F1 ({language}, held out): {macro_f1:.3f}")
    assert macro_f1 >= 0.95
