"""Answers from the position paper, and follow-ups ("tell me more", "og hvad med børn?")."""
from __future__ import annotations

import re
from typing import List, Optional, Sequence

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

from actions.base import AssistantAction, Message, Reply, effective_intent, guardrail_decision, standard_buttons
from bot import content, replies
from bot.content import Statement

# A quote longer than this is split at sentence boundaries, so that no message is taller
# than a phone's screen (issue #11; the widget's test checks it at 390 px).
QUOTE_MESSAGE_CHARS = 400
_SENTENCE_END = re.compile(r"(?<=[.!?:”])\s+")


def render(statements: Sequence[Statement], language: str, lead_key: str) -> str:
    """The paper's statements under a lead line; English is marked as a translation."""
    texts = replies.default()
    parts = [texts.text(lead_key, language), " ".join(s.text[language] for s in statements)]
    if texts.has("translation_note", language):
        parts.append(texts.text("translation_note", language))
    return "\n".join(parts)


def split_sentences(text: str, limit: int = QUOTE_MESSAGE_CHARS) -> List[str]:
    """Text in pieces of at most `limit` characters, cut only between sentences (a single
    sentence longer than that stays whole)."""
    pieces: List[str] = []
    for sentence in _SENTENCE_END.split(text.strip()):
        if pieces and len(pieces[-1]) + 1 + len(sentence) <= limit:
            pieces[-1] = f"{pieces[-1]} {sentence}"
        else:
            pieces.append(sentence)
    return pieces


def quote(statements: Sequence[Statement], language: str) -> List[str]:
    """The paper's own words, marked as a quote, under the section they stand in
    ("Fra budskabspapiret, afsnittet Diabetesforeningen mener:"); English is marked as a
    translation. One message per section, long ones split between sentences."""
    texts = replies.default()
    groups: List[List[Statement]] = []
    for statement in statements:
        if groups and groups[-1][0].source.get("section") == statement.source.get("section"):
            groups[-1].append(statement)
        else:
            groups.append([statement])
    messages: List[str] = []
    for group in groups:
        section = texts.text(f"paper_sections.{group[0].source.get('section')}", language)
        lead = texts.text("quote_lead", language, section=section)
        words = " ".join(s.text[language] for s in group)
        pieces = split_sentences(f"“{words}”", QUOTE_MESSAGE_CHARS - len(lead) - 1)
        messages.append(f"{lead}\n{pieces[0]}")
        messages.extend(pieces[1:])
    if texts.has("translation_note", language):
        messages[-1] = f"{messages[-1]}\n{texts.text('translation_note', language)}"
    return messages


def seen_statements(tracker: Tracker) -> List[str]:
    return list(tracker.get_slot("seen_statements") or [])


def answered(
    tracker: Tracker, statements: Sequence[Statement], language: str, short: Optional[str] = None
) -> Reply:
    """An answered turn: a plain short answer (for a topic), the paper's own words as a
    quote, quick replies, and memory for follow-ups."""
    topic = statements[0].topic
    seen = seen_statements(tracker) + [s.id for s in statements if s.id not in seen_statements(tracker)]
    messages = [Message(text) for text in ([short] if short else []) + quote(statements, language)]
    messages[-1].buttons = standard_buttons(language)
    return Reply(
        triage="answered",
        topic=topic,
        messages=messages,
        events=[SlotSet("last_topic", topic), SlotSet("seen_statements", seen)],
    )


class ActionAnswerTopic(AssistantAction):
    """Answers an ask_<topic> intent with the topic's lead statements."""

    action_name = "action_answer_topic"

    def reply(self, tracker: Tracker, language: str) -> Reply:
        topic = content.topic_for_intent(effective_intent(tracker))
        if topic is None:  # only reachable through a misconfigured rule
            return ActionFollowUp().reply(tracker, language)
        paper_topic = content.default().topic(topic)
        reply = answered(tracker, paper_topic.lead, language, paper_topic.short.text[language])
        if guardrail_decision(tracker).get("then") == "referral":
            # a question about the rules: answered, and still referred onward
            referral = replies.default().text("rules_referral", language, guideline_url=content.default().first_link("guideline"))
            buttons, reply.messages[-1].buttons = reply.messages[-1].buttons, []
            reply.messages.append(Message(referral, buttons))
        return reply


class ActionFollowUp(AssistantAction):
    """Continues the last topic, or answers an aspect ("og hvad med børn?") from the paper."""

    action_name = "action_follow_up"

    def reply(self, tracker: Tracker, language: str) -> Reply:
        paper = content.default()
        texts = replies.default()
        last_topic: Optional[str] = tracker.get_slot("last_topic")
        seen = seen_statements(tracker)
        aspects = paper.aspects_in(tracker.latest_message.get("text") or "")

        if aspects:
            found = [s for a in aspects for s in paper.statements_with_aspect(a, last_topic)]
            unseen = [s for s in found if s.id not in seen]
            chosen = (unseen or found)[:2]
            if chosen:
                same_topic = [s for s in chosen if s.topic == chosen[0].topic]
                return answered(tracker, same_topic, language)
            return self._nothing_more(last_topic, language, "aspect_not_in_paper")

        if last_topic:
            unseen = paper.unseen(last_topic, seen)
            if unseen:
                return answered(tracker, unseen[:2], language)
            return self._nothing_more(last_topic, language, None)

        return Reply(
            triage="smalltalk",
            messages=[Message(texts.text("follow_up_no_topic", language))],
        )

    @staticmethod
    def _nothing_more(last_topic: Optional[str], language: str, lead_key: Optional[str]) -> Reply:
        """Says the paper has nothing more, and which related topics it does cover."""
        paper = content.default()
        texts = replies.default()
        related = paper.topic(last_topic).related if last_topic else ()
        titles = ", ".join(paper.topic(t).title[language] for t in related) or ", ".join(
            paper.topic(t).title[language] for t in content.TOPIC_IDS[:4]
        )
        lines = [texts.text(lead_key, language)] if lead_key else []
        lines.append(texts.text("follow_up_related", language, topics=titles))
        buttons = [
            {"title": paper.topic(t).title[language], "payload": f"/{content.TOPIC_INTENT_PREFIX}{t}"}
            for t in related
        ]
        if last_topic:
            return Reply(
                triage="answered", topic=last_topic, messages=[Message(" ".join(lines), buttons)]
            )
        return Reply(triage="smalltalk", messages=[Message(" ".join(lines), buttons)])
