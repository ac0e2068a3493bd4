"""Generated PDF reports, kept in Storage and downloadable again; client logos."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.models import TenantMixin, db, utcnow

SCOPES = ("visit", "location", "channel", "client")
STATES = ("queued", "rendering", "done", "failed")


class GeneratedReport(TenantMixin, db.Model):
    __tablename__ = "generated_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    scope: Mapped[str] = mapped_column(String(16))
    scope_ref: Mapped[str] = mapped_column(String(64), default="")  # visit/location id or channel code
    period_start: Mapped[date | None]
    period_end: Mapped[date | None]
    language: Mapped[str] = mapped_column(String(2), default="fi")
    state: Mapped[str] = mapped_column(String(16), default="queued")
    progress: Mapped[int] = mapped_column(default=0)
    storage_key: Mapped[str | None] = mapped_column(String(255))
    size_bytes: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]

    client = relationship("Client")
    created_by = relationship("User")


class ClientLogo(db.Model):
    """The client's logo for report covers (one per client)."""

    __tablename__ = "client_logos"

    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), primary_key=True)
    storage_key: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
