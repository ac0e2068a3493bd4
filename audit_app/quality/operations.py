"""Writes of the evaluator pool: quizzes and attempts, the job board, calibration rounds.

Operations flush, never commit. Rule violations raise ``DomainError`` (400) or ``NotAllowed`` (409).

The certification rule and the calibration rule hold for every path that assigns or approves a
visit (the visits and submissions packages, the bulk actions, waves) through one ORM hook
registered when this module is imported at app start (``install_guards``): the lower packages
import nothing of ours.
"""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session

from ..accounts.models import Client, User
from ..checklists.models import ChecklistVersion, tr
from ..core.errors import DomainError, NotAllowed
from ..core.models import db, utcnow
from ..visits import operations as visit_ops
from ..visits.models import Location, Visit
from .models import (
    AUDIO_TYPES,
    CalibrationRound,
    CalibrationVisit,
    Job,
    JobClaim,
    PoolSetting,
    Quiz,
    QuizAttempt,
    QuizQuestion,
)

LANGUAGES = ("en", "fi")
#: statuses in which an evaluator holds a visit (counted against the limit of open jobs)
HELD = ("assigned", "in_progress", "returned")


def _text(value, limit: int, name: str, field: str) -> str:
    value = " ".join(str(value or "").replace("\x00", "").split())
    if not value:
        raise DomainError(_("%(field)s is required.", field=name), field=field)
    if len(value) > limit:
        raise DomainError(_("%(field)s is too long (at most %(max)d characters).", field=name, max=limit), field=field)
    return value


# --- certification ----------------------------------------------------------------------------


def quiz_for(checklist_id: int, create: bool = False) -> Quiz | None:
    quiz = db.session.scalar(select(Quiz).where(Quiz.checklist_id == checklist_id))
    if quiz is None and create:
        quiz = Quiz(checklist_id=checklist_id, pass_mark=80, revision=1, active=False)
        db.session.add(quiz)
        db.session.flush()
    return quiz


def gating_quiz(checklist_id: int) -> Quiz | None:
    """The quiz an evaluator must pass before visits of this checklist, or None (no active quiz)."""
    quiz = quiz_for(checklist_id)
    if quiz is None or not quiz.active or not quiz.questions:
        return None
    return quiz


def is_certified(user_id: int, checklist_id: int) -> bool:
    quiz = gating_quiz(checklist_id)
    if quiz is None:
        return True
    return db.session.scalar(select(func.count()).select_from(QuizAttempt).where(
        QuizAttempt.quiz_id == quiz.id, QuizAttempt.user_id == user_id,
        QuizAttempt.revision == quiz.revision, QuizAttempt.passed.is_(True))) > 0


def set_quiz_settings(quiz: Quiz, *, pass_mark, active: bool) -> Quiz:
    try:
        pass_mark = int(pass_mark)
    except (TypeError, ValueError):
        pass_mark = -1
    if not 1 <= pass_mark <= 100:
        raise DomainError(_("The pass mark is a percentage from 1 to 100."), field="pass_mark")
    if active and not quiz.questions:
        raise DomainError(_("Add at least one question before turning the quiz on."), field="active")
    if pass_mark != quiz.pass_mark and quiz.active:
        quiz.revision += 1  # a new bar: everyone passes again
    quiz.pass_mark, quiz.active = pass_mark, bool(active)
    db.session.flush()
    return quiz


def _options(text: str, name: str, field: str) -> list[str]:
    lines = [" ".join(line.split()) for line in str(text or "").replace("\x00", "").splitlines()]
    lines = [line for line in lines if line]
    if len(lines) < 2:
        raise DomainError(_("Give at least two options, one a line."), field=field)
    if len(lines) > 8:
        raise DomainError(_("Give at most eight options."), field=field)
    for line in lines:
        if len(line) > 300:
            raise DomainError(_("%(field)s is too long (at most %(max)d characters).", field=name, max=300),
                              field=field)
    return lines


def add_quiz_question(quiz: Quiz, *, prompt_en, prompt_fi, options_en, options_fi, correct) -> QuizQuestion:
    prompt = {"en": _text(prompt_en, 500, _("Question in English"), "prompt_en"),
              "fi": _text(prompt_fi, 500, _("Question in Finnish"), "prompt_fi")}
    en = _options(options_en, _("Options in English"), "options_en")
    fi = _options(options_fi, _("Options in Finnish"), "options_fi")
    if len(en) != len(fi):
        raise DomainError(_("Give the same number of options in both languages."), field="options_fi")
    try:
        correct = int(correct)
    except (TypeError, ValueError):
        correct = 0
    if not 1 <= correct <= len(en):
        raise DomainError(_("The right answer is the number of an option, from 1 to %(n)d.", n=len(en)),
                          field="correct")
    question = QuizQuestion(quiz_id=quiz.id, position=len(quiz.questions), prompt=prompt,
                            options=[{"en": e, "fi": f} for e, f in zip(en, fi, strict=True)], correct=correct - 1)
    quiz.questions.append(question)
    quiz.revision += 1
    db.session.flush()
    return question


def remove_quiz_question(question: QuizQuestion) -> None:
    quiz = question.quiz
    quiz.questions.remove(question)
    for i, q in enumerate(quiz.questions):
        q.position = i
    quiz.revision += 1
    if not quiz.questions:
        quiz.active = False
    db.session.flush()


def submit_attempt(quiz: Quiz, user: User, chosen: dict[int, int | None]) -> QuizAttempt:
    """Score an evaluator's answers (question id -> option index); every question must be answered."""
    if not quiz.active or not quiz.questions:
        raise NotAllowed(_("This quiz is not open."))
    answers = []
    for q in quiz.questions:
        value = chosen.get(q.id)
        if value is None or not 0 <= value < len(q.options):
            raise DomainError(_("Answer every question."), field=f"q{q.id}")
        answers.append(value)
    right = sum(1 for q, a in zip(quiz.questions, answers, strict=True) if q.correct == a)
    score = 100.0 * right / len(quiz.questions)
    attempt = QuizAttempt(quiz_id=quiz.id, user_id=user.id, revision=quiz.revision, score=score,
                          passed=score >= quiz.pass_mark, answers=answers)
    db.session.add(attempt)
    db.session.flush()
    return attempt


# --- the guard: certification before assignment, calibration never released -----------------


def _guard(session: Session, flush_context, instances) -> None:
    with session.no_autoflush:
        for obj in list(session.new) + list(session.dirty):
            if not isinstance(obj, Visit):
                continue
            state = db.inspect(obj)
            evaluator_changed = obj in session.new or state.attrs.evaluator_id.history.has_changes()
            if obj.evaluator_id is not None and evaluator_changed:
                version = session.get(ChecklistVersion, obj.checklist_version_id)
                if version is not None and not is_certified(obj.evaluator_id, version.checklist_id):
                    user = session.get(User, obj.evaluator_id)
                    raise DomainError(_("%(name)s has not passed the quiz of “%(checklist)s” yet.",
                                        name=user.name if user else "?",
                                        checklist=tr(version.title, _language())), field="evaluator_id")
            if obj.calibration and obj.status == "approved" and state.attrs.status.history.has_changes():
                raise NotAllowed(_("A calibration visit is never released to the client."))


def _language() -> str:
    from flask_babel import get_locale

    try:
        return str(get_locale() or "fi")
    except RuntimeError:
        return "fi"


def install_guards() -> None:
    if not event.contains(Session, "before_flush", _guard):
        event.listen(Session, "before_flush", _guard)


install_guards()


# --- the job board ----------------------------------------------------------------------------


def settings_for(client_id: int) -> PoolSetting:
    """The client's settings (the defaults, not stored, while it has none)."""
    row = db.session.get(PoolSetting, client_id)
    return row if row is not None else PoolSetting(client_id=client_id, lockout_days=90, max_open_jobs=5)


def save_settings(client: Client, *, lockout_days, max_open_jobs) -> PoolSetting:
    row = settings_for(client.id)
    if row not in db.session:
        db.session.add(row)
    try:
        lockout_days, max_open_jobs = int(lockout_days), int(max_open_jobs)
    except (TypeError, ValueError):
        raise DomainError(_("Give whole numbers.")) from None
    if not 0 <= lockout_days <= 3650:
        raise DomainError(_("The lock-out is from 0 to 3650 days."), field="lockout_days")
    if not 1 <= max_open_jobs <= 100:
        raise DomainError(_("The limit is from 1 to 100 open jobs."), field="max_open_jobs")
    row.lockout_days, row.max_open_jobs = lockout_days, max_open_jobs
    db.session.flush()
    return row


def active_job(visit_id: int) -> Job | None:
    return db.session.scalar(select(Job).where(Job.visit_id == visit_id, Job.withdrawn.is_(False)))


def publish(visits: list[Visit], *, claim_deadline: date | None, by: User) -> tuple[list[Job], int]:
    """Put visits on the job board (their evaluator is removed). Returns the jobs and how many
    visits were left as they were (started, calibration, already on the board)."""
    if not visits:
        raise DomainError(_("Select at least one visit."), field="visit_ids")
    if claim_deadline is None:
        raise DomainError(_("Give the last day to take the jobs."), field="claim_deadline")
    if claim_deadline < date.today():
        raise DomainError(_("The last day to take the jobs cannot be in the past."), field="claim_deadline")
    jobs, skipped = [], 0
    for visit in visits:
        if visit.status != "assigned" or visit.calibration or active_job(visit.id) is not None:
            skipped += 1
            continue
        visit.evaluator_id = None
        job = Job(visit_id=visit.id, client_id=visit.client_id, published_by_id=by.id,
                  claim_deadline=min(claim_deadline, visit.due_to))
        db.session.add(job)
        jobs.append(job)
    db.session.flush()
    return jobs, skipped


def withdraw(job: Job) -> None:
    if job.visit.evaluator_id is not None:
        raise NotAllowed(_("The job has been taken; reassign the visit in the visits list instead."))
    job.withdrawn = True
    db.session.flush()


def open_visits_held(user_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Visit).where(
        Visit.evaluator_id == user_id, Visit.status.in_(HELD), Visit.calibration.is_(False))) or 0


def locked_out(user_id: int, location_id: int | None, days: int) -> bool:
    """The evaluator visited this location in the last ``days`` days, or holds a visit there."""
    if location_id is None:
        return False
    cutoff = date.fromordinal(date.today().toordinal() - days)
    return (db.session.scalar(select(func.count()).select_from(Visit).where(
        Visit.evaluator_id == user_id, Visit.location_id == location_id, Visit.status != "cancelled",
        (Visit.visited_on >= cutoff) | Visit.status.in_(HELD))) or 0) > 0


def refusal(job: Job, user: User) -> str | None:
    """Why ``user`` may not take ``job`` (a sentence), or None."""
    visit = job.visit
    if job.withdrawn or visit.status != "assigned" or job.claim_deadline < date.today():
        return _("This job is no longer open.")
    if visit.evaluator_id is not None:
        return _("Someone else took this job a moment ago.")
    if not is_certified(user.id, visit.checklist_version.checklist_id):
        return _("Pass the quiz of this checklist first.")
    setting = settings_for(job.client_id)
    if open_visits_held(user.id) >= setting.max_open_jobs:
        return _("You already have %(n)d open jobs: finish or give back one first.", n=setting.max_open_jobs)
    if locked_out(user.id, visit.location_id, setting.lockout_days):
        return _("You have visited this location in the last %(days)d days.", days=setting.lockout_days)
    return None


def take(job: Job, user: User) -> JobClaim:
    """Assign the job's visit to ``user`` atomically: of evaluators taking it at once exactly one wins."""
    reason = refusal(job, user)
    if reason:
        raise NotAllowed(reason)
    result = db.session.execute(
        update(Visit).where(Visit.id == job.visit_id, Visit.evaluator_id.is_(None), Visit.status == "assigned")
        .values(evaluator_id=user.id, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise NotAllowed(_("Someone else took this job a moment ago."))
    claim = JobClaim(job_id=job.id, user_id=user.id, taken_at=utcnow())
    db.session.add(claim)
    db.session.flush()
    db.session.expire(job.visit)
    return claim


def give_back(job: Job, user: User) -> None:
    if job.claim_deadline < date.today():
        raise NotAllowed(_("The last day to give the job back has passed. Ask the agency."))
    result = db.session.execute(
        update(Visit).where(Visit.id == job.visit_id, Visit.evaluator_id == user.id, Visit.status == "assigned")
        .values(evaluator_id=None, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise NotAllowed(_("Only a job you took and have not started can be given back."))
    claim = db.session.scalar(select(JobClaim).where(
        JobClaim.job_id == job.id, JobClaim.user_id == user.id, JobClaim.given_back_at.is_(None)))
    if claim is not None:
        claim.given_back_at = utcnow()
    db.session.flush()
    db.session.expire(job.visit)


# --- calibration rounds -----------------------------------------------------------------------

MATERIAL_MAX_BYTES = 20 * 1024 * 1024
TEXT_MAX = 50_000


def audio_type(data: bytes) -> str | None:
    """The audio type by content (not by name), or None."""
    if data[:3] == b"ID3" or (len(data) > 1 and data[0] == 0xFF and (data[1] & 0xE0) == 0xE0):
        return "audio/mpeg"
    if data[:4] == b"OggS":
        return "audio/ogg"
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "audio/wav"
    if data[4:8] == b"ftyp":
        return "audio/mp4"
    if data[:4] == b"\x1a\x45\xdf\xa3":
        return "audio/webm"
    return None


def create_round(*, client: Client, name: str, version: ChecklistVersion | None, channel: str,
                 location: Location | None, window_start: date | None, window_end: date | None,
                 evaluators: list[User], scenario: str = "", material_text: str = "",
                 audio: bytes | None = None, by: User) -> CalibrationRound:
    """A round: one calibration visit per evaluator, same scenario (and material) for all."""
    name = _text(name, 160, _("Name"), "name")
    if len(set(u.id for u in evaluators)) < 2:
        raise DomainError(_("Choose at least two evaluators."), field="evaluator_ids")
    material_text = str(material_text or "").replace("\x00", "").strip()
    if len(material_text) > TEXT_MAX:
        raise DomainError(_("%(field)s is too long (at most %(max)d characters).", field=_("Transcript"),
                            max=TEXT_MAX), field="material_text")
    kind, key, mime = ("text" if material_text else "none"), None, None
    if audio:
        if len(audio) > MATERIAL_MAX_BYTES:
            raise DomainError(_("The recording is larger than 20 MB."), field="audio")
        mime = audio_type(audio)
        if mime is None:
            raise DomainError(_("The recording must be an MP3, Ogg, WAV, M4A or WebM audio file."), field="audio")
        kind = "audio"
    rnd = CalibrationRound(client_id=client.id, name=name, checklist_version_id=version.id if version else 0,
                           channel=channel, location_id=location.id if location else None,
                           window_start=window_start or date.today(), window_end=window_end or date.today(),
                           scenario="", material_kind=kind, material_text=material_text,
                           material_type=mime, created_by_id=by.id)
    visits = []
    for evaluator in dict((u.id, u) for u in evaluators).values():
        visit = visit_ops.create_visit(client=client, channel=channel, version=version, evaluator=evaluator,
                                       due_from=window_start, due_to=window_end, location=location,
                                       scenario=scenario)
        visits.append(visit)
    rnd.scenario = visits[0].scenario
    db.session.add(rnd)
    db.session.flush()
    for visit in visits:
        visit.calibration = True
        db.session.add(CalibrationVisit(round_id=rnd.id, visit_id=visit.id))
    if audio:
        from ..core.aftercommit import after_rollback
        from ..evidence.storage import get_storage

        key = f"calibration/{rnd.id}/material.{AUDIO_TYPES[mime]}"
        storage = get_storage()
        storage.put(key, audio, mime)
        after_rollback(lambda: storage.delete(key))
        rnd.material_key = key
    db.session.flush()
    return rnd
