"""The guardrail's detectors, in layers, each decision with its reasons.

The decision rules are written down in docs/guardrail.md. In the order asked:
- emergency: the lexicon of acute danger (signs, negation-scoped: "ingen ketoner"
  removes the sign), the classifier (policy/classifier.py), and the NLU intent
  (alone only above a threshold; below it, only with a sign). A clearly finished
  or hypothetical wording ("last year", "what if") holds them back, unless the
  message presents the danger as ongoing ("since yesterday", "all night", "still").
- emergency mode: after an emergency reply, messages about the same situation get a
  short 112 reminder, a new acute sign the full reply again, until the person says
  the danger is over or `emergency_mode_turns` messages have passed.
- handoff: while a person is awaited, anything but an emergency gets silence.
- exemption: a question about the rules or the stance ("may my doctor help with
  settings?") is answered from the paper, unless it also asks for a value.
- frustration after a refusal, an unhelpful answer or small talk: a person is offered.
- settings: lexicon (a setting named together with a request for a value),
  pattern (a figure with a unit together with a request), the conversation (a
  follow-up after a refusal, or after a setting or a DIY system was named), the
  classifier, and the NLU intent (with support).
- concern: a sign that is not acute (ketones alone, high and rising, a hypo that has
  passed) adds a short safety line to whatever the message gets.
Every verdict carries each layer's own vote, so that the layers can be measured
alone and together (make eval).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import yaml

from bot import paths
from bot.yamlfile import load_mapping
from policy import classifier as classifier_module
from policy.classifier import GuardrailClassifier
from policy.lexicon import Negation, PhraseList, Text, prepare

GUARDRAIL_LEXICON = paths.LEXICONS / "guardrail.yml"

EMERGENCY = "emergency"
SETTINGS = "settings"
EXEMPT = "exempt"
REDIRECT = "redirect"
HANDOFF = "handoff"  # a person is awaited: the assistant stays silent
FRUSTRATED = "frustrated"  # after a refusal: offer a person
# emergency stages
ACUTE = "acute"
REMINDER = "reminder"
OVER = "over"  # the person says the danger is over: emergency mode ends here
# what a reminder adds after the 112 line
THEN_REFUSAL = "refusal"
THEN_FIRST_AID = "first_aid"
THEN_REFERRAL = "referral"  # an answer about the rules, then where to turn instead
# The topics that answer questions about the rules themselves.
RULE_TOPICS = ("professional_advice", "guideline")
LAYERS = ("lexicon", "classifier", "intent", "context")
# The NLU's settings intent with only a word about diabetes as support ("my kid") counts
# only when the classifier gives a settings question at least this much.
WEAK_SUPPORT_SCORE = 0.2
SETTINGS_INTENT = "ask_settings"
EMERGENCY_INTENT = "emergency"
GUARDED_INTENTS = (SETTINGS_INTENT, EMERGENCY_INTENT)

# Never an answer to redirect to: give_contact is about e-mail addresses and phone numbers
# written in the message, and a glucose value or a time ("5,8 nu") is not one.
UNUSABLE_INTENTS = ("nlu_fallback", "give_contact")


@dataclass(frozen=True)
class Options:
    """The guardrail's settings (config.yml, through GuardrailPolicy.get_default_config)."""

    # the classifier's probability from which it calls a message a settings question / an emergency
    settings_threshold: float = 0.5
    emergency_threshold: float = 0.65
    # the NLU's emergency intent counts alone from this confidence, and only when the
    # classifier gives an emergency at least `emergency_intent_agreement`; below it, only with a sign
    emergency_intent_threshold: float = 0.85
    emergency_intent_agreement: float = 0.5
    # user messages after an emergency reply that still count as the same emergency
    emergency_mode_turns: int = 4
    # the layers switched on (each can be switched off for an ablation)
    layers: Tuple[str, ...] = LAYERS

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "Options":
        known = {k: config[k] for k in cls.__dataclass_fields__ if k in config}
        if "layers" in known:
            unknown = set(known["layers"]) - set(LAYERS)
            if unknown:
                raise ValueError(f"unknown guardrail layers {sorted(unknown)}; known: {LAYERS}")
            known["layers"] = tuple(known["layers"])
        return cls(**known)


@dataclass(frozen=True)
class Verdict:
    """What the guardrail decided about one message, and why (for the audit trail)."""

    category: Optional[str]  # emergency | settings | exempt | redirect | handoff | frustrated | None
    layer: str  # lexicon | pattern | classifier | intent | context | mode | handoff | none
    reasons: Tuple[str, ...] = ()
    # for exempt and redirect: the intent to answer the message as (ask_<topic>, thanks...)
    intent: Optional[str] = None
    stage: Optional[str] = None  # emergency: acute | reminder; any category: over
    then: Optional[str] = None  # a reminder's second line: refusal | first_aid
    concern: Optional[str] = None  # a sign that is not acute, for the safety line
    votes: Mapping[str, Any] = field(default_factory=dict)  # each layer's own vote

    def as_metadata(self) -> Dict[str, object]:
        return {
            "guardrail": {
                "category": self.category,
                "layer": self.layer,
                "reasons": list(self.reasons),
                "intent": self.intent,
                "stage": self.stage,
                "then": self.then,
                "concern": self.concern,
                "votes": dict(self.votes),
            }
        }

    def but(self, **changes: Any) -> "Verdict":
        return Verdict(**{**self.__dict__, **changes})


@dataclass(frozen=True)
class Turn:
    """A user message with what the NLU made of it."""

    text: str
    intent: Optional[str] = None
    confidence: float = 0.0
    ranking: Tuple[Tuple[str, float], ...] = ()


@dataclass
class Context:
    """What came before in the conversation: earlier user turns, the last triage, and
    the state the conversation is in (waiting for a person, an emergency)."""

    earlier: Sequence[Turn] = field(default_factory=tuple)
    last_triage: Optional[str] = None
    paused: bool = False  # a handoff: a person is awaited
    # user messages since the last full emergency reply, this one included (None: no emergency)
    since_emergency: Optional[int] = None


class Guardrail:
    """Classifies a message as emergency, settings question, exemption, or neither."""

    def __init__(
        self,
        lexicon: Dict,
        actions: Optional[Mapping[str, str]] = None,
        classifier: Optional[GuardrailClassifier] = None,
        options: Optional[Options] = None,
    ) -> None:
        """`actions`: the action the rules give each intent (policy/intent_actions.py);
        `classifier`: the trained second detector, if any."""
        self.options = options or Options()
        self.actions: Dict[str, str] = dict(actions or {})
        self.classifier = classifier if "classifier" in self.options.layers else None
        s, e = lexicon["settings"], lexicon["emergency"]
        self.terms = PhraseList(s["terms"], "setting", fuzzy=5, not_typos=s["not_typos"])
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
        self.frustration = PhraseList(s["frustration"], "frustration")
        self.definitions = PhraseList(s["definition_cues"], "what a word means")
        self.behaviour_requests = PhraseList(s["behaviour_requests"], "how the system should dose")
        self.population = {topic: PhraseList(entries, f"population:{topic}") for topic, entries in s["population_questions"].items()}
        self.normal_ketones = PhraseList(e["normal_ketones"], "normal ketone value")
        self.negation = Negation.from_lexicon(e["negation"])
        self.severe = PhraseList(e["severe"], "severe", fuzzy=8)
        self.ketones = PhraseList(e["ketones"], "ketones", fuzzy=6)
        self.ketone_companions = PhraseList(e["ketone_companions"], "ketone sign")
        self.low = PhraseList(e["low"], "low")
        self.not_rising = PhraseList(e["not_rising"], "not rising")
        self.despite = PhraseList(e["despite"], "despite")
        self.very_low_reading = PhraseList([r for r in e["low"] if isinstance(r, dict)] + e["bare_low_figures"], "very low reading")
        self.confusion = PhraseList(e["confusion"], "confusion")
        self.pump_failure = PhraseList(e["pump_failure"], "pump failure")
        self.rising_high = PhraseList(e["rising_high"], "high and rising")
        self.not_now = PhraseList(e["not_now"], "past or hypothetical")
        self.earlier = PhraseList(e["earlier"], "earlier")
        self.conditional = PhraseList(e["conditional"], "conditional")
        self.general_question = PhraseList(e["general_question"], "general question")
        self.now = PhraseList(e["now"], "ongoing")
        self.over = PhraseList(e["over"], "danger over")
        self.recurring = PhraseList(e["recurring"], "recurring pattern")
        self.dose_questions = PhraseList(e["dose_questions"], "dose or loop question")

    # -- the public decision ---------------------------------------------------------

    def assess(self, turn: Turn, context: Optional[Context] = None) -> Verdict:
        context = context or Context()
        text = prepare(turn.text or "")
        scores = self.classifier.scores(turn.text or "") if self.classifier else None
        signs = self._signs(text)
        votes = self._votes(text, turn, context, signs, scores)
        acute = self._emergency(text, turn, signs, scores)
        over = None
        in_mode = context.since_emergency is not None and context.since_emergency <= self.options.emergency_mode_turns
        if in_mode and (acute is None or acute.layer != "lexicon"):
            # only a new sign of its own makes the full reply come again ("now she is seizing")
            acute = None
            over = signs.over
            if not over:
                return self._reminder(text, turn, context, scores).but(votes=votes)
        if acute is not None:
            return acute.but(votes=votes)
        if context.paused:
            return Verdict(HANDOFF, "handoff", ("a person is awaited: the assistant stays silent",), votes=votes)
        verdict = (
            self._exemption(text, turn, context, scores)
            or self._frustration(text, turn, context)
            or self._settings(text, turn, context, scores)
        )
        if verdict is None and turn.intent in GUARDED_INTENTS:
            # The NLU alone called it guarded, and no layer agreed: answer it as the next best intent.
            verdict = self._redirect(turn, f"intent {turn.intent} ({turn.confidence:.2f}) without support")
        verdict = verdict or Verdict(None, "none")
        changes: Dict[str, Any] = {"votes": votes}
        if over:
            changes.update(stage=OVER, reasons=(*verdict.reasons, f"emergency over: {over}"))
        if signs.concern and not over:
            changes["concern"] = signs.concern
        return verdict.but(**changes)

    def action_for(self, intent: Optional[str]) -> Optional[str]:
        """The action the rules give an intent (ask_<topic> -> action_answer_topic, ...)."""
        return self.actions.get(intent) if intent else None

    def _redirect(self, turn: Turn, reason: str) -> Verdict:
        ranked = [name for name, _ in turn.ranking if name not in GUARDED_INTENTS + UNUSABLE_INTENTS]
        best = next((name for name in ranked if self.action_for(name)), "out_of_scope")
        return Verdict(REDIRECT, "intent", (reason, f"answered as {best}"), intent=best)

    # -- emergencies -----------------------------------------------------------------

    def _signs(self, text: Text) -> "Signs":
        """The signs of danger in a message, negation-scoped, and what holds them back."""
        found: Dict[str, Optional[str]] = {}
        negated: List[str] = []
        for name in ("severe", "ketones", "ketone_companions", "low", "not_rising", "despite",
                     "very_low_reading", "confusion", "pump_failure", "rising_high"):
            affirmed, denied = getattr(self, name).find_affirmed(text, self.negation)
            found[name] = affirmed
            if denied and not affirmed and name in SIGNS_OF_THEIR_OWN:
                negated.append(denied)
        normal = self._found(text, self.normal_ketones)
        if found["ketones"] and normal:
            # "ketones are 0.2": a value in the normal range is no sign, like "no ketones"
            found["ketones"] = None
            negated.append(f"normal value: {normal}")
        ongoing = self._found(text, self.now)
        if ongoing:
            # "siden i går", "all night", "still": the danger is presented as going on now
            held_back = general = None
        else:
            held_back = self._found(text, self.not_now)
            general = (
                self._found(text, self.general_question) or self._found(text, self.earlier)
                or self._found(text, self.definitions)
            )
        over, _ = self.over.find_affirmed(text, self.negation, inside=True)
        reasons: List[str] = []
        if found["severe"]:
            reasons.append(f"severe: {found['severe']}")
        if not general:
            ketones, sign, pump = found["ketones"], found["ketone_companions"], found["pump_failure"]
            if ketones and sign:
                reasons.append(f"ketones: {ketones} + {sign}")
            if pump and ketones:
                reasons.append(f"pump failure: {pump} + {ketones}")
            if found["low"] and found["not_rising"] and not self._found(text, self.recurring):
                reasons.append(f"low not responding: {found['low']} + {found['not_rising']}")
            if found["very_low_reading"] and found["despite"]:
                reasons.append(f"very low reading despite sugar: {found['very_low_reading']} + {found['despite']}")
            if found["confusion"] and (found["low"] or found["very_low_reading"]):
                reasons.append(f"confused and low: {found['confusion']} + {found['low'] or found['very_low_reading']}")
        # a sign of danger of its own (a bare figure, "high" or "despite" is none)
        any_sign = next((f"{name}: {found[name]}" for name in SIGNS_OF_THEIR_OWN if found[name]), None)
        concern = None
        if not self._found(text, self.conditional) or ongoing:
            concern = next(
                (f"{name}: {found[name]}" for name in ("ketones", "pump_failure", "rising_high", "low") if found[name]),
                None,
            )
        if general and not ongoing:
            concern = None
        return Signs(tuple(reasons), any_sign, tuple(negated), ongoing, held_back, general, concern, over)

    def _emergency(self, text: Text, turn: Turn, signs: "Signs", scores: Optional[Dict[str, float]]) -> Optional[Verdict]:
        layers = self.options.layers
        if "lexicon" in layers and signs.acute and not signs.held_back:
            return Verdict(EMERGENCY, "lexicon", (*signs.acute, *_ongoing(signs)), stage=ACUTE)
        not_acute = (
            signs.held_back or signs.general or signs.over
            or (None if signs.ongoing else self._found(text, self.conditional) or self._found(text, self.recurring))
        )
        # "ikke bevidstløs, ingen ketoner": the signs were there, and all were negated
        negated_only = signs.negated and not signs.any_sign
        if scores and scores[classifier_module.EMERGENCY] >= self.options.emergency_threshold and not (not_acute or negated_only):
            reason = f"classifier emergency {scores[classifier_module.EMERGENCY]:.2f}"
            return Verdict(EMERGENCY, "classifier", (reason, *_ongoing(signs)), stage=ACUTE)
        if turn.intent == EMERGENCY_INTENT and "intent" in layers and not (not_acute or negated_only):
            # The NLU's intent counts above its threshold, or below it with a sign; either
            # way only when the classifier (if on) does not rule an emergency out: the NLU
            # calls "my daughter is 9 and we loop" an emergency at 1.00.
            agrees = scores is None or scores[classifier_module.EMERGENCY] >= self.options.emergency_intent_agreement
            strong = turn.confidence >= self.options.emergency_intent_threshold
            if agrees and (strong or signs.any_sign):
                support = (f"classifier agrees: {scores[classifier_module.EMERGENCY]:.2f}",) if scores else ()
                support += () if strong else (f"with sign: {signs.any_sign}",)
                return Verdict(EMERGENCY, "intent", (f"intent {turn.intent} ({turn.confidence:.2f})", *support), stage=ACUTE)
        return None

    def _reminder(self, text: Text, turn: Turn, context: Context, scores: Optional[Dict[str, float]]) -> Verdict:
        """Emergency mode: the same situation still going on. 112 first, then either the
        refusal (a dose or the loop was asked about) or the first-aid line."""
        asks = (
            self._found(text, self.dose_questions)
            or self._settings(text, turn, Context(earlier=context.earlier), scores)
            or (turn.intent == SETTINGS_INTENT and f"intent {turn.intent}")
        )
        reasons = [f"emergency mode: message {context.since_emergency} after the emergency reply"]
        if asks:
            reasons.append(f"asks: {asks.category + ' via ' + asks.layer if isinstance(asks, Verdict) else asks}")
        return Verdict(EMERGENCY, "mode", tuple(reasons), stage=REMINDER, then=THEN_REFUSAL if asks else THEN_FIRST_AID)

    def _votes(self, text: Text, turn: Turn, context: Context, signs: "Signs", scores: Optional[Dict[str, float]]) -> Dict[str, Any]:
        """Each layer's own vote on this message, whatever the others say (for ablations)."""
        lexicon_vote = None
        if signs.acute and not signs.held_back:
            lexicon_vote = EMERGENCY
        elif self._lexicon_settings(text):
            lexicon_vote = SETTINGS
        votes: Dict[str, Any] = {"lexicon": lexicon_vote}
        if scores is not None:
            label = None
            if scores[classifier_module.EMERGENCY] >= self.options.emergency_threshold:
                label = EMERGENCY
            elif scores[classifier_module.SETTINGS] >= self.options.settings_threshold:
                label = SETTINGS
            votes["classifier"] = label
            votes["scores"] = {k: round(v, 3) for k, v in scores.items()}
        votes["intent"] = {EMERGENCY_INTENT: EMERGENCY, SETTINGS_INTENT: SETTINGS}.get(turn.intent or "")
        if signs.negated:
            votes["negated"] = list(signs.negated)
        return votes

    # -- questions about the rules ---------------------------------------------------

    def _exemption(self, text: Text, turn: Turn, context: Context, scores: Optional[Dict[str, float]] = None) -> Optional[Verdict]:
        could_be_refused = (
            turn.intent == SETTINGS_INTENT
            or context.last_triage == "settings_refused"
            or self._found(text, self.terms)
            or self._found(text, self.insulin_figures)
            or (scores is not None and scores[classifier_module.SETTINGS] >= self.options.settings_threshold)
        )
        about_care = could_be_refused or self._found(text, self.diabetes_words)
        if not about_care:
            return None  # nothing to exempt; the other policies answer it
        figure = self._found(text, self.insulin_figures)
        if figure:
            return None  # a figure for a setting is never just a question about the rules
        for topic, phrase_list in self.population.items():
            found = phrase_list.find(text)
            if found and not self._lexicon_settings(text):
                return self._exempt(turn, topic, f"asks how many people: {found}")
        for topic, phrase_list in self.why_not.items():
            found = phrase_list.find(text)
            if found:
                return self._exempt(turn, topic, f"question about the refusal: {found}", refer=True)
        if not could_be_refused:
            return None
        # "what does the association think is the right max basal?" still asks for a value
        strong = self._found(text, self.strong_cues) or (
            self._found(text, self.terms) and self._found(text, self.value_judgements)
        )
        for topic, phrase_list in self.meta.items():
            found = phrase_list.find(text)
            if found and not strong:
                return self._exempt(turn, topic, f"question about the rules or stance: {found}", refer=topic in RULE_TOPICS)
        return None

    @staticmethod
    def _exempt(turn: Turn, topic: str, reason: str, refer: bool = False) -> Verdict:
        """Answered from the paper: on the NLU's topic if it found one, else on the rule's.
        A question about the rules is also referred onward (clinic, guideline, a person)."""
        nlu_topic = turn.intent if turn.intent and turn.intent.startswith("ask_") and turn.intent not in GUARDED_INTENTS else None
        return Verdict(EXEMPT, "lexicon", (reason,), intent=nlu_topic or f"ask_{topic}", then=THEN_REFERRAL if refer else None)

    # -- settings questions ----------------------------------------------------------

    # After an answer or small talk, frustration is a short remark, not a question with a
    # word of impatience in it ("seriøst, hvad mener I om looping?" is answered).
    FRUSTRATION_AFTER_ANSWER_WORDS = 12

    def _frustration(self, text: Text, turn: Turn, context: Context) -> Optional[Verdict]:
        """After a refusal, an unhelpful answer or small talk, "that's useless" offers a person."""
        if context.paused or context.last_triage in ("emergency", "handoff"):
            return None
        found = self._found(text, self.frustration)
        still_asking = self._lexicon_settings(text) or self._found(text, self.strong_cues) or self._found(text, self.follow_up_words)
        if not found or still_asking:
            return None
        after_refusal = context.last_triage in ("settings_refused", "out_of_scope")
        if not after_refusal and (len(turn.text.split()) > self.FRUSTRATION_AFTER_ANSWER_WORDS or self._is_topic_question(turn)):
            return None
        return Verdict(FRUSTRATED, "context", (f"after {context.last_triage or 'nothing'}: {found}",), intent="frustration")

    @staticmethod
    def _is_topic_question(turn: Turn) -> bool:
        """The NLU is sure the message asks about a topic of the paper."""
        return bool(turn.intent and turn.intent.startswith("ask_") and turn.intent not in GUARDED_INTENTS
                    and turn.intent != "ask_human" and turn.confidence >= 0.9)

    def _about_care(self, text: Text) -> Optional[str]:
        """A word that puts a message in diabetes care (a setting, a figure, a DIY system...)."""
        return (
            self._found(text, self.terms) or self._found(text, self.figures) or self._found(text, self.diy)
            or self._found(text, self.diabetes_words) or self._found(text, self.glucose_patterns)
        )

    def _lexicon_settings(self, text: Text) -> Optional[str]:
        """The lexicon's own settings vote: a setting with a request, or an insulin figure."""
        term = self._found(text, self.terms)
        if term and (self._found(text, self.cues) or self._found(text, self.figures) or self._found(text, self.value_judgements)):
            return term
        return self._found(text, self.insulin_figures)

    def _settings(self, text: Text, turn: Turn, context: Context, scores: Optional[Dict[str, float]] = None) -> Optional[Verdict]:
        layers = self.options.layers
        definition = self._found(text, self.definitions)
        if definition and not (self._found(text, self.strong_cues) or self._found(text, self.insulin_figures)):
            return None  # "what does ISF stand for?" asks what a word means, not for a value
        verdict = self._settings_lexicon(text, turn, context) if "lexicon" in layers else None
        if verdict is None and "context" in layers:
            verdict = self._settings_in_context(text, turn, context)
        if verdict is None and scores and scores[classifier_module.SETTINGS] >= self.options.settings_threshold:
            # a settings question is about diabetes care: "hvilken elbil skal jeg købe?" is not
            about_care = self._about_care(text) or any(self._about_care(prepare(t.text)) for t in list(context.earlier)[-3:])
            if about_care and not (turn.intent in self.closing_intents and scores[classifier_module.SETTINGS] < 0.9):
                reason = f"classifier settings {scores[classifier_module.SETTINGS]:.2f}"
                verdict = Verdict(SETTINGS, "classifier", (reason, f"about diabetes care: {about_care}"))
        if verdict is None and "intent" in layers and turn.intent == SETTINGS_INTENT:
            support = self._found(text, self.terms) or self._found(text, self.figures) or self._found(text, self.glucose_patterns)
            if not support and (scores is None or scores[classifier_module.SETTINGS] >= WEAK_SUPPORT_SCORE):
                # a word about diabetes is weak support: it counts unless the classifier sees no settings question
                support = self._found(text, self.diabetes_words) or self._found(text, self.diy)
            if support:
                verdict = Verdict(SETTINGS, "intent", (f"intent {turn.intent} ({turn.confidence:.2f})", f"support: {support}"))
        return verdict

    def _settings_lexicon(self, text: Text, turn: Turn, context: Context) -> Optional[Verdict]:
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
        behaviour = self._found(text, self.behaviour_requests)
        if behaviour:
            care = self._about_care(text)
            if care:
                return Verdict(SETTINGS, "lexicon", (f"asks how the system should dose: {behaviour}", f"about diabetes care: {care}"))
            earlier = next((found for t in list(context.earlier)[-3:] for found in [self._about_care(prepare(t.text))] if found), None)
            if earlier:
                return Verdict(SETTINGS, "context", (f"asks how the system should dose: {behaviour}", f"earlier: {earlier}"))
        return None

    def _settings_in_context(self, text: Text, turn: Turn, context: Context) -> Optional[Verdict]:
        term = self._found(text, self.terms)
        cue = self._found(text, self.cues)
        figure = self._found(text, self.figures)
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


@dataclass(frozen=True)
class Signs:
    """What the emergency lexicon found in one message."""

    acute: Tuple[str, ...]  # reasons for an acute emergency
    any_sign: Optional[str]  # any sign of danger at all, acute or not (not negated)
    negated: Tuple[str, ...]  # signs that were there but negated ("ingen ketoner")
    ongoing: Optional[str]  # "siden i går", "still": overrules any holding back
    held_back: Optional[str]  # finished or hypothetical ("last year", "what if")
    general: Optional[str]  # a general question ("what is a normal ketone level?")
    concern: Optional[str]  # a sign that is not acute, for the safety line
    over: Optional[str] = None  # "it's over, she's eating": no acute sign means no emergency


# Signs of danger of their own; a bare figure ("16"), "high" or "despite" is none.
SIGNS_OF_THEIR_OWN = ("severe", "ketones", "low", "not_rising", "confusion", "pump_failure")


def _ongoing(signs: Signs) -> Tuple[str, ...]:
    return (f"ongoing: {signs.ongoing}",) if signs.ongoing else ()


def _opt(label: str, value: Optional[str]) -> Optional[str]:
    return f"{label}: {value}" if value else None


def load_lexicon(path: Optional[Path] = None) -> Dict:
    return load_mapping(Path(path or GUARDRAIL_LEXICON))


def parse_lexicon(content: bytes) -> Dict:
    """A lexicon from its bytes (the copy persisted with a model)."""
    data = yaml.safe_load(content.decode("utf-8"))
    if not isinstance(data, dict):
        raise ValueError("the guardrail lexicon must be a mapping")
    return data


def load(
    path: Optional[Path] = None,
    actions: Optional[Mapping[str, str]] = None,
    classifier: Optional[GuardrailClassifier] = None,
    options: Optional[Options] = None,
) -> Guardrail:
    """A guardrail from the lexicon file; the action map from the project's rules unless given."""
    if actions is None:
        from policy import intent_actions

        actions = intent_actions.from_project()
    return Guardrail(load_lexicon(path), actions, classifier, options)


@lru_cache(maxsize=1)
def default() -> Guardrail:
    """The lexicon and rules alone, without the classifier (tests, tools)."""
    return load()
