"""Reading the rollups (``reports.rollup_models``) for a Filters' period and filters.

A period is covered by whole months' rows where it holds whole months and by days' rows at its
partial edges, split at every boundary a figure needs (the previous period's start, this period's
start), so each row read lies wholly in one of them. Every figure is Σ sum / Σ n over the rows.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import DateTime, and_, cast, func, or_, select

from ...visits.models import Location
from ..rollup_models import FINE, PER_CHANNEL, PER_LOCATION, QuestionRollup, ScoreRollup, VisitRollup
from .base import Filters, read

TABLES = (VisitRollup, ScoreRollup, QuestionRollup)


def _next_month(d: date) -> date:
    return (d.replace(day=1) + timedelta(days=32)).replace(day=1)


def segments(a: date, b: date) -> list[tuple[str, date, date]]:
    """(grain, first day, last day) pieces covering a..b: whole months as month rows, the rest as days."""
    if a > b:
        return []
    first_full = a if a.day == 1 else _next_month(a)
    after_full = _next_month(b) if (b + timedelta(days=1)).day == 1 else b.replace(day=1)
    if first_full >= after_full:
        return [("d", a, b)]
    out = []
    if a < first_full:
        out.append(("d", a, first_full - timedelta(days=1)))
    out.append(("m", first_full, after_full - timedelta(days=1)))
    if after_full <= b:
        out.append(("d", after_full, b))
    return out


def level(f: Filters, by=()) -> str:
    """The ``grain`` prefix of the coarsest level (``rollup_models``) that answers ``f`` grouped by ``by`` ("location",
    "channel"): the fine rows when both places and channels matter, otherwise one of the totals."""
    places = "location" in by or bool(f.location_id or f.region)
    channels = "channel" in by or bool(f.channel)
    if places and channels:
        return FINE
    if places:
        return PER_LOCATION  # every channel's total, per location
    return PER_CHANNEL  # every location's total, per channel


def conditions(table, f: Filters, start: date | None = None, end: date | None = None, cuts=(), by=()) -> list:
    """WHERE clauses on a rollup table for ``f`` over start..end, split at the days in ``cuts``, on the
    coarsest level of rows that can be grouped by ``by`` (``level``)."""
    start, end = start or f.start, end or f.end
    points = sorted({c for c in cuts if start < c <= end})
    pieces, lo = [], start
    for c in points:
        pieces += segments(lo, c - timedelta(days=1))
        lo = c
    pieces += segments(lo, end)
    prefix = level(f, by)
    conds = [table.client_id == f.client_id,
             or_(*[and_(table.grain == prefix + g, table.day >= a, table.day <= b) for g, a, b in pieces])
             if pieces else table.id.is_(None)]
    if f.location_id:
        conds.append(table.location_key == f.location_id)
    if f.channel:
        conds.append(table.channel == f.channel)
    if f.version_id:
        conds.append(table.version_id == f.version_id)
    if f.region:  # the region's locations as a list: the location index reaches each one's rows
        conds.append(table.location_key.in_(region_locations(f.client_id, f.region) or [-2]))
    return conds


def month_expr(table):
    if read.dialect() == "postgresql":
        return func.date_trunc("month", cast(table.day, DateTime))
    return func.strftime("%Y-%m", table.day)


def location_id(key: int) -> int | None:
    return key or None


def region_locations(client_id: int, region: str) -> list[int]:
    """The region's locations, read once per request (or job) for its several rollup queries."""
    from flask import g

    known = g.setdefault("region_locations", {})
    if (client_id, region) not in known:
        known[client_id, region] = list(read.scalars(
            select(Location.id).where(Location.client_id == client_id, Location.region == region)))
    return known[client_id, region]
