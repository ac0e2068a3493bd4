"""The scoring rules of DESIGN.md section 4, as pure functions.

Everything is computed and returned unrounded; ``display`` and ``round_half_away``
are for showing numbers only. Imports nothing of ``audit_app`` outside this package.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date, time
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from .model import (
    DEFAULT_GRADE_BANDS,
    Aggregate,
    Answer,
    AnswerError,
    ChecklistSpec,
    Condition,
    GradeBand,
    QuestionScore,
    QuestionSpec,
    SectionScore,
    Visibility,
    VisitScore,
)

DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
TIME_RE = re.compile(r"^\d{2}:\d{2}(:\d{2})?$")

NO_VALUE = "\u2013"  # en dash, shown for a missing score


# --- answers -------------------------------------------------------------------------------------


def check_answer(question: QuestionSpec, answer: Answer) -> None:
    """Raise ``AnswerError`` unless ``answer`` fits ``question``.

    An empty answer (value None, not N/A) always fits: whether a question must be
    answered is ``missing_required``'s business. N/A needs ``allow_na``; the value
    of an N/A answer is ignored. ``photo`` values are ignored too.
    """
    key = question.key
    if answer.na:
        if not question.allow_na:
            raise AnswerError("na_not_allowed", "This question cannot be answered N/A.", key)
        return
    value = answer.value
    if value is None:
        return
    kind = question.kind
    if kind == "yes_no":
        if not isinstance(value, bool):
            raise AnswerError("wrong_type", "The answer must be yes or no.", key)
    elif kind == "scale":
        if isinstance(value, bool) or not isinstance(value, int):
            raise AnswerError("wrong_type", "The answer must be a whole number.", key)
        if not question.scale_min <= value <= question.scale_max:
            raise AnswerError(
                "out_of_range",
                f"The answer must be between {question.scale_min} and {question.scale_max}.",
                key,
            )
    elif kind == "choice":
        if not isinstance(value, str):
            raise AnswerError("wrong_type", "The answer must be one of the options.", key)
        if value not in dict(question.options):
            raise AnswerError("unknown_option", "The answer is not one of the options.", key)
    elif kind == "number":
        if isinstance(value, bool) or not isinstance(value, numbers.Real | Decimal):
            raise AnswerError("wrong_type", "The answer must be a number.", key)
        if not _is_finite(value):
            raise AnswerError("not_finite", "The answer must be a finite number.", key)
    elif kind == "multi":
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise AnswerError("wrong_type", "The answer must be a list of options.", key)
        if not value:
            raise AnswerError("empty_selection", "Choose at least one option.", key)
        if len(set(value)) != len(value):
            raise AnswerError("repeated_option", "An option is chosen more than once.", key)
        known = dict(question.options)
        if any(v not in known for v in value):
            raise AnswerError("unknown_option", "The answer is not one of the options.", key)
    elif kind == "date":
        if not is_date(value):
            raise AnswerError("not_a_date", "The answer must be a date (YYYY-MM-DD).", key)
    elif kind == "time":
        if not is_time(value):
            raise AnswerError("not_a_time", "The answer must be a time of day (HH:MM).", key)
    elif kind == "text":
        if not isinstance(value, str):
            raise AnswerError("wrong_type", "The answer must be text.", key)


def is_date(value: object) -> bool:
    """A calendar date written ``YYYY-MM-DD`` (what a phone's date input sends)."""
    if not isinstance(value, str) or not DATE_RE.match(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def is_time(value: object) -> bool:
    """A time of day written ``HH:MM`` or ``HH:MM:SS`` (what a phone's time input sends)."""
    if not isinstance(value, str) or not TIME_RE.match(value):
        return False
    try:
        time.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_finite(value: numbers.Real | Decimal) -> bool:
    if isinstance(value, int):
        return True
    if isinstance(value, Decimal):
        return value.is_finite()
    try:
        return math.isfinite(value)
    except OverflowError:  # e.g. a huge Fraction
        return False


def fraction(question: QuestionSpec, answer: Answer | None) -> float | None:
    """The fraction f (0..1) an answer earns, or None when it does not count.

    None for unscored kinds (text, photo), N/A and empty answers. Raises
    ``AnswerError`` (see ``check_answer``) for a value that does not fit.
    """
    if not question.scored or answer is None or answer.na or answer.value is None:
        return None
    check_answer(question, answer)
    value: Any = answer.value
    kind = question.kind
    if kind == "yes_no":
        return 1.0 if value == question.good_answer else 0.0
    if kind == "scale":
        return (value - question.scale_min) / (question.scale_max - question.scale_min)
    if kind == "choice":
        return dict(question.options)[value]
    if kind == "multi":
        options = dict(question.options)
        return min(1.0, math.fsum(options[v] for v in value))
    # number: the first band (ascending upto) with value <= upto, else `above`
    for upto, frac in question.bands:
        if value <= upto:
            return frac
    return question.above


# --- conditions and visibility -------------------------------------------------------------------


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real | Decimal):
        return None
    try:
        number = float(value)
    except (ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def condition_met(condition: Condition, question: QuestionSpec | None, answer: Answer | None) -> bool:
    """Whether ``answer`` to the referenced ``question`` meets ``condition``.

    The caller has already checked that the referenced question is shown. Not met: an unknown
    question, no answer, N/A, or an answer of the wrong shape for the question's kind.
    """
    if question is None or answer is None or answer.na or answer.value is None:
        return False
    value, kind = answer.value, question.kind
    if condition.any_of is not None:
        if kind == "yes_no":
            return isinstance(value, bool) and ("yes" if value else "no") in condition.any_of
        if kind == "choice":
            return isinstance(value, str) and value in condition.any_of
        if kind == "multi":
            return isinstance(value, list | tuple) and any(
                isinstance(v, str) and v in condition.any_of for v in value
            )
        return False
    if kind not in ("scale", "number"):
        return False
    number = _number(value)
    if number is None:
        return False
    if condition.at_most is not None:
        return number <= condition.at_most
    return number >= condition.at_least  # type: ignore[operator]


def visibility(spec: ChecklistSpec, answers: Mapping[str, Answer], channel: str | None = None) -> Visibility:
    """Which sections and questions are shown on a visit to ``channel`` with ``answers``.

    Walks the checklist in order. A condition refers to an earlier question: one not yet
    walked (a later or unknown key) is not shown, so such a condition is never met. A condition
    on a hidden, unanswered or N/A question is not met. A section whose condition is not met
    hides all its questions; a section is shown when at least one of its questions is.
    """
    by_key = {q.key: q for q in spec.questions()}
    shown_q: dict[str, bool] = {}

    def met(condition: Condition | None) -> bool:
        if condition is None:
            return True
        if not shown_q.get(condition.question, False):
            return False
        return condition_met(condition, by_key.get(condition.question), answers.get(condition.question))

    shown_s: dict[str, bool] = {}
    for section in spec.sections:
        section_met = met(section.condition)
        any_shown = False
        for question in section.questions:
            shown = section_met and question.applies_to(channel) and met(question.condition)
            shown_q[question.key] = shown
            any_shown = any_shown or shown
        shown_s[section.key] = any_shown
    return Visibility(shown_s, shown_q)


def missing_required(
    spec: ChecklistSpec, answers: Mapping[str, Answer], channel: str | None = None
) -> list[str]:
    """Keys, in checklist order, of shown questions that need an answer and have none.

    A question needs one when it is ``required`` and answered with a value (``requires_answer``:
    every kind but text and photo, scored or unscored). Hidden questions (another channel, a
    condition not met) never do. N/A counts as an answer here (whether N/A is allowed is
    ``check_answer``'s business).
    """
    shown = visibility(spec, answers, channel)
    missing = []
    for question in spec.questions():
        if not (question.requires_answer and shown.question_shown(question.key)):
            continue
        answer = answers.get(question.key)
        if answer is None or not answer.answered:
            missing.append(question.key)
    return missing


def missing_follow_ups(
    spec: ChecklistSpec,
    answers: Mapping[str, Answer],
    channel: str | None = None,
    photos: Mapping[str, int] | Collection[str] = (),
) -> list[tuple[str, str]]:
    """(key, "comment" | "photo") in checklist order: the follow-ups of failed answers not given.

    A shown, scored question with ``follow_up`` other than "none" whose answer is failed (f = 0)
    needs a non-blank comment ("comment", "both") and at least one photo ("photo", "both").
    ``photos`` counts photos per question key (or is a collection of keys having one). An answer
    that does not fit its question is not failed here (``check_answer`` refuses it elsewhere).
    """
    shown = visibility(spec, answers, channel)
    counts = photos if isinstance(photos, Mapping) else {key: 1 for key in photos}
    missing: list[tuple[str, str]] = []
    for question in spec.questions():
        if question.follow_up == "none" or not question.scored or not shown.question_shown(question.key):
            continue
        answer = answers.get(question.key)
        try:
            f = fraction(question, answer)
        except AnswerError:
            continue
        if f != 0.0:
            continue
        if question.follow_up in ("comment", "both") and not (answer.comment or "").strip():  # type: ignore[union-attr]
            missing.append((question.key, "comment"))
        if question.follow_up in ("photo", "both") and counts.get(question.key, 0) < 1:
            missing.append((question.key, "photo"))
    return missing


# --- visit scores --------------------------------------------------------------------------------


def _clamp(value: float) -> float:
    """Guard the 0..100 range against floating-point rounding in weighted means."""
    return min(100.0, max(0.0, value))


def _weighted_mean(pairs: Sequence[tuple[float, float]]) -> float:
    """Σ(weight × value) / Σ(weight) over (weight, value) pairs; pairs is not empty."""
    return math.fsum(w * v for w, v in pairs) / math.fsum(w for w, _ in pairs)


def score_visit(spec: ChecklistSpec, answers: Mapping[str, Answer], channel: str | None = None) -> VisitScore:
    """Score one visit to ``channel`` (None: every question applies).

    ``answers`` is keyed by question key; a missing key is unanswered. Excluded from
    numerator and denominator alike: N/A, hidden questions (not applying to the channel, or
    a condition not met: see ``visibility``; their stored answers are ignored, not checked),
    unscored questions and unanswered questions (required ones included: submission is blocked elsewhere,
    see ``missing_required``). A failed critical question makes its section 0 and
    flags the visit; with ``critical_scope == "visit"`` the overall score is 0 too
    (section and dimension scores of the other sections are left as computed).
    Raises ``AnswerError`` for an answer that does not fit its question.
    """
    shown = visibility(spec, answers, channel)
    sections: list[SectionScore] = []
    failed: list[str] = []
    for section in spec.sections:
        question_scores: list[QuestionScore] = []
        weighted: list[tuple[float, float]] = []
        section_critical = False
        for question in section.questions:
            is_shown = shown.question_shown(question.key)
            f = fraction(question, answers.get(question.key)) if is_shown else None
            included = f is not None
            is_failed = included and f == 0.0
            critical_failed = is_failed and question.critical
            if included:
                weighted.append((question.weight, f))  # type: ignore[arg-type]
            if is_failed:
                failed.append(question.key)
            section_critical = section_critical or critical_failed
            question_scores.append(QuestionScore(question.key, f, included, is_failed, critical_failed, is_shown))
        if not weighted:
            score = None
        elif section_critical:
            score = 0.0
        else:
            score = _clamp(100.0 * _weighted_mean(weighted))
        sections.append(
            SectionScore(
                section.key,
                section.dimension,
                section.weight,
                score,
                section_critical,
                tuple(question_scores),
            )
        )

    scored = [s for s in sections if s.score is not None]
    critical_fail = any(s.critical_fail for s in sections)
    overall = _clamp(_weighted_mean([(s.weight, s.score) for s in scored])) if scored else None  # type: ignore[misc]
    if critical_fail and spec.critical_scope == "visit":
        overall = 0.0

    by_dimension: dict[str, list[tuple[float, float]]] = {}
    for s in scored:
        by_dimension.setdefault(s.dimension, []).append((s.weight, s.score))  # type: ignore[arg-type]
    dimensions = {d: _clamp(_weighted_mean(pairs)) for d, pairs in by_dimension.items()}

    return VisitScore(overall, critical_fail, tuple(sections), dimensions, tuple(failed))


# --- aggregates and grades -----------------------------------------------------------------------


def aggregate(visits: Iterable[VisitScore | Mapping[str, Any]]) -> Aggregate:
    """Arithmetic means over visits: each visit counts once.

    ``score`` is the mean of the overall scores V of the visits that have one (``n`` of
    them; None when n is 0). Per dimension: (mean of D_d, number of visits having d).
    Accepts ``VisitScore`` objects or dicts like ``{"overall": 80.0, "dimensions": {...}}``.
    """
    overalls: list[float] = []
    by_dimension: dict[str, list[float]] = {}
    for visit in visits:
        if isinstance(visit, VisitScore):
            overall, dims = visit.overall, visit.dimensions
        else:
            overall, dims = visit.get("overall"), visit.get("dimensions") or {}
        if overall is not None:
            overalls.append(float(overall))
        for dimension, value in dims.items():
            if value is not None:
                by_dimension.setdefault(dimension, []).append(float(value))
    score = math.fsum(overalls) / len(overalls) if overalls else None
    dimensions = {d: (math.fsum(vs) / len(vs), len(vs)) for d, vs in by_dimension.items()}
    return Aggregate(score, len(overalls), dimensions)


def grade(score: float | None, bands: Sequence[GradeBand] = DEFAULT_GRADE_BANDS) -> str | None:
    """The code of the highest band whose ``min`` the score reaches; None for None.

    Bands are compared with the UNROUNDED score, as stored: 89.96 is "good" although it
    displays as "90.0". This keeps the grade a function of the stored number and
    independent of how many decimals a page shows. A score below every band's ``min``
    (possible with custom bands not ending at 0) gets None.
    """
    if score is None:
        return None
    for band in sorted(bands, key=lambda b: b.min, reverse=True):
        if score >= band.min:
            return band.code
    return None


# --- display -------------------------------------------------------------------------------------


def _quantize(value: float, digits: int) -> Decimal:
    # repr() gives the shortest decimal that reads back as the same float, so 84.35
    # (stored as 84.34999...) rounds to 84.4 as a person reading "84.35" expects.
    exact = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    result = exact.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    return result.copy_abs() if result.is_zero() else result  # no "-0.0"


def round_half_away(value: float, digits: int = 1) -> float:
    """Round half away from zero to ``digits`` decimals (84.25 -> 84.3, -0.05 -> -0.1).

    Non-finite values are returned unchanged.
    """
    if not math.isfinite(value):
        return value
    return float(_quantize(value, digits))


def display(value: float | None, digits: int = 1) -> str:
    """A score as shown: one decimal, half away from zero ("84.3"); "–" for None."""
    if value is None:
        return NO_VALUE
    if not math.isfinite(value):
        return NO_VALUE
    try:
        return f"{_quantize(value, digits):f}"
    except InvalidOperation:  # more digits than the decimal context holds
        return str(value)
