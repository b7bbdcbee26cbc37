"""bot.nlp.danish_ner(): da_core_news_sm with its recogniser when installed, else None; names redacted with it."""
from __future__ import annotations

from pathlib import Path

import pytest
import spacy

from bot import nlp
from bot.privacy import names
from tests.helpers import installed_as_da_core_news_sm


@pytest.fixture
def fresh_loader():
    nlp.danish_ner.cache_clear()
    yield
    nlp.danish_ner.cache_clear()


def test_without_the_model_there_is_no_recogniser(fresh_loader, monkeypatch):
    monkeypatch.setattr(nlp, "DANISH_MODEL", "da_core_news_sm_not_installed")
    assert nlp.danish_ner() is None
    assert names.redact_names("min søn Emil er 9 år") == "min søn Emil er 9 år"


@pytest.fixture
def packaged_model_with_a_recogniser(tmp_path: Path, monkeypatch, fresh_loader):
    """A tiny da_core_news_sm whose "ner" (an entity ruler) knows one name, installed on sys.path."""
    tiny = spacy.blank("da")
    tiny.add_pipe("lemmatizer", config={"mode": "lookup"})
    ruler = tiny.add_pipe("entity_ruler", name="ner")
    tiny.initialize()  # (clears the ruler's patterns)
    ruler.add_patterns([{"label": "PER", "pattern": [{"LOWER": "emil"}, {"LOWER": "hansen", "OP": "?"}]}])
    tiny.meta.update(description="tiny test pipeline with names")
    with installed_as_da_core_news_sm(tiny, tmp_path, monkeypatch):
        yield


def test_the_installed_model_runs_only_its_recogniser(packaged_model_with_a_recogniser):
    language = nlp.danish_ner()
    assert language is not None
    assert language.meta["description"] == "tiny test pipeline with names"
    assert language.pipe_names == ["ner"]
    assert nlp.danish_ner() is language  # loaded once
    assert names.redact_names("min søn Emil Hansen er 9 år, BS 12") == "min søn [name] er 9 år, BS 12"


def test_the_lemma_pipeline_still_has_no_recogniser(packaged_model_with_a_recogniser):
    language, name = nlp.load_danish()
    assert name == "da_core_news_sm"
    assert "ner" not in language.pipe_names
