"""What the person is told about the helpline, from config/helpline.yml and replies.yml.

One place decides: within opening hours a member of staff answers here, usually within
`answer_within_minutes`; outside them, when the helpline opens, and the phone number and
hours to call instead; while the hours are not filled in (the demo), no time is promised.
A placeholder ("[...]") is never put into a reply: the neutral line stands in for it.
"""
from __future__ import annotations

from datetime import datetime, time
from typing import Any, Dict, List, Optional

from bot.helpline.config import DAYS, HelplineConfig


def handoff_text(config: HelplineConfig, texts: Any, language: str, now: datetime) -> str:
    """The handoff reply: what happens next, how to reach the helpline directly, and 112."""
    state = config.is_open(now)
    if state is None:
        first = texts.text("handoff.unknown", language)
    elif state:
        first = texts.text("handoff.open", language, minutes=str(config.answer_within_minutes))
    else:
        when = next_open(config, texts, language, now)
        first = (
            texts.text("handoff.closed", language, next_open=when) if when else texts.text("handoff.unknown", language)
        )
    return " ".join([first, contact_line(config, texts, language), texts.text("handoff.emergency_line", language)])


def unavailable_text(config: HelplineConfig, texts: Any, language: str) -> str:
    """When no ticket could be stored: no promise, the direct contact details."""
    return texts.text("helpline.unavailable", language, contact=contact_line(config, texts, language))


def contact_line(config: HelplineConfig, texts: Any, language: str) -> str:
    """How to reach the helpline directly; the neutral line while phone or hours are placeholders."""
    left = set(config.placeholders())
    if "phone" in left:
        parts = [texts.text("helpline.contact.neutral", language)]
    elif "hours" in left or not config.hours:
        parts = [texts.text("helpline.contact.phone", language, phone=config.phone)]
    else:
        parts = [texts.text("helpline.contact.phone_and_hours", language, phone=config.phone,
                            hours=hours_text(config, texts, language))]
    if "email" not in left and config.email:
        parts.append(texts.text("helpline.contact.email", language, email=config.email))
    return " ".join(parts)


def next_open(config: HelplineConfig, texts: Any, language: str, now: datetime) -> Optional[str]:
    """"i dag kl. 09:00", "i morgen kl. 09:00" or "mandag kl. 09:00"; None when unknown."""
    opens = config.next_opening(now)
    if opens is None:
        return None
    today = now.astimezone(config.zone()).date()
    clock = _clock(opens.time())
    ahead = (opens.date() - today).days
    if ahead == 0:
        return texts.text("helpline.when.today", language, time=clock)
    if ahead == 1:
        return texts.text("helpline.when.tomorrow", language, time=clock)
    return texts.text("helpline.when.weekday", language, day=_day_names(texts, language)[opens.weekday()], time=clock)


def hours_text(config: HelplineConfig, texts: Any, language: str) -> str:
    """The weekly hours, consecutive days with the same hours together: "mandag-torsdag kl. 09:00-15:00, fredag kl. 09:00-12:00"."""
    names = _day_names(texts, language)
    groups: List[Dict[str, Any]] = []
    for index, day in enumerate(DAYS):
        span = (config.hours or {}).get(day)
        if span is None:
            continue
        last = groups[-1] if groups else None
        if last and last["span"] == span and last["last"] == index - 1:
            last["last"] = index
        else:
            groups.append({"first": index, "last": index, "span": span})
    parts = []
    for group in groups:
        days = names[group["first"]] if group["first"] == group["last"] else f"{names[group['first']]}-{names[group['last']]}"
        parts.append(texts.text("helpline.when.span", language, days=days, opens=_clock(group["span"][0]),
                                closes=_clock(group["span"][1])))
    return ", ".join(parts)


def _day_names(texts: Any, language: str) -> List[str]:
    return list(texts.raw("helpline.days")[language])


def _clock(value: time) -> str:
    return value.strftime("%H:%M")
