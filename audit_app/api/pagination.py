"""Cursor pagination: a page of rows ordered by id, and the cursor of the next one (the last id seen;
the schema checks its form, and a cursor past every id gives an empty page)."""

from __future__ import annotations

from sqlalchemy import Select

from ..core.models import db


def page(stmt: Select, id_column, cursor: str | None, limit: int) -> tuple[list, str | None]:
    """Up to ``limit`` rows after the cursor, and the cursor of the next page (None at the end)."""
    after = int(cursor) if cursor else 0
    if after >= 2**31 - 1:
        return [], None
    rows = list(db.session.scalars(stmt.where(id_column > after).order_by(id_column).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (str(rows[-1].id) if more and rows else None)
