"""Report data: plain dicts and dataclasses built with SQL aggregates over stored scores.

Nothing here returns ORM objects, and nothing recomputes answers: every figure is a mean or
a count of what the scoring engine stored at submission (``visits.score_overall``,
``visit_dimension_scores``, ``answers.fraction``/``failed``, ``visits.score_data``). The number
of statements a dashboard issues does not depend on the number of visits or locations.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from sqlalchemy import DateTime, and_, case, cast, func, select

from ..accounts.models import Client
from ..checklists.models import DEFAULT_GRADE_LABELS, ChecklistVersion, Dimension, Question, Section, tr
from ..core.models import db
from ..evidence.models import Photo
from ..scoring import DEFAULT_GRADE_BANDS, DIMENSIONS, VisitScore, display, grade
from ..submissions.models import Answer
from ..visits.models import BUILTIN_DIMENSION_COLUMNS, CHANNELS, Location, Visit, VisitDimensionScore

MAX_PERIOD_DAYS = 366 * 5
TREND_MONTHS = 12
TOP_FAILED = 10
MAX_CRITICAL = 25
MAX_FAILED_QUESTIONS = 200
MAX_FAILED_ITEMS = 500


# --- filters ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """What a dashboard, report or export covers. Clients: approved visits only (always)."""

    client_id: int
    start: date
    end: date
    location_id: int | None = None
    region: str | None = None
    channel: str | None = None
    version_id: int | None = None
    approved_only: bool = True

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Filters:
        """The period of equal length just before this one."""
        return replace(self, start=self.start - timedelta(days=self.days), end=self.start - timedelta(days=1))

    def as_args(self) -> dict:
        args = {"start": self.start.isoformat(), "end": self.end.isoformat()}
        for name in ("location_id", "region", "channel", "version_id"):
            value = getattr(self, name)
            if value not in (None, ""):
                args[name] = value
        return args


def default_period(today: date | None = None) -> tuple[date, date]:
    """The last 90 days up to today."""
    today = today or date.today()
    return today - timedelta(days=89), today


def _conditions(f: Filters, start: date | None = None, end: date | None = None) -> list:
    """WHERE clauses for ``f`` (the period may be widened by the caller)."""
    conds = [
        Visit.client_id == f.client_id,
        Visit.score_overall.is_not(None),
        Visit.visited_on >= (start or f.start),
        Visit.visited_on <= (end or f.end),
    ]
    if f.approved_only:
        conds.append(Visit.status == "approved")
    if f.location_id:
        conds.append(Visit.location_id == f.location_id)
    if f.channel:
        conds.append(Visit.channel == f.channel)
    if f.version_id:
        conds.append(Visit.checklist_version_id == f.version_id)
    if f.region:
        conds.append(Visit.location_id.in_(select(Location.id).where(
            Location.client_id == f.client_id, Location.region == f.region)))
    return conds


# --- figures ---------------------------------------------------------------------------------


class Grader:
    """Grade codes and labels from one checklist version's bands (defaults otherwise)."""

    def __init__(self, version: dict | None, language: str):
        self.language = language
        raw = (version or {}).get("grade_bands") or None
        if raw:
            from ..scoring import GradeBand

            self.bands = tuple(GradeBand(min=b["min"], code=b.get("code") or f"band_{i}") for i, b in enumerate(raw))
            self.labels = {(b.get("code") or f"band_{i}"): tr(b.get("label"), language) for i, b in enumerate(raw)}
        else:
            self.bands = DEFAULT_GRADE_BANDS
            self.labels = {}
        self.classes = _band_classes(self.bands)

    def band_list(self) -> list[dict]:
        """The bands, best first, for the methodology: label, lower bound and colour class."""
        out, upper = [], None
        for b in sorted(self.bands, key=lambda b: -b.min):
            if upper is None:
                span = f"≥ {display(b.min)}"
            elif b.min <= 0:
                span = f"< {display(upper)}"
            else:
                span = f"{display(b.min)} – < {display(upper)}"
            out.append({"code": b.code, "grade": b.code, "min": b.min, "range": span, "grade_label": self.label(b.code),
                        "grade_class": self.classes[b.code]})
            upper = b.min
        return out

    def label(self, code: str | None) -> str:
        if code is None:
            return ""
        return self.labels.get(code) or tr(DEFAULT_GRADE_LABELS.get(code), self.language) or code

    def figure(self, score: float | None, n: int = 0, previous: float | None = None) -> dict:
        code = grade(score, self.bands) if score is not None else None
        change = None if score is None or previous is None else score - previous
        return {
            "score": score,
            "display": display(score),
            "grade": code,
            "grade_class": self.classes.get(code, "other"),
            "grade_label": self.label(code),
            "n": int(n or 0),
            "previous": previous,
            "previous_display": display(previous),
            "change": change,
            "change_display": "" if change is None else ("+" if change > 0 else "") + display(change),
        }


GRADE_CLASSES = ("excellent", "good", "needs_improvement", "poor")


def _band_classes(bands) -> dict[str, str]:
    """The colour class of each band: its own code when it is a built-in grade, else by rank (best first)."""
    ranked = sorted(bands, key=lambda b: -b.min)
    out = {}
    for i, b in enumerate(ranked):
        if b.code in GRADE_CLASSES:
            out[b.code] = b.code
        else:
            step = round(i * (len(GRADE_CLASSES) - 1) / (len(ranked) - 1)) if len(ranked) > 1 else 1
            out[b.code] = GRADE_CLASSES[step]
    return out


def _versions(ids) -> dict[int, dict]:
    ids = sorted({i for i in ids if i})
    if not ids:
        return {}
    rows = db.session.execute(
        select(ChecklistVersion.id, ChecklistVersion.number, ChecklistVersion.title, ChecklistVersion.grade_bands,
               ChecklistVersion.critical_scope).where(ChecklistVersion.id.in_(ids))
    ).all()
    return {r.id: {"id": r.id, "number": r.number, "title": r.title, "grade_bands": r.grade_bands,
                   "critical_scope": r.critical_scope} for r in rows}


def dimension_names(language: str) -> dict[str, str]:
    rows = db.session.execute(select(Dimension.code, Dimension.name).order_by(Dimension.position)).all()
    return {code: tr(name, language) or code for code, name in rows}


def _month_expr():
    """The visit's month: a date (PostgreSQL's date_trunc, cheaper per row than formatting) or "YYYY-MM"
    text (SQLite); ``_month_key`` makes both the "YYYY-MM" key the figures use."""
    if db.engine.dialect.name == "postgresql":
        return func.date_trunc("month", cast(Visit.visited_on, DateTime))  # a plain timestamp: no time zone
    return func.strftime("%Y-%m", Visit.visited_on)


def _month_key(value) -> str:
    return value if isinstance(value, str) else f"{value:%Y-%m}"


def _split(f: Filters, score_col):
    """AVG/COUNT of ``score_col`` in this period and in the previous one, as four columns."""
    prev = f.previous()
    now = Visit.visited_on >= f.start
    before = and_(Visit.visited_on >= prev.start, Visit.visited_on <= prev.end)
    return (
        func.avg(case((now, score_col))),
        func.count(case((now, Visit.id))),
        func.avg(case((before, score_col))),
        func.count(case((before, Visit.id))),
    )


def _trend_start(f: Filters) -> date:
    """The first day of the TREND_MONTHS months ending with the period."""
    first = date(f.end.year, f.end.month, 1)
    for _ in range(TREND_MONTHS - 1):
        first = (first - timedelta(days=1)).replace(day=1)
    return first


def visit_groups(f: Filters) -> list[tuple]:
    """One aggregate over the visits of the period, the previous one and the trend's months, grouped finely
    enough for every visit-level figure: (location_id, channel, version_id, month, period, sum of V, n,
    critical n, then Σ and n of each built-in dimension's score in ``BUILTIN_DIMENSION_COLUMNS`` order),
    where period is 1 for this period, 0 for the previous one and 2 for neither (trend only).

    Means are Σ V / n over these groups: the overall figure, per location, per channel, per month and the
    versions used all come from this one statement (one scan of the visits).
    """
    prev = f.previous()
    period = case((Visit.visited_on >= f.start, 1), (Visit.visited_on >= prev.start, 0), else_=2).label("period")
    month = _month_expr().label("month")
    dimension_sums = [agg(column) for column in BUILTIN_DIMENSION_COLUMNS.values() for agg in (func.sum, func.count)]
    return [(*r[:3], _month_key(r[3]), *r[4:]) for r in db.session.execute(
        select(Visit.location_id, Visit.channel, Visit.checklist_version_id, month, period,
               func.sum(Visit.score_overall), func.count(),
               func.count(case((Visit.score_critical_fail.is_(True), 1))), *dimension_sums)
        .where(*_conditions(f, start=min(prev.start, _trend_start(f))))
        .group_by(Visit.location_id, Visit.channel, Visit.checklist_version_id, month, period)
    ).all()]


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
    dim_rows = _builtin_dimension_rows(groups)
    used = sorted({r[2] for r in groups if r[4] in (0, 1)})
    if used and db.session.scalar(select(func.count()).select_from(Section).where(
            Section.version_id.in_(used), Section.dimension.is_not(None), Section.dimension.notin_(DIMENSIONS))):
        dim_rows += _custom_dimension_rows(f, dimension_change)
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


def _builtin_dimension_rows(groups: list[tuple]) -> list[tuple]:
    """(dimension, mean now, n now, mean before) of the built-in dimensions, from the visit groups."""
    rows = []
    for i, dimension in enumerate(BUILTIN_DIMENSION_COLUMNS):
        sums = {0: [0.0, 0], 1: [0.0, 0]}
        for row in groups:
            if row[4] in sums:
                sums[row[4]][0] += float(row[8 + 2 * i] or 0.0)
                sums[row[4]][1] += int(row[9 + 2 * i] or 0)
        (now, n), (before, n_before) = sums[1], sums[0]
        if n or n_before:
            rows.append((dimension, now / n if n else None, n, before / n_before if n_before else None))
    return rows


def _custom_dimension_rows(f: Filters, dimension_change: bool) -> list[tuple]:
    """(dimension, mean now, n now, mean before) of the custom dimensions, from visit_dimension_scores."""
    custom = VisitDimensionScore.dimension.notin_(DIMENSIONS)
    if dimension_change:
        d_avg_now, d_n_now, d_avg_prev, _n = _split(f, VisitDimensionScore.score)
        conds = _conditions(f, start=f.previous().start)
    else:
        d_avg_now, d_n_now, d_avg_prev = func.avg(VisitDimensionScore.score), func.count(Visit.id), None
        conds = _conditions(f)
    columns = [VisitDimensionScore.dimension, d_avg_now, d_n_now] + ([d_avg_prev] if dimension_change else [])
    rows = db.session.execute(
        select(*columns).join(Visit, Visit.id == VisitDimensionScore.visit_id).where(*conds, custom)
        .group_by(VisitDimensionScore.dimension)
    ).all()
    return [(r[0], r[1], r[2], r[3] if dimension_change else None) for r in rows]


def by_location(f: Filters, grader: Grader, language: str, groups: list[tuple] | None = None) -> list[dict]:
    groups = visit_groups(f) if groups is None else groups
    sums = {k: v for k, v in _rollup(groups, lambda r: r[0]).items() if v[1]}
    ids = [k for k in sums if k is not None]
    places = {r.id: r for r in db.session.execute(
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


def channel_label(code: str | None) -> str:
    from flask_babel import gettext as _

    labels = {
        "in_person": _("In person"), "phone": _("Phone"), "chat": _("Chat"), "email": _("Email"),
        "social": _("Social media"), "web": _("Web self-service"),
    }
    return str(labels.get(code, code or ""))


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
    return [{"month": m, **grader.figure(acc[0] / acc[1], acc[1])} for m, acc in sorted(months.items()) if acc[1]]


def dimension_heatmap(f: Filters, grader: Grader, by: str) -> dict:
    """Mean D_d per location (``by="location"``) or channel: {key: {dimension: figure}}."""
    key = Visit.location_id if by == "location" else Visit.channel
    rows = db.session.execute(
        select(key, VisitDimensionScore.dimension, func.avg(VisitDimensionScore.score), func.count(Visit.id))
        .join(Visit, Visit.id == VisitDimensionScore.visit_id)
        .where(*_conditions(f))
        .group_by(key, VisitDimensionScore.dimension)
    ).all()
    out: dict = {}
    for k, dim, avg, n in rows:
        out.setdefault(k, {})[dim] = grader.figure(avg, n)
    return out


def most_failed(f: Filters, language: str, limit: int = TOP_FAILED, with_included: bool = True) -> list[dict]:
    """Questions failed most often, by question key: failed count, and with ``with_included`` the number of
    answers that counted (included) and the failure rate.

    The failed counts read only failed answers (a partial index); the included counts are taken for the
    listed questions only. The dashboard skips them: over a year of a large client that is millions of
    answers, more than a dashboard request can afford.
    """
    rows = db.session.execute(
        select(Answer.question_id, func.count())
        .join(Visit, Visit.id == Answer.visit_id)
        .where(*_conditions(f), Answer.failed)  # "failed", not "failed IS true": the partial index
        .group_by(Answer.question_id)
    ).all()
    if not rows:
        return []
    meta = {r.id: r for r in db.session.execute(
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
        included = dict(db.session.execute(
            select(Question.key, func.count(Answer.id))
            .join(Answer, Answer.question_id == Question.id).join(Visit, Visit.id == Answer.visit_id)
            .where(*_conditions(f), Question.key.in_([i["key"] for i in top]), Answer.fraction.is_not(None))
            .group_by(Question.key)
        ).all())
    out = []
    for i in top:
        n = included.get(i["key"]) if with_included else None
        rate = 100.0 * i["failed"] / n if n else None
        out.append({"key": i["key"], "prompt": i["prompt"], "failed": i["failed"], "included": n, "rate": rate,
                    "rate_display": display(rate), "critical": i["critical"]})
    return out


def _prompts(question_ids, language: str) -> dict[int, str]:
    if not question_ids:
        return {}
    rows = db.session.execute(select(Question.id, Question.prompt).where(Question.id.in_(question_ids))).all()
    return {i: tr(p, language) for i, p in rows}


def critical_failures(f: Filters, language: str, limit: int = MAX_CRITICAL, with_photos: bool = False) -> list[dict]:
    """Failed critical questions in the period, newest first."""
    rows = db.session.execute(
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


def _photo_dict(p) -> dict:
    return {"id": p.id, "url": "storage:" + p.report_key, "caption": p.caption or "",
            "captured_at": p.captured_at, "width": p.width, "height": p.height}


def _photos_for(pairs) -> dict[tuple[int, int | None], list[dict]]:
    """Photos of (visit, question) pairs, in one query."""
    visit_ids = {v for v, _ in pairs}
    if not visit_ids:
        return {}
    out: dict = {}
    for p in db.session.scalars(select(Photo).where(Photo.visit_id.in_(visit_ids)).order_by(Photo.id)):
        out.setdefault((p.visit_id, p.question_id), []).append(_photo_dict(p))
    return out


# --- the dashboard ---------------------------------------------------------------------------


def dashboard(f: Filters, language: str) -> dict:
    head = overview(f, language, dimension_change=False)
    grader, groups = head["grader"], head["groups"]
    return {
        **head,
        "filters": f,
        "period": period_label(f),
        "previous_period": period_label(f.previous()),
        "locations": by_location(f, grader, language, groups),
        "channels": by_channel(f, grader, language, groups),
        "trend": trend(f, grader, groups),
        "most_failed": most_failed(f, language, with_included=False),
        "critical": critical_failures(f, language),
    }


def period_label(f: Filters) -> str:
    from flask_babel import format_date

    return f"{format_date(f.start, 'medium')} – {format_date(f.end, 'medium')}"


def filter_options(client_id: int, language: str) -> dict:
    locs = db.session.execute(
        select(Location.id, Location.name, Location.region).where(Location.client_id == client_id)
        .order_by(Location.name)
    ).all()
    # versions that have a visit of this client: one index probe per version, not a scan of the visits
    version_ids = db.session.scalars(
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


def client_name(client_id: int) -> str:
    return db.session.scalar(select(Client.name).where(Client.id == client_id)) or ""


def clients() -> list[tuple[int, str]]:
    return [(r.id, r.name) for r in db.session.execute(select(Client.id, Client.name).order_by(Client.name))]


# --- the four report scopes ------------------------------------------------------------------


@dataclass
class Report:
    """Everything a report page or PDF shows, as plain data."""

    scope: str  # visit, location, channel, client
    language: str
    client_id: int
    client_name: str
    title: str
    subject: str
    period: str
    filters: Filters | None
    overall: dict
    dimensions: list[dict]
    sections: list[dict] = field(default_factory=list)
    failed_items: list[dict] = field(default_factory=list)
    critical: list[dict] = field(default_factory=list)
    most_failed: list[dict] = field(default_factory=list)
    locations: list[dict] = field(default_factory=list)
    channels: list[dict] = field(default_factory=list)
    heatmap: list[dict] = field(default_factory=list)
    trend: list[dict] = field(default_factory=list)
    previous_period: str = ""
    versions: list[dict] = field(default_factory=list)
    visit: dict | None = None
    other_photos: list[dict] = field(default_factory=list)
    logo_url: str | None = None
    critical_visits: int = 0
    fix_first: list[dict] = field(default_factory=list)  # the summary's short list: {prompt, critical, detail}
    finding_groups: list[dict] = field(default_factory=list)  # period scopes: failed items by question
    grade_bands: list[dict] = field(default_factory=list)
    previous_n: int = 0
    generated_on: date = field(default_factory=date.today)

    @property
    def n(self) -> int:
        return self.overall["n"]


def _answer_display(kind: str, config: dict, value, na: bool, language: str) -> str:
    from flask_babel import gettext as _

    if na:
        return _("Not applicable")
    if value is None:
        return "–"
    if kind == "yes_no":
        return _("Yes") if value is True else _("No") if value is False else str(value)
    if kind == "scale":
        return f"{value} / {config.get('max', 5)}"
    if kind == "choice":
        for o in config.get("options", []):
            if o.get("key") == value:
                return tr(o.get("label"), language) or str(value)
        return str(value)
    if kind == "number":
        unit = config.get("unit") or ""
        units = {"minutes": _("min"), "hours": _("h"), "seconds": _("s"), "steps": _("steps"),
                 "count": "", "days": _("days")}
        return f"{value} {units.get(unit, unit)}".strip()
    return str(value)


def _structure(version_ids, language: str) -> tuple[dict, dict]:
    """Sections and questions of the versions: ({section_id: dict}, {question_id: dict})."""
    if not version_ids:
        return {}, {}
    sections = {
        r.id: {"id": r.id, "key": r.key, "version_id": r.version_id, "title": tr(r.title, language),
               "dimension": r.dimension, "weight": r.weight, "position": r.position}
        for r in db.session.execute(select(Section).where(Section.version_id.in_(version_ids))).scalars()
    }
    questions = {
        q.id: {"id": q.id, "key": q.key, "section_id": q.section_id, "kind": q.kind, "config": q.config or {},
               "prompt": tr(q.prompt, language), "critical": q.critical, "weight": q.weight,
               "position": q.position, "scored": q.scored, "channels": q.channels or None}
        for q in db.session.execute(select(Question).where(Question.version_id.in_(version_ids))).scalars()
    }
    return sections, questions


def visit_report(visit_id: int, language: str, approved_only: bool = True) -> Report:
    v = db.session.execute(
        select(Visit.id, Visit.client_id, Visit.location_id, Visit.channel, Visit.checklist_version_id,
               Visit.visited_on, Visit.status, Visit.score_overall, Visit.score_critical_fail, Visit.score_data,
               Location.name, Location.city)
        .outerjoin(Location, Location.id == Visit.location_id).where(Visit.id == visit_id)
    ).one()
    versions = _versions([v.checklist_version_id])
    grader = Grader(versions.get(v.checklist_version_id), language)
    score = VisitScore.from_dict(v.score_data or {})
    names = dimension_names(language)
    sections, questions = _structure([v.checklist_version_id], language)
    q_by_key = {q["key"]: q for q in questions.values()}
    s_by_key = {s["key"]: s for s in sections.values()}
    answers = {
        a.question_id: a
        for a in db.session.execute(
            select(Answer.question_id, Answer.value, Answer.na, Answer.comment, Answer.fraction, Answer.failed)
            .where(Answer.visit_id == visit_id)
        ).all()
    }
    photos = _photos_for([(visit_id, None)])
    # previous approved visit of the same location and channel: the trend of a single visit
    prev_conds = [Visit.client_id == v.client_id, Visit.channel == v.channel, Visit.status == "approved",
                  Visit.score_overall.is_not(None), Visit.id != v.id]
    prev_conds.append(Visit.location_id == v.location_id if v.location_id else Visit.location_id.is_(None))
    if v.visited_on:
        prev_conds.append((Visit.visited_on < v.visited_on) | ((Visit.visited_on == v.visited_on) & (Visit.id < v.id)))
    prev = db.session.execute(
        select(Visit.score_overall, Visit.visited_on).where(*prev_conds)
        .order_by(Visit.visited_on.desc(), Visit.id.desc()).limit(1)
    ).first()

    out_sections, failed_items, critical = [], [], []
    for s in score.sections:
        sec = s_by_key.get(s.key, {"title": s.key})
        rows = []
        for qs in s.questions:
            q = q_by_key.get(qs.key)
            if q is None or not q["scored"] or (q["channels"] and v.channel not in q["channels"]):
                continue  # not shown to the evaluator for this channel: not in the report either
            a = answers.get(q["id"])
            item = {
                "key": q["key"], "prompt": q["prompt"], "critical": q["critical"],
                "answer": _answer_display(q["kind"], q["config"], a.value if a else None, a.na if a else False,
                                          language),
                "score": None if qs.fraction is None else 100.0 * qs.fraction,
                "score_display": display(None if qs.fraction is None else 100.0 * qs.fraction),
                "included": qs.included, "failed": qs.failed, "critical_failed": qs.critical_failed,
                "comment": (a.comment if a else "") or "",
                "photos": photos.get((visit_id, q["id"]), []),
                "section": sec["title"],
            }
            rows.append(item)
            if qs.failed:
                failed_items.append(item)
                if q["critical"]:
                    critical.append({**item, "visit_id": visit_id, "visited_on": v.visited_on,
                                     "location": v.name or "", "channel_label": channel_label(v.channel)})
        out_sections.append({
            "key": s.key, "title": sec["title"], "dimension": names.get(s.dimension, s.dimension),
            "weight": s.weight, "critical_fail": s.critical_fail, **grader.figure(s.score, 1), "questions": rows,
        })
    failed_items.sort(key=lambda i: not i["critical"])  # critical failures first (a stable sort)
    dims = [{"code": d, "name": names.get(d, d), **grader.figure(score.dimensions.get(d), 1 if d in score.dimensions
                                                                  else 0)}
            for d in list(DIMENSIONS) + sorted(set(score.dimensions) - set(DIMENSIONS))
            if d in DIMENSIONS or d in score.dimensions]
    overall = grader.figure(v.score_overall, 1, prev[0] if prev else None)
    from flask_babel import format_date
    from flask_babel import gettext as _

    where = ", ".join(x for x in (v.name, channel_label(v.channel)) if x)
    version = versions.get(v.checklist_version_id) or {}
    return Report(
        scope="visit", language=language, client_id=v.client_id, client_name=client_name(v.client_id),
        title=_("Visit report"), subject=where,
        period=format_date(v.visited_on, "long") if v.visited_on else "",
        filters=None, overall=overall, dimensions=dims, sections=out_sections, failed_items=failed_items,
        critical=critical, previous_period=(format_date(prev[1], "medium") if prev and prev[1] else ""),
        versions=[{"id": version.get("id"), "number": version.get("number"),
                   "title": tr(version.get("title"), language), "critical_scope": version.get("critical_scope")}],
        visit={"id": v.id, "status": v.status, "critical_fail": v.score_critical_fail,
               "visited_on": v.visited_on, "location": v.name or "", "city": v.city or "",
               "channel_label": channel_label(v.channel)},
        other_photos=photos.get((visit_id, None), []),
        critical_visits=1 if v.score_critical_fail else 0,
        fix_first=_fix_first_visit(critical, failed_items), grade_bands=grader.band_list(),
    )


def period_report(scope: str, f: Filters, language: str, subject: str) -> Report:
    """A location, channel or client report over ``f``'s period."""
    from flask_babel import gettext as _

    head = overview(f, language)
    grader, groups = head["grader"], head["groups"]
    titles = {"location": _("Location report"), "channel": _("Channel report"), "client": _("Client summary")}
    report = Report(
        scope=scope, language=language, client_id=f.client_id, client_name=client_name(f.client_id),
        title=titles[scope], subject=subject, period=period_label(f), filters=f, overall=head["overall"],
        dimensions=head["dimensions"], previous_period=period_label(f.previous()), versions=head["versions"],
        critical_visits=head["critical_visits"], trend=trend(f, grader, groups), grade_bands=grader.band_list(),
        previous_n=head["previous_n"],
    )
    failed_questions = most_failed(f, language, limit=MAX_FAILED_QUESTIONS)
    report.most_failed = failed_questions[:TOP_FAILED]
    report.fix_first = _fix_first_period(failed_questions)
    report.sections = _section_means(f, grader, language)
    if scope == "client":
        report.locations = by_location(f, grader, language, groups)
        report.channels = by_channel(f, grader, language, groups)
        report.heatmap = _heatmap_rows(f, grader, report.locations, report.channels, head["dimensions"])
        report.critical = critical_failures(f, language, limit=MAX_FAILED_ITEMS, with_photos=True)
        report.finding_groups = _group_findings(report.critical, failed_questions, scope)
    else:
        if scope == "location":
            report.channels = by_channel(f, grader, language, groups)
        else:
            report.locations = by_location(f, grader, language, groups)
        report.failed_items = _failed_items(f, language)
        report.critical = [i for i in report.failed_items if i["critical"]]
        report.finding_groups = _group_findings(report.failed_items, failed_questions, scope)
    return report


FIX_FIRST = 6


def _fix_first_visit(critical: list[dict], failed: list[dict]) -> list[dict]:
    """Critical failures first, then the other failed items, in checklist order."""
    items = critical + [i for i in failed if not i["critical"]]
    return [{"prompt": i["prompt"], "critical": i["critical"], "detail": i.get("comment", "")}
            for i in items[:FIX_FIRST]]


def _fix_first_period(failed_questions: list[dict]) -> list[dict]:
    """Failed critical questions first, then the most often failed ones."""
    from flask_babel import gettext as _

    ranked = sorted(failed_questions, key=lambda q: (not q["critical"], -q["failed"], q["key"]))
    return [{"prompt": q["prompt"], "critical": q["critical"],
             "detail": _("failed in %(failed)d of %(n)d visits", failed=q["failed"], n=q["included"])}
            for q in ranked[:FIX_FIRST]]


def _group_findings(items: list[dict], failed_questions: list[dict], scope: str) -> list[dict]:
    """Failed items of a period by question: critical questions first, then by how often they failed."""
    counts = {q["key"]: q for q in failed_questions}
    groups: dict[str, dict] = {}
    for item in items:
        group = groups.get(item["key"])
        if group is None:
            q = counts.get(item["key"], {})
            group = groups[item["key"]] = {
                "key": item["key"], "prompt": item["prompt"], "critical": item["critical"],
                "failed": q.get("failed"), "included": q.get("included"), "items": []}
        where = {"location": item["channel_label"], "channel": item["location"]}.get(
            scope, " · ".join(x for x in (item["location"], item["channel_label"]) if x))
        group["items"].append({**item, "where": where})
    out = list(groups.values())
    for g in out:
        if g["failed"] is None:
            g["failed"] = len(g["items"])
    out.sort(key=lambda g: (not g["critical"], -g["failed"], g["key"]))
    return out


def _heatmap_rows(f: Filters, grader: Grader, locations, channels, dimensions) -> list[dict]:
    codes = [d["code"] for d in dimensions]
    rows = []
    for kind, items, key in (("location", locations, "id"), ("channel", channels, "code")):
        cells = dimension_heatmap(f, grader, kind)
        for item in items:
            by_dim = cells.get(item[key], {})
            rows.append({"kind": kind, "name": item["name"] or "–", "overall": item,
                         "cells": [by_dim.get(c) or grader.figure(None) for c in codes]})
    return rows


def _section_means(f: Filters, grader: Grader, language: str) -> list[dict]:
    """Mean stored section score and mean stored question fraction over the period."""
    conds = _conditions(f)
    q_rows = db.session.execute(
        select(Question.key, func.avg(Answer.fraction), func.count(Answer.fraction),
               func.count(case((Answer.failed.is_(True), Answer.id))), func.max(Question.id))
        .join(Answer, Answer.question_id == Question.id).join(Visit, Visit.id == Answer.visit_id)
        .where(*conds, Answer.fraction.is_not(None))
        .group_by(Question.key)
    ).all()
    data = db.session.execute(select(Visit.score_data).where(*conds)).scalars().all()
    sums: dict[str, list] = {}
    dims: dict[str, str] = {}
    for d in data:
        for s in (d or {}).get("sections", ()):
            dims[s["key"]] = s["dimension"]
            if s.get("score") is not None:
                acc = sums.setdefault(s["key"], [0.0, 0])
                acc[0] += s["score"]
                acc[1] += 1
    ids = [r[4] for r in q_rows]
    structure_ids = db.session.scalars(select(Question.version_id).where(Question.id.in_(ids)).distinct()).all() \
        if ids else []
    sections, questions = _structure(structure_ids, language)
    names = dimension_names(language)
    by_section: dict[str, dict] = {}
    for s in sorted(sections.values(), key=lambda s: (-s["version_id"], s["position"])):
        if s["key"] in by_section:
            continue
        acc = sums.get(s["key"])
        by_section[s["key"]] = {
            "key": s["key"], "title": s["title"], "dimension": names.get(s["dimension"], s["dimension"]),
            "position": s["position"], **grader.figure(acc[0] / acc[1] if acc else None, acc[1] if acc else 0),
            "questions": [],
        }
    for r in q_rows:
        q = questions.get(r[4])
        if q is None:
            continue
        sec = sections.get(q["section_id"])
        target = by_section.get(sec["key"]) if sec else None
        if target is None:
            continue
        target["questions"].append({
            "key": r[0], "prompt": q["prompt"], "critical": q["critical"], "position": q["position"],
            "score": 100.0 * r[1], "score_display": display(100.0 * r[1]), "n": int(r[2]), "failed": int(r[3]),
        })
    out = sorted(by_section.values(), key=lambda s: s["position"])
    for s in out:
        s["questions"].sort(key=lambda q: q["position"])
    return [s for s in out if s["n"] or s["questions"]]


def _failed_items(f: Filters, language: str, limit: int = MAX_FAILED_ITEMS) -> list[dict]:
    """Every failed answer of the period with its comment and photos (newest first)."""
    rows = db.session.execute(
        select(Visit.id, Visit.visited_on, Visit.channel, Location.name, Question.id, Question.key,
               Question.critical, Answer.comment)
        .join(Answer, Answer.visit_id == Visit.id)
        .join(Question, Question.id == Answer.question_id)
        .outerjoin(Location, Location.id == Visit.location_id)
        .where(*_conditions(f), Answer.failed)
        .order_by(Question.critical.desc(), Visit.visited_on.desc(), Visit.id.desc(), Question.position)
        .limit(limit)
    ).all()
    prompts = _prompts({r[4] for r in rows}, language)
    photos = _photos_for([(r[0], r[4]) for r in rows])
    return [
        {"visit_id": r[0], "visited_on": r[1], "channel_label": channel_label(r[2]), "location": r[3] or "",
         "key": r[5], "prompt": prompts.get(r[4], r[5]), "critical": bool(r[6]), "critical_failed": bool(r[6]),
         "comment": r[7] or "", "photos": photos.get((r[0], r[4]), []), "failed": True}
        for r in rows
    ]


# --- exports ---------------------------------------------------------------------------------


def export_visits(f: Filters, language: str) -> tuple[list[str], list[list]]:
    names = dimension_names(language)
    dim_rows = db.session.execute(
        select(VisitDimensionScore.visit_id, VisitDimensionScore.dimension, VisitDimensionScore.score)
        .join(Visit, Visit.id == VisitDimensionScore.visit_id).where(*_conditions(f))
    ).all()
    dims: dict[int, dict] = {}
    for vid, d, s in dim_rows:
        dims.setdefault(vid, {})[d] = s
    codes = list(DIMENSIONS) + sorted({d for m in dims.values() for d in m} - set(DIMENSIONS))
    rows = db.session.execute(
        select(Visit.id, Visit.visited_on, Location.name, Location.city, Location.region, Visit.channel,
               Visit.checklist_version_id, Visit.score_overall, Visit.score_critical_fail)
        .outerjoin(Location, Location.id == Visit.location_id)
        .where(*_conditions(f)).order_by(Visit.visited_on, Visit.id)
    ).all()
    from flask_babel import gettext as _

    header = [_("Visit"), _("Date"), _("Location"), _("City"), _("Region"), _("Channel"), _("Checklist version"),
              _("Overall score"), _("Critical failure")] + [names.get(c, c) for c in codes]
    body = []
    for r in rows:
        d = dims.get(r[0], {})
        body.append([r[0], r[1], r[2] or "", r[3] or "", r[4] or "", channel_label(r[5]), r[6],
                     _round(r[7]), _("Yes") if r[8] else _("No")] + [_round(d.get(c)) for c in codes])
    return header, body


def export_answers(f: Filters, language: str) -> tuple[list[str], list[list]]:
    from flask_babel import gettext as _

    rows = db.session.execute(
        select(Visit.id, Visit.visited_on, Location.name, Visit.channel, Section.key, Section.title, Question.key,
               Question.prompt, Question.kind, Question.config, Answer.value, Answer.na, Answer.fraction,
               Answer.failed, Question.critical, Answer.comment)
        .join(Answer, Answer.visit_id == Visit.id)
        .join(Question, Question.id == Answer.question_id)
        .join(Section, Section.id == Question.section_id)
        .outerjoin(Location, Location.id == Visit.location_id)
        .where(*_conditions(f)).order_by(Visit.visited_on, Visit.id, Section.position, Question.position)
    ).all()
    header = [_("Visit"), _("Date"), _("Location"), _("Channel"), _("Section"), _("Question key"), _("Question"),
              _("Answer"), _("Score"), _("Failed"), _("Critical"), _("Comment")]
    body = [
        [r[0], r[1], r[2] or "", channel_label(r[3]), tr(r[5], language), r[6], tr(r[7], language),
         _answer_display(r[8], r[9] or {}, r[10], r[11], language),
         _round(None if r[12] is None else 100.0 * r[12]), _("Yes") if r[13] else _("No"),
         _("Yes") if r[14] else _("No"), r[15] or ""]
        for r in rows
    ]
    return header, body


def _round(value):
    from ..scoring import round_half_away

    return None if value is None else round_half_away(value, 1)
