"""The guardrail's second detector: a classifier that learns {settings, emergency, other}.

The lexicon (policy/detectors.py) finds what it lists; this model generalises from
examples of its own (data/guardrail/), written independently of the lexicon, so that
each covers the other's blind spots. Character n-grams (within words, 2 to 5) carry
typos, compounds and Danish without æøå; word uni- and bigrams carry phrasing. Text
is folded as the lexicon folds it (lower case, æ -> ae ...), and every number becomes
a word for its size (`normalise`): character n-grams cannot tell 1,6 from 16, and an
age ("hun er 6") read as a reading made a false alarm.

It is trained by the guardrail policy at `rasa train` and persisted with the model
(policy/guardrail_policy.py). Its thresholds live in config.yml; they were chosen
for recall on a split it was not trained on (`python -m policy.classifier`,
docs/guardrail.md).
"""
from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Sequence, Tuple

import joblib
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from bot.yamlfile import DataFileError, load_mapping
from policy.lexicon import fold

SETTINGS = "settings"
EMERGENCY = "emergency"
OTHER = "other"
LABELS = (SETTINGS, EMERGENCY, OTHER)
SEED = 7


_NUMBER = re.compile(r"(?<![\w.,])(\d+(?:[.,]\d+)?)(?![\d])")
# number sizes: a very low reading, low, ordinary, high
_SIZES = ((3.0, " tal_meget_lav "), (4.0, " tal_lav "), (14.0, " tal_normal "))


def _size(match: "re.Match[str]") -> str:
    value = float(match.group(1).replace(",", "."))
    return next((word for limit, word in _SIZES if value < limit), " tal_hoej ")


def normalise(text: str) -> str:
    """Folded text with each number replaced by a word for its size."""
    return " ".join(_NUMBER.sub(_size, fold(text or "")).split())


@dataclass(frozen=True)
class Example:
    text: str
    label: str
    language: str


def load_examples(folder: Path) -> List[Example]:
    """Every example in `folder`/<label>.yml (examples: {da: [...], en: [...]})."""
    examples: List[Example] = []
    for label in LABELS:
        path = Path(folder) / f"{label}.yml"
        data = load_mapping(path).get("examples")
        if not isinstance(data, dict):
            raise DataFileError(f"{path}: expected `examples:` with da and en lists")
        for language, texts in data.items():
            examples.extend(Example(str(text), label, str(language)) for text in texts or ())
    return examples


def data_fingerprint(folder: Path) -> str:
    """A hash of the training files, so that Rasa retrains when they change."""
    digest = hashlib.sha256()
    for label in LABELS:
        digest.update((Path(folder) / f"{label}.yml").read_bytes())
    return digest.hexdigest()


def split(examples: Sequence[Example], held_out: float = 0.2, seed: int = SEED) -> Tuple[List[Example], List[Example]]:
    """A stratified split (per label and language) for choosing thresholds."""
    rng = random.Random(seed)
    train: List[Example] = []
    test: List[Example] = []
    groups: Dict[Tuple[str, str], List[Example]] = {}
    for example in examples:
        groups.setdefault((example.label, example.language), []).append(example)
    for key in sorted(groups):
        group = list(groups[key])
        rng.shuffle(group)
        cut = int(round(len(group) * held_out))
        test.extend(group[:cut])
        train.extend(group[cut:])
    return train, test


class GuardrailClassifier:
    """Probabilities for settings, emergency and other, for one message."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self._columns = {label: list(pipeline.classes_).index(label) for label in LABELS}

    @classmethod
    def train(cls, examples: Iterable[Example]) -> "GuardrailClassifier":
        examples = list(examples)
        if {e.label for e in examples} != set(LABELS):
            raise ValueError(f"the classifier needs examples of every label {LABELS}")
        features = FeatureUnion(
            [
                ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2)),
                ("words", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"(?u)\b\w+\b")),
            ]
        )
        model = LogisticRegression(C=10.0, class_weight="balanced", max_iter=5000, random_state=SEED)
        pipeline = Pipeline([("features", features), ("model", model)])
        pipeline.fit([normalise(e.text) for e in examples], [e.label for e in examples])
        return cls(pipeline)

    def scores(self, text: str) -> Dict[str, float]:
        row = self.pipeline.predict_proba([normalise(text)])[0]
        return {label: float(row[column]) for label, column in self._columns.items()}

    def scores_many(self, texts: Sequence[str]) -> List[Dict[str, float]]:
        rows = self.pipeline.predict_proba([normalise(t) for t in texts])
        return [{label: float(row[column]) for label, column in self._columns.items()} for row in rows]

    def persist(self, path: Path) -> None:
        joblib.dump(self.pipeline, path)

    @classmethod
    def load(cls, path: Path) -> "GuardrailClassifier":
        return cls(joblib.load(path))


# What a false alarm is for each label: a benign message refused (settings), or anything
# but an emergency given the 112 reply (emergency).
FALSE_ALARMS = {SETTINGS: (OTHER,), EMERGENCY: (SETTINGS, OTHER)}


def threshold_table(classifier: GuardrailClassifier, examples: Sequence[Example], label: str) -> List[Tuple[float, float, float]]:
    """(threshold, recall on `label`, share of false alarms above it), for thresholds 0.05..0.95."""
    scored = classifier.scores_many([e.text for e in examples])
    positives = [s[label] for s, e in zip(scored, examples) if e.label == label]
    negatives = [s[label] for s, e in zip(scored, examples) if e.label in FALSE_ALARMS[label]]
    table = []
    for step in range(1, 20):
        threshold = step / 20
        recall = sum(p >= threshold for p in positives) / max(len(positives), 1)
        false_rate = sum(n >= threshold for n in negatives) / max(len(negatives), 1)
        table.append((threshold, recall, false_rate))
    return table


def main() -> None:
    """Trains on 80 % of data/guardrail/, prints recall and false-alarm rates on the rest."""
    from bot import paths

    examples = load_examples(paths.DATA / "guardrail")
    train, test = split(examples)
    classifier = GuardrailClassifier.train(train)
    print(f"{len(train)} training examples, {len(test)} held out (stratified by label and language)")
    for label in (SETTINGS, EMERGENCY):
        print(f"\n{label}: threshold  recall  false alarms ({' + '.join(FALSE_ALARMS[label])} above)")
        for threshold, recall, false_rate in threshold_table(classifier, test, label):
            print(f"           {threshold:5.2f}  {recall:6.1%}  {false_rate:6.1%}")


if __name__ == "__main__":
    main()
