"""Report data: everything a report page or PDF of one of the four scopes shows, as plain data."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select

from ...checklists.kinds import answer_text
from ...checklists.models import Question, tr
from ...core.labels import channel_label
from ...scoring import DIMENSIONS, VisitScore, display
from ...submissions.models import Answer
from ...visits.models import Location, Visit
from ..rollup_models import QuestionRollup, ScoreRollup
from . import rollup_reads
from .base import (
    MAX_FAILED_ITEMS,
    MAX_FAILED_QUESTIONS,
    TOP_FAILED,
    Filters,
    Grader,
    _conditions,
    _photos_for,
    _prompts,
    _structure,
    _versions,
    client_name,
    dimension_names,
    period_label,
    read,
)
from .dashboard import (
    _trend_start,
    by_channel,
    by_location,
    critical_failures,
    dimension_heatmap,
    most_failed,
    overview,
    trend,
)
from .visit_evidence import note, photo_groups

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
    #: a visit report's photos by question ({key, prompt, section, photos, with_finding}), then the whole visit's
    photo_groups: list[dict] = field(default_factory=list)
    logo_url: str | None = None
    critical_visits: int = 0
    fix_first: list[dict] = field(default_factory=list)  # the summary's short list: {prompt, critical, detail}
    finding_groups: list[dict] = field(default_factory=list)  # period scopes: failed items by question
    grade_bands: list[dict] = field(default_factory=list)
    previous_n: int = 0
    generated_on: date = field(default_factory=date.today)
    #: a visit report's visits: the visit and the earlier one its change is measured from
    visit_ids: list[int] = field(default_factory=list)

    @property
    def n(self) -> int:
        return self.overall["n"]


def visit_report(visit_id: int, language: str) -> Report:
    """One visit's report, whatever its status: who may see it is the caller's check (the visit's
    ``visible_to``, or a generated report's ``client_may_see``)."""
    v = read.execute(
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
        for a in read.execute(
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
    prev = read.execute(
        select(Visit.score_overall, Visit.visited_on, Visit.id).where(*prev_conds)
        .order_by(Visit.visited_on.desc(), Visit.id.desc()).limit(1)
    ).first()

    out_sections, failed_items, critical = [], [], []
    for s in score.sections:
        sec = s_by_key.get(s.key, {"title": s.key})
        rows, notes = [], []
        for qs in s.questions:
            q = q_by_key.get(qs.key)
            if q is None or (q["channels"] and v.channel not in q["channels"]) or not getattr(qs, "shown", True):
                continue  # not shown to the evaluator for this channel: not in the report either
            a = answers.get(q["id"])
            if not q["scored"]:  # free text and other unscored answers: the section's notes
                if (n := note(q, a, language)) is not None:
                    notes.append(n)
                continue
            item = {
                "key": q["key"], "prompt": q["prompt"], "critical": q["critical"],
                "answer": answer_text(q["kind"], q["config"], a.value if a else None, a.na if a else False,
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
            "notes": notes,
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
        period=format_date(v.visited_on, "medium") if v.visited_on else "",
        filters=None, overall=overall, dimensions=dims, sections=out_sections, failed_items=failed_items,
        critical=critical, previous_period=(format_date(prev[1], "medium") if prev and prev[1] else ""),
        versions=[{"id": version.get("id"), "number": version.get("number"),
                   "title": tr(version.get("title"), language), "critical_scope": version.get("critical_scope")}],
        visit={"id": v.id, "status": v.status, "critical_fail": v.score_critical_fail,
               "visited_on": v.visited_on, "location": v.name or "", "city": v.city or "",
               "channel_label": channel_label(v.channel)},
        photo_groups=photo_groups(visit_id, photos, sections, questions, {i["key"] for i in failed_items},
                                  _("The visit as a whole")),
        critical_visits=1 if v.score_critical_fail else 0,
        fix_first=_fix_first_visit(critical, failed_items), grade_bands=grader.band_list(),
        visit_ids=[v.id] + ([prev[2]] if prev else []),
    )


def report_visit_ids(report: Report):
    """A SELECT of the ids of the visits whose results are in ``report``: a visit report's own, or every
    visit a period report's figures read (the period, the previous one and the trend's months)."""
    if report.scope == "visit":
        return select(Visit.id).where(Visit.id.in_(report.visit_ids))
    f = report.filters
    return select(Visit.id).where(*_conditions(f, start=min(f.previous().start, _trend_start(f))))


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
    Q, S = QuestionRollup, ScoreRollup
    q_rows = [r for r in read.execute(
        select(Question.key, func.sum(Q.fraction_sum), func.sum(Q.included), func.sum(Q.failed), func.max(Question.id))
        .join(Question, Question.id == Q.question_id)
        .where(*rollup_reads.conditions(Q, f), Q.included > 0)
        .group_by(Question.key)
    ).all() if r[2]]
    q_rows = [(k, total / n, n, failed, qid) for k, total, n, failed, qid in q_rows]
    sums: dict[str, list] = {
        code: [float(total), int(n)] for code, total, n in read.execute(
            select(S.code, func.sum(S.total), func.sum(S.n))
            .where(*rollup_reads.conditions(S, f), S.kind == "section").group_by(S.code)).all() if n}
    ids = [r[4] for r in q_rows]
    structure_ids = read.scalars(select(Question.version_id).where(Question.id.in_(ids)).distinct()).all() \
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
    rows = read.execute(
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
