"""Dashboard aggregates: SQL aggregates over the stored scores of a period's visits.

The number of statements a dashboard issues does not depend on the number of visits or locations.
Period reports take their head figures (overall, dimensions, locations, channels, trend, most
failed, critical failures) from here too.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import case, func, select

from ...checklists.models import ChecklistVersion, Question, tr
from ...core.labels import channel_label
from ...scoring import DIMENSIONS, display
from ...submissions.models import Answer
from ...visits.models import CHANNELS, Location, Visit
from ..rollup_models import QuestionRollup, ScoreRollup, VisitRollup
from . import rollup_reads
from .base import (
    MAX_CRITICAL,
    TOP_FAILED,
    TREND_MONTHS,
    Filters,
    Grader,
    _conditions,
    _photos_for,
    _prompts,
    _versions,
    dimension_names,
    month_label,
    period_label,
    read,
)


def _month_key(value) -> str:
    return value if isinstance(value, str) else f"{value:%Y-%m}"


def _trend_start(f: Filters) -> date:
    """The first day of the TREND_MONTHS months ending with the period."""
    first = date(f.end.year, f.end.month, 1)
    for _ in range(TREND_MONTHS - 1):
        first = (first - timedelta(days=1)).replace(day=1)
    return first


def visit_groups(f: Filters) -> list[tuple]:
    """One aggregate over the rollups of the period, the previous one and the trend's months, grouped
    finely enough for the figures by channel, month and version: (None, channel, version_id, month,
    period, Σ V, n, critical n), where period is 1 for this period, 0 for the previous one and 2 for
    neither (trend only). The first place is the location's, which these groups do not tell
    (``location_groups`` does).

    Means are Σ V / n over these groups: the overall figure, per channel, per month and the versions used
    come from this one statement over the rollups' totals of every location (``rollup_reads``), whose
    size grows with the months and channels shown, not with the visits or places stored.
    """
    prev = f.previous()
    R = VisitRollup
    period = case((R.day >= f.start, 1), (R.day >= prev.start, 0), else_=2).label("period")
    month = rollup_reads.month_expr(R).label("month")
    return [(None, r[0], r[1], _month_key(r[2]), *r[3:]) for r in read.execute(
        select(R.channel, R.version_id, month, period,
               func.sum(R.score_sum), func.sum(R.visits), func.sum(R.critical))
        .where(*rollup_reads.conditions(R, f, start=min(prev.start, _trend_start(f)), cuts=(prev.start, f.start),
                                        by=("channel",)))
        .group_by(R.channel, R.version_id, month, period)
    ).all() if r[5]]


def location_groups(f: Filters) -> list[tuple]:
    """(location_id, None, None, None, period, Σ V, n, critical n) of this period (1) and the previous one (0),
    from the rollups' totals of every channel per location."""
    prev = f.previous()
    R = VisitRollup
    period = case((R.day >= f.start, 1), else_=0).label("period")
    return [(rollup_reads.location_id(r[0]), None, None, None, *r[1:]) for r in read.execute(
        select(R.location_key, period, func.sum(R.score_sum), func.sum(R.visits), func.sum(R.critical))
        .where(*rollup_reads.conditions(R, f, start=prev.start, cuts=(f.start,), by=("location",)))
        .group_by(R.location_key, period)
    ).all() if r[3]]


def _rollup(groups: list[tuple], key) -> dict:
    """{key(row): [sum now, n now, sum before, n before, critical now]} over the visit groups."""
    out: dict = {}
    for row in groups:
        if row[4] == 2:
            continue
        acc = out.setdefault(key(row), [0.0, 0, 0.0, 0, 0])
        total, n = float(row[5] or 0.0), int(row[6] or 0)
        if row[4] == 1:
            acc[0] += total
            acc[1] += n
            acc[4] += int(row[7] or 0)
        else:
            acc[2] += total
            acc[3] += n
    return out


def _figure(grader: Grader, acc) -> dict:
    return grader.figure(acc[0] / acc[1] if acc[1] else None, acc[1], acc[2] / acc[3] if acc[3] else None)


def overview(f: Filters, language: str, groups: list[tuple] | None = None, dimension_change: bool = True) -> dict:
    """Overall figure, dimensions, versions used: the head of every period report.

    ``dimension_change=False`` skips the previous period's dimension means (the dashboard does not show them).
    """
    groups = visit_groups(f) if groups is None else groups
    acc = _rollup(groups, lambda r: None).get(None, [0.0, 0, 0.0, 0, 0])
    version_ids = sorted({r[2] for r in groups if r[4] == 1})
    versions = _versions(version_ids) if version_ids else _versions([f.version_id])
    latest = versions[max(versions)] if versions else None
    grader = Grader(latest, language)
    dim_rows = _dimension_rows(f)
    names = dimension_names(language)
    by_dim = {r[0]: r for r in dim_rows}
    order = list(DIMENSIONS) + sorted(set(by_dim) - set(DIMENSIONS))
    dimensions = []
    for code in order:
        r = by_dim.get(code)
        if r is None and code not in DIMENSIONS:
            continue
        previous = r[3] if r is not None and dimension_change else None
        fig = grader.figure(r[1] if r else None, r[2] if r else 0, previous)
        dimensions.append({"code": code, "name": names.get(code, code), **fig})
    return {
        "overall": _figure(grader, acc),
        "previous_n": acc[3],
        "critical_visits": acc[4],
        "dimensions": dimensions,
        "versions": [
            {"id": v["id"], "number": v["number"], "title": tr(v["title"], language),
             "critical_scope": v["critical_scope"]}
            for v in sorted(versions.values(), key=lambda v: v["id"])
        ],
        "grader": grader,
        "groups": groups,
    }


def _dimension_rows(f: Filters) -> list[tuple]:
    """(dimension, mean now, n now, mean before) of every dimension, built-in and custom, from the rollups."""
    R = ScoreRollup
    now = R.day >= f.start
    rows = read.execute(
        select(R.code, func.sum(case((now, R.total), else_=0.0)), func.sum(case((now, R.n), else_=0)),
               func.sum(case((now, 0.0), else_=R.total)), func.sum(case((now, 0), else_=R.n)))
        .where(*rollup_reads.conditions(R, f, start=f.previous().start, cuts=(f.start,)), R.kind == "dimension")
        .group_by(R.code)
    ).all()
    return [(code, t / n if n else None, int(n or 0), tp / n_p if n_p else None)
            for code, t, n, tp, n_p in rows if n or n_p]


def by_location(f: Filters, grader: Grader, language: str, groups: list[tuple] | None = None) -> list[dict]:
    """The locations ranked. Visits without a location (phone, chat, e-mail, ...) are not a place: they
    are ranked by channel only (``by_channel``)."""
    sums = {k: v for k, v in _rollup(location_groups(f), lambda r: r[0]).items() if v[1] and k is not None}
    ids = list(sums)
    places = {r.id: r for r in read.execute(
        select(Location.id, Location.name, Location.city, Location.region).where(Location.id.in_(ids)))} if ids else {}
    out = []
    for key, acc in sums.items():
        place = places.get(key)
        out.append({"id": key, "name": place.name if place else "", "city": (place.city if place else "") or "",
                    "region": (place.region if place else "") or "", **_figure(grader, acc)})
    return _ranked(out)


def by_channel(f: Filters, grader: Grader, language: str, groups: list[tuple] | None = None) -> list[dict]:
    groups = visit_groups(f) if groups is None else groups
    sums = {k: v for k, v in _rollup(groups, lambda r: r[1]).items() if v[1]}
    return _ranked([{"code": k, "name": channel_label(k), **_figure(grader, acc)} for k, acc in sums.items()])


def _ranked(rows: list[dict]) -> list[dict]:
    rows.sort(key=lambda r: (-(r["score"] if r["score"] is not None else -1), r.get("name", "")))
    for i, r in enumerate(rows, 1):
        r["rank"] = i
    return rows


def trend(f: Filters, grader: Grader, groups: list[tuple] | None = None) -> list[dict]:
    """Mean score per month over the TREND_MONTHS months ending with the period."""
    groups = visit_groups(f) if groups is None else groups
    first = _trend_start(f).strftime("%Y-%m")
    months: dict[str, list] = {}
    for row in groups:
        if row[3] >= first:
            acc = months.setdefault(row[3], [0.0, 0])
            acc[0] += float(row[5] or 0.0)
            acc[1] += int(row[6] or 0)
    points = [{"month": m, **grader.figure(acc[0] / acc[1], acc[1])} for m, acc in sorted(months.items()) if acc[1]]
    for i, p in enumerate(points):
        p["month_label"] = month_label(p["month"])  # "Nov 2026" / "marras 2026": tables
        p["label"] = month_label(p["month"], axis=True, with_year=i == 0 or p["month"].endswith("-01"))  # the chart's axis
    return points


def dimension_heatmap(f: Filters, grader: Grader, by: str) -> dict:
    """Mean D_d per location (``by="location"``) or channel: {key: {dimension: figure}}."""
    R = ScoreRollup
    key = R.location_key if by == "location" else R.channel
    rows = read.execute(
        select(key, R.code, func.sum(R.total), func.sum(R.n))
        .where(*rollup_reads.conditions(R, f, by=(by,)), R.kind == "dimension")
        .group_by(key, R.code)
    ).all()
    out: dict = {}
    for k, dim, total, n in rows:
        if n:
            out.setdefault(rollup_reads.location_id(k) if by == "location" else k, {})[dim] = grader.figure(
                total / n, n)
    return out


def most_failed(f: Filters, language: str, limit: int = TOP_FAILED, with_included: bool = True) -> list[dict]:
    """Questions failed most often, by question key: failed count, and with ``with_included`` the number of
    answers that counted (included) and the failure rate.

    Both come from the question rollups; the dashboard does not show the included counts.
    """
    Q = QuestionRollup
    rows = [r for r in read.execute(
        select(Q.question_id, func.sum(Q.failed))
        .where(*rollup_reads.conditions(Q, f), Q.failed > 0)
        .group_by(Q.question_id)
    ).all() if r[1]]
    if not rows:
        return []
    meta = {r.id: r for r in read.execute(
        select(Question.id, Question.key, Question.prompt, Question.critical).where(
            Question.id.in_([r[0] for r in rows])))}
    by_key: dict[str, dict] = {}
    for question_id, count in rows:
        q = meta[question_id]
        item = by_key.setdefault(q.key, {"key": q.key, "failed": 0, "critical": False, "id": q.id,
                                         "prompt": tr(q.prompt, language) or q.key})
        item["failed"] += int(count)
        item["critical"] = item["critical"] or bool(q.critical)
        if q.id > item["id"]:  # the newest version's wording
            item["id"], item["prompt"] = q.id, tr(q.prompt, language) or q.key
    top = sorted(by_key.values(), key=lambda i: (-i["failed"], i["key"]))[:limit]
    included: dict[str, int] = {}
    if with_included and top:
        included = {k: int(n) for k, n in read.execute(
            select(Question.key, func.sum(Q.included))
            .join(Question, Question.id == Q.question_id)
            .where(*rollup_reads.conditions(Q, f), Question.key.in_([i["key"] for i in top]))
            .group_by(Question.key)
        ).all()}
    out = []
    for i in top:
        n = included.get(i["key"]) if with_included else None
        rate = 100.0 * i["failed"] / n if n else None
        out.append({"key": i["key"], "prompt": i["prompt"], "failed": i["failed"], "included": n, "rate": rate,
                    "rate_display": display(rate), "critical": i["critical"]})
    return out


def critical_failures(f: Filters, language: str, limit: int = MAX_CRITICAL, with_photos: bool = False) -> list[dict]:
    """Failed critical questions in the period, newest first."""
    rows = read.execute(
        select(Visit.id, Visit.visited_on, Visit.channel, Location.name, Question.id, Question.key,
               Answer.comment)
        .join(Answer, Answer.visit_id == Visit.id)
        .join(Question, Question.id == Answer.question_id)
        .outerjoin(Location, Location.id == Visit.location_id)
        .where(*_conditions(f), Answer.failed, Question.critical.is_(True))
        .order_by(Visit.visited_on.desc(), Visit.id.desc(), Question.position)
        .limit(limit)
    ).all()
    prompts = _prompts({r[4] for r in rows}, language)
    photos = _photos_for([(r[0], r[4]) for r in rows]) if with_photos else {}
    return [
        {"visit_id": r[0], "visited_on": r[1], "channel": r[2], "channel_label": channel_label(r[2]),
         "location": r[3] or "", "key": r[5], "prompt": prompts.get(r[4], r[5]), "comment": r[6] or "",
         "photos": photos.get((r[0], r[4]), []), "critical": True, "critical_failed": True, "failed": True}
        for r in rows
    ]


# --- the dashboard ---------------------------------------------------------------------------


#: with many locations a dashboard lists the best and the worst this many; the whole ranking is one click away
RANKING_ENDS = 10


def ranking_ends(rows: list[dict], show_all: bool = False, ends: int = RANKING_ENDS) -> dict:
    """The ranked rows a dashboard lists: all of them, or, when there are many, the ``ends`` best (``top``)
    and the ``ends`` worst (``bottom``), ``hidden`` counting the ones between."""
    if show_all or len(rows) <= 2 * ends + 5:
        return {"top": rows, "bottom": [], "hidden": 0}
    return {"top": rows[:ends], "bottom": rows[-ends:], "hidden": len(rows) - 2 * ends}


def dashboard(f: Filters, language: str, all_locations: bool = False) -> dict:
    head = overview(f, language, dimension_change=False)
    grader, groups = head["grader"], head["groups"]
    locations = by_location(f, grader, language, groups)
    return {
        **head,
        "filters": f,
        "period": period_label(f),
        "previous_period": period_label(f.previous()),
        "locations": locations,
        "location_rows": ranking_ends(locations, all_locations),
        "channels": by_channel(f, grader, language, groups),
        "trend": trend(f, grader, groups),
        "most_failed": most_failed(f, language, with_included=False),
        "critical": critical_failures(f, language),
    }


def filter_options(client_id: int, language: str) -> dict:
    locs = read.execute(
        select(Location.id, Location.name, Location.region).where(Location.client_id == client_id)
        .order_by(Location.name)
    ).all()
    # versions that have a visit of this client: one index probe per version, not a scan of the visits
    version_ids = read.scalars(
        select(ChecklistVersion.id).where(select(Visit.id).where(
            Visit.checklist_version_id == ChecklistVersion.id, Visit.client_id == client_id).exists())
    ).all()
    versions = _versions(version_ids)
    return {
        "locations": [(r.id, r.name) for r in locs],
        "regions": sorted({r.region for r in locs if r.region}),
        "channels": [(c, channel_label(c)) for c in CHANNELS],
        "versions": [(v["id"], f"{tr(v['title'], language)} v{v['number']}") for v in versions.values()],
    }
