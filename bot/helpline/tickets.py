"""Turns a conversation (rasa-sdk tracker) into a redacted handoff ticket."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Dict, Iterable, List, Optional, Sequence

from bot.helpline import store
from bot.helpline.config import HelplineConfig
from bot.privacy.redact import redact

HANDOFF_TRIAGE = "handoff"
REFUSED_TRIAGE = "settings_refused"
EMERGENCY_TRIAGE = "emergency"


def handoff_reason(tracker: Any) -> Dict[str, str]:
    """Why a person is asked for, and how the conversation was triaged before.

    The triage slot still holds the previous turn's triage while action_handoff runs:
    `settings_refused` means the person accepted the refusal's offer of a person (its
    "Talk to a person" button, /ask_human, or the same in words). The slot is carried over
    into a new session, so it counts only when the assistant has spoken in this session.
    """
    spoke = any(event.get("event") == "bot" for event in session_events(tracker.events))
    before = tracker.get_slot("triage") if spoke else None
    reason = store.AFTER_REFUSAL if before == REFUSED_TRIAGE else store.REQUESTED
    return {"reason": reason, "triage": before or HANDOFF_TRIAGE}


def build(
    tracker: Any,
    *,
    reason: str,
    triage: str,
    language: str,
    replies: Sequence[str],
    pauses_conversation: bool,
    config: HelplineConfig,
    texts: Any,
    now: Optional[datetime] = None,
) -> store.NewTicket:
    """A ticket for this conversation: summary and transcript redacted, `replies` (this turn's) included."""
    now = now or store.utcnow()
    events = session_events(tracker.events)
    question = latest_question(events)
    return store.NewTicket(
        conversation_id=tracker.sender_id,
        reason=reason,
        triage=triage,
        language=language,
        topic=tracker.get_slot("topic") or tracker.get_slot("last_topic"),
        summary=summary(reason, question, config.staff_language, texts, config.summary_max_question_chars),
        transcript=transcript(events, replies, now, config.transcript_max_messages, config.transcript_max_chars),
        pauses_conversation=pauses_conversation,
        created_at=now,
    )


def session_events(events: Iterable[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The events of the current session (since the latest session_started)."""
    events = list(events or [])
    for index in range(len(events) - 1, -1, -1):
        if events[index].get("event") == "session_started":
            return events[index + 1:]
    return events


def transcript(
    events: Sequence[Dict[str, Any]],
    replies: Sequence[str],
    now: datetime,
    max_messages: int = 50,
    max_chars: int = 2000,
) -> List[Dict[str, Any]]:
    """User and bot texts in order, redacted, each with its time (UTC); the latest `max_messages`.
    A person's message carries the guardrail's decision on it (`decision`), for staff."""
    found: List[Dict[str, Any]] = []
    last_user: Optional[Dict[str, Any]] = None
    for event in events:
        kind = event.get("event")
        text = event.get("text")
        if kind in ("user", "bot") and text:
            line = _line(kind, text, _time(event.get("timestamp"), now), max_chars)
            found.append(line)
            last_user = line if kind == "user" else last_user
        elif kind == "slot" and event.get("name") == "guardrail" and last_user is not None:
            kept = decision_for_staff(event.get("value"))
            if kept:
                last_user["decision"] = kept
    found.extend(_line("bot", text, now, max_chars) for text in replies if text)
    return found[-max_messages:] if max_messages > 0 else found


def decision_for_staff(decision: Any) -> Optional[Dict[str, Any]]:
    """The parts of the guardrail's decision staff read (never the message's text)."""
    if not isinstance(decision, dict) or not decision.get("category"):
        return None  # the guardrail abstained: nothing for staff to read
    kept = {key: decision.get(key) for key in ("category", "stage", "layer", "concern") if decision.get(key)}
    return kept or None


def latest_question(events: Sequence[Dict[str, Any]]) -> Optional[str]:
    """The person's latest typed message: button payloads (/ask_human) are skipped, so after
    the refusal's button it is the question that was refused."""
    for event in reversed(events):
        text = (event.get("text") or "").strip() if event.get("event") == "user" else ""
        if text and not text.startswith("/"):
            return text
    return None


def summary(reason: str, question: Optional[str], language: str, texts: Any, max_chars: int = 200) -> str:
    """One line for staff: why, and the person's latest question (redacted, shortened)."""
    parts = [texts.text(f"helpline.summary.{reason}", language)]
    if question:
        parts.append(texts.text("helpline.summary.question", language, question=shorten(redact(question), max_chars)))
    return " ".join(parts)


def shorten(text: str, max_chars: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= max_chars else text[: max(0, max_chars - 1)].rstrip() + "…"


def _line(speaker: str, text: str, when: datetime, max_chars: int) -> Dict[str, Any]:
    text = redact(text).strip()
    if len(text) > max_chars:
        text = text[: max(0, max_chars - 1)].rstrip() + "…"
    return {"speaker": speaker, "text": text, "time": store.iso(when)}


def _time(timestamp: Any, default: datetime) -> datetime:
    try:
        return datetime.fromtimestamp(float(timestamp), tz=timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        return default
