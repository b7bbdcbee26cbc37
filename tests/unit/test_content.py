"""The position paper as data: complete, verbatim, bilingual, and the only source."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from bot import content
from bot.yamlfile import DataFileError
from tests.helpers import ROOT

# The paper as the association sent it; a copy is kept in the repo so this test runs anywhere.
PAPER_COPY = ROOT / "data" / "content" / "source" / "position_paper_da.txt"
PAPER_SHARED = ROOT.parent / "shared" / "position-paper" / "000_82412c9a688d9099.txt"


def squeeze(text: str) -> str:
    """Drops white space and hyphens, so line-break hyphenation does not matter."""
    return re.sub(r"[\s\-]+", "", text)


def test_every_topic_is_present_in_both_languages():
    paper = content.load()
    assert tuple(paper.topics) == content.TOPIC_IDS
    for topic in paper.topics.values():
        assert topic.lead, topic.id
        for statement in topic.statements:
            assert statement.text["da"] and statement.text["en"]
            assert statement.source["section"]


def test_danish_statements_are_verbatim_from_the_paper():
    original = squeeze(PAPER_COPY.read_text(encoding="utf-8"))
    for topic in content.load().topics.values():
        for statement in topic.statements:
            assert squeeze(statement.text["da"]) in original, statement.id


def test_the_repo_copy_is_the_paper_in_shared_when_shared_is_there():
    """When the association updates the paper in shared/, this fails until the data follows."""
    if PAPER_SHARED.exists():
        assert PAPER_COPY.read_bytes() == PAPER_SHARED.read_bytes()
    else:
        assert PAPER_COPY.stat().st_size > 0


def test_every_sentence_of_the_paper_is_in_some_topic():
    ids = [s.id for t in content.load().topics.values() for s in t.statements]
    assert len(ids) == len(set(ids)) == 26


def test_translations_keep_the_figures_and_links_of_the_original():
    for topic in content.load().topics.values():
        for statement in topic.statements:
            for pattern in (r"https?://\S+", r"\d+/\d+", r"#\w+"):
                assert re.findall(pattern, statement.text["da"]) == re.findall(pattern, statement.text["en"])


def test_aspects_are_found_in_both_languages_and_without_ae_oe_aa():
    paper = content.load()
    assert paper.aspects_in("og hvad med børn?") == ["children"]
    assert paper.aspects_in("og hvad med boern") == ["children"]
    assert paper.aspects_in("what about kids?") == ["children"]
    assert paper.aspects_in("tell me more") == []
    assert [s.id for s in paper.statements_with_aspect("children")] == ["background-3-1"]


def test_topic_for_intent():
    assert content.topic_for_intent("ask_guideline") == "guideline"
    assert content.topic_for_intent("ask_unknown") is None
    assert content.topic_for_intent("greet") is None
    assert content.topic_for_intent(None) is None


def test_editing_the_file_changes_what_is_loaded(tmp_path: Path):
    data = yaml.safe_load(content.paths.POSITION_PAPER.read_text(encoding="utf-8"))
    data["topics"]["right_to_treatment"]["statements"][0]["en"] = "Edited translation."
    edited = tmp_path / "paper.yml"
    edited.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert content.load(edited).topic("right_to_treatment").lead[0].text["en"] == "Edited translation."


@pytest.mark.parametrize(
    "breakage, message",
    [
        (lambda d: d["topics"].pop("guideline"), "topics must be exactly"),
        (lambda d: d["topics"]["guideline"]["statements"][0].pop("en"), "has no en text"),
        (lambda d: d["topics"]["guideline"]["statements"][0].pop("source"), "has no source"),
        (lambda d: d["topics"]["guideline"].update(related=["nowhere"]), "unknown related topic"),
    ],
)
def test_a_broken_file_is_refused_with_a_message_naming_it(tmp_path: Path, breakage, message):
    data = yaml.safe_load(content.paths.POSITION_PAPER.read_text(encoding="utf-8"))
    breakage(data)
    broken = tmp_path / "paper.yml"
    broken.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(DataFileError, match=message) as error:
        content.load(broken)
    assert str(broken) in str(error.value)


def test_a_file_that_is_not_yaml_is_refused(tmp_path: Path):
    broken = tmp_path / "paper.yml"
    shutil.copy(content.paths.POSITION_PAPER, broken)
    broken.write_text("topics: [unclosed", encoding="utf-8")
    with pytest.raises(DataFileError):
        content.load(broken)


def test_topic_titles_are_short_enough_for_a_button():
    """Titles become buttons (Messenger cuts quick replies at 20 characters, at a word)."""
    for topic in content.load().topics.values():
        for language in content.LANGUAGES:
            assert 0 < len(topic.title[language]) <= 40, (topic.id, language)
    experience = content.load().topic("experience").title
    assert len(experience["da"]) <= 20 and len(experience["en"]) <= 20
