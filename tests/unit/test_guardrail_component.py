"""GuardrailPolicy as a proper Rasa component: settings from config.yml, the action map
derived from the rules, and what it trains persisted with the model and loaded back."""
from __future__ import annotations

import shutil

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader

from policy import detectors, intent_actions
from policy.detectors import Context, Options, Turn
from policy.guardrail_policy import GuardrailPolicy
from tests.helpers import ROOT, load_yaml


@pytest.fixture(scope="module")
def domain():
    return Domain.load(str(ROOT / "domain.yml"))


@pytest.fixture(scope="module")
def rule_trackers(domain):
    steps = YAMLStoryReader(domain).read_from_file(str(ROOT / "data" / "rules" / "rules.yml"))
    return [
        TrackerWithCachedStates.from_events(f"rule-{i}", step.events, domain=domain, is_rule_tracker=True)
        for i, step in enumerate(steps)
    ]


def config_entry():
    entry = next(p for p in load_yaml(ROOT / "config.yml")["policies"] if p["name"].endswith("GuardrailPolicy"))
    return {k: v for k, v in entry.items() if k != "name"}


def storage_in(folder):
    folder.mkdir()
    return LocalModelStorage(folder)


def new_policy(storage, config):
    return GuardrailPolicy.create(
        {**GuardrailPolicy.get_default_config(), **config}, storage, Resource("guardrail"), ExecutionContext(GraphSchema({}), "test")
    )


def test_its_settings_come_from_config_yml():
    defaults = GuardrailPolicy.get_default_config()
    entry = config_entry()
    for key in ("lexicon", "classifier_data", "settings_threshold", "emergency_threshold",
                "emergency_intent_threshold", "emergency_intent_agreement", "emergency_mode_turns", "layers"):
        assert key in defaults and key in entry, key
    options = Options.from_config({**defaults, **entry})
    assert (options.settings_threshold, options.emergency_mode_turns) == (entry["settings_threshold"], entry["emergency_mode_turns"])


def test_an_unknown_layer_is_refused():
    with pytest.raises(ValueError, match="unknown guardrail layers"):
        Options.from_config({"layers": ["lexicon", "astrology"]})


def test_the_intent_to_action_map_comes_from_the_rules(rule_trackers):
    derived = intent_actions.first_actions(t.events for t in rule_trackers)
    assert derived == intent_actions.from_project()
    assert derived["ask_human"] == "action_handoff"
    assert derived["ask_denmark"] == derived["ask_guideline"] == "action_answer_topic"
    # a rule with a condition ("after an answer, yes asks for more") does not count
    assert derived["affirm"] == "action_smalltalk"
    assert derived["ask_settings"] == "action_refuse_settings"


def test_what_it_trains_is_persisted_with_the_model_and_loaded_back(tmp_path, domain, rule_trackers):
    lexicon = tmp_path / "lexicon.yml"
    shutil.copy(ROOT / "data" / "lexicons" / "guardrail.yml", lexicon)
    config = {**config_entry(), "lexicon": str(lexicon)}
    storage = storage_in(tmp_path / "model")
    trained = new_policy(storage, config)
    trained.train(rule_trackers, domain)
    assert trained.guardrail.classifier is not None

    # The lexicon file changes after training: the model keeps the copy it was trained with.
    lexicon.write_text(lexicon.read_text().replace("- bevidstløs*", "- ikke-et-tegn"))
    loaded = GuardrailPolicy.load(
        {**GuardrailPolicy.get_default_config(), **config}, storage, Resource("guardrail"), ExecutionContext(GraphSchema({}), "test")
    )
    for text in ("min datter er bevidstløs", "hvad taster vi ind i AAPS til hendes profil?", "hvad er looping?"):
        before = trained.guardrail.assess(Turn(text), Context())
        after = loaded.guardrail.assess(Turn(text), Context())
        assert (after.category, after.layer, after.votes) == (before.category, before.layer, before.votes)
    assert loaded.guardrail.assess(Turn("min datter er bevidstløs"), Context()).category == detectors.EMERGENCY
    assert loaded.guardrail.actions == trained.guardrail.actions


def test_a_model_without_the_classifier_it_needs_is_refused(tmp_path, domain, rule_trackers):
    storage = storage_in(tmp_path / "model")
    new_policy(storage, {**config_entry(), "layers": ["lexicon", "intent", "context"]}).train(rule_trackers, domain)
    with pytest.raises(ValueError, match="retrain"):
        GuardrailPolicy.load(
            {**GuardrailPolicy.get_default_config(), **config_entry()}, storage, Resource("guardrail"),
            ExecutionContext(GraphSchema({}), "test"),
        )


def test_rasa_retrains_it_when_the_lexicon_or_the_classifiers_data_change(tmp_path):
    lexicon = tmp_path / "lexicon.yml"
    data = tmp_path / "data"
    shutil.copy(ROOT / "data" / "lexicons" / "guardrail.yml", lexicon)
    shutil.copytree(ROOT / "data" / "guardrail", data)
    config = {**config_entry(), "lexicon": str(lexicon), "classifier_data": str(data)}
    first = GuardrailPolicy.fingerprint_addon(config)
    assert GuardrailPolicy.fingerprint_addon(config) == first
    lexicon.write_text(lexicon.read_text() + "\n# changed\n")
    second = GuardrailPolicy.fingerprint_addon(config)
    (data / "other.yml").write_text((data / "other.yml").read_text() + "\n# changed\n")
    assert len({first, second, GuardrailPolicy.fingerprint_addon(config)}) == 3


def test_a_layer_switched_off_in_config_is_not_asked(tmp_path, domain, rule_trackers):
    policy = new_policy(storage_in(tmp_path / "model"), {**config_entry(), "layers": ["lexicon", "context"]})
    policy.train(rule_trackers, domain)
    assert policy.guardrail.classifier is None
    verdict = policy.guardrail.assess(Turn("noget er helt galt", intent="emergency", confidence=0.99), Context())
    assert verdict.category != detectors.EMERGENCY
