"""Scoring: pure functions and dataclasses implementing DESIGN.md section 4.

Imports nothing else of ``audit_app``: no Flask, no database.
"""

from .engine import (
    aggregate,
    check_answer,
    display,
    fraction,
    grade,
    missing_required,
    round_half_away,
    score_visit,
)
from .model import (
    CHANNELS,
    CRITICAL_SCOPES,
    DEFAULT_GRADE_BANDS,
    DIMENSIONS,
    KINDS,
    SCORED_KINDS,
    Aggregate,
    Answer,
    AnswerError,
    ChecklistSpec,
    GradeBand,
    QuestionScore,
    QuestionSpec,
    SectionScore,
    SectionSpec,
    VisitScore,
)

__all__ = [
    "CHANNELS",
    "CRITICAL_SCOPES",
    "DEFAULT_GRADE_BANDS",
    "DIMENSIONS",
    "KINDS",
    "SCORED_KINDS",
    "Aggregate",
    "Answer",
    "AnswerError",
    "ChecklistSpec",
    "GradeBand",
    "QuestionScore",
    "QuestionSpec",
    "SectionScore",
    "SectionSpec",
    "VisitScore",
    "aggregate",
    "check_answer",
    "display",
    "fraction",
    "grade",
    "missing_required",
    "round_half_away",
    "score_visit",
]
