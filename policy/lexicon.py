"""Phrase matching that survives missing æøå, inflection and one typo.

Lexicon entries and messages are folded the same way (lower case; æ -> ae,
ø -> oe, å -> aa) and matched on whole words, both as written and as spaCy lemmas
(Danish through da_core_news_sm or its lookup fallback, and English). Words also
match with one typo where a list allows it (from a minimum length, so that
"sitting" does not become "fitting"), which covers "folsomhed" for "følsomhed". (Folding further, æ -> a, would make "ændre" the same word as
"andre" and "hæve" the same as "have".)

Signs of danger can be negated ("ingen ketoner", "not vomiting"): a `Negation` scopes
each negating word over the next few spaCy tokens of its clause, and
`PhraseList.find_affirmed` skips a match that lies in such a scope. Where the tokens
cannot tell (a phrase matched only across a token boundary), the sign counts: a missed
emergency is the worst failure.
"""
from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Iterable, List, Optional, Sequence, Tuple

from bot import nlp

_FOLDS = (("æ", "ae"), ("ø", "oe"), ("å", "aa"), ("ä", "ae"), ("ö", "oe"))
_SEPARATORS = re.compile(r"[^\w%+:/.,'’-]+")
_WORD = re.compile(r"[a-z]+")


def fold(text: str) -> str:
    """Lower case, æøå folded, punctuation other than figures' turned into spaces."""
    text = text.lower().replace("’", "'")
    for source, target in _FOLDS:
        text = text.replace(source, target)
    text = _SEPARATORS.sub(" ", text)
    # full stops, commas and colons that end words (not figures like 0,6 or 1:10)
    text = re.sub(r"(?<!\d)[.,:](?!\d)|(?<=\d)[.,:](?!\d)|(?<!\d)[.,:](?=\d)", " ", text)
    return " ".join(text.split())


@dataclass(frozen=True)
class TokenView:
    """A message as folded tokens (or their lemmas) joined by spaces, with each word's
    place among the spaCy tokens, so that a match can be put back in its clause."""

    text: str
    starts: Tuple[int, ...]  # offset of each word in `text`
    token_index: Tuple[int, ...]  # the spaCy token each word came from
    tokens: Tuple[str, ...]  # every spaCy token, folded ("" for punctuation)

    def span(self, start: int, end: int) -> Tuple[int, int]:
        """The spaCy tokens [first, last] that the characters [start, end) of `text` cover."""
        first = max(bisect_right(self.starts, start) - 1, 0)
        last = max(bisect_right(self.starts, max(end - 1, start)) - 1, first)
        return self.token_index[first], self.token_index[last]


@dataclass(frozen=True)
class Text:
    """A message prepared for matching: folded words, and folded lemmas."""

    raw: str
    folded: str
    lemmas: str
    # the same words, token by token (Danish and English tokenisers), for negation scopes
    token_views: Tuple[TokenView, ...] = field(default=(), compare=False)

    @property
    def views(self) -> Tuple[str, str]:
        return self.folded, self.lemmas


# spaCy refuses texts over 1,000,000 characters. The channels never pass more than 2,000
# (bot/channels/input_text.py); past this length only the folded text is matched, which
# still sees every phrase, and the lemmas cover the beginning.
MAX_LEMMATISED_CHARS = 100_000


def prepare(raw: str) -> Text:
    folded = fold(raw)
    danish, _ = nlp.danish()
    english = nlp.english()
    lemma_words: List[str] = []
    views: List[TokenView] = []
    head = raw[:MAX_LEMMATISED_CHARS].lower()
    for pipeline in (danish, english):
        doc = pipeline(head)
        lemma_words.append(" ".join(fold(token.lemma_ or token.text) for token in doc))
        surface = tuple(fold(token.text) for token in doc)
        views.append(_token_view(surface, surface))
        views.append(_token_view(tuple(fold(token.lemma_ or token.text) for token in doc), surface))
    return Text(raw=raw, folded=folded, lemmas=" | ".join(lemma_words), token_views=tuple(views))


def _token_view(words: Sequence[str], surface: Tuple[str, ...]) -> TokenView:
    parts: List[str] = []
    starts: List[int] = []
    index: List[int] = []
    offset = 0
    for i, word in enumerate(words):
        if not word:
            continue
        starts.append(offset)
        index.append(i)
        parts.append(word)
        offset += len(word) + 1
    return TokenView(" ".join(parts), tuple(starts), tuple(index), surface)


@dataclass(frozen=True)
class Negation:
    """Which words negate what follows them, and where their scope ends.

    A negating word ("ingen", "not") covers up to `window` tokens after it, stopped by
    punctuation or a clause word ("men", "but", "og", "and"); "can't stop vomiting" is
    not a negation (`cancelled_by`). A word after the sign ("ketoner negative") negates
    it within two tokens.
    """

    before: frozenset
    after: frozenset = frozenset()
    boundaries: frozenset = frozenset()
    cancelled_by: frozenset = frozenset()
    window: int = 3

    @classmethod
    def from_lexicon(cls, entry: dict) -> "Negation":
        def words(key: str) -> frozenset:
            return frozenset(fold(str(w)) for w in entry.get(key, ()))

        return cls(words("before"), words("after"), words("boundaries"), words("cancelled_by"), int(entry.get("window", 3)))

    def covers(self, tokens: Sequence[str], first: int, last: int) -> Optional[str]:
        """The negating word whose scope holds tokens [first, last], or None."""
        for k in range(first - 1, max(first - 1 - self.window, -1), -1):
            word = tokens[k]
            if not word or word in self.boundaries:
                break
            if word in self.before and not (k + 1 < len(tokens) and tokens[k + 1] in self.cancelled_by):
                return word
        for k in range(last + 1, min(last + 3, len(tokens))):
            word = tokens[k]
            if not word or word in self.boundaries:
                break
            if word in self.after:
                return word
        return None


def _edit_distance_at_most_one(a: str, b: str) -> bool:
    """True when a and b differ by at most one insertion, deletion, substitution or swap."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diffs = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diffs) == 1:
            return True
        return len(diffs) == 2 and diffs[1] == diffs[0] + 1 and a[diffs[0]] == b[diffs[1]] and a[diffs[1]] == b[diffs[0]]
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    for i in range(len(long_)):
        if long_[:i] + long_[i + 1:] == short:
            return True
    return False


class PhraseList:
    """A list of phrases (with * endings and regex: entries), matched on Text views."""

    def __init__(self, entries: Iterable, name: str = "", fuzzy: int = 0, not_typos: Iterable[str] = ()) -> None:
        """`fuzzy`: the shortest word that may match with one typo (0: no typos);
        `not_typos`: everyday words that are never read as a typo ("sitting")."""
        self.name = name
        self.fuzzy_min_length = fuzzy
        self._not_typos = frozenset(fold(w) for w in not_typos)
        patterns: List[str] = []
        self._fuzzy_words: List[str] = []
        for entry in entries:
            if isinstance(entry, dict) and "regex" in entry:
                patterns.append(f"(?:{entry['regex']})")
                continue
            phrase = fold(str(entry)) if not str(entry).endswith("*") else fold(str(entry)[:-1]) + "*"
            wildcard = phrase.endswith("*")
            words = phrase.rstrip("*").split()
            if not words:
                continue
            body = r"\s+".join(re.escape(w) for w in words)
            ending = r"[\w+-]*" if wildcard else ""
            patterns.append(r"(?<!\w)" + body + ending + r"(?!\w)")
            if fuzzy and len(words) == 1 and _WORD.fullmatch(words[0]) and len(words[0]) >= fuzzy:
                self._fuzzy_words.append((words[0], wildcard))
        self._regex = re.compile("|".join(patterns)) if patterns else None

    def find(self, text: Text) -> Optional[str]:
        """The first matching phrase (as found in the message), or None."""
        if self._regex is not None:
            for view in text.views:
                found = self._regex.search(view)
                if found:
                    return found.group(0).strip()
        if self._fuzzy_words:
            for word in _WORD.findall(text.folded):
                if len(word) >= self.fuzzy_min_length and word not in self._not_typos:
                    for candidate, wildcard in self._fuzzy_words:
                        # a wildcard entry ("insulinfoelsomhed*") also matches an inflected word
                        stems = {word[: len(candidate) + k] for k in (-1, 0, 1)} if wildcard else {word}
                        if any(_edit_distance_at_most_one(stem, candidate) for stem in stems):
                            return f"{word}~{candidate}"
        return None

    def find_affirmed(
        self, text: Text, negation: Optional[Negation], inside: bool = False
    ) -> Tuple[Optional[str], Optional[str]]:
        """(the first match not negated, or None; a negated match, for the audit trail).

        A match counts unless every place it is found in the token views lies in a
        negation's scope; a phrase seen only in the plain views counts (safe side).
        `inside`: a negating word within the match negates it too ("is not ok"); off
        for signs that hold their own negation ("trækker ikke vejret")."""
        found = self.find(text)
        if found is None or negation is None or self._regex is None:
            return found, None
        negated: Optional[str] = None
        for view in text.token_views:
            for match in self._regex.finditer(view.text):
                first, last = view.span(match.start(), match.end())
                negator = negation.covers(view.tokens, first, last)
                if negator is None and inside:
                    negator = next((w for w in view.tokens[first:last + 1] if w in negation.before), None)
                if negator is None:
                    return match.group(0).strip(), negated
                negated = negated or f"{negator} {match.group(0).strip()}"
        if negated is None:
            return found, None  # matched only across tokens, or only by a typo: it counts
        return None, negated

    def __contains__(self, text: Text) -> bool:
        return self.find(text) is not None


