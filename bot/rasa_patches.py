"""Fixes to Rasa 3.6 internals, applied by `python -m bot serve` before Rasa starts.

- RemoteAction validates every action server response with `jsonschema.validate`,
  which checks the (large) events schema against the JSON Schema meta-schema again on
  every call: about half of a turn's time on this machine (profiled with cProfile,
  2 cores). The schema is fixed, so it is checked once here and the compiled
  validator is reused. Responses are still validated exactly as before.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict


@lru_cache(maxsize=1)
def _action_response_validator() -> Any:
    from jsonschema import validators
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    validator_class = validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def _validate_action_result(self: Any, result: Dict[str, Any]) -> bool:
    from jsonschema import ValidationError, exceptions
    from rasa.shared.constants import DOCS_BASE_URL

    error = exceptions.best_match(_action_response_validator().iter_errors(result))
    if error is None:
        return True
    assert isinstance(error, ValidationError)
    error.message += (
        ". Failed to validate Action server response from API, make sure your response from the "
        f"Action endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
    )
    raise error


def apply() -> None:
    from rasa.core.actions.action import RemoteAction

    RemoteAction._validate_action_result = _validate_action_result
