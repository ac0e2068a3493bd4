"""Reads of improvement: targets met or not, the perception gap, corrective actions.

Outside-eye figures here follow DESIGN section 4 exactly as the reports do: the mean of the stored
visit scores over approved (released), non-calibration visits of the period, and per dimension the
mean of D_d over the visits that have it. Self-assessments live in their own tables and never
enter those figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import selectinload

from ..accounts.models import User
from ..checklists.models import ChecklistVersion, Dimension, Question, tr
from ..core.models import db
from ..scoring import display, round_half_away
from ..submissions.models import Answer
from ..visits.models import Location, Visit, VisitDimensionScore
from .models import OVERALL, ActionEvent, CorrectiveAction, SelfAnswer, SelfAssessment, Target

TOP_DIFFERENCES = 10


def dimension_names(language: str) -> dict[str, str]:
    rows = db.session.execute(select(Dimension.code, Dimension.name).order_by(Dimension.position)).all()
    return {code: tr(name, language) or code for code, name in rows}


def dimension_codes() -> list[str]:
    return list(db.session.scalars(select(Dimension.code).order_by(Dimension.position)))


def signed(value: float | None) -> str:
    """A gap as shown: one decimal (half away from zero) with its sign: "+2.5", "-3.0", "0.0"."""
    if value is None:
        return "–"
    rounded = round_half_away(value, 1)
    if rounded == 0:
        return "0.0"
    return ("+" if rounded > 0 else "-") + display(abs(value))


# --- outside-eye figures --------------------------------------------------------------------------


def _visit_conditions(client_id: int, start: date, end: date, *, channel=None, location_id=None, region=None,
                      version_id=None) -> list:
    conds = [Visit.client_id == client_id, Visit.status == "approved", Visit.calibration.is_(False),
             Visit.score_overall.is_not(None), Visit.visited_on >= start, Visit.visited_on <= end]
    if channel:
        conds.append(Visit.channel == channel)
    if location_id:
        conds.append(Visit.location_id == location_id)
    if region:
        conds.append(Visit.location_id.in_(select(Location.id).where(Location.client_id == client_id,
                                                                      Location.region == region)))
    if version_id:
        conds.append(Visit.checklist_version_id == version_id)
    return conds


def outside_eye(client_id: int, start: date, end: date, **scope) -> dict[str, tuple[float | None, int]]:
    """{OVERALL or dimension code: (mean, n)} over the period's approved visits in ``scope``."""
    conds = _visit_conditions(client_id, start, end, **scope)
    mean, n = db.session.execute(select(func.avg(Visit.score_overall), func.count(Visit.id)).where(*conds)).one()
    out = {OVERALL: (float(mean) if mean is not None else None, int(n or 0))}
    rows = db.session.execute(
        select(VisitDimensionScore.dimension, func.avg(VisitDimensionScore.score), func.count())
        .join(Visit, Visit.id == VisitDimensionScore.visit_id).where(*conds)
        .group_by(VisitDimensionScore.dimension)
    ).all()
    for code, value, count in rows:
        out[code] = (float(value), int(count))
    return out


# --- targets --------------------------------------------------------------------------------------


def targets(client_id: int) -> list[Target]:
    return list(db.session.scalars(
        select(Target).where(Target.client_id == client_id)
        .order_by(Target.dimension, Target.channel.is_not(None), Target.channel, Target.applies_from.desc())
    ))


def applicable_targets(client_id: int, on: date, channel: str | None) -> dict[str, Target]:
    """{code: target} applying on ``on`` to a scope: the channel's own target where one exists (when
    ``channel`` is given), else the client-wide one; of each, the latest that applies by then."""
    rows = db.session.scalars(
        select(Target).where(Target.client_id == client_id, Target.applies_from <= on)
        .order_by(Target.applies_from)
    ).all()
    wide, own = {}, {}
    for t in rows:  # oldest first: a later one replaces an earlier one
        if t.channel is None:
            wide[t.dimension] = t
        elif t.channel == channel:
            own[t.dimension] = t
    return {**wide, **own}


def evaluate(target_value: float, score: float | None) -> dict:
    """Met and the signed gap (DESIGN: met when the aggregate is at least the target; gap = aggregate − target)."""
    if score is None:
        return {"met": None, "gap": None, "gap_display": "–"}
    gap = score - target_value
    return {"met": score >= target_value, "gap": gap, "gap_display": signed(gap)}


def _row(code: str, name: str, target: Target, score: float | None, n: int, channel: str | None) -> dict:
    return {"code": code, "name": name, "channel": channel, "target": target.value,
            "target_display": display(target.value), "applies_from": target.applies_from,
            "score": score, "score_display": display(score), "n": n, **evaluate(target.value, score)}


def report_targets(f, overall: dict, dimensions: list[dict], language: str) -> list[dict]:
    """Targets beside a report's figures. ``f``: the report's filters (client_id, start, end,
    channel, location_id, region, version_id); ``overall`` and ``dimensions``: its figures
    ({score, n}, [{code, score, n}]). Targets of the report's own scope are read against those
    figures; when the report covers every channel, each channel's own targets follow, read against
    that channel's figures over the same filters."""
    names = {OVERALL: _overall_name(), **dimension_names(language)}
    figures = {OVERALL: (overall.get("score"), overall.get("n", 0))}
    figures.update({d["code"]: (d.get("score"), d.get("n", 0)) for d in dimensions})
    channel = getattr(f, "channel", None) or None
    out = []
    scoped = applicable_targets(f.client_id, f.end, channel)
    for code in _ordered(scoped):
        score, n = figures.get(code, (None, 0))
        out.append(_row(code, names.get(code, code), scoped[code], score, n, channel))
    if channel is None:
        own = db.session.execute(
            select(Target.channel).where(Target.client_id == f.client_id, Target.channel.is_not(None),
                                         Target.applies_from <= f.end).distinct()
        ).scalars().all()
        for ch in sorted(own):
            per = {code: t for code, t in applicable_targets(f.client_id, f.end, ch).items() if t.channel == ch}
            if not per:
                continue
            found = outside_eye(f.client_id, f.start, f.end, channel=ch, location_id=getattr(f, "location_id", None),
                                region=getattr(f, "region", None), version_id=getattr(f, "version_id", None))
            for code in _ordered(per):
                score, n = found.get(code, (None, 0))
                out.append(_row(code, names.get(code, code), per[code], score, n, ch))
    return out


def _overall_name():
    from flask_babel import gettext as _

    return _("Overall")


def _ordered(codes) -> list[str]:
    order = [OVERALL, *dimension_codes()]
    return sorted(codes, key=lambda c: (order.index(c) if c in order else len(order), c))


# --- self-assessments and the perception gap ------------------------------------------------------


def self_assessments(client_id: int) -> list[SelfAssessment]:
    return list(db.session.scalars(
        select(SelfAssessment).where(SelfAssessment.client_id == client_id)
        .order_by(SelfAssessment.created_at.desc(), SelfAssessment.id.desc())
    ))


def self_answers(assessment: SelfAssessment) -> dict[int, SelfAnswer]:
    return {a.question_id: a for a in assessment.answers}


def published_versions() -> list[ChecklistVersion]:
    return list(db.session.scalars(
        select(ChecklistVersion).where(ChecklistVersion.status == "published").order_by(ChecklistVersion.id.desc())
    ))


def latest_self_assessment(client_id: int, channel: str, start: date, end: date,
                           location_id: int | None = None) -> SelfAssessment | None:
    """The latest submitted self-assessment of the channel in the period (optionally of one location)."""
    conds = [SelfAssessment.client_id == client_id, SelfAssessment.channel == channel,
             SelfAssessment.status == "submitted", SelfAssessment.assessed_on >= start,
             SelfAssessment.assessed_on <= end]
    if location_id:
        conds.append(SelfAssessment.location_id == location_id)
    return db.session.scalar(select(SelfAssessment).where(*conds)
                             .order_by(SelfAssessment.submitted_at.desc(), SelfAssessment.id.desc()).limit(1))


@dataclass
class GapChannel:
    channel: str
    assessment: SelfAssessment
    rows: list[dict]  # {code, name, believe, found, n, gap, *_display}
    differences: list[dict]  # {key, prompt, believe_display, failed, included, fail_rate}


def perception_gap(client_id: int, start: date, end: date, language: str,
                   location_id: int | None = None) -> list[GapChannel]:
    """Per channel with a submitted self-assessment in the period: per dimension (and overall) what
    the company believes (its latest self-assessment in the period) beside what the outside eye found
    (the period's approved visits on that channel), and the gap believe − found."""
    channels = db.session.scalars(
        select(SelfAssessment.channel).where(
            SelfAssessment.client_id == client_id, SelfAssessment.status == "submitted",
            SelfAssessment.assessed_on >= start, SelfAssessment.assessed_on <= end,
            *([SelfAssessment.location_id == location_id] if location_id else []))
        .distinct()
    ).all()
    names = {OVERALL: _overall_name(), **dimension_names(language)}
    out = []
    for channel in sorted(channels):
        sa = latest_self_assessment(client_id, channel, start, end, location_id)
        found = outside_eye(client_id, start, end, channel=channel, location_id=location_id)
        believed = {OVERALL: sa.score_overall, **(sa.dimension_scores or {})}
        codes = _ordered(set(believed) | {c for c in found if c != OVERALL} | set(dimension_codes()))
        rows = []
        for code in codes:
            believe = believed.get(code)
            value, n = found.get(code, (None, 0))
            if believe is None and value is None and code not in dimension_codes() and code != OVERALL:
                continue
            gap = believe - value if believe is not None and value is not None else None
            rows.append({"code": code, "name": names.get(code, code), "believe": believe,
                         "believe_display": display(believe), "found": value, "found_display": display(value),
                         "n": n, "gap": gap, "gap_display": signed(gap)})
        out.append(GapChannel(channel, sa, rows, differences(sa, start, end, language, location_id)))
    return out


def differences(sa: SelfAssessment, start: date, end: date, language: str, location_id=None,
                limit: int = TOP_DIFFERENCES) -> list[dict]:
    """Questions the company passes itself on that the outside eye fails most often (the same key of
    the same checklist, any version), highest outside-eye fail rate first."""
    passed = {a.question.key: a for a in sa.answers if a.fraction is not None and not a.failed}
    if not passed:
        return []
    checklist_id = sa.checklist_version.checklist_id
    conds = _visit_conditions(sa.client_id, start, end, channel=sa.channel, location_id=location_id)
    rows = db.session.execute(
        select(Question.key, func.count(), func.sum(case((Answer.failed, 1), else_=0)))
        .select_from(Answer).join(Visit, Visit.id == Answer.visit_id).join(Question, Question.id == Answer.question_id)
        .join(ChecklistVersion, ChecklistVersion.id == Question.version_id)
        .where(*conds, ChecklistVersion.checklist_id == checklist_id, Answer.fraction.is_not(None),
               Question.key.in_(passed))
        .group_by(Question.key)
    ).all()
    out = []
    for key, included, failed in rows:
        failed = int(failed or 0)
        if not failed:
            continue
        answer = passed[key]
        out.append({"key": key, "prompt": tr(answer.question.prompt, language), "believe": answer.fraction,
                    "believe_display": display(100 * answer.fraction), "failed": failed, "included": int(included),
                    "fail_rate": failed / included, "fail_rate_display": display(100 * failed / included)})
    out.sort(key=lambda r: (-r["fail_rate"], -r["failed"], r["key"]))
    return out[:limit]


# --- corrective actions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionFilters:
    status: str | None = None
    owner_id: int | None = None
    location_id: int | None = None
    channel: str | None = None
    overdue: bool = False


def may_change(user, client_id: int) -> bool:
    """The loop's changes are the client's managers' to make (admins read every client's, change none)."""
    return bool(user.is_manager and user.client_id == client_id)


def action_subject(client_id: int, language: str, *, visit_id=None, key: str = "", location_id=None,
                   question_id=None):
    """(visit, location, question) an action may be made on, checked; 404 when they do not fit: a
    failed question of the client's released visit, or a location with one of its most-failed
    questions (``question`` None: the location only, its questions still to be chosen)."""
    from flask import abort

    from ..core.access import get_for_client

    visit = location = question = None
    if visit_id:
        visit = get_for_client(Visit, visit_id)
        if visit.client_id != client_id or visit.status != "approved" or visit.calibration:
            abort(404)
        question = db.session.scalar(select(Question).where(Question.version_id == visit.checklist_version_id,
                                                            Question.key == key)) if key else None
        if question is None:
            abort(404)
        failed = db.session.scalar(select(Answer.failed).where(Answer.visit_id == visit.id,
                                                               Answer.question_id == question.id))
        if not failed:
            abort(404)  # an action belongs to a failed item
    elif location_id:
        location = get_for_client(Location, location_id)
        if location.client_id != client_id:
            abort(404)
        if question_id:
            question = db.session.get(Question, question_id)
            known = {r["question_id"] for r in location_failed_questions(location.id, client_id, language,
                                                                         limit=1000)}
            if question is None or question.id not in known:
                abort(404)
    else:
        abort(404)
    return visit, location, question


def action_conditions(client_id: int | None, filters: ActionFilters = ActionFilters(),
                      today: date | None = None) -> list:
    """The WHERE conditions of a client's action list (every client's when ``client_id`` is None)."""
    today = today or date.today()
    conds = [] if client_id is None else [CorrectiveAction.client_id == client_id]
    if filters.status:
        conds.append(CorrectiveAction.status == filters.status)
    if filters.owner_id:
        conds.append(CorrectiveAction.owner_id == filters.owner_id)
    if filters.location_id:
        conds.append(CorrectiveAction.location_id == filters.location_id)
    if filters.channel:
        conds.append(CorrectiveAction.channel == filters.channel)
    if filters.overdue:
        conds.append(_overdue(today))
    return conds


def _overdue(today: date):
    """``CorrectiveAction.overdue`` in SQL: past its due date and not done (done and verified are done)."""
    return and_(CorrectiveAction.due_on < today, CorrectiveAction.status.notin_(("done", "verified")))


def actions(client_id: int | None, filters: ActionFilters = ActionFilters(), today: date | None = None,
            limit: int = 500) -> list[CorrectiveAction]:
    """A client's actions (every client's when ``client_id`` is None: admins), newest first."""
    conds = action_conditions(client_id, filters, today)
    return list(db.session.scalars(
        select(CorrectiveAction).where(*conds)
        .options(selectinload(CorrectiveAction.question), selectinload(CorrectiveAction.location),
                 selectinload(CorrectiveAction.owner), selectinload(CorrectiveAction.visit),
                 selectinload(CorrectiveAction.decided_by_visit))  # what the list and its exports show
        .order_by(CorrectiveAction.due_on, CorrectiveAction.id.desc()).limit(limit)
    ))


def action_counts(client_id: int, today: date | None = None) -> dict[str, int]:
    """Actions by status, and ``unfinished`` (open, in progress or reopened) and ``overdue``."""
    today = today or date.today()
    rows = db.session.execute(select(CorrectiveAction.status, func.count()).where(
        CorrectiveAction.client_id == client_id).group_by(CorrectiveAction.status)).all()
    counts = {status: int(n) for status, n in rows}
    counts["unfinished"] = sum(counts.get(s, 0) for s in ("open", "in_progress", "reopened"))
    counts["overdue"] = int(db.session.scalar(select(func.count()).select_from(CorrectiveAction).where(
        CorrectiveAction.client_id == client_id, _overdue(today))) or 0)
    return counts


def history(action: CorrectiveAction) -> list[ActionEvent]:
    return list(action.events)


def client_users(client_id: int) -> list[User]:
    """Who may own an action: the client's active users."""
    return list(db.session.scalars(
        select(User).where(User.client_id == client_id, User.role == "client", User.active.is_(True))
        .order_by(User.name)
    ))


def location_failed_questions(location_id: int, client_id: int, language: str, days: int = 365,
                              limit: int = 20) -> list[dict]:
    """The location's most-failed questions over the last ``days`` (approved visits): where to act."""
    end = date.today()
    conds = _visit_conditions(client_id, end - timedelta(days=days - 1), end, location_id=location_id)
    rows = db.session.execute(
        select(Question.key, ChecklistVersion.checklist_id, func.max(Question.id), func.count(),
               func.sum(case((Answer.failed, 1), else_=0)))
        .select_from(Answer).join(Visit, Visit.id == Answer.visit_id).join(Question, Question.id == Answer.question_id)
        .join(ChecklistVersion, ChecklistVersion.id == Question.version_id)
        .where(*conds, Answer.fraction.is_not(None))
        .group_by(Question.key, ChecklistVersion.checklist_id)
    ).all()
    prompts = {q.id: tr(q.prompt, language) for q in db.session.scalars(
        select(Question).where(Question.id.in_([r[2] for r in rows])))} if rows else {}
    out = [{"key": key, "checklist_id": checklist_id, "question_id": qid, "prompt": prompts.get(qid, key),
            "included": int(n), "failed": int(failed or 0)}
           for key, checklist_id, qid, n, failed in rows if failed]
    out.sort(key=lambda r: (-r["failed"] / r["included"], -r["failed"], r["key"]))
    return out[:limit]


# --- the client summary PDF: plain data (WeasyPrint never sees ORM objects) -----------------------


def summary_for_pdf(client_id: int, start: date, end: date, language: str, today: date | None = None) -> dict:
    """The perception gap of the period (per channel, with its chart as SVG) and the client's actions:
    counts (open, overdue, verified) and the list, for the client summary PDF."""
    from ..core.labels import channel_label
    from .charts import gap_chart_svg
    from .labels import action_status_label

    today = today or date.today()
    gap, charts = [], {}
    for g in perception_gap(client_id, start, end, language):
        name = f"gap-{g.channel}"
        has_chart = any(r["gap"] is not None for r in g.rows)
        if has_chart:
            charts[name] = gap_chart_svg(g.rows)
        gap.append({"channel": g.channel, "channel_label": str(channel_label(g.channel)),
                    "assessed_on": g.assessment.assessed_on,
                    "location": g.assessment.location.name if g.assessment.location else "",
                    "rows": [dict(r, name=str(r["name"])) for r in g.rows], "differences": g.differences,
                    "chart": name if has_chart else None})
    rows = []
    for a in actions(client_id, today=today):
        rows.append({"what": a.what, "where": a.location.name if a.location else str(channel_label(a.channel)),
                     "prompt": tr(a.question.prompt, language), "owner": a.owner.name, "due_on": a.due_on,
                     "status": a.status, "status_label": str(action_status_label(a.status)),
                     "overdue": a.overdue(today),
                     "decided_on": a.decided_by_visit.visited_on if a.decided_by_visit is not None else None})
    counts = action_counts(client_id, today)
    return {"gap": gap, "charts": charts, "actions": rows,
            "counts": {"open": counts["unfinished"],
                       "overdue": counts.get("overdue", 0), "verified": counts.get("verified", 0),
                       "done": counts.get("done", 0)}}
