"""Evidence photos. Stored objects per photo: the cleaned original, its report size and thumbnail
(for the agency), and the redacted report size and thumbnail (faces and plates blurred: what
clients, reports and exports get)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.models import db, utcnow


class Photo(db.Model):
    __tablename__ = "photos"
    __table_args__ = (UniqueConstraint("visit_id", "client_uid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[int | None] = mapped_column(ForeignKey("questions.id"), index=True)
    client_uid: Mapped[str] = mapped_column(String(64))  # browser-made id: a retried upload is one photo
    caption: Mapped[str] = mapped_column(Text, default="")
    storage_key: Mapped[str] = mapped_column(String(255))
    report_key: Mapped[str] = mapped_column(String(255))
    thumb_key: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int]
    width: Mapped[int]
    height: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    captured_at: Mapped[datetime | None]
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    # redaction: pending (queued or running), done, failed (every try failed; the admin is told)
    redaction_state: Mapped[str] = mapped_column(String(16), default="pending", server_default="pending", index=True)
    redaction_rev: Mapped[int] = mapped_column(default=0, server_default="0")  # +1 on each change of regions
    redaction_attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    redaction_error: Mapped[str] = mapped_column(Text, default="", server_default="")
    redaction_queued_at: Mapped[datetime | None]
    redacted_at: Mapped[datetime | None]
    regions: Mapped[list | None] = mapped_column(JSON(none_as_null=True))  # None until the detector has run
    redacted_report_key: Mapped[str | None] = mapped_column(String(255))
    redacted_thumb_key: Mapped[str | None] = mapped_column(String(255))

    visit = relationship("Visit")
    question = relationship("Question")

    def visible_to(self, user) -> bool:
        return self.visit.visible_to(user)

    @property
    def redacted(self) -> bool:
        """The redacted versions match the current regions."""
        return self.redaction_state == "done" and bool(self.redacted_report_key)
