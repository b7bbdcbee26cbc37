"""spaCy pipelines for Danish and English lemmas.

da_core_news_sm is not on PyPI and cannot be fetched on machines without internet.
When it is missing, a blank Danish pipeline with spacy-lookups-data's lookup
lemmatizer stands in, and the log says so once per process.

`danish_ner()` is the same model with its named-entity recogniser, for redacting the
names it finds (bot/privacy/names.py); it is None when the model is not installed.
"""
from __future__ import annotations

import logging
from functools import lru_cache
from typing import Optional, Tuple

import spacy
from spacy.language import Language

logger = logging.getLogger(__name__)

DANISH_MODEL = "da_core_news_sm"
FALLBACK_NAME = "blank:da+lookup-lemmatizer"


def load_danish(model_name: str = DANISH_MODEL) -> Tuple[Language, str]:
    """The Danish pipeline and its name: the trained model, else the lookup fallback."""
    try:
        nlp = spacy.load(model_name, disable=["parser", "ner"])
        return nlp, model_name
    except OSError:
        logger.warning(
            "spaCy model %s is not installed; using a blank Danish pipeline with the "
            "lookup lemmatizer from spacy-lookups-data instead (%s).",
            model_name,
            FALLBACK_NAME,
        )
        return lookup_pipeline("da"), FALLBACK_NAME


def lookup_pipeline(language: str) -> Language:
    """A blank pipeline whose only component is spacy-lookups-data's lookup lemmatizer."""
    nlp = spacy.blank(language)
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    return nlp


@lru_cache(maxsize=1)
def danish() -> Tuple[Language, str]:
    """The Danish pipeline, loaded (and the fallback announced) once per process."""
    return load_danish()


@lru_cache(maxsize=1)
def english() -> Language:
    return lookup_pipeline("en")


@lru_cache(maxsize=1)
def danish_ner() -> Optional[Language]:
    """da_core_news_sm running only its named-entity recogniser, or None when it is not installed.

    Separate from danish(), which disables "ner". Nothing is logged when the model is
    missing: danish() says so already.
    """
    try:
        nlp = spacy.load(DANISH_MODEL)
    except (OSError, ImportError):
        return None
    if "ner" not in nlp.pipe_names:
        return None
    # The recogniser may listen to the shared tok2vec; everything else is not needed.
    nlp.select_pipes(enable=[name for name in nlp.pipe_names if name in ("tok2vec", "ner")])
    return nlp
