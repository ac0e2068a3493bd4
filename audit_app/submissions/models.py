"""Answers and the audit trail."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.models import db, utcnow


class Answer(db.Model):
    """One answer per visit and question. ``value`` is JSON: bool, int, option key or number.

    ``answered_at`` is the device's time of the answer: an older write never replaces a newer
    one, so two devices end with the later answer and a re-sent answer is harmless.
    ``fraction``/``failed`` are set when the visit is scored, for "most failed" queries.
    """

    __tablename__ = "answers"
    __table_args__ = (
        UniqueConstraint("visit_id", "question_id"),
        Index("ix_answers_question_failed", "question_id", "failed"),
        # failed answers only, by visit: "most failed" and failed items in reports (migration 3c5e1f0a7b21)
        Index("ix_answers_failed_visit", "visit_id", "question_id", postgresql_where=text("failed"),
              sqlite_where=text("failed")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"))
    value: Mapped[object | None] = mapped_column(JSON)
    na: Mapped[bool] = mapped_column(default=False)
    comment: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    fraction: Mapped[float | None]
    failed: Mapped[bool] = mapped_column(default=False)

    visit = relationship("Visit")
    question = relationship("Question")


class AuditEvent(db.Model):
    """Who changed what on a visit, and when: status changes and corrections."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    action: Mapped[str] = mapped_column(String(32))  # status, correction, ...
    field: Mapped[str | None] = mapped_column(String(120))  # e.g. "status" or a question key
    old_value: Mapped[object | None] = mapped_column(JSON)
    new_value: Mapped[object | None] = mapped_column(JSON)
    comment: Mapped[str] = mapped_column(Text, default="")

    user = relationship("User")
