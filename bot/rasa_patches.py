"""Fixes to Rasa 3.6 internals, applied by `python -m bot serve` before Rasa starts.

- RemoteAction validates every action server response with `jsonschema.validate`,
  which checks the (large) events schema against the JSON Schema meta-schema again on
  every call: about half of a turn's time on this machine (profiled with cProfile,
  2 cores). The schema is fixed, so it is checked once here and the compiled
  validator is reused. Responses are still validated exactly as before.
- MessageProcessor stops at a paused conversation (a handoff) before any policy is
  asked, so an emergency written while the person waits for staff got no reply at
  all. Here every message reaches the policies; the guardrail policy (policy/) keeps
  the assistant silent in a paused conversation unless the message is an emergency.
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


def _should_handle_message(tracker: Any) -> bool:
    """Every message is handled; the guardrail policy decides what a paused conversation gets."""
    return True


def apply() -> None:
    from rasa.core.actions.action import RemoteAction
    from rasa.core.processor import MessageProcessor

    RemoteAction._validate_action_result = _validate_action_result
    MessageProcessor._should_handle_message = staticmethod(_should_handle_message)
