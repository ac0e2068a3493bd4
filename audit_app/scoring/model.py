"""Value types of the scoring engine (DESIGN.md section 4).

Plain frozen dataclasses: no Flask, no database, nothing else of ``audit_app``.
Specs validate themselves on construction (``ValueError``) so that the engine
never has to deal with a weight of 0, a scale of one point or a fraction of 3.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

KINDS = ("yes_no", "scale", "choice", "multi", "number", "date", "time", "text", "photo")
SCORED_KINDS = ("yes_no", "scale", "choice", "multi", "number")
#: kinds answered with a value picked or typed: ``required`` makes such a shown question block
#: submission until answered (free text and photo questions never block)
ANSWER_KINDS = ("yes_no", "scale", "choice", "multi", "number", "date", "time")
#: kinds a condition may refer to: ``equals any of`` for the first three, a bound for the last two
CONDITION_KINDS = ("yes_no", "choice", "multi", "scale", "number")
VALUE_CONDITION_KINDS = ("yes_no", "choice", "multi")
BOUND_CONDITION_KINDS = ("scale", "number")
#: what a scored question demands when its answer fails (f = 0)
FOLLOW_UPS = ("none", "comment", "photo", "both")
DIMENSIONS = ("reachability", "effortlessness", "empathy", "transparency", "privacy")
CHANNELS = ("in_person", "phone", "chat", "email", "social", "web")
CRITICAL_SCOPES = ("section", "visit")


def _real(value: object) -> float | None:
    """``value`` as a float if it is a real number (bool excluded), else None."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real | Decimal):
        return None
    try:
        return float(value)
    except (ValueError, OverflowError):
        return None


def _check_fraction(value: object, what: str) -> float:
    number = _real(value)
    if number is None or not 0.0 <= number <= 1.0:
        raise ValueError(f"{what}: fraction must be a number in 0..1, got {value!r}")
    return number


def _check_weight(value: object, what: str) -> float:
    number = _real(value)
    if number is None or not math.isfinite(number) or number <= 0:
        raise ValueError(f"{what}: weight must be a finite number > 0, got {value!r}")
    return number


@dataclass(frozen=True)
class Condition:
    """Show-if: the question (or section) carrying it is shown only when the earlier question
    ``question`` is shown, answered (not N/A) and its answer meets exactly one of ``any_of`` (yes_no:
    "yes"/"no"; choice and multi: option keys; a multi answer meets it when any chosen option is
    in the set), ``at_most`` or ``at_least`` (scale and number)."""

    question: str
    any_of: frozenset[str] | None = None
    at_most: float | None = None
    at_least: float | None = None

    def __post_init__(self) -> None:
        given = [x is not None for x in (self.any_of, self.at_most, self.at_least)]
        if sum(given) != 1:
            raise ValueError(f"condition on {self.question!r}: give exactly one of any_of, at_most, at_least")
        if self.any_of is not None:
            values = frozenset(self.any_of) if not isinstance(self.any_of, str) else frozenset((self.any_of,))
            if not values or not all(isinstance(v, str) for v in values):
                raise ValueError(f"condition on {self.question!r}: any_of must be a non-empty set of codes")
            object.__setattr__(self, "any_of", values)
        for name in ("at_most", "at_least"):
            bound = getattr(self, name)
            if bound is not None:
                number = _real(bound)
                if number is None or not math.isfinite(number):
                    raise ValueError(f"condition on {self.question!r}: {name} must be a finite number")
                object.__setattr__(self, name, number)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Condition | None:
        """``{"question": key, "any_of": [...]}`` (or ``at_most`` / ``at_least``) as stored; None stays None."""
        if not data:
            return None
        any_of = data.get("any_of")
        return cls(
            question=data["question"],
            any_of=frozenset(any_of) if any_of is not None else None,
            at_most=data.get("at_most"),
            at_least=data.get("at_least"),
        )


@dataclass(frozen=True)
class QuestionSpec:
    """One checklist question, as far as scoring is concerned.

    ``options`` (choice) and ``bands`` (number) may be given as any iterables of
    pairs; they are stored as tuples, bands sorted by ``upto`` ascending.
    ``channels`` may be any iterable of channel codes; it is stored as a frozenset.
    """

    key: str
    kind: str
    weight: float = 1.0
    required: bool = True
    allow_na: bool = False
    critical: bool = False
    channels: frozenset[str] | None = None  # None = applies to every channel
    good_answer: bool = True  # yes_no: True means "yes" is good
    scale_min: int = 1
    scale_max: int = 5
    options: tuple[tuple[str, float], ...] = ()  # choice: (option key, fraction)
    bands: tuple[tuple[float, float], ...] = ()  # number: (upto, fraction), ascending upto
    above: float = 0.0  # number: fraction above every band
    unscored: bool = False  # asked (and may drive conditions) but never scored
    condition: Condition | None = None  # show-if on an earlier question
    follow_up: str = "none"  # on a failed answer: "comment", "photo" or "both" must be given

    def __post_init__(self) -> None:
        where = f"question {self.key!r}"
        if self.kind not in KINDS:
            raise ValueError(f"{where}: unknown kind {self.kind!r}")
        if self.channels is not None and not isinstance(self.channels, frozenset):
            object.__setattr__(self, "channels", frozenset(self.channels))
        options = tuple((key, _check_fraction(frac, f"{where} option {key!r}")) for key, frac in self.options)
        object.__setattr__(self, "options", options)
        bands = []
        for upto, frac in self.bands:
            bound = _real(upto)
            if bound is None or math.isnan(bound):
                raise ValueError(f"{where}: band bound must be a number, got {upto!r}")
            bands.append((bound, _check_fraction(frac, f"{where} band {upto!r}")))
        object.__setattr__(self, "bands", tuple(sorted(bands, key=lambda band: band[0])))
        if self.kind == "number":
            object.__setattr__(self, "above", _check_fraction(self.above, f"{where} above"))
        if self.follow_up not in FOLLOW_UPS:
            raise ValueError(f"{where}: follow_up must be one of {FOLLOW_UPS}")
        if self.condition is not None and self.condition.question == self.key:
            raise ValueError(f"{where}: a condition cannot refer to the question itself")
        if self.kind in ("choice", "multi"):
            keys = [key for key, _ in options]
            if not keys:
                raise ValueError(f"{where}: a {self.kind} question needs at least one option")
            if len(set(keys)) != len(keys):
                raise ValueError(f"{where}: option keys must be unique")
        if not self.scored:
            return
        object.__setattr__(self, "weight", _check_weight(self.weight, where))
        if self.kind == "scale":
            if not all(
                isinstance(v, int) and not isinstance(v, bool) for v in (self.scale_min, self.scale_max)
            ):
                raise ValueError(f"{where}: scale bounds must be integers")
            if self.scale_min >= self.scale_max:
                raise ValueError(f"{where}: scale_min must be below scale_max")

    @property
    def scored(self) -> bool:
        """True for a question that counts in scores: a scored kind not marked ``unscored``."""
        return self.kind in SCORED_KINDS and not self.unscored

    @property
    def requires_answer(self) -> bool:
        """Whether submission waits for an answer when the question is shown: ``required`` and
        answered with a value (every kind but ``text`` and ``photo``), scored or not."""
        return self.required and self.kind in ANSWER_KINDS

    def applies_to(self, channel: str | None) -> bool:
        """Whether the question is shown and scored on a visit to ``channel`` (None = any)."""
        return self.channels is None or channel is None or channel in self.channels


@dataclass(frozen=True)
class SectionSpec:
    key: str
    dimension: str
    weight: float = 1.0
    questions: tuple[QuestionSpec, ...] = ()
    condition: Condition | None = None  # show-if on a question of an earlier section

    def __post_init__(self) -> None:
        object.__setattr__(self, "weight", _check_weight(self.weight, f"section {self.key!r}"))
        object.__setattr__(self, "questions", tuple(self.questions))


@dataclass(frozen=True)
class GradeBand:
    min: float
    code: str  # e.g. "excellent", "good", "needs_improvement", "poor"


DEFAULT_GRADE_BANDS: tuple[GradeBand, ...] = (
    GradeBand(90.0, "excellent"),
    GradeBand(75.0, "good"),
    GradeBand(50.0, "needs_improvement"),
    GradeBand(0.0, "poor"),
)


@dataclass(frozen=True)
class ChecklistSpec:
    """A checklist version. Section keys and question keys must each be unique."""

    sections: tuple[SectionSpec, ...]
    critical_scope: str = "section"  # or "visit"
    grade_bands: tuple[GradeBand, ...] = DEFAULT_GRADE_BANDS

    def __post_init__(self) -> None:
        object.__setattr__(self, "sections", tuple(self.sections))
        object.__setattr__(self, "grade_bands", tuple(self.grade_bands))
        if self.critical_scope not in CRITICAL_SCOPES:
            raise ValueError(f"critical_scope must be one of {CRITICAL_SCOPES}, got {self.critical_scope!r}")
        section_keys = [s.key for s in self.sections]
        if len(set(section_keys)) != len(section_keys):
            raise ValueError("section keys must be unique within a checklist")
        question_keys = [q.key for s in self.sections for q in s.questions]
        if len(set(question_keys)) != len(question_keys):
            raise ValueError("question keys must be unique within a checklist")

    def questions(self) -> tuple[QuestionSpec, ...]:
        """Every question, in checklist order."""
        return tuple(q for s in self.sections for q in s.questions)


@dataclass(frozen=True)
class Answer:
    """An evaluator's answer. ``value`` None and ``na`` False means unanswered.

    ``comment`` matters only for a follow-up on failure (``missing_follow_ups``)."""

    value: object = None  # yes_no: bool; scale: int; choice: option key; number: int/float;
    # multi: a list of option keys; date: "YYYY-MM-DD"; time: "HH:MM"
    na: bool = False
    comment: str = ""

    @property
    def answered(self) -> bool:
        return self.na or self.value is not None


class AnswerError(ValueError):
    """An answer that does not fit its question.

    ``code`` is one of "na_not_allowed", "wrong_type", "out_of_range",
    "unknown_option", "not_finite", "empty_selection", "repeated_option", "not_a_date",
    "not_a_time"; ``message`` is plain English (callers
    translate by code); ``key`` is the question's key.
    """

    def __init__(self, code: str, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.key = key


@dataclass(frozen=True)
class Visibility:
    """Which sections and questions a visit shows (``visibility``): True = shown.

    A question is shown when it applies to the visit's channel, its section's condition is met
    and its own condition is met. A section is shown when its condition is met and at least one
    of its questions is shown. Unknown keys are not shown."""

    sections: Mapping[str, bool]
    questions: Mapping[str, bool]

    def section_shown(self, key: str) -> bool:
        return bool(self.sections.get(key, False))

    def question_shown(self, key: str) -> bool:
        return bool(self.questions.get(key, False))


@dataclass(frozen=True)
class QuestionScore:
    key: str
    fraction: float | None  # None = excluded / not scored
    included: bool
    failed: bool  # scored, included and fraction == 0
    critical_failed: bool
    shown: bool = True  # False: hidden by a condition or the channel (scores stored earlier: True)

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "fraction": self.fraction,
            "included": self.included,
            "failed": self.failed,
            "critical_failed": self.critical_failed,
            "shown": self.shown,
        }


@dataclass(frozen=True)
class SectionScore:
    key: str
    dimension: str
    weight: float
    score: float | None  # None = no included question
    critical_fail: bool
    questions: tuple[QuestionScore, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "dimension": self.dimension,
            "weight": self.weight,
            "score": self.score,
            "critical_fail": self.critical_fail,
            "questions": [q.as_dict() for q in self.questions],
        }


@dataclass(frozen=True)
class VisitScore:
    overall: float | None
    critical_fail: bool
    sections: tuple[SectionScore, ...]
    dimensions: dict[str, float]  # only dimensions that have a scored section
    failed: tuple[str, ...]  # keys of failed questions, in checklist order

    def as_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (unrounded numbers); ``from_dict`` reverses it."""
        return {
            "overall": self.overall,
            "critical_fail": self.critical_fail,
            "dimensions": dict(self.dimensions),
            "failed": list(self.failed),
            "sections": [s.as_dict() for s in self.sections],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> VisitScore:
        """Rebuild a VisitScore stored with ``as_dict``."""
        sections = tuple(
            SectionScore(
                key=s["key"],
                dimension=s["dimension"],
                weight=s["weight"],
                score=s["score"],
                critical_fail=s["critical_fail"],
                questions=tuple(QuestionScore(**q) for q in s.get("questions", ())),
            )
            for s in data.get("sections", ())
        )
        return cls(
            overall=data.get("overall"),
            critical_fail=bool(data.get("critical_fail", False)),
            sections=sections,
            dimensions=dict(data.get("dimensions") or {}),
            failed=tuple(data.get("failed", ())),
        )


@dataclass(frozen=True)
class Aggregate:
    score: float | None
    n: int
    dimensions: dict[str, tuple[float, int]] = field(default_factory=dict)  # dimension -> (mean, n)
