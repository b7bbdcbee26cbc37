"""DanishSpacyNLP as a Rasa graph component, run the way Rasa runs it."""
from __future__ import annotations

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.tokenizers.spacy_tokenizer import SpacyTokenizer
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot import nlp
from bot.components.danish_spacy import DanishSpacyNLP


@pytest.fixture
def context(tmp_path):
    return LocalModelStorage(tmp_path), Resource("danish_spacy"), ExecutionContext(GraphSchema({}), "test")


def create(context, **config):
    storage, resource, execution_context = context
    return DanishSpacyNLP.create({**DanishSpacyNLP.get_default_config(), **config}, storage, resource, execution_context)


def tokenizer(context):
    storage, resource, execution_context = context
    return SpacyTokenizer.create(SpacyTokenizer.get_default_config(), storage, resource, execution_context)


def test_it_starts_without_da_core_news_sm_and_says_which_pipeline_it_uses(context):
    component = create(context, model="da_core_news_sm_not_installed")
    assert component.provide().model_name == nlp.FALLBACK_NAME


def test_spacy_tokenizer_gets_danish_lemmas_from_it(context):
    component = create(context, model="da_core_news_sm_not_installed")
    messages = [Message.build(text="Børnene bruger LOOP"), Message.build(text="")]
    component.process(messages, component.provide())
    tokenizer(context).process(messages)
    tokens = messages[0].get("text_tokens")
    assert [t.text for t in tokens] == ["børnene", "bruger", "loop"]
    assert [t.lemma for t in tokens] == ["barn", "bruge", "loop"]
    assert messages[1].get("text_tokens") == []


def test_it_processes_training_data(context):
    component = create(context, model="da_core_news_sm_not_installed")
    data = TrainingData([Message.build(text="hvad mener foreningen", intent="ask_association_stance")])
    component.process_training_data(data, component.provide())
    tokenizer(context).process_training_data(data)
    assert [t.lemma for t in data.training_examples[0].get("text_tokens")] == ["hvad", "mene", "forening"]
