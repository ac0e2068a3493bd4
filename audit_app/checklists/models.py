"""Checklists, their versions, sections and questions.

A version is a draft until it is published; a published version is immutable (the operations
refuse every change) and may later be retired (no new visits) but stays readable forever.
Translated text is stored as JSON objects ``{"en": "...", "fi": "..."}``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.models import TimestampMixin, db
from ..scoring import (
    ANSWER_KINDS,
    SCORED_KINDS,
    ChecklistSpec,
    Condition,
    GradeBand,
    QuestionSpec,
    SectionSpec,
)

VERSION_STATUSES = ("draft", "published", "retired")
PHOTO_MODES = ("none", "allowed", "required")
TIME_UNITS = ("seconds", "minutes", "hours")
UNITS = ("minutes", "hours", "seconds", "steps", "count", "days")


DEFAULT_GRADE_LABELS = {
    "excellent": {"en": "Excellent", "fi": "Erinomainen"},
    "good": {"en": "Good", "fi": "Hyvä"},
    "needs_improvement": {"en": "Needs improvement", "fi": "Kehitettävää"},
    "poor": {"en": "Poor", "fi": "Heikko"},
}


def tr(text: dict | None, language: str) -> str:
    """Text in ``language``, falling back to the other language, else ''."""
    if not text:
        return ""
    other = "en" if language == "fi" else "fi"
    return text.get(language) or text.get(other) or ""


class Dimension(db.Model):
    """Scoring dimensions: the five built-in ones and any custom ones admins add."""

    __tablename__ = "dimensions"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[dict] = mapped_column(JSON, default=dict)
    builtin: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int] = mapped_column(default=100)


class Checklist(TimestampMixin, db.Model):
    __tablename__ = "checklists"

    id: Mapped[int] = mapped_column(primary_key=True)
    versions: Mapped[list[ChecklistVersion]] = relationship(
        back_populates="checklist", order_by="ChecklistVersion.number", cascade="all, delete-orphan"
    )

    def visible_to(self, user) -> bool:
        return user.is_admin


class ChecklistVersion(TimestampMixin, db.Model):
    __tablename__ = "checklist_versions"
    __table_args__ = (UniqueConstraint("checklist_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    checklist_id: Mapped[int] = mapped_column(ForeignKey("checklists.id"), index=True)
    number: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    title: Mapped[dict] = mapped_column(JSON, default=dict)
    description: Mapped[dict] = mapped_column(JSON, default=dict)
    critical_scope: Mapped[str] = mapped_column(String(16), default="section")
    grade_bands: Mapped[list | None] = mapped_column(JSON)  # [{"min": 90, "code": "...", "label": {...}}]
    published_at: Mapped[datetime | None]
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    retired_at: Mapped[datetime | None]

    checklist: Mapped[Checklist] = relationship(back_populates="versions")
    sections: Mapped[list[Section]] = relationship(
        back_populates="version", order_by="Section.position", cascade="all, delete-orphan"
    )

    @property
    def is_draft(self) -> bool:
        return self.status == "draft"

    def visible_to(self, user) -> bool:
        return user.is_admin

    def questions(self) -> list[Question]:
        return [q for s in self.sections for q in s.questions]

    def spec_grade_bands(self) -> tuple[GradeBand, ...]:
        from ..scoring import DEFAULT_GRADE_BANDS

        if not self.grade_bands:
            return DEFAULT_GRADE_BANDS
        return tuple(
            GradeBand(min=b["min"], code=b.get("code") or f"band_{i}") for i, b in enumerate(self.grade_bands)
        )

    def grade_label(self, code: str | None, language: str) -> str:
        """The translated label of a grade code (from this version's bands, else the defaults)."""
        for i, band in enumerate(self.grade_bands or ()):
            if (band.get("code") or f"band_{i}") == code:
                return tr(band.get("label"), language)
        return tr(DEFAULT_GRADE_LABELS.get(code), language)

    def to_spec(self) -> ChecklistSpec:
        """The scoring engine's view of this version (question keys are the answer keys)."""
        return ChecklistSpec(
            sections=tuple(s.to_spec() for s in self.sections),
            critical_scope=self.critical_scope,
            grade_bands=self.spec_grade_bands(),
        )


class Section(db.Model):
    __tablename__ = "sections"
    __table_args__ = (UniqueConstraint("version_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("checklist_versions.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    key: Mapped[str] = mapped_column(String(64))
    title: Mapped[dict] = mapped_column(JSON, default=dict)
    dimension: Mapped[str | None] = mapped_column(String(64))
    weight: Mapped[float] = mapped_column(default=1.0)
    guidance: Mapped[dict] = mapped_column(JSON, default=dict)
    #: show-if on a question of an earlier section: {"question": key, "any_of" | "at_most" | "at_least": ...}
    condition: Mapped[dict | None] = mapped_column(JSON)

    version: Mapped[ChecklistVersion] = relationship(back_populates="sections")
    questions: Mapped[list[Question]] = relationship(
        back_populates="section", order_by="Question.position", cascade="all, delete-orphan"
    )

    def to_spec(self) -> SectionSpec:
        return SectionSpec(
            key=self.key,
            dimension=self.dimension or "",
            weight=self.weight,
            questions=tuple(q.to_spec() for q in self.questions),
            condition=Condition.from_dict(self.condition),
        )


class Question(db.Model):
    """One question. Kind-specific settings live in ``config``:

    yes_no ``good_answer`` ("yes"/"no"); scale ``min``, ``max``, ``min_label``, ``max_label``;
    choice and multi ``options`` [{key, label, fraction}]; number ``unit``, ``bands`` [{upto,
    fraction}], ``above``; date and time nothing. The form logic has columns: ``condition``
    (show-if on an earlier question), ``unscored`` and ``follow_up`` (on a failed answer).
    """

    __tablename__ = "questions"
    __table_args__ = (UniqueConstraint("version_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("sections.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("checklist_versions.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    key: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    prompt: Mapped[dict] = mapped_column(JSON, default=dict)
    guidance: Mapped[dict] = mapped_column(JSON, default=dict)
    weight: Mapped[float] = mapped_column(default=1.0)
    required: Mapped[bool] = mapped_column(default=True)
    allow_na: Mapped[bool] = mapped_column(default=False)
    critical: Mapped[bool] = mapped_column(default=False)
    channels: Mapped[list | None] = mapped_column(JSON)  # None: every channel
    photo: Mapped[str] = mapped_column(String(16), default="none")
    config: Mapped[dict] = mapped_column(JSON, default=dict)
    note: Mapped[str | None] = mapped_column(Text)  # designer's private note
    condition: Mapped[dict | None] = mapped_column(JSON)  # show-if on an earlier question
    unscored: Mapped[bool] = mapped_column(default=False, server_default=false())
    follow_up: Mapped[str] = mapped_column(String(16), default="none", server_default="none")

    section: Mapped[Section] = relationship(back_populates="questions")
    version: Mapped[ChecklistVersion] = relationship()

    @property
    def scored(self) -> bool:
        return self.kind in SCORED_KINDS and not self.unscored

    @property
    def requires_answer(self) -> bool:
        """Shown and unanswered, it blocks submission (``QuestionSpec.requires_answer``)."""
        return bool(self.required) and self.kind in ANSWER_KINDS

    @property
    def is_timed(self) -> bool:
        return self.kind == "number" and self.config.get("unit") in TIME_UNITS

    def applies_to(self, channel: str | None) -> bool:
        return channel is None or not self.channels or channel in self.channels

    def to_spec(self) -> QuestionSpec:
        c = self.config or {}
        return QuestionSpec(
            key=self.key,
            kind=self.kind,
            weight=self.weight,
            required=self.required,
            allow_na=self.allow_na,
            critical=self.critical,
            channels=frozenset(self.channels) if self.channels else None,
            good_answer=c.get("good_answer", "yes") == "yes",
            scale_min=int(c.get("min", 1)),
            scale_max=int(c.get("max", 5)),
            options=tuple((o["key"], o["fraction"]) for o in c.get("options", [])),
            bands=tuple((b["upto"], b["fraction"]) for b in c.get("bands", [])),
            above=c.get("above", 0.0),
            unscored=bool(self.unscored),
            condition=Condition.from_dict(self.condition),
            follow_up=self.follow_up or "none",
        )
