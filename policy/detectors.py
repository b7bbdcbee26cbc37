"""The guardrail's detectors, in layers, each decision with its reasons.

Layers, in the order they are asked:
- emergency: the lexicon of acute danger (with figures), then the NLU intent;
  a past or hypothetical wording ("last year", "what if") holds both back.
- exemption: a question about the rules or the stance ("may my doctor help with
  settings?") is answered from the paper, unless it also asks for a value.
- settings: lexicon (a setting named together with a request for a value),
  pattern (a figure with a unit together with a request), the NLU intent, and
  the conversation (a follow-up after a refusal, or after a setting or a DIY
  system was named).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from bot import paths
from bot.yamlfile import load_mapping
from policy.lexicon import PhraseList, Text, prepare

GUARDRAIL_LEXICON = paths.LEXICONS / "guardrail.yml"

EMERGENCY = "emergency"
SETTINGS = "settings"
EXEMPT = "exempt"
REDIRECT = "redirect"
SETTINGS_INTENT = "ask_settings"
EMERGENCY_INTENT = "emergency"
GUARDED_INTENTS = (SETTINGS_INTENT, EMERGENCY_INTENT)

UNUSABLE_INTENTS = ("nlu_fallback",)


@dataclass(frozen=True)
class Verdict:
    """What the guardrail decided about one message, and why (for the audit trail)."""

    category: Optional[str]  # emergency | settings | exempt | redirect | None (no opinion)
    layer: str  # lexicon | pattern | intent | context | none
    reasons: Tuple[str, ...] = ()
    # for exempt and redirect: the intent to answer the message as (ask_<topic>, thanks...)
    intent: Optional[str] = None

    def as_metadata(self) -> Dict[str, object]:
        return {
            "guardrail": {
                "category": self.category,
                "layer": self.layer,
                "reasons": list(self.reasons),
                "intent": self.intent,
            }
        }


@dataclass(frozen=True)
class Turn:
    """A user message with what the NLU made of it."""

    text: str
    intent: Optional[str] = None
    confidence: float = 0.0
    ranking: Tuple[Tuple[str, float], ...] = ()


@dataclass
class Context:
    """What came before in the conversation: earlier user turns and the last triage."""

    earlier: Sequence[Turn] = field(default_factory=tuple)
    last_triage: Optional[str] = None


class Guardrail:
    """Classifies a message as emergency, settings question, exemption, or neither."""

    def __init__(self, lexicon: Dict) -> None:
        s, e = lexicon["settings"], lexicon["emergency"]
        self.terms = PhraseList(s["terms"], "setting", fuzzy=5)
        self.cues = PhraseList(s["request_cues"], "request")
        self.strong_cues = PhraseList(s["strong_cues"], "strong request")
        self.judgement_cues = PhraseList(s["judgement_cues"], "judgement")
        self.value_judgements = PhraseList(s["value_judgements"], "value judgement")
        self.figures = PhraseList(s["figures"], "figure")
        self.insulin_figures = PhraseList(s["insulin_figures"], "insulin figure")
        self.why_not = {topic: PhraseList(entries, f"why not:{topic}") for topic, entries in s["why_not"].items()}
        self.meta = {topic: PhraseList(entries, f"meta:{topic}") for topic, entries in s["meta"].items()}
        self.glucose_patterns = PhraseList(s["glucose_patterns"], "glucose pattern")
        self.diy = PhraseList(s["diy_systems"], "DIY system")
        self.follow_up_words = PhraseList(s["follow_up_words"], "follow-up")
        self.closing_intents = frozenset(s["closing_intents"])
        self.diabetes_words = PhraseList(s["diabetes_words"], "diabetes word")
        self.redirect_actions: Dict[str, str] = dict(s["redirect_actions"])
        self.severe = PhraseList(e["severe"], "severe", fuzzy=8)
        self.ketones = PhraseList(e["ketones"], "ketones", fuzzy=6)
        self.ketone_companions = PhraseList(e["ketone_companions"], "ketone sign")
        self.low = PhraseList(e["low"], "low")
        self.not_rising = PhraseList(e["not_rising"], "not rising")
        self.despite = PhraseList(e["despite"], "despite")
        self.very_low_reading = PhraseList([r for r in e["low"] if isinstance(r, dict)], "very low reading")
        self.confusion = PhraseList(e["confusion"], "confusion")
        self.pump_failure = PhraseList(e["pump_failure"], "pump failure")
        self.not_now = PhraseList(e["not_now"], "past or hypothetical")
        self.earlier = PhraseList(e["earlier"], "earlier")
        self.conditional = PhraseList(e["conditional"], "conditional")
        self.general_question = PhraseList(e["general_question"], "general question")
        self.now = PhraseList(e["now"], "now")

    # -- the public decision ---------------------------------------------------------

    def assess(self, turn: Turn, context: Optional[Context] = None) -> Verdict:
        context = context or Context()
        text = prepare(turn.text or "")
        verdict = self._emergency(text, turn) or self._exemption(text, turn, context) or self._settings(text, turn, context)
        if verdict is None and turn.intent in GUARDED_INTENTS:
            # The NLU alone called it guarded, and no layer agreed: answer it as the next best intent.
            return self._redirect(turn, f"intent {turn.intent} ({turn.confidence:.2f}) without support")
        return verdict or Verdict(None, "none")

    def action_for(self, intent: Optional[str]) -> Optional[str]:
        """The action the rules give an intent (ask_<topic> -> action_answer_topic, ...)."""
        if not intent:
            return None
        for prefix, action in self.redirect_actions.items():
            if intent == prefix or (prefix.endswith("_") and intent.startswith(prefix)):
                return action
        return None

    def _redirect(self, turn: Turn, reason: str) -> Verdict:
        ranked = [name for name, _ in turn.ranking if name not in GUARDED_INTENTS + UNUSABLE_INTENTS]
        best = next((name for name in ranked if self.action_for(name)), "out_of_scope")
        return Verdict(REDIRECT, "intent", (reason, f"answered as {best}"), intent=best)

    # -- emergencies -----------------------------------------------------------------

    def _emergency(self, text: Text, turn: Turn) -> Optional[Verdict]:
        held_back = self._found(text, self.not_now) if not self._found(text, self.now) else None
        general = self._found(text, self.general_question) or self._found(text, self.earlier)
        reasons: List[str] = []
        severe = self._found(text, self.severe)
        if severe:
            reasons.append(f"severe: {severe}")
        if not general:
            ketones = self._found(text, self.ketones)
            sign = self._found(text, self.ketone_companions)
            if ketones and sign:
                reasons.append(f"ketones: {ketones} + {sign}")
            pump = self._found(text, self.pump_failure)
            if pump and ketones:
                reasons.append(f"pump failure: {pump} + {ketones}")
            low = self._found(text, self.low)
            rising = self._found(text, self.not_rising)
            if low and rising:
                reasons.append(f"low not responding: {low} + {rising}")
            reading = self._found(text, self.very_low_reading)
            despite = self._found(text, self.despite)
            if reading and despite:
                reasons.append(f"very low reading despite sugar: {reading} + {despite}")
            confused = self._found(text, self.confusion)
            if confused and (low or reading):
                reasons.append(f"confused and low: {confused} + {low or reading}")
        if reasons and not held_back:
            return Verdict(EMERGENCY, "lexicon", tuple(reasons))
        not_acute = held_back or general or self._found(text, self.conditional)
        if turn.intent == EMERGENCY_INTENT and not not_acute:
            return Verdict(EMERGENCY, "intent", (f"intent {turn.intent} ({turn.confidence:.2f})",))
        if turn.intent == EMERGENCY_INTENT:
            return self._redirect(turn, f"not acute: {not_acute}")
        return None

    # -- questions about the rules ---------------------------------------------------

    def _exemption(self, text: Text, turn: Turn, context: Context) -> Optional[Verdict]:
        could_be_refused = (
            turn.intent == SETTINGS_INTENT
            or context.last_triage == "settings_refused"
            or self._found(text, self.terms)
            or self._found(text, self.insulin_figures)
        )
        if not could_be_refused:
            return None  # nothing to exempt; the other policies answer it
        figure = self._found(text, self.insulin_figures)
        if figure:
            return None  # a figure for a setting is never just a question about the rules
        for topic, phrase_list in self.why_not.items():
            found = phrase_list.find(text)
            if found:
                return self._exempt(turn, topic, f"question about the refusal: {found}")
        # "what does the association think is the right max basal?" still asks for a value
        strong = self._found(text, self.strong_cues) or (
            self._found(text, self.terms) and self._found(text, self.value_judgements)
        )
        for topic, phrase_list in self.meta.items():
            found = phrase_list.find(text)
            if found and not strong:
                return self._exempt(turn, topic, f"question about the rules or stance: {found}")
        return None

    @staticmethod
    def _exempt(turn: Turn, topic: str, reason: str) -> Verdict:
        """Answered from the paper: on the NLU's topic if it found one, else on the rule's."""
        nlu_topic = turn.intent if turn.intent and turn.intent.startswith("ask_") and turn.intent not in GUARDED_INTENTS else None
        return Verdict(EXEMPT, "lexicon", (reason,), intent=nlu_topic or f"ask_{topic}")

    # -- settings questions ----------------------------------------------------------

    def _settings(self, text: Text, turn: Turn, context: Context) -> Optional[Verdict]:
        term = self._found(text, self.terms)
        cue = self._found(text, self.cues)
        figure = self._found(text, self.figures)
        insulin_figure = self._found(text, self.insulin_figures)
        judged = self._found(text, self.value_judgements)
        if term and (cue or figure or judged):
            found = (f"setting: {term}", _opt("request", cue or judged), _opt("figure", figure))
            return Verdict(SETTINGS, "lexicon", tuple(r for r in found if r))
        if insulin_figure:
            return Verdict(SETTINGS, "pattern", (f"insulin figure: {insulin_figure}",))
        strong = self._found(text, self.strong_cues)
        judgement = strong or self._found(text, self.judgement_cues)
        if figure and judgement and not self._found(text, self.not_now):
            return Verdict(SETTINGS, "pattern", (f"figure: {figure}", f"request: {judgement}"))
        pattern = self._found(text, self.glucose_patterns)
        if pattern and strong:
            return Verdict(SETTINGS, "lexicon", (f"glucose pattern: {pattern}", f"request: {strong}"))
        in_context = self._settings_in_context(text, turn, context, term, cue, figure)
        if in_context:
            return in_context
        support = term or figure or pattern or self._found(text, self.diabetes_words) or self._found(text, self.diy)
        if turn.intent == SETTINGS_INTENT and support:
            return Verdict(SETTINGS, "intent", (f"intent {turn.intent} ({turn.confidence:.2f})", f"support: {support}"))
        return None

    def _settings_in_context(
        self, text: Text, turn: Turn, context: Context, term, cue, figure
    ) -> Optional[Verdict]:
        follow_up = self._found(text, self.follow_up_words)
        strong = self._found(text, self.strong_cues)
        if turn.intent in self.closing_intents and not (term or figure or follow_up or strong):
            return None
        recent = list(context.earlier)[-2:]
        signal = term or cue or figure or follow_up
        if context.last_triage == "settings_refused" and (signal or turn.intent == "follow_up"):
            return Verdict(SETTINGS, "context", ("follows a refused settings question", f"follow-up: {signal or turn.intent}"))
        earlier_term = next((found for t in recent for found in [self._found(prepare(t.text), self.terms)] if found), None)
        if earlier_term and (cue or figure or (follow_up and turn.intent == "follow_up")):
            return Verdict(SETTINGS, "context", (f"earlier setting: {earlier_term}", f"now: {cue or figure or follow_up}"))
        earlier_diy = next((found for t in context.earlier for found in [self._found(prepare(t.text), self.diy)] if found), None)
        if earlier_diy and (term or figure):
            return Verdict(SETTINGS, "context", (f"earlier DIY system: {earlier_diy}", f"now: {term or figure}"))
        earlier_pattern = next(
            (found for t in recent for found in [self._found(prepare(t.text), self.glucose_patterns)] if found), None
        )
        strong = self._found(text, self.strong_cues)
        if (earlier_diy or earlier_pattern) and strong:
            return Verdict(SETTINGS, "context", (f"earlier: {earlier_diy or earlier_pattern}", f"now: {strong}"))
        return None

    @staticmethod
    def _found(text: Text, phrase_list: PhraseList) -> Optional[str]:
        return phrase_list.find(text)


def _opt(label: str, value: Optional[str]) -> Optional[str]:
    return f"{label}: {value}" if value else None


def load(path: Optional[Path] = None) -> Guardrail:
    return Guardrail(load_mapping(Path(path or GUARDRAIL_LEXICON)))


@lru_cache(maxsize=1)
def default() -> Guardrail:
    return load()
