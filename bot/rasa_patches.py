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
- RegexMessageHandler reads any message that starts with "/" as an intent payload, so
  typing "/emergency" or "/session_start" forced that intent on every channel. Here it
  unpacks only the payloads bot/channels/payloads.py lets act; any other "/" text keeps
  what the NLU made of it.
- The Sanic app Rasa configures gets bot/api_guard.py's Host and Origin checks as its
  first middleware.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict, List


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


def _unpack_known_payloads(self: Any, messages: List[Any], domain: Any = None) -> List[Any]:
    """RegexMessageHandler.process, for the payloads that may act only."""
    from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
    from rasa.shared.nlu.constants import TEXT

    from bot.channels import payloads

    intents = domain.intents if domain is not None else ()
    return [
        YAMLStoryReader.unpack_regex_message(message, domain, entity_extractor_name=self.name)
        if payloads.acts(message.get(TEXT), intents, message.get("metadata"))
        else message
        for message in messages
    ]


def _should_handle_message(tracker: Any) -> bool:
    """Every message is handled; the guardrail policy decides what a paused conversation gets."""
    return True


def _guarded_configure_app(original: Any, interface: str) -> Any:
    def configure_app(*args: Any, **kwargs: Any) -> Any:
        import os

        from bot import api_guard

        app = original(*args, **kwargs)
        api_guard.install(app, interface, os.environ)
        return app

    return configure_app


def apply(interface: str = "127.0.0.1") -> None:
    """Applies every fix; `interface` is the address the Rasa server listens on."""
    import rasa.core.run
    from rasa.core.actions.action import RemoteAction
    from rasa.core.processor import MessageProcessor
    from rasa.nlu.classifiers.regex_message_handler import RegexMessageHandler

    RemoteAction._validate_action_result = _validate_action_result
    RegexMessageHandler.process = _unpack_known_payloads
    if not getattr(rasa.core.run.configure_app, "_guarded", False):
        rasa.core.run.configure_app = _guarded_configure_app(rasa.core.run.configure_app, interface)
        rasa.core.run.configure_app._guarded = True
    MessageProcessor._should_handle_message = staticmethod(_should_handle_message)

