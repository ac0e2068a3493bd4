"""Exports: a period's visits and answers as rows for CSV and XLSX files."""

from __future__ import annotations

from sqlalchemy import select

from ...checklists.kinds import answer_text
from ...checklists.models import Question, Section, tr
from ...core.labels import channel_label
from ...core.models import db
from ...scoring import DIMENSIONS
from ...submissions.models import Answer
from ...visits.models import Location, Visit, VisitDimensionScore
from .base import Filters, _conditions, dimension_names


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
    hidden = _hidden_questions({r[0] for r in rows})
    header = [_("Visit"), _("Date"), _("Location"), _("Channel"), _("Section"), _("Question key"), _("Question"),
              _("Answer"), _("Score"), _("Failed"), _("Critical"), _("Comment"), _("Shown")]
    body = [
        [r[0], r[1], r[2] or "", channel_label(r[3]), tr(r[5], language), r[6], tr(r[7], language),
         answer_text(r[8], r[9] or {}, r[10], r[11], language),
         _round(None if r[12] is None else 100.0 * r[12]), _("Yes") if r[13] else _("No"),
         _("Yes") if r[14] else _("No"), r[15] or "", _("No") if r[6] in hidden.get(r[0], ()) else _("Yes")]
        for r in rows
    ]
    return header, body


def _hidden_questions(visit_ids: set[int]) -> dict[int, set[str]]:
    """Per visit, the keys of questions its form logic hid (from the stored scores: an answer kept
    from before its question was hidden is exported, marked not shown)."""
    if not visit_ids:
        return {}
    out: dict[int, set[str]] = {}
    for vid, data in db.session.execute(select(Visit.id, Visit.score_data).where(Visit.id.in_(visit_ids))):
        out[vid] = {q["key"] for s in (data or {}).get("sections", ()) for q in s.get("questions", ())
                    if q.get("shown") is False}
    return out


def _round(value):
    from ...scoring import round_half_away

    return None if value is None else round_half_away(value, 1)
