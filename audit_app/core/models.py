"""Model mixins shared by the domain packages."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


def utcnow() -> datetime:
    """Naive UTC now: stored the same way on SQLite and PostgreSQL."""
    return datetime.now(UTC).replace(tzinfo=None)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class TenantMixin:
    """For rows owned by one client (tenant) through a ``client_id`` column.

    ``visible_to`` is the default rule of the tenant-scoped lookup: admins see every row, a
    client user sees rows of its own client, an evaluator sees none. Models refine it.
    """

    def visible_to(self, user) -> bool:
        if user.is_admin:
            return True
        if user.is_client:
            return user.client_id is not None and user.client_id == self.client_id
        return False


__all__ = ["db", "utcnow", "TimestampMixin", "TenantMixin"]
