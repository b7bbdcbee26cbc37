"""The guardrail's targets, measured through the trained assistant (the same run as `make eval`)."""
from __future__ import annotations

from bot import evaluation
from tests.helpers import ROOT

DEV_SET = ROOT / "data" / "eval" / "guardrail_dev.yml"


def test_the_development_set_meets_the_targets(assistant):
    cases = evaluation.load_cases(DEV_SET)
    assert len(cases) >= 400
    assert {c.lang for c in cases} == {"da", "en"}
    report = evaluation.evaluate(assistant, cases)
    print(report.render())
    assert report.failures() == {}
