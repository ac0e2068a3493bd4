"""Stored PDF reports, scoped to who may see them (``GeneratedReport.client_may_see``)."""

from __future__ import annotations

from sqlalchemy import case, select

from ...core.models import db
from ..models import GeneratedReport

MAX_LISTED = 200


def generated_reports(user) -> tuple[list[GeneratedReport], set[int]]:
    """The user's list of stored reports, newest first, and the ids of those its client cannot see.

    A client's user: its client's reports while they are released. An admin: the reports the admin
    made, internal ones (made of unapproved visits, or with a visit withdrawn since) marked.
    """
    shown = case((GeneratedReport.client_may_see(), True), else_=False)
    stmt = (select(GeneratedReport, shown)
            .order_by(GeneratedReport.created_at.desc(), GeneratedReport.id.desc()).limit(MAX_LISTED))
    if user.is_client and user.client_id is not None:
        stmt = stmt.where(GeneratedReport.client_id == user.client_id, GeneratedReport.client_may_see())
    elif user.is_admin:
        stmt = stmt.where(GeneratedReport.created_by_id == user.id)
    else:
        return [], set()
    rows = db.session.execute(stmt).all()
    return [row for row, _ in rows], {row.id for row, visible in rows if not visible}
