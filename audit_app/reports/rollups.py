"""Keeping the rollups (``rollup_models``): one operation, ``refresh_for(visit)``, run in the transaction
that changes what a visit counts for.

An approval adds the visit's own counts and sums to its key's day and month rows (``add_visit``: one
upsert per table). Everything else (a withdrawal, changed scores of an approved visit, a visit moved
to another key) recomputes the rows of the visit's day and month (for its client, location, channel
and checklist version) from the approved visits themselves, so they are exact and refreshing twice
changes nothing; ``rebuild`` recomputes them all. On PostgreSQL the key is locked first
(``pg_advisory_xact_lock``): two approvals of the same key wait for each other, and the second one,
reading after the first one committed, counts both. ``rebuild`` recomputes everything of a client
(``flask reports rebuild-rollups``).

Triggers (blinker signals from lower packages; nothing below imports this):
- ``visits.signals.status_changed`` into or out of ``approved`` (an approval; a withdrawal or
  reopening, should the status machine allow one);
- ``visits.signals.scores_stored``: a visit's stored scores changed (``compute_and_store_scores``); it
  matters only for an approved visit, whose scores the product freezes today
  (``submissions.operations.correct_answer`` corrects only submitted visits), but a correction of an
  approved visit, should one become possible, keeps the rollups right without another change.
"""

from __future__ import annotations

import zlib
from datetime import date, timedelta

from sqlalchemy import Date, String, and_, case, delete, event, func, insert, literal, or_, select, text
from sqlalchemy.orm import Session

from ..core.models import db
from ..submissions.models import Answer
from ..visits.models import Visit, VisitDimensionScore
from ..visits.signals import scores_stored, status_changed
from .rollup_models import (
    ALL_CHANNELS,
    ALL_LOCATIONS,
    FINE,
    PER_CHANNEL,
    PER_LOCATION,
    QuestionRollup,
    ScoreRollup,
    VisitRollup,
)

TABLES = (VisitRollup, ScoreRollup, QuestionRollup)


def _month(day: date) -> tuple[date, date]:
    first = day.replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return first, last


def counted(*extra):
    """The visits every client figure counts: approved, not calibration, scored, with a day."""
    return [Visit.status == "approved", Visit.calibration.is_(False), Visit.score_overall.is_not(None),
            Visit.visited_on.is_not(None), *extra]


def _lock(key: tuple) -> None:
    if db.session.get_bind().dialect.name == "postgresql":
        k = zlib.crc32(repr(key).encode()) - 2**31
        db.session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": k})


def refresh_for(visit: Visit) -> None:
    """Recompute the day and month rows of ``visit``'s key (whatever its status now)."""
    db.session.flush()
    refresh_key(visit.client_id, visit.location_id, visit.channel, visit.checklist_version_id, visit.visited_on)


def refresh_key(client_id: int, location_id: int | None, channel: str, version_id: int, day: date | None) -> None:
    """Recompute the rollup rows of one key's day and month from the visits."""
    if day is None:
        return
    first, last = _month(day)
    _lock((client_id, location_id or 0, channel, version_id, first))
    same = [Visit.client_id == client_id, Visit.channel == channel, Visit.checklist_version_id == version_id,
            Visit.location_id == location_id if location_id else Visit.location_id.is_(None)]
    loc = location_id or 0
    for grain, lo, hi in (("d", day, day), ("m", first, last)):
        for table in TABLES:
            db.session.execute(delete(table).where(
                table.client_id == client_id, table.version_id == version_id, table.day == lo,
                or_(and_(table.grain == grain, table.location_key == loc, table.channel == channel),  # the fine
                    and_(table.grain == PER_CHANNEL + grain, table.location_key == ALL_LOCATIONS,  # row, and the
                         table.channel == channel),  # two totals it is in
                    and_(table.grain == PER_LOCATION + grain, table.location_key == loc,
                         table.channel == ALL_CHANNELS))))
        _insert(grain, [*same, Visit.visited_on >= lo, Visit.visited_on <= hi])

        def key(table, grain=grain, lo=lo):
            return [table.client_id == client_id, table.version_id == version_id, table.grain == grain,
                    table.day == lo]

        _derive(lambda t: [*key(t), t.channel == channel], locations=True)
        _derive(lambda t: [*key(t), t.location_key == loc], locations=False)


#: each rollup table's summed columns (the rest of its columns are its key)
_SUMS = {VisitRollup: ("visits", "score_sum", "critical"), ScoreRollup: ("n", "total"),
         QuestionRollup: ("included", "fraction_sum", "failed")}
_EXTRA_KEY = {VisitRollup: (), ScoreRollup: ("kind", "code"), QuestionRollup: ("question_id",)}


def _derive(conds, locations: bool) -> None:
    """Insert the totals of the fine rows matching ``conds(table)``: every location's per channel
    (``locations=True``: ``location_key`` = ALL_LOCATIONS) or every channel's per location (``channel`` =
    ALL_CHANNELS). Sums of the fine rows' sums, so they equal the sums over the visits."""
    for table in TABLES:
        extra = [getattr(table, c) for c in _EXTRA_KEY[table]]
        sums = _SUMS[table]
        loc = literal(ALL_LOCATIONS).label("location_key") if locations else table.location_key
        channel = table.channel if locations else literal(ALL_CHANNELS).label("channel")
        grain = (literal(PER_CHANNEL if locations else PER_LOCATION, String) + table.grain).label("grain")
        group = [table.client_id, table.grain, table.day, table.version_id, *extra,
                 table.channel if locations else table.location_key]
        db.session.execute(insert(table).from_select(
            ["client_id", "grain", "day", "location_key", "channel", "version_id", *_EXTRA_KEY[table], *sums],
            select(table.client_id, grain, table.day, loc, channel, table.version_id, *extra,
                   *[func.sum(getattr(table, c)) for c in sums])
            .where(table.grain.in_(("d", "m")), *conds(table)).group_by(*group)))


def _day_expr(grain: str):
    if grain == "d":
        return Visit.visited_on
    if db.session.get_bind().dialect.name == "postgresql":
        return func.date_trunc("month", Visit.visited_on).cast(Date)
    return func.date(Visit.visited_on, "start of month")


def _insert(grain: str, conds: list) -> None:
    """INSERT ... SELECT of the three tables' rows for the visits matching ``conds``, by key."""
    day = _day_expr(grain).label("day")
    loc = func.coalesce(Visit.location_id, 0).label("location_key")
    key = [Visit.client_id, literal(grain).label("grain"), day, loc, Visit.channel, Visit.checklist_version_id]
    cols = ["client_id", "grain", "day", "location_key", "channel", "version_id"]
    where = counted(*conds)
    group = [Visit.client_id, day, loc, Visit.channel, Visit.checklist_version_id]
    db.session.execute(insert(VisitRollup).from_select(
        [*cols, "visits", "score_sum", "critical"],
        select(*key, func.count(), func.sum(Visit.score_overall),
               func.count(case((Visit.score_critical_fail.is_(True), 1)))).where(*where).group_by(*group)))
    db.session.execute(insert(ScoreRollup).from_select(
        [*cols, "kind", "code", "n", "total"],
        select(*key, literal("dimension"), VisitDimensionScore.dimension, func.count(),
               func.sum(VisitDimensionScore.score))
        .join(VisitDimensionScore, VisitDimensionScore.visit_id == Visit.id)
        .where(*where, VisitDimensionScore.score.is_not(None))
        .group_by(*group, VisitDimensionScore.dimension)))
    db.session.execute(insert(QuestionRollup).from_select(
        [*cols, "question_id", "included", "fraction_sum", "failed"],
        select(*key, Answer.question_id, func.count(Answer.fraction), func.coalesce(func.sum(Answer.fraction), 0.0),
               func.count(case((Answer.failed.is_(True), 1))))
        .join(Answer, Answer.visit_id == Visit.id)
        .where(*where).group_by(*group, Answer.question_id)
        .having((func.count(Answer.fraction) > 0) | (func.count(case((Answer.failed.is_(True), 1))) > 0))))
    _insert_sections(grain, where)


def _insert_sections(grain: str, where: list) -> None:
    """Section scores live in the stored breakdown (``score_data``): summed here, in Python."""
    sums: dict[tuple, list] = {}
    rows = db.session.execute(select(Visit.client_id, Visit.visited_on, Visit.location_id, Visit.channel,
                                     Visit.checklist_version_id, Visit.score_data).where(*where),
                              execution_options={"yield_per": 2000})  # a rebuild reads every visit: streamed
    for client_id, day, loc, channel, version_id, data in rows:
        bucket = day if grain == "d" else day.replace(day=1)
        for s in (data or {}).get("sections", ()):
            if s.get("score") is None:
                continue
            acc = sums.setdefault((client_id, bucket, loc or 0, channel, version_id, s["key"]), [0, 0.0])
            acc[0] += 1
            acc[1] += s["score"]
    if sums:
        db.session.execute(insert(ScoreRollup), [
            {"client_id": k[0], "grain": grain, "day": k[1], "location_key": k[2], "channel": k[3],
             "version_id": k[4], "kind": "section", "code": k[5], "n": n, "total": total}
            for k, (n, total) in sums.items()])


def rebuild(client_id: int | None = None) -> int:
    """Recompute every rollup row (of one client, or all) from the visits; returns the visits counted.
    The caller commits. Running it twice leaves the same rows."""
    for table in TABLES:
        stmt = delete(table)
        db.session.execute(stmt.where(table.client_id == client_id) if client_id else stmt)
    conds = [Visit.client_id == client_id] if client_id else []
    for grain in ("d", "m"):
        _insert(grain, conds)
    for locations in (True, False):
        _derive(lambda t: [t.client_id == client_id] if client_id else [], locations=locations)
    return db.session.scalar(select(func.count()).select_from(Visit).where(*counted(*conds))) or 0


# --- an approval: the visit's own sums added ----------------------------------------------------------


def add_visit(visit: Visit) -> None:
    """Add a visit that has just become approved to its key's day and month rows (and the totals of every
    location per channel and every channel per location that it is in): an upsert per table
    (``INSERT ... ON CONFLICT DO UPDATE SET n = n + excluded.n``) of the visit's own counts and sums,
    the same figures ``_insert`` would count for it. An approval is the common write; recomputing the
    key's rows from the visits there (``refresh_key``) cost more than the approval itself."""
    if not (visit.status == "approved" and not visit.calibration and visit.score_overall is not None
            and visit.visited_on is not None):
        return
    db.session.flush()
    first, _last = _month(visit.visited_on)
    _lock((visit.client_id, visit.location_id or 0, visit.channel, visit.checklist_version_id, first))
    keys = [{"client_id": visit.client_id, "grain": level + grain, "day": day, "location_key": loc,
             "channel": channel, "version_id": visit.checklist_version_id}
            for grain, day in (("d", visit.visited_on), ("m", first))
            for level, loc, channel in ((FINE, visit.location_id or 0, visit.channel),  # the fine rows
                                        (PER_CHANNEL, ALL_LOCATIONS, visit.channel),  # and both totals
                                        (PER_LOCATION, visit.location_id or 0, ALL_CHANNELS))]
    _upsert(VisitRollup, [{**k, "visits": 1, "score_sum": visit.score_overall,
                           "critical": 1 if visit.score_critical_fail else 0} for k in keys],
            _SUMS[VisitRollup])
    scores = [("dimension", code, score) for code, score in db.session.execute(
        select(VisitDimensionScore.dimension, VisitDimensionScore.score)
        .where(VisitDimensionScore.visit_id == visit.id, VisitDimensionScore.score.is_not(None)))]
    scores += [("section", s["key"], s["score"]) for s in (visit.score_data or {}).get("sections", ())
               if s.get("score") is not None]
    if scores:
        _upsert(ScoreRollup, [{**k, "kind": kind, "code": code, "n": 1, "total": score}
                              for k in keys for kind, code, score in scores], _SUMS[ScoreRollup])
    answers = [(qid, fraction, failed) for qid, fraction, failed in db.session.execute(
        select(Answer.question_id, Answer.fraction, Answer.failed).where(Answer.visit_id == visit.id))
        if fraction is not None or failed]
    if answers:
        _upsert(QuestionRollup, [{**k, "question_id": qid, "included": 0 if fraction is None else 1,
                                  "fraction_sum": fraction or 0.0, "failed": 1 if failed else 0}
                                 for k in keys for qid, fraction, failed in answers],
                _SUMS[QuestionRollup])


_PG_TYPES = {"client_id": "int", "grain": "text", "day": "date", "location_key": "int", "channel": "text",
             "version_id": "int", "kind": "text", "code": "text", "question_id": "int", "visits": "int",
             "score_sum": "float8", "critical": "int", "n": "int", "total": "float8", "included": "int",
             "fraction_sum": "float8", "failed": "int"}


def _upsert(table, rows: list[dict], sums: tuple[str, ...]) -> None:
    """INSERT ... ON CONFLICT DO UPDATE SET sum = sum + excluded.sum of ``rows``. On PostgreSQL one
    statement of the same text for any number of rows (the columns as arrays, ``unnest``): one round
    trip and a prepared plan; elsewhere an executemany."""
    unique = next(c for c in table.__table__.constraints if c.name and c.name.startswith("uq_rollup_"))
    key = [c.name for c in unique.columns]
    if db.session.get_bind().dialect.name == "postgresql":
        cols = [*key, *sums]
        name = table.__tablename__
        db.session.execute(text(
            f"INSERT INTO {name} ({', '.join(cols)}) "
            f"SELECT * FROM unnest({', '.join(f'CAST(:{c} AS {_PG_TYPES[c]}[])' for c in cols)}) "
            f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET "
            + ", ".join(f"{c} = {name}.{c} + excluded.{c}" for c in sums)),
            {c: [r[c] for r in rows] for c in cols})
        return
    from sqlalchemy.dialects.sqlite import insert as upsert

    stmt = upsert(table)
    stmt = stmt.on_conflict_do_update(index_elements=key,
                                      set_={c: getattr(table, c) + getattr(stmt.excluded, c) for c in sums})
    db.session.execute(stmt, rows)


# --- triggers ----------------------------------------------------------------------------------------


@status_changed.connect
def _on_status(visit: Visit, *, old: str, new: str, **_kw) -> None:
    if new == "approved" and old != new:
        add_visit(visit)  # the common write: the visit's sums added
    elif old == "approved" and old != new:
        refresh_for(visit)  # out of approved (rare): the key's rows recomputed, exact


@scores_stored.connect
def _on_scores(visit: Visit, **_kw) -> None:
    if visit.status == "approved":
        refresh_for(visit)


_KEY_FIELDS = ("client_id", "location_id", "channel", "checklist_version_id", "visited_on")


@event.listens_for(Session, "before_flush")
def _moved(session, flush_context, instances) -> None:
    """An approved visit moved to another day, place, channel or version (an admin's fix): both keys are
    refreshed after the flush, so the figures follow it."""
    for obj in session.dirty:
        if not isinstance(obj, Visit) or obj.status != "approved":
            continue
        state = db.inspect(obj)
        if not any(state.attrs[f].history.has_changes() for f in _KEY_FIELDS):
            continue
        old = tuple((state.attrs[f].history.deleted or [getattr(obj, f)])[0] for f in _KEY_FIELDS)
        session.info.setdefault("rollup_keys", set()).update({old, tuple(getattr(obj, f) for f in _KEY_FIELDS)})


@event.listens_for(Session, "after_flush_postexec")
def _refresh_moved(session, flush_context) -> None:
    keys = session.info.pop("rollup_keys", None)
    for key in sorted(keys or (), key=repr):
        refresh_key(*key)
