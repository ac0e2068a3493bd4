"""Generated PDF reports, kept in Storage and downloadable again; client logos.

A generated report records the visits that went into it (``generated_report_visits``) and
whether all of them were approved when it was made (``released``). Its client's users see it
only while it is released and none of those visits has since left ``approved`` (reopened or
withdrawn); a report an admin makes of unapproved visits is internal. The rule is written once,
as SQL (``GeneratedReport.client_may_see``), for the scoped lookup and the list alike.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, String, Text, and_, false, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.models import TenantMixin, db, utcnow
from ..visits.models import Visit

SCOPES = ("visit", "location", "channel", "client")
STATES = ("queued", "rendering", "done", "failed")


class WorkerFileMixin(TenantMixin):
    """The columns a file made for a client's user by a worker has (a PDF report, an export): who asked
    for it and in which language, its state, where the file is kept in Storage once it is done."""

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    language: Mapped[str] = mapped_column(String(2), default="fi")
    state: Mapped[str] = mapped_column(String(16), default="queued")
    storage_key: Mapped[str | None] = mapped_column(String(255))
    size_bytes: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


class GeneratedReport(WorkerFileMixin, db.Model):
    __tablename__ = "generated_reports"

    scope: Mapped[str] = mapped_column(String(16))
    scope_ref: Mapped[str] = mapped_column(String(64), default="")  # visit/location id or channel code
    period_start: Mapped[date | None]
    period_end: Mapped[date | None]
    progress: Mapped[int] = mapped_column(default=0)
    #: every visit in it was approved when it was made (set again when it is rendered)
    released: Mapped[bool] = mapped_column(default=False, server_default=false())

    client = relationship("Client")
    created_by = relationship("User")

    @classmethod
    def client_may_see(cls):
        """SQL: released when made, and no visit in it has left ``approved`` since."""
        withdrawn = (
            select(GeneratedReportVisit.visit_id)
            .join(Visit, Visit.id == GeneratedReportVisit.visit_id)
            .where(GeneratedReportVisit.report_id == cls.id, Visit.status != "approved")
            .exists()
        )
        return and_(cls.released.is_(True), ~withdrawn)

    def visible_to(self, user) -> bool:
        """Admins: all. A client's user: its own client's reports while ``client_may_see`` holds."""
        if user.is_admin:
            return True
        if not super().visible_to(user):
            return False
        return db.session.scalar(
            select(GeneratedReport.id).where(GeneratedReport.id == self.id, GeneratedReport.client_may_see())
        ) is not None


class GeneratedReportVisit(db.Model):
    """A visit whose results went into a generated report."""

    __tablename__ = "generated_report_visits"

    report_id: Mapped[int] = mapped_column(ForeignKey("generated_reports.id", ondelete="CASCADE"), primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"), primary_key=True)


EXPORT_KINDS = ("visits", "answers")
EXPORT_FORMATS = ("csv", "xlsx")
EXPORT_STATES = ("queued", "running", "done", "failed")


class ExportJob(WorkerFileMixin, db.Model):
    """A large export written by an RQ worker into Storage (``reports.jobs.export_job``), then downloaded.

    ``filters`` are the period and filters of the export (``Filters.as_args()``); while it runs, its
    progress (rows written of the total) lives in the RQ job's meta, in Redis. Only approved visits are
    ever exported (the export queries' own conditions); a client's users see their client's exports
    (``TenantMixin``), admins every one."""

    __tablename__ = "export_jobs"

    kind: Mapped[str] = mapped_column(String(16))  # visits, answers
    fmt: Mapped[str] = mapped_column(String(8))  # csv, xlsx
    filters: Mapped[dict] = mapped_column(JSON, default=dict)
    rows: Mapped[int | None]

    def filename(self) -> str:
        from .export_files import filename

        return filename(self.kind, self.filters.get("start", ""), self.filters.get("end", ""), self.fmt)


class ClientLogo(db.Model):
    """The client's logo for report covers (one per client)."""

    __tablename__ = "client_logos"

    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), primary_key=True)
    storage_key: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)

from . import rollups  # noqa: E402,F401  (its tables, and its receivers connected wherever the models load)
