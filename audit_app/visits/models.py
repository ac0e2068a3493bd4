"""Locations, the channels a client is audited on, waves and visits.

Visit status: ``assigned → in_progress → submitted → (returned → submitted)* → approved``
(released to the client) or ``rejected``; an admin may cancel a visit that is not submitted
(``assigned``, ``in_progress``, ``returned`` → ``cancelled``): it is never counted anywhere. Scores are computed at submission and stored on the
visit (overall, critical flag, the full breakdown as JSON) and per dimension in
``visit_dimension_scores`` so that reports aggregate in SQL without recomputing answers.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.models import TenantMixin, TimestampMixin, db

CHANNELS = ("in_person", "phone", "chat", "email", "social", "web")
STATUSES = ("assigned", "in_progress", "submitted", "returned", "approved", "rejected", "cancelled")
#: statuses in which the evaluator may change answers
EDITABLE = ("assigned", "in_progress", "returned")


class Location(TimestampMixin, TenantMixin, db.Model):
    __tablename__ = "locations"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    name: Mapped[str] = mapped_column(String(160))
    address: Mapped[str] = mapped_column(String(255), default="")
    city: Mapped[str] = mapped_column(String(120), default="")
    region: Mapped[str] = mapped_column(String(120), default="")
    active: Mapped[bool] = mapped_column(default=True)
    # optional: a visit started here asks the phone for its position (visits.presence)
    lat: Mapped[float | None]
    lon: Mapped[float | None]

    client = relationship("Client")


class ClientChannel(TimestampMixin, TenantMixin, db.Model):
    """A channel a client is audited on, e.g. the customer-service phone number."""

    __tablename__ = "client_channels"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(160))
    contact: Mapped[str] = mapped_column(String(255), default="")  # number, address, URL, account
    active: Mapped[bool] = mapped_column(default=True)

    client = relationship("Client")


class Wave(TimestampMixin, TenantMixin, db.Model):
    """A batch of visits created together for one checklist and period."""

    __tablename__ = "waves"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    name: Mapped[str] = mapped_column(String(160))
    checklist_version_id: Mapped[int] = mapped_column(ForeignKey("checklist_versions.id"))
    period_start: Mapped[date]
    period_end: Mapped[date]

    client = relationship("Client")


class Visit(TimestampMixin, TenantMixin, db.Model):
    __tablename__ = "visits"
    __table_args__ = (
        # PostgreSQL: covering the report aggregates (an index-only scan; migrations 3c5e1f0a7b21, 7d2b9e4c1a30)
        Index("ix_visits_client_status_visited", "client_id", "status", "visited_on",
              postgresql_include=["id", "score_overall", "location_id", "channel", "checklist_version_id",
                                  "score_critical_fail", "score_reachability", "score_effortlessness",
                                  "score_empathy", "score_transparency", "score_privacy"]),
        Index("ix_visits_evaluator_status", "evaluator_id", "status"),
        # a branch's newest visits first (its dashboard's critical failures; migration b7e3f19c04d2)
        Index("ix_visits_location_visited", "location_id", "visited_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    client_channel_id: Mapped[int | None] = mapped_column(ForeignKey("client_channels.id"))
    checklist_version_id: Mapped[int] = mapped_column(ForeignKey("checklist_versions.id"), index=True)
    # None while the visit waits on the job board (quality) for an evaluator to take it
    evaluator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    wave_id: Mapped[int | None] = mapped_column(ForeignKey("waves.id"), index=True)
    due_from: Mapped[date]
    due_to: Mapped[date]
    scenario: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="assigned")
    started_at: Mapped[datetime | None]
    visited_on: Mapped[date | None]  # the day the evaluator did the visit: reports' period
    submitted_at: Mapped[datetime | None]
    reviewed_at: Mapped[datetime | None]
    approved_at: Mapped[datetime | None]
    return_comment: Mapped[str | None] = mapped_column(Text)
    # presence check at the start (visits.presence): never coordinates, only the distance and accuracy
    start_position: Mapped[str | None] = mapped_column(String(16))  # given, not_given, unavailable
    start_distance_m: Mapped[int | None]  # rounded to 10 m
    start_accuracy_m: Mapped[int | None]
    # stored scores (set at submission, recomputed on correction, frozen at approval)
    score_overall: Mapped[float | None]
    score_critical_fail: Mapped[bool] = mapped_column(default=False)
    score_data: Mapped[dict | None] = mapped_column(JSON)  # VisitScore.as_dict()
    scored_at: Mapped[datetime | None]
    # the five built-in dimensions' scores again, beside the overall one (BUILTIN_DIMENSION_COLUMNS): the
    # dashboard's dimension means come from the same scan of the visits as its other figures, instead of
    # a join with visit_dimension_scores (which keeps every dimension, custom ones too)
    score_reachability: Mapped[float | None]
    score_effortlessness: Mapped[float | None]
    score_empathy: Mapped[float | None]
    score_transparency: Mapped[float | None]
    score_privacy: Mapped[float | None]
    # a calibration round's visit (quality): never released, never in any client figure
    calibration: Mapped[bool] = mapped_column(default=False, server_default=false())

    client = relationship("Client")
    location: Mapped[Location | None] = relationship()
    client_channel: Mapped[ClientChannel | None] = relationship()
    checklist_version = relationship("ChecklistVersion")
    evaluator = relationship("User", foreign_keys=[evaluator_id])
    wave: Mapped[Wave | None] = relationship()
    dimension_scores: Mapped[list[VisitDimensionScore]] = relationship(
        back_populates="visit", cascade="all, delete-orphan"
    )

    @property
    def released(self) -> bool:
        return self.status == "approved"

    @property
    def editable(self) -> bool:
        return self.status in EDITABLE

    def visible_to(self, user) -> bool:
        """Admins: all. Evaluator: own visits. Client: own organisation's approved visits."""
        if user.is_admin:
            return True
        if user.is_evaluator:
            return self.evaluator_id == user.id
        if user.is_client:
            return user.client_id == self.client_id and self.status == "approved" and not self.calibration
        return False


#: built-in dimension -> the visits column that repeats its score
BUILTIN_DIMENSION_COLUMNS = {
    "reachability": Visit.score_reachability,
    "effortlessness": Visit.score_effortlessness,
    "empathy": Visit.score_empathy,
    "transparency": Visit.score_transparency,
    "privacy": Visit.score_privacy,
}


class VisitDimensionScore(db.Model):
    """A visit's score in one dimension (D_d), for SQL aggregates."""

    __tablename__ = "visit_dimension_scores"

    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"), primary_key=True)
    dimension: Mapped[str] = mapped_column(String(64), primary_key=True)
    score: Mapped[float]

    visit: Mapped[Visit] = relationship(back_populates="dimension_scores")
