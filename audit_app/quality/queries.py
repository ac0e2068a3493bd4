"""Reads of the evaluator pool: the job board, certification, round reports, drift, the evaluators page."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..accounts.models import User
from ..checklists.models import Checklist, ChecklistVersion, Question
from ..core.models import db
from ..submissions.models import Answer, AuditEvent
from ..visits.models import Location, Visit, VisitDimensionScore
from . import agreement
from .models import CalibrationRound, CalibrationVisit, Job, JobClaim, Quiz, QuizAttempt
from .operations import gating_quiz, is_certified, refusal

# --- certification --------------------------------------------------------------------------


def checklists_with_quizzes() -> list[tuple[Checklist, ChecklistVersion | None, Quiz | None]]:
    """Every checklist with its newest published version (for the title) and its quiz."""
    rows = []
    quizzes = {q.checklist_id: q for q in db.session.scalars(select(Quiz))}
    for checklist in db.session.scalars(select(Checklist).order_by(Checklist.id)):
        published = [v for v in checklist.versions if v.status == "published"]
        latest = max(published or checklist.versions, key=lambda v: v.number, default=None)
        rows.append((checklist, latest, quizzes.get(checklist.id)))
    return rows


def certified_users(quiz: Quiz) -> list[tuple[User, QuizAttempt]]:
    """Evaluators who passed the quiz's current revision, with their best passing attempt."""
    rows = db.session.execute(
        select(User, QuizAttempt).join(QuizAttempt, QuizAttempt.user_id == User.id)
        .where(QuizAttempt.quiz_id == quiz.id, QuizAttempt.revision == quiz.revision, QuizAttempt.passed.is_(True))
        .order_by(User.name, QuizAttempt.created_at)
    ).all()
    best: dict[int, tuple[User, QuizAttempt]] = {}
    for user, attempt in rows:
        best.setdefault(user.id, (user, attempt))
    return list(best.values())


def attempts(quiz: Quiz, user_id: int | None = None) -> list[QuizAttempt]:
    stmt = select(QuizAttempt).where(QuizAttempt.quiz_id == quiz.id).options(selectinload(QuizAttempt.user))
    if user_id is not None:
        stmt = stmt.where(QuizAttempt.user_id == user_id)
    return list(db.session.scalars(stmt.order_by(QuizAttempt.created_at.desc(), QuizAttempt.id.desc()).limit(200)))


def open_quizzes_for(user: User) -> list[tuple[Quiz, bool]]:
    """Active quizzes and whether the evaluator passed the current revision."""
    out = []
    for quiz in db.session.scalars(select(Quiz).where(Quiz.active.is_(True)).order_by(Quiz.id)):
        if gating_quiz(quiz.checklist_id) is not None:
            out.append((quiz, is_certified(user.id, quiz.checklist_id)))
    return out


# --- the job board ----------------------------------------------------------------------------


def _board_stmt():
    return (select(Job).join(Visit, Visit.id == Job.visit_id).outerjoin(Location, Location.id == Visit.location_id)
            .where(Job.withdrawn.is_(False), Visit.status == "assigned", Visit.evaluator_id.is_(None),
                   Job.claim_deadline >= date.today())
            .options(selectinload(Job.visit).selectinload(Visit.location),
                     selectinload(Job.visit).selectinload(Visit.client),
                     selectinload(Job.visit).selectinload(Visit.checklist_version))
            .order_by(Visit.due_to, Job.claim_deadline, Job.id))


@dataclass
class Board:
    jobs: list[Job] = field(default_factory=list)  # may take
    need_quiz: list[Job] = field(default_factory=list)  # would be allowed after the quiz
    regions: list[str] = field(default_factory=list)
    cities: list[str] = field(default_factory=list)
    mine: list[Job] = field(default_factory=list)  # taken by the user and not started


def board_for(user: User, region: str = "", city: str = "") -> Board:
    board = Board()
    every = list(db.session.scalars(_board_stmt()))
    board.regions = sorted({j.visit.location.region for j in every if j.visit.location and j.visit.location.region})
    board.cities = sorted({j.visit.location.city for j in every if j.visit.location and j.visit.location.city
                           and (not region or j.visit.location.region == region)})
    for job in every:
        loc = job.visit.location
        if region and (loc is None or loc.region != region):
            continue
        if city and (loc is None or loc.city != city):
            continue
        reason = refusal(job, user)
        if reason is None:
            board.jobs.append(job)
        elif not is_certified(user.id, job.visit.checklist_version.checklist_id):
            board.need_quiz.append(job)
    board.mine = list(db.session.scalars(
        select(Job).join(Visit, Visit.id == Job.visit_id)
        .where(Visit.evaluator_id == user.id, Visit.status == "assigned", Job.withdrawn.is_(False))
        .order_by(Visit.due_to, Job.id)))
    return board


def admin_jobs() -> list[tuple[Job, JobClaim | None]]:
    """Every job on the board (newest first) with its current claim: who took what."""
    jobs = list(db.session.scalars(
        select(Job).options(selectinload(Job.claims).selectinload(JobClaim.user),
                            selectinload(Job.visit).selectinload(Visit.location),
                            selectinload(Job.visit).selectinload(Visit.client))
        .order_by(Job.published_at.desc(), Job.id.desc()).limit(500)))
    out = []
    for job in jobs:
        current = next((c for c in reversed(job.claims) if c.given_back_at is None
                        and job.visit.evaluator_id == c.user_id), None)
        out.append((job, current))
    return out


def publishable_visits(client_id: int | None = None, wave_id: int | None = None) -> list[Visit]:
    stmt = (select(Visit).where(Visit.status == "assigned", Visit.calibration.is_(False),
                                Visit.id.not_in(select(Job.visit_id).where(Job.withdrawn.is_(False))))
            .options(selectinload(Visit.location), selectinload(Visit.client), selectinload(Visit.evaluator))
            .order_by(Visit.due_to, Visit.id).limit(500))
    if client_id:
        stmt = stmt.where(Visit.client_id == client_id)
    if wave_id:
        stmt = stmt.where(Visit.wave_id == wave_id)
    return list(db.session.scalars(stmt))


# --- calibration rounds -----------------------------------------------------------------------

DONE = ("submitted", "returned", "approved", "rejected")


def rounds() -> list[CalibrationRound]:
    return list(db.session.scalars(select(CalibrationRound).options(
        selectinload(CalibrationRound.members).selectinload(CalibrationVisit.visit),
        selectinload(CalibrationRound.client)).order_by(CalibrationRound.id.desc())))


def round_of_visit(visit_id: int) -> CalibrationRound | None:
    return db.session.scalar(select(CalibrationRound).join(CalibrationVisit)
                             .where(CalibrationVisit.visit_id == visit_id))


def _scored_questions(version_id: int, channel: str) -> list[Question]:
    questions = db.session.scalars(select(Question).where(Question.version_id == version_id)
                                   .order_by(Question.section_id, Question.position))
    return [q for q in questions if q.scored and q.applies_to(channel)]


def _fractions(visit_ids: list[int]) -> dict[tuple[int, int], float]:
    if not visit_ids:
        return {}
    rows = db.session.execute(select(Answer.visit_id, Answer.question_id, Answer.fraction)
                              .where(Answer.visit_id.in_(visit_ids), Answer.fraction.is_not(None)))
    return {(v, q): f for v, q, f in rows}


@dataclass
class QuestionAgreement:
    question: Question
    values: list[float | None]
    disagreement: float | None  # mean pairwise |difference| in this round, 0..1
    alpha: float | None  # across every round of the checklist version
    rounds: int


@dataclass
class RaterDeviation:
    user: User
    visit: Visit
    mean_deviation: float | None  # points, signed: their fraction minus the others' mean
    mean_abs_deviation: float | None
    overall_deviation: float | None  # their overall score minus the others' mean
    n: int


@dataclass
class RoundReport:
    round: CalibrationRound
    visits: list[Visit]
    done: list[Visit]
    alpha: float | None
    band: str | None
    questions: list[QuestionAgreement]
    lowest: list[QuestionAgreement]
    raters: list[RaterDeviation]


def _matrix(visits: list[Visit], questions: list[Question], fractions) -> list[list[float | None]]:
    return [[fractions.get((v.id, q.id)) for q in questions] for v in visits]


def round_report(rnd: CalibrationRound) -> RoundReport:
    visits = [m.visit for m in rnd.members]
    done = [v for v in visits if v.status in DONE]
    questions = _scored_questions(rnd.checklist_version_id, rnd.channel)
    fractions = _fractions([v.id for v in done])
    matrix = _matrix(done, questions, fractions)
    overall = agreement.alpha(matrix) if len(done) >= 2 else None
    # per question: every round of the same version is a unit (the same question, another scenario)
    sibling = [r for r in db.session.scalars(select(CalibrationRound).where(
        CalibrationRound.checklist_version_id == rnd.checklist_version_id))]
    sibling_done = {r.id: [m.visit for m in r.members if m.visit.status in DONE] for r in sibling}
    all_fractions = _fractions([v.id for vs in sibling_done.values() for v in vs])
    per_question = []
    for qi, q in enumerate(questions):
        column = [row[qi] for row in matrix]
        raters = sorted({v.evaluator_id for vs in sibling_done.values() for v in vs})
        grid = [[next((all_fractions.get((v.id, q.id)) for v in sibling_done[r.id] if v.evaluator_id == uid), None)
                 for r in sibling] for uid in raters]
        used = sum(1 for r in sibling if sum(1 for v in sibling_done[r.id] if (v.id, q.id) in all_fractions) >= 2)
        per_question.append(QuestionAgreement(q, column, agreement.disagreement(column),
                                              agreement.alpha(grid) if used >= 2 else None, used))
    lowest = sorted((a for a in per_question if a.disagreement), key=lambda a: -a.disagreement)[:5]
    raters = []
    for i, v in enumerate(done):
        diffs = []
        for qi in range(len(questions)):
            mine = matrix[i][qi]
            others = [matrix[j][qi] for j in range(len(done)) if j != i and matrix[j][qi] is not None]
            if mine is not None and others:
                diffs.append(100 * (mine - sum(others) / len(others)))
        others_overall = [o.score_overall for o in done if o.id != v.id and o.score_overall is not None]
        overall_dev = (v.score_overall - sum(others_overall) / len(others_overall)
                       if v.score_overall is not None and others_overall else None)
        raters.append(RaterDeviation(v.evaluator, v, sum(diffs) / len(diffs) if diffs else None,
                                     sum(abs(d) for d in diffs) / len(diffs) if diffs else None, overall_dev,
                                     len(diffs)))
    return RoundReport(rnd, visits, done, overall, agreement.band(overall), per_question, lowest, raters)


# --- drift ------------------------------------------------------------------------------------

COUNTED = ("submitted", "returned", "approved")


@dataclass
class DriftRow:
    user: User
    dimension: str
    result: agreement.Drift


def drift_rows(start: date, end: date, user_id: int | None = None) -> list[DriftRow]:
    """Each evaluator's drift per dimension over the period: the mean of (their visit's dimension
    score − the mean of every evaluator's visits on the same checklist and channel)."""
    rows = db.session.execute(
        select(Visit.evaluator_id, ChecklistVersion.checklist_id, Visit.channel, VisitDimensionScore.dimension,
               VisitDimensionScore.score)
        .join(VisitDimensionScore, VisitDimensionScore.visit_id == Visit.id)
        .join(ChecklistVersion, ChecklistVersion.id == Visit.checklist_version_id)
        .where(Visit.status.in_(COUNTED), Visit.calibration.is_(False), Visit.evaluator_id.is_not(None),
               Visit.visited_on >= start, Visit.visited_on <= end)
    ).all()
    groups: dict[tuple, list[float]] = defaultdict(list)
    for _ev, checklist_id, channel, dimension, score in rows:
        groups[(checklist_id, channel, dimension)].append(score)
    means = {k: sum(v) / len(v) for k, v in groups.items()}
    diffs: dict[tuple[int, str], list[float]] = defaultdict(list)
    for ev, checklist_id, channel, dimension, score in rows:
        if user_id is None or ev == user_id:
            diffs[(ev, dimension)].append(score - means[(checklist_id, channel, dimension)])
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_({k[0] for k in diffs})))}
    out = [DriftRow(users[ev], dim, agreement.drift(values)) for (ev, dim), values in diffs.items()]
    return sorted(out, key=lambda r: (r.user.name, r.dimension))


# --- the evaluators page ----------------------------------------------------------------------


@dataclass
class EvaluatorSummary:
    user: User
    certified: list[Quiz]
    open_visits: int
    rounds: int
    mean_abs_deviation: float | None
    drift_flags: list[DriftRow]
    corrections: int


def evaluators_overview(start: date, end: date) -> list[EvaluatorSummary]:
    evaluators = list(db.session.scalars(select(User).where(User.role == "evaluator").order_by(User.name, User.id)))
    quizzes = [q for q in db.session.scalars(select(Quiz).where(Quiz.active.is_(True)))]
    passed = set(db.session.execute(
        select(QuizAttempt.user_id, QuizAttempt.quiz_id, QuizAttempt.revision).where(QuizAttempt.passed.is_(True))
    ).all())
    corrections = dict(db.session.execute(
        select(Visit.evaluator_id, func.count()).join(AuditEvent, AuditEvent.visit_id == Visit.id)
        .where(AuditEvent.action == "correction").group_by(Visit.evaluator_id)).all())
    open_counts = dict(db.session.execute(
        select(Visit.evaluator_id, func.count()).where(Visit.status.in_(("assigned", "in_progress", "returned")))
        .group_by(Visit.evaluator_id)).all())
    deviations: dict[int, list[float]] = defaultdict(list)
    round_counts: dict[int, int] = defaultdict(int)
    for rnd in rounds():
        report = round_report(rnd)
        for rater in report.raters:
            round_counts[rater.user.id] += 1
            if rater.mean_abs_deviation is not None:
                deviations[rater.user.id].append(rater.mean_abs_deviation)
    flags = defaultdict(list)
    for row in drift_rows(start, end):
        if row.result and row.result.flagged:
            flags[row.user.id].append(row)
    out = []
    for user in evaluators:
        certified = [q for q in quizzes if (user.id, q.id, q.revision) in passed]
        devs = deviations.get(user.id)
        out.append(EvaluatorSummary(user, certified, open_counts.get(user.id, 0), round_counts.get(user.id, 0),
                                    sum(devs) / len(devs) if devs else None, flags.get(user.id, []),
                                    corrections.get(user.id, 0)))
    return out
