"""Exports: a period's visits and answers as rows for CSV and XLSX files, streamed.

Each export returns its header and an iterator of rows that reads the database as it is consumed:
a server-side cursor on PostgreSQL (``yield_per``: rows arrive ``CHUNK`` at a time), SQLite's own
step-by-step cursor otherwise. Nothing holds the whole period, so an export of a million visits
takes the memory of one chunk. Exports read from the read replica when one is configured
(``base.read``). Only approved, non-calibration visits are exported (``_conditions``).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from sqlalchemy import func, select

from ...checklists.kinds import answer_text
from ...checklists.models import Question, Section, tr
from ...core.labels import channel_label
from ...scoring import DIMENSIONS, round_half_away
from ...submissions.models import Answer
from ...visits.models import BUILTIN_DIMENSION_COLUMNS, CHANNELS, Location, Visit, VisitDimensionScore
from .base import Filters, _conditions, dimension_names, read

#: rows fetched from the database at a time
CHUNK = 1000


def _stream(stmt) -> Iterator[list]:
    """The rows of ``stmt`` in chunks, as the server-side cursor delivers them; closed when the
    consumer stops (a finished or abandoned download)."""
    result = read.execute(stmt, execution_options={"yield_per": CHUNK, "stream_results": True})
    try:
        yield from result.partitions()
    finally:
        result.close()


class Rows:
    """An export's rows: each iteration runs the query again and streams it (nothing is kept)."""

    def __init__(self, make, *args):
        self._make, self._args = make, args

    def __iter__(self) -> Iterator[list]:
        return self._make(*self._args)


class _Words:
    """The words an export repeats on every row, translated once, in the request."""

    def __init__(self):
        from flask_babel import gettext as _

        self.yes, self.no = _("Yes"), _("No")
        self._channels = {code: channel_label(code) for code in CHANNELS}

    def flag(self, value) -> str:
        return self.yes if value else self.no

    def channel(self, code: str) -> str:
        return self._channels.get(code) or channel_label(code)


def export_visits(f: Filters, language: str) -> tuple[list[str], Rows]:
    """One row per visit: place, channel, version, overall score, critical failure, each dimension.

    The built-in dimensions come from the visit row itself; custom dimensions present in the period
    get a column each (from ``visit_dimension_scores``)."""
    from flask_babel import gettext as _

    names = dimension_names(language)
    custom = sorted(read.scalars(
        select(VisitDimensionScore.dimension).distinct()
        .join(Visit, Visit.id == VisitDimensionScore.visit_id)
        .where(*_conditions(f), VisitDimensionScore.dimension.not_in(list(DIMENSIONS)))
    ).all())
    codes = list(DIMENSIONS) + custom
    header = [_("Visit"), _("Date"), _("Location"), _("City"), _("Region"), _("Channel"), _("Checklist version"),
              _("Overall score"), _("Critical failure")] + [names.get(c, c) for c in codes]
    return header, Rows(_visit_rows, f, custom, _Words())


def _visit_rows(f: Filters, custom: list[str], words: _Words) -> Iterator[list]:
    builtin = [BUILTIN_DIMENSION_COLUMNS[c] for c in DIMENSIONS]
    stmt = (select(Visit.id, Visit.visited_on, Location.name, Location.city, Location.region, Visit.channel,
                   Visit.checklist_version_id, Visit.score_overall, Visit.score_critical_fail, *builtin)
            .outerjoin(Location, Location.id == Visit.location_id)
            .where(*_conditions(f)).order_by(Visit.visited_on, Visit.id))
    width = 9 + len(builtin)
    if custom:  # one row per (visit, custom dimension score), grouped back into one row per visit below
        stmt = stmt.add_columns(VisitDimensionScore.dimension, VisitDimensionScore.score).outerjoin(
            VisitDimensionScore, (VisitDimensionScore.visit_id == Visit.id)
            & VisitDimensionScore.dimension.in_(custom))

    def row(r, extra: dict) -> list:
        return ([r[0], r[1], r[2] or "", r[3] or "", r[4] or "", words.channel(r[5]), r[6], _round(r[7]),
                 words.flag(r[8])] + [_round(r[i]) for i in range(9, width)]
                + [_round(extra.get(c)) for c in custom])

    if not custom:
        for part in _stream(stmt):
            for r in part:
                yield row(r, {})
        return
    current, extra = None, {}
    for part in _stream(stmt):
        for r in part:
            if current is not None and r[0] != current[0]:
                yield row(current, extra)
                extra = {}
            current = r
            if r[width] is not None:
                extra[r[width]] = r[width + 1]
    if current is not None:
        yield row(current, extra)


def export_answers(f: Filters, language: str) -> tuple[list[str], Rows]:
    """One row per stored answer, in the visits' and the checklist's order; an answer kept from
    before the form logic hid its question is exported, marked not shown."""
    from flask_babel import gettext as _

    header = [_("Visit"), _("Date"), _("Location"), _("Channel"), _("Section"), _("Question key"), _("Question"),
              _("Answer"), _("Score"), _("Failed"), _("Critical"), _("Comment"), _("Shown")]
    return header, Rows(_answer_rows, f, language, _Words())


def _answer_rows(f: Filters, language: str, words: _Words) -> Iterator[list]:
    """The answers stream with their question's id only; a question's section, key, prompt, kind and
    settings are read once, when its first answer comes (a checklist has tens of questions, an export
    millions of answers)."""
    stmt = (select(Visit.id, Visit.visited_on, Location.name, Visit.channel, Answer.question_id, Answer.value,
                   Answer.na, Answer.fraction, Answer.failed, Answer.comment)
            .join(Answer, Answer.visit_id == Visit.id)
            .join(Question, Question.id == Answer.question_id)
            .join(Section, Section.id == Question.section_id)
            .outerjoin(Location, Location.id == Visit.location_id)
            .where(*_conditions(f)).order_by(Visit.visited_on, Visit.id, Section.position, Question.position))
    questions: dict[int, tuple] = {}
    for part in _stream(stmt):
        hidden = _hidden_questions({r[0] for r in part})  # one small query per chunk
        missing = {r[4] for r in part} - questions.keys()
        if missing:
            questions.update(_questions(missing, language, words))
        for r in part:
            section, key, prompt, kind, config, critical = questions[r[4]]
            yield [r[0], r[1], r[2] or "", words.channel(r[3]), section, key, prompt,
                   answer_text(kind, config, r[5], r[6], language),
                   _round(None if r[7] is None else 100.0 * r[7]), words.flag(r[8]), critical,
                   r[9] or "", words.flag(key not in hidden.get(r[0], ()))]


def _questions(ids: set[int], language: str, words: _Words) -> dict[int, tuple]:
    rows = read.execute(select(Question.id, Section.title, Question.key, Question.prompt, Question.kind,
                               Question.config, Question.critical)
                        .join(Section, Section.id == Question.section_id).where(Question.id.in_(ids)))
    return {r[0]: (tr(r[1], language), r[2], tr(r[3], language), r[4], r[5] or {}, words.flag(r[6])) for r in rows}


def _hidden_questions(visit_ids: set[int]) -> dict[int, set[str]]:
    """Per visit, the keys of questions its form logic hid (from the stored scores: an answer kept
    from before its question was hidden is exported, marked not shown)."""
    if not visit_ids:
        return {}
    out: dict[int, set[str]] = {}
    for vid, data in read.execute(select(Visit.id, Visit.score_data).where(Visit.id.in_(visit_ids))):
        out[vid] = {q["key"] for s in (data or {}).get("sections", ()) for q in s.get("questions", ())
                    if q.get("shown") is False}
    return out


@lru_cache(maxsize=65536)
def _rounded(value: float):
    """``round_half_away(value, 1)``, remembered: an export rounds a few values per row, and scores
    repeat (fractions of a checklist's weights), while the exact rounding goes through Decimal."""
    return round_half_away(value, 1)


def _round(value):
    return None if value is None else _rounded(value)


def export_count(kind: str, f: Filters) -> int:
    """How many rows an export of ``kind`` will have (the progress of an export job is out of this)."""
    stmt = select(func.count()).select_from(Visit).where(*_conditions(f))
    if kind == "answers":
        stmt = stmt.join(Answer, Answer.visit_id == Visit.id)
    return read.scalar(stmt) or 0
