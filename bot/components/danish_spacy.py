"""SpacyNLP for Danish that falls back to a lookup pipeline when da_core_news_sm is missing.

Rasa's own SpacyNLP refuses to start without the named model; on machines that
cannot download it that would stop the whole bot. This subclass keeps every
spaCy-based component (SpacyTokenizer and friends) working either way.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, Optional, Text

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.utils.spacy_utils import SpacyModel, SpacyNLP

from bot import nlp

logger = logging.getLogger(__name__)


@DefaultV1Recipe.register(
    [
        DefaultV1Recipe.ComponentType.MODEL_LOADER,
        DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER,
    ],
    is_trainable=False,
    model_from="DanishSpacyNLP",
)
class DanishSpacyNLP(SpacyNLP):
    """Provides da_core_news_sm, or the blank Danish lookup pipeline, to spaCy components."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**SpacyNLP.get_default_config(), "model": nlp.DANISH_MODEL}

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "DanishSpacyNLP":
        config = {**cls.get_default_config(), **config}
        language, name = cls.load_language(config.get("model"))
        return cls(SpacyModel(model=language, model_name=name), config)

    @staticmethod
    def load_language(model_name: Optional[Text]):
        """Loads the configured model through bot.nlp, which owns the fallback."""
        if model_name == nlp.DANISH_MODEL:
            return nlp.danish()
        return nlp.load_danish(model_name or nlp.DANISH_MODEL)
