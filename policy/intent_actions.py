"""Which action the rules give each intent, derived from the rules themselves.

When the guardrail overrules the NLU (an unsupported settings or emergency intent,
a question about the rules), it answers the message as another intent, and needs the
action the rules would run for it. That map is read from the rules (as RulePolicy
reads them), not kept as a second copy: a rule that starts with an intent and no
condition ("intent: ask_human -> action: action_handoff") gives that intent's action.
The policy derives it from its training trackers at `rasa train` and persists it
with the model; `from_project` reads data/rules/ for tests and tools.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Dict, Iterable, Optional, Sequence

from rasa.shared.core.constants import ACTION_LISTEN_NAME, RULE_SNIPPET_ACTION_NAME
from rasa.shared.core.events import ActionExecuted, Event, UserUttered

from bot import paths

_NO_CONDITION = (ACTION_LISTEN_NAME, RULE_SNIPPET_ACTION_NAME, "action_session_start")


def first_actions(event_sequences: Iterable[Sequence[Event]]) -> Dict[str, str]:
    """intent -> action, from every rule whose first step is that intent, unconditioned."""
    found: Dict[str, str] = {}
    for events in event_sequences:
        intent: Optional[str] = None
        for event in events:
            if isinstance(event, UserUttered):
                if intent is not None:
                    break
                intent = event.intent_name
                continue
            if isinstance(event, ActionExecuted):
                if intent is None:
                    if event.action_name not in _NO_CONDITION:
                        break  # a rule with a condition ("after an answer, yes...")
                    continue
                if event.action_name not in _NO_CONDITION and event.action_name:
                    found.setdefault(intent, event.action_name)
                break
    return found


@lru_cache(maxsize=1)
def from_project(rules: Optional[Path] = None) -> Dict[str, str]:
    """The map from the project's rule files (without training a model)."""
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader

    domain = Domain.load(str(paths.ROOT / "domain.yml"))
    folder = Path(rules or paths.DATA / "rules")
    steps = []
    for path in sorted(folder.glob("*.yml")):
        steps.extend(YAMLStoryReader(domain).read_from_file(str(path)))
    return first_actions(step.events for step in steps)
