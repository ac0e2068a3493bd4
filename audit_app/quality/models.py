"""The evaluator pool: certification quizzes, the job board, calibration rounds and pool settings.

Certification: a checklist may have one quiz (multiple-choice questions in both languages, a
pass mark). An evaluator is certified for the checklist when they passed its *current* revision;
editing the questions makes a new revision. Job board: a ``Job`` puts one unassigned visit on the
board until its claim deadline; each take and give-back is a ``JobClaim`` row. Calibration: a
``CalibrationRound`` has one visit per evaluator (``visits.calibration`` set on them).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.models import TenantMixin, TimestampMixin, db, utcnow


class Quiz(TimestampMixin, db.Model):
    __tablename__ = "quizzes"

    id: Mapped[int] = mapped_column(primary_key=True)
    checklist_id: Mapped[int] = mapped_column(ForeignKey("checklists.id"), unique=True)
    pass_mark: Mapped[int] = mapped_column(default=80)  # percent of right answers
    revision: Mapped[int] = mapped_column(default=1)
    active: Mapped[bool] = mapped_column(default=False)  # only an active quiz gates assignments

    checklist = relationship("Checklist")
    questions: Mapped[list[QuizQuestion]] = relationship(
        back_populates="quiz", order_by="QuizQuestion.position", cascade="all, delete-orphan"
    )

    def visible_to(self, user) -> bool:
        return user.is_admin or (user.is_evaluator and self.active)


class QuizQuestion(db.Model):
    __tablename__ = "quiz_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    prompt: Mapped[dict] = mapped_column(JSON, default=dict)  # {"en": ..., "fi": ...}
    options: Mapped[list] = mapped_column(JSON, default=list)  # [{"en": ..., "fi": ...}, ...]
    correct: Mapped[int] = mapped_column(default=0)  # index into options

    quiz: Mapped[Quiz] = relationship(back_populates="questions")

    def visible_to(self, user) -> bool:
        return user.is_admin


class QuizAttempt(db.Model):
    __tablename__ = "quiz_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    revision: Mapped[int]
    score: Mapped[float]  # percent right
    passed: Mapped[bool]
    answers: Mapped[list] = mapped_column(JSON, default=list)  # chosen option index per question
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    quiz: Mapped[Quiz] = relationship()
    user = relationship("User")


class PoolSetting(db.Model):
    """A client's rules for its job board."""

    __tablename__ = "pool_settings"

    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), primary_key=True)
    lockout_days: Mapped[int] = mapped_column(default=90)  # no job where the evaluator was this recently
    max_open_jobs: Mapped[int] = mapped_column(default=5)  # open visits an evaluator may hold


class Job(TenantMixin, db.Model):
    """A visit offered on the job board."""

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    claim_deadline: Mapped[date]  # last day it can be taken (and given back)
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    withdrawn: Mapped[bool] = mapped_column(default=False)

    visit = relationship("Visit")
    claims: Mapped[list[JobClaim]] = relationship(back_populates="job", order_by="JobClaim.id",
                                                  cascade="all, delete-orphan")


class JobClaim(db.Model):
    """Who took a job, and when they gave it back (None while they hold it)."""

    __tablename__ = "job_claims"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    taken_at: Mapped[datetime] = mapped_column(default=utcnow)
    given_back_at: Mapped[datetime | None]

    job: Mapped[Job] = relationship(back_populates="claims")
    user = relationship("User")


MATERIAL_KINDS = ("none", "text", "audio")
AUDIO_TYPES = {"audio/mpeg": "mp3", "audio/ogg": "ogg", "audio/wav": "wav", "audio/mp4": "m4a", "audio/webm": "webm"}


class CalibrationRound(TimestampMixin, TenantMixin, db.Model):
    __tablename__ = "calibration_rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    name: Mapped[str] = mapped_column(String(160))
    checklist_version_id: Mapped[int] = mapped_column(ForeignKey("checklist_versions.id"))
    channel: Mapped[str] = mapped_column(String(16))
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"))
    window_start: Mapped[date]
    window_end: Mapped[date]
    scenario: Mapped[str] = mapped_column(Text, default="")
    material_kind: Mapped[str] = mapped_column(String(8), default="none")
    material_text: Mapped[str] = mapped_column(Text, default="")
    material_key: Mapped[str | None] = mapped_column(String(255))  # evidence storage key of the audio
    material_type: Mapped[str | None] = mapped_column(String(32))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    client = relationship("Client")
    location = relationship("Location")
    checklist_version = relationship("ChecklistVersion")
    members: Mapped[list[CalibrationVisit]] = relationship(back_populates="round", order_by="CalibrationVisit.visit_id",
                                                           cascade="all, delete-orphan")

    def visible_to(self, user) -> bool:
        if user.is_admin:
            return True
        if user.is_evaluator:
            return any(m.visit.evaluator_id == user.id for m in self.members)
        return False


class CalibrationVisit(db.Model):
    __tablename__ = "calibration_visits"
    __table_args__ = (UniqueConstraint("visit_id"),)

    round_id: Mapped[int] = mapped_column(ForeignKey("calibration_rounds.id", ondelete="CASCADE"), primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"), primary_key=True)

    round: Mapped[CalibrationRound] = relationship(back_populates="members")
    visit = relationship("Visit")
