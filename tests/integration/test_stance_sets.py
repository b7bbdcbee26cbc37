"""Issue #11: topic accuracy on stance questions, through the running assistant (REST),
read from the tracker's `triage` and `topic` slots as the association's evaluation does.

Both sets were written blind (docs/conversation.md has their first-run figures); the
first was then tuned on, the second was first scored after the work. They are kept at
the issue's target here, so that a change to the training data cannot quietly undo it.
"""
from __future__ import annotations

import pytest

from bot import evaluation
from tests.helpers import ROOT

TARGET = {"topic_accuracy": (">=", 0.95), "false_refusals": ("<=", 0.01), "false_emergencies": ("<=", 0.0)}


@pytest.mark.parametrize("name", ["stance_holdout.yml", "stance_fresh.yml"])
def test_stance_questions_reach_their_topic(assistant, name):
    cases = evaluation.load_cases(ROOT / "tests" / "data" / name)
    assert len(cases) >= 200 and {c.lang for c in cases} == {"da", "en"}
    report = evaluation.evaluate(assistant, cases)
    print(f"== {name}\n{report.render()}")
    assert report.failures(TARGET) == {}, name
