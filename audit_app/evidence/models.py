"""Evidence photos. Three stored objects per photo: cleaned original, report size, thumbnail."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
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

    visit = relationship("Visit")
    question = relationship("Question")

    def visible_to(self, user) -> bool:
        return self.visit.visible_to(user)
