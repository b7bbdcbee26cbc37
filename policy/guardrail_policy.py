"""GuardrailPolicy: a Rasa policy that outranks every other on safety.

At the start of each turn, in every state of the conversation (also while it waits
for a person: bot/rasa_patches.py lets a paused conversation reach the policies),
it asks the detectors (policy/detectors.py) about the user's message and the
conversation so far:
- emergency -> action_emergency (112 first), whatever else the message asks; in
               emergency mode a short reminder (action_emergency_reminder);
- handoff   -> while a person is awaited: silence; the message goes to the live
               ticket for staff (action_wait_for_staff);
- settings  -> action_refuse_settings, whatever the NLU or the rules say;
- exempt    -> action_answer_topic, with the topic that answers a question
               about the rules themselves ("may my doctor help with settings?");
- frustrated-> after a refusal, an answer or small talk: action_smalltalk offers a person;
- redirect  -> when the NLU alone called a message a settings question or an
               emergency and nothing else agreed ("just curious, what is a normal
               ketone level?"), the action for the next best intent;
- otherwise it abstains and the other policies decide.
After its own action it predicts action_listen, so no other policy can add to a
refusal or an emergency reply. It predicts with confidence 1.0 at a priority
above RulePolicy's, so it wins every tie. Every turn's decision, including an
abstention, is recorded in the tracker (slot `guardrail`), and the actions it
chooses carry the decision as action metadata.

Its settings come from config.yml (`get_default_config`). At `rasa train` it trains
the classifier, derives the intent-to-action map from the rules, and persists both
with a copy of the lexicon in the model (`persist`/`load`, as MemoizationPolicy
does), so that a model and its guardrail always go together; `fingerprint_addon`
makes Rasa retrain it when the lexicon or the classifier's data change.
"""
from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

from bot import paths
from policy import classifier as classifier_module
from policy import detectors, intent_actions
from policy.detectors import Context, Guardrail, Options, Turn, Verdict

logger = logging.getLogger(__name__)

ACTIONS = {
    detectors.SETTINGS: "action_refuse_settings",
    detectors.HANDOFF: "action_wait_for_staff",
    detectors.FRUSTRATED: "action_smalltalk",
}
EMERGENCY_ACTIONS = {detectors.ACUTE: "action_emergency", detectors.REMINDER: "action_emergency_reminder"}
DECISION_SLOT = "guardrail"
INTENT_HINT_SLOT = "intent_hint"
# Above RulePolicy (6), MemoizationPolicy (3), TEDPolicy (1).
GUARDRAIL_PRIORITY = 10
LEXICON_FILE = "guardrail_lexicon.yml"
CLASSIFIER_FILE = "guardrail_classifier.joblib"
ACTIONS_FILE = "intent_actions.json"
META_FILE = "guardrail_meta.json"


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=False
)
class GuardrailPolicy(Policy):
    """Decides refusals and emergencies before any other policy is heard."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        defaults = Options()
        return {
            "priority": GUARDRAIL_PRIORITY,
            "lexicon": "data/lexicons/guardrail.yml",
            "classifier_data": "data/guardrail",
            "settings_threshold": defaults.settings_threshold,
            "emergency_threshold": defaults.emergency_threshold,
            "emergency_intent_threshold": defaults.emergency_intent_threshold,
            "emergency_intent_agreement": defaults.emergency_intent_agreement,
            "emergency_mode_turns": defaults.emergency_mode_turns,
            "layers": list(defaults.layers),
        }

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        guardrail: Optional[Guardrail] = None,
    ) -> None:
        super().__init__(config, model_storage, resource, execution_context)
        self.options = Options.from_config(config)
        # Untrained (unit tests, `create`): the lexicon and rules from the project, no classifier.
        self.guardrail = guardrail or detectors.load(_project_path(config["lexicon"]), options=self.options)

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        """The lexicon and the classifier's data are read from files: retrain when they change.
        (Rasa's training hooks pass only the configured keys: the defaults fill the rest.)"""
        config = {**cls.get_default_config(), **(config or {})}
        digest = hashlib.sha256(_project_path(config["lexicon"]).read_bytes())
        digest.update(classifier_module.data_fingerprint(_project_path(config["classifier_data"])).encode())
        return digest.hexdigest()

    def train(self, training_trackers: List[TrackerWithCachedStates], domain: Domain, **kwargs: Any) -> Resource:
        """Trains the classifier, derives the intent-to-action map from the rules, and
        persists them with the lexicon they were made with."""
        lexicon_bytes = _project_path(self.config["lexicon"]).read_bytes()
        classifier = None
        if "classifier" in self.options.layers:
            examples = classifier_module.load_examples(_project_path(self.config["classifier_data"]))
            classifier = classifier_module.GuardrailClassifier.train(examples)
        actions = intent_actions.first_actions(t.events for t in training_trackers if t.is_rule_tracker)
        if not actions:
            logger.warning("guardrail: no rules found; using the project's rules for its intent-to-action map")
            actions = intent_actions.from_project()
        with self._model_storage.write_to(self._resource) as folder:
            (folder / LEXICON_FILE).write_bytes(lexicon_bytes)
            (folder / ACTIONS_FILE).write_text(json.dumps(actions, sort_keys=True, indent=1), encoding="utf-8")
            if classifier is not None:
                classifier.persist(folder / CLASSIFIER_FILE)
            meta = {"lexicon_sha256": hashlib.sha256(lexicon_bytes).hexdigest(), "classifier": classifier is not None}
            (folder / META_FILE).write_text(json.dumps(meta), encoding="utf-8")
        self.guardrail = Guardrail(detectors.parse_lexicon(lexicon_bytes), actions, classifier, self.options)
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "GuardrailPolicy":
        """The guardrail exactly as trained: its lexicon copy, classifier and action map."""
        options = Options.from_config(config)
        with model_storage.read_from(resource) as folder:
            lexicon = detectors.parse_lexicon((folder / LEXICON_FILE).read_bytes())
            actions = json.loads((folder / ACTIONS_FILE).read_text(encoding="utf-8"))
            classifier_path = folder / CLASSIFIER_FILE
            classifier = classifier_module.GuardrailClassifier.load(classifier_path) if classifier_path.exists() else None
        if "classifier" in options.layers and classifier is None:
            raise ValueError("the guardrail's classifier is switched on but the model holds none: retrain (make train)")
        guardrail = Guardrail(lexicon, actions, classifier, options)
        return cls(config, model_storage, resource, execution_context, guardrail=guardrail)

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
        guardrail = self.guardrail
        verdict = guardrail.assess(current_turn(tracker), conversation_context(tracker))
        record = SlotSet(DECISION_SLOT, verdict.as_metadata()["guardrail"])
        if verdict.category == detectors.EMERGENCY:
            action = EMERGENCY_ACTIONS[verdict.stage or detectors.ACUTE]
        else:
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
    """Earlier user messages of this session, how the last turn was triaged, whether a
    person is awaited, and how many messages ago the last emergency reply came (until
    the person said the danger was over)."""
    users: List[UserUttered] = []
    emergency_at: Optional[int] = None
    for event in tracker.applied_events():
        if isinstance(event, UserUttered):
            users.append(event)
        elif isinstance(event, ActionExecuted) and event.action_name == EMERGENCY_ACTIONS[detectors.ACUTE]:
            emergency_at = len(users)
        elif isinstance(event, SlotSet) and event.key == DECISION_SLOT and isinstance(event.value, dict):
            if event.value.get("stage") == detectors.OVER and emergency_at is not None and len(users) > emergency_at:
                emergency_at = None
    earlier = [Turn(text=e.text or "", intent=(e.intent or {}).get("name")) for e in users[:-1]]
    return Context(
        earlier=tuple(earlier),
        last_triage=tracker.get_slot("triage"),
        paused=tracker.is_paused(),
        since_emergency=None if emergency_at is None else len(users) - emergency_at,
    )


def _project_path(value: str) -> Path:
    """Paths in config.yml are relative to the project's folder."""
    path = Path(value)
    return path if path.is_absolute() else paths.ROOT / path


def explain(verdict: Verdict) -> str:
    """One line for logs and reports."""
    return f"{verdict.category or 'none'} via {verdict.layer}: {'; '.join(verdict.reasons) or '-'}"
