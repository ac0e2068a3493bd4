"""Targets, self-assessments (the client's own answers, never a Visit) and corrective actions.

A self-assessment is scored by the same engine as a visit but lives in its own tables, so it can
never enter an outside-eye figure. An action belongs to a visit's failed question or to a location
and question; a later approved visit verifies or reopens it (``operations.on_visit_approved``).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.models import TenantMixin, TimestampMixin, db, utcnow

#: the overall score's code among target and gap rows (dimensions use their own codes)
OVERALL = "overall"
SELF_STATUSES = ("draft", "submitted")
ACTION_STATUSES = ("open", "in_progress", "done", "verified", "reopened")
#: statuses a manager may set by hand; ``verified`` is set by a later approved visit only
MANUAL_MOVES = {
    "open": ("in_progress", "done"),
    "in_progress": ("open", "done"),
    "reopened": ("in_progress", "done"),
    "done": ("in_progress",),
    "verified": (),
}


class Target(TimestampMixin, TenantMixin, db.Model):
    """A client's target (0..100) for the overall score or a dimension, optionally one channel,
    applying from a date until a later target of the same scope replaces it."""

    __tablename__ = "improvement_targets"
    __table_args__ = (UniqueConstraint("client_id", "dimension", "channel", "applies_from"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    dimension: Mapped[str] = mapped_column(String(64))  # OVERALL or a dimension code
    channel: Mapped[str | None] = mapped_column(String(16))  # None: every channel
    value: Mapped[float]
    applies_from: Mapped[date]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class SelfAssessment(TimestampMixin, TenantMixin, db.Model):
    """The client's own answers to a published checklist version for one channel (optionally one
    location), scored by the same engine as a visit."""

    __tablename__ = "self_assessments"
    __table_args__ = (Index("ix_self_assessments_client_channel", "client_id", "channel", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"))
    checklist_version_id: Mapped[int] = mapped_column(ForeignKey("checklist_versions.id"))
    status: Mapped[str] = mapped_column(String(16), default="draft")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime | None]
    assessed_on: Mapped[date | None]  # the day it was submitted: the period it belongs to
    score_overall: Mapped[float | None]
    score_data: Mapped[dict | None] = mapped_column(JSON)  # VisitScore.as_dict()
    dimension_scores: Mapped[dict | None] = mapped_column(JSON)  # {dimension: score}

    location = relationship("Location")
    checklist_version = relationship("ChecklistVersion")
    created_by = relationship("User")
    answers: Mapped[list[SelfAnswer]] = relationship(back_populates="assessment", cascade="all, delete-orphan")


class SelfAnswer(db.Model):
    __tablename__ = "self_answers"
    __table_args__ = (UniqueConstraint("assessment_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("self_assessments.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"))
    value: Mapped[object | None] = mapped_column(JSON)
    na: Mapped[bool] = mapped_column(default=False)
    comment: Mapped[str] = mapped_column(Text, default="")
    fraction: Mapped[float | None]
    failed: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    assessment: Mapped[SelfAssessment] = relationship(back_populates="answers")
    question = relationship("Question")


class CorrectiveAction(TimestampMixin, TenantMixin, db.Model):
    """What the client will do about a failed question, who does it, by when."""

    __tablename__ = "corrective_actions"
    __table_args__ = (Index("ix_corrective_actions_match", "client_id", "checklist_id", "question_key", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"), index=True)
    channel: Mapped[str | None] = mapped_column(String(16))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id", ondelete="SET NULL"))  # the failed item
    checklist_id: Mapped[int] = mapped_column(ForeignKey("checklists.id"))
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"))  # as it was asked when created
    question_key: Mapped[str] = mapped_column(String(64))
    what: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    due_on: Mapped[date]
    status: Mapped[str] = mapped_column(String(16), default="open")
    done_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: the approved visit that last verified or reopened it
    decided_by_visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id", ondelete="SET NULL"))

    location = relationship("Location")
    visit = relationship("Visit", foreign_keys=[visit_id])
    decided_by_visit = relationship("Visit", foreign_keys=[decided_by_visit_id])
    question = relationship("Question")
    owner = relationship("User", foreign_keys=[owner_id])
    created_by = relationship("User", foreign_keys=[created_by_id])
    events: Mapped[list[ActionEvent]] = relationship(
        back_populates="action", cascade="all, delete-orphan", order_by="ActionEvent.id"
    )
    photos: Mapped[list[ActionPhoto]] = relationship(
        back_populates="action", cascade="all, delete-orphan", order_by="ActionPhoto.id"
    )

    def overdue(self, today: date | None = None) -> bool:
        """Past its due date and not done (done and verified are done)."""
        return self.status not in ("done", "verified") and self.due_on < (today or date.today())


class ActionEvent(db.Model):
    """An action's history: created, status changes (by a user or by a visit) and comments."""

    __tablename__ = "corrective_action_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("corrective_actions.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(16))  # created, status, comment
    old_status: Mapped[str | None] = mapped_column(String(16))
    new_status: Mapped[str | None] = mapped_column(String(16))
    comment: Mapped[str] = mapped_column(Text, default="")

    action: Mapped[CorrectiveAction] = relationship(back_populates="events")
    user = relationship("User")
    visit = relationship("Visit")


class ActionPhoto(db.Model):
    """Evidence of a fix: a photo the client's manager adds to an action, cleaned by the evidence
    pipeline (``evidence.processing``: content checked, pixels limited, turned upright, metadata
    stripped) and kept in Storage. The client's own photo of its own premises: not blurred."""

    __tablename__ = "corrective_action_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("corrective_actions.id", ondelete="CASCADE"), index=True)
    caption: Mapped[str] = mapped_column(String(500), default="")
    storage_key: Mapped[str] = mapped_column(String(255))
    report_key: Mapped[str] = mapped_column(String(255))
    thumb_key: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64))
    captured_at: Mapped[datetime | None]
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    action: Mapped[CorrectiveAction] = relationship(back_populates="photos")

    @property
    def client_id(self) -> int:
        return self.action.client_id

    def visible_to(self, user) -> bool:
        return self.action.visible_to(user)
