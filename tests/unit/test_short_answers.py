"""Short answers: a plain sentence or two per topic, restating only the paper's statements."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot import content
from bot.yamlfile import DataFileError

PAPER = content.load()
CASES = [(topic_id, language) for topic_id in content.TOPIC_IDS for language in content.LANGUAGES]

# A figure: a digit sequence with what joins it to the next ("24/7", "0,8", "1.5", "50%").
FIGURE = re.compile(r"\d+(?:[/.,:-]\d+)*%?")
WEB_ADDRESS = re.compile(r"https?://|www\.|\b[\w-]+\.(?:dk|com|org|net|au|eu)\b", re.IGNORECASE)
SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)")
# The paper's own words that a worried parent should not need to decode.
JARGON = ("hack", "medico", "medical device industry")


def short(topic_id: str):
    return PAPER.topic(topic_id).short


def restated_text(topic_id: str, language: str) -> str:
    return " ".join(PAPER.statement(sid).text[language] for sid in short(topic_id).restates)


def test_every_topic_has_a_short_answer_in_every_language():
    for topic in PAPER.topics.values():
        assert topic.short is not None, topic.id
        assert set(topic.short.text) == set(content.LANGUAGES), topic.id
        assert topic.short.restates, topic.id


@pytest.mark.parametrize("topic_id, language", CASES)
def test_a_short_answer_names_statements_that_exist(topic_id, language):
    ids = {s.id for t in PAPER.topics.values() for s in t.statements}
    assert set(short(topic_id).restates) <= ids
    assert len(set(short(topic_id).restates)) == len(short(topic_id).restates)


def test_a_short_answer_restates_at_least_one_statement_of_its_own_topic():
    for topic in PAPER.topics.values():
        own = {s.id for s in topic.statements}
        assert own & set(topic.short.restates), topic.id


@pytest.mark.parametrize("topic_id, language", CASES)
def test_a_short_answer_holds_no_figure_that_its_statements_do_not_hold(topic_id, language):
    text = short(topic_id).text[language]
    source = restated_text(topic_id, language)
    source_figures = set(FIGURE.findall(source))
    for figure in FIGURE.findall(text):
        assert figure in source_figures, (topic_id, language, figure)
    if "%" not in source:
        assert "%" not in text


@pytest.mark.parametrize("topic_id, language", CASES)
def test_a_short_answer_holds_no_web_address(topic_id, language):
    assert not WEB_ADDRESS.search(short(topic_id).text[language])


@pytest.mark.parametrize("topic_id, language", CASES)
def test_a_short_answer_is_one_or_two_sentences_under_forty_words_ending_with_a_full_stop(topic_id, language):
    text = short(topic_id).text[language]
    assert len(text.split()) < 40, (topic_id, language, len(text.split()))
    assert 1 <= len(SENTENCE_END.findall(text)) <= 2, (topic_id, language)
    assert text.endswith(".")


@pytest.mark.parametrize("topic_id, language", CASES)
def test_a_short_answer_is_plain_language_not_the_papers_jargon(topic_id, language):
    text = short(topic_id).text[language].lower()
    assert not [word for word in JARGON if word in text], (topic_id, language)


@pytest.mark.parametrize("topic_id", content.TOPIC_IDS)
def test_a_short_answer_is_not_just_a_lead_statement_again(topic_id):
    for language in content.LANGUAGES:
        leads = {s.text[language] for s in PAPER.topic(topic_id).lead}
        assert short(topic_id).text[language] not in leads


def test_the_association_is_spoken_of_in_the_third_person():
    for topic in PAPER.topics.values():
        for language in content.LANGUAGES:
            words = set(re.findall(r"\w+", topic.short.text[language].lower()))
            assert not words & {"vi", "os", "vores", "we", "us", "our"}, (topic.id, language)


def test_the_responsibility_answer_says_own_risk_for_is_it_legal_or_dangerous():
    answer = short("responsibility")
    assert "position-3" in answer.restates
    assert "eget ansvar og risiko" in answer.text["da"]
    assert "own risk" in answer.text["en"]


def test_the_why_people_loop_topic_leads_with_we_are_not_waiting():
    experience = PAPER.topic("experience")
    assert experience.statements[0].id == "background-1-4"
    assert experience.statements[0].lead
    assert "background-1-4" in [s.id for s in experience.lead]
    assert "background-1-4" not in [s.id for s in PAPER.topic("what_is_looping").statements]
    assert PAPER.statement("background-1-4").topic == "experience"
    assert "background-1-4" in experience.short.restates


def _write(tmp_path: Path, breakage) -> Path:
    data = yaml.safe_load(content.paths.POSITION_PAPER.read_text(encoding="utf-8"))
    breakage(data)
    broken = tmp_path / "paper.yml"
    broken.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return broken


@pytest.mark.parametrize(
    "breakage, message",
    [
        (
            lambda d: d["topics"]["guideline"]["short"].update(restates=["guideline-9-9"]),
            "topic guideline: short answer restates unknown statement guideline-9-9",
        ),
        (lambda d: d["topics"]["guideline"]["short"].pop("en"), "topic guideline: short answer has no en text"),
        (lambda d: d["topics"]["guideline"]["short"].update(da="  "), "topic guideline: short answer has no da text"),
        (lambda d: d["topics"]["guideline"]["short"].update(restates=[]), "short answer names no statement"),
        (lambda d: d["topics"]["guideline"].pop("short"), "topic guideline has no short answer"),
    ],
)
def test_a_broken_short_answer_is_refused_with_a_message_naming_the_file(tmp_path: Path, breakage, message):
    broken = _write(tmp_path, breakage)
    with pytest.raises(DataFileError, match=message) as error:
        content.load(broken)
    assert str(broken) in str(error.value)


def test_a_short_answer_may_restate_a_statement_of_another_topic(tmp_path: Path):
    broken = _write(tmp_path, lambda d: d["topics"]["guideline"]["short"].update(restates=["believes-6"]))
    assert content.load(broken).topic("guideline").short.restates == ("believes-6",)
