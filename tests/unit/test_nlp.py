"""spaCy loading: da_core_news_sm when installed, else the lookup fallback, said once."""
from __future__ import annotations

import logging
from pathlib import Path

import pytest
import spacy

from bot import nlp
from tests.helpers import installed_as_da_core_news_sm


def lemmas(language, text):
    return [token.lemma_ for token in language(text)]


def test_fallback_is_a_blank_danish_pipeline_with_lookup_lemmas(caplog):
    with caplog.at_level(logging.WARNING, logger="bot.nlp"):
        language, name = nlp.load_danish("da_core_news_sm_not_installed")
    assert name == nlp.FALLBACK_NAME
    assert language.lang == "da"
    assert language.pipe_names == ["lemmatizer"]
    assert lemmas(language, "børnene bruger målingerne") == ["barn", "bruge", "måling"]
    assert "da_core_news_sm_not_installed is not installed" in caplog.text
    assert "blank Danish pipeline" in caplog.text


def test_the_fallback_is_announced_once_per_process(caplog, monkeypatch):
    nlp.danish.cache_clear()
    monkeypatch.setattr(nlp, "DANISH_MODEL", "da_core_news_sm_not_installed")
    monkeypatch.setattr(nlp.load_danish, "__defaults__", ("da_core_news_sm_not_installed",))
    try:
        with caplog.at_level(logging.WARNING, logger="bot.nlp"):
            first = nlp.danish()
            second = nlp.danish()
        assert first is second
        assert caplog.text.count("is not installed") == 1
    finally:
        nlp.danish.cache_clear()


def test_english_lemmas():
    assert lemmas(nlp.english(), "children were using pumps") == ["child", "be", "use", "pump"]


@pytest.fixture
def packaged_danish_model(tmp_path: Path, monkeypatch):
    """Builds a tiny pipeline, packages it as da_core_news_sm with spaCy's packager, installs it on sys.path."""
    tiny = spacy.blank("da")
    tiny.add_pipe("lemmatizer", config={"mode": "lookup"})
    tiny.initialize()
    tiny.meta.update(description="tiny test pipeline")
    with installed_as_da_core_news_sm(tiny, tmp_path, monkeypatch):
        yield


def test_the_installed_model_is_used_when_present(packaged_danish_model, caplog):
    with caplog.at_level(logging.WARNING, logger="bot.nlp"):
        language, name = nlp.load_danish()
    assert name == "da_core_news_sm"
    assert language.meta["name"] == "core_news_sm"
    assert language.meta["description"] == "tiny test pipeline"
    assert "not installed" not in caplog.text
    assert lemmas(language, "børnene") == ["barn"]
