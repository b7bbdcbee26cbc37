"""GuardrailPolicy: a Rasa policy that outranks every other on safety.

At the start of each turn it asks the detectors (policy/detectors.py) about the
user's message and the conversation so far:
- emergency -> action_emergency (112 first), whatever else the message asks;
- settings  -> action_refuse_settings, whatever the NLU or the rules say;
- exempt    -> action_answer_topic, with the topic that answers a question
               about the rules themselves ("may my doctor help with settings?");
- redirect  -> when the NLU alone called a message a settings question or an
               emergency and nothing else agreed ("just curious, what is a normal
               ketone level?"), the action for the next best intent;
- otherwise it abstains and the other policies decide.
After its own action it predicts action_listen, so no other policy can add to a
refusal or an emergency reply. It predicts with confidence 1.0 at a priority
above RulePolicy's, so it wins every tie. Every turn's decision, including an
abstention, is recorded in the tracker (slot `guardrail`), and the actions it
chooses carry the decision as action metadata.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

from policy import detectors
from policy.detectors import Context, Turn, Verdict

logger = logging.getLogger(__name__)

ACTIONS = {
    detectors.EMERGENCY: "action_emergency",
    detectors.SETTINGS: "action_refuse_settings",
}
DECISION_SLOT = "guardrail"
INTENT_HINT_SLOT = "intent_hint"
# Above RulePolicy (6), MemoizationPolicy (3), TEDPolicy (1).
GUARDRAIL_PRIORITY = 10


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=False
)
class GuardrailPolicy(Policy):
    """Decides refusals and emergencies before any other policy is heard."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"priority": GUARDRAIL_PRIORITY}

    def train(self, training_trackers: List[TrackerWithCachedStates], domain: Domain, **kwargs: Any) -> Resource:
        """Nothing to learn: the decisions come from the detectors and the lexicon."""
        return self._resource

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Optional[Dict[Text, Any]] = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        probabilities = self._default_predictions(domain)
        if tracker.latest_action_name == ACTION_LISTEN_NAME and isinstance(tracker.latest_message, UserUttered):
            return self._at_turn_start(tracker, domain, probabilities)
        if self._spoke_last(tracker):
            probabilities[domain.index_for_action(ACTION_LISTEN_NAME)] = 1.0
            return self._prediction(probabilities)
        return self._prediction(probabilities)

    def _at_turn_start(self, tracker: DialogueStateTracker, domain: Domain, probabilities: List[float]) -> PolicyPrediction:
        guardrail = detectors.default()
        verdict = guardrail.assess(current_turn(tracker), conversation_context(tracker))
        record = SlotSet(DECISION_SLOT, verdict.as_metadata()["guardrail"])
        action = ACTIONS.get(verdict.category) or (guardrail.action_for(verdict.intent) if verdict.intent else None)
        if action is None:
            logger.debug("guardrail abstains (%s)", verdict.layer)
            return self._prediction(probabilities, events=[record])
        logger.info("guardrail: %s", explain(verdict))
        probabilities[domain.index_for_action(action)] = 1.0
        events = [record, SlotSet(INTENT_HINT_SLOT, verdict.intent)]
        return self._prediction(probabilities, events=events, action_metadata=verdict.as_metadata())

    def _spoke_last(self, tracker: DialogueStateTracker) -> bool:
        """True when the latest action of this turn was chosen by this policy."""
        for event in reversed(tracker.events):
            if isinstance(event, ActionExecuted):
                return event.policy == self.__class__.__name__ and event.action_name != ACTION_LISTEN_NAME
        return False


def current_turn(tracker: DialogueStateTracker) -> Turn:
    """The latest user message with its NLU intent."""
    message = tracker.latest_message
    intent = message.intent or {}
    ranking = tuple((r.get("name"), float(r.get("confidence") or 0.0)) for r in message.parse_data.get("intent_ranking", []) or [])
    return Turn(text=message.text or "", intent=intent.get("name"), confidence=float(intent.get("confidence") or 0.0), ranking=ranking)


def conversation_context(tracker: DialogueStateTracker) -> Context:
    """Earlier user messages of this session, and how the last turn was triaged."""
    users = [e for e in tracker.applied_events() if isinstance(e, UserUttered)]
    earlier = [Turn(text=e.text or "", intent=(e.intent or {}).get("name")) for e in users[:-1]]
    return Context(earlier=tuple(earlier), last_triage=tracker.get_slot("triage"))


def explain(verdict: Verdict) -> str:
    """One line for logs and reports."""
    return f"{verdict.category or 'none'} via {verdict.layer}: {'; '.join(verdict.reasons) or '-'}"
