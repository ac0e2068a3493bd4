"""Views of the evaluator pool: quizzes (admins write, evaluators take), the job board, calibration
rounds and their report, the evaluators page."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..accounts.models import Client, User
from ..checklists.models import Checklist, ChecklistVersion
from ..core.access import get_for_client, roles
from ..core.errors import DomainError
from ..core.forms import ActionForm, form_error
from ..core.models import db
from ..core.nav import register_nav
from ..visits import queries as visit_queries
from ..visits.models import Location, Visit
from . import operations, queries
from .forms import PoolSettingsForm, PublishForm, QuizQuestionForm, QuizSettingsForm, RoundForm
from .models import CalibrationRound, Job, Quiz, QuizQuestion

bp = Blueprint("quality", __name__)

register_nav("quality.board", _l("Job board"), ("evaluator",), 15)
register_nav("quality.my_quizzes", _l("Quizzes"), ("evaluator",), 16)
register_nav("quality.evaluators", _l("Evaluators"), ("admin",), 75, setup=True)


def _language() -> str:
    return str(get_locale() or "fi")


# --- certification: admins ------------------------------------------------------------------


@bp.route("/admin/quizzes")
@roles("admin")
def quizzes():
    return render_template("quality/quizzes.html", rows=queries.checklists_with_quizzes())


@bp.route("/admin/checklists/<int:checklist_id>/quiz", methods=["GET", "POST"])
@roles("admin")
def quiz_edit(checklist_id: int):
    checklist = db.session.get(Checklist, checklist_id) or abort(404)
    quiz = operations.quiz_for(checklist.id, create=request.method == "POST")
    settings = QuizSettingsForm(prefix="s", obj=quiz) if quiz else QuizSettingsForm(prefix="s", data={"pass_mark": 80})
    question = QuizQuestionForm(prefix="q")
    status = 200
    if request.method == "POST":
        try:
            if "s-pass_mark" in request.form and settings.validate():
                operations.set_quiz_settings(quiz, pass_mark=settings.pass_mark.data, active=settings.active.data)
                flash(_("The quiz was saved."), "success")
                return redirect(url_for(".quiz_edit", checklist_id=checklist.id))
            if "q-prompt_en" in request.form and question.validate():
                operations.add_quiz_question(quiz, prompt_en=question.prompt_en.data, prompt_fi=question.prompt_fi.data,
                                             options_en=question.options_en.data,
                                             options_fi=question.options_fi.data, correct=question.correct.data)
                flash(_("The question was added."), "success")
                return redirect(url_for(".quiz_edit", checklist_id=checklist.id))
        except DomainError as exc:
            form_error(question if "q-prompt_en" in request.form else settings, exc)
        status = 400
    versions = [v for v in checklist.versions if v.status == "published"] or checklist.versions
    title = max(versions, key=lambda v: v.number).title if versions else {}
    return render_template("quality/quiz_edit.html", checklist=checklist, title=title, quiz=quiz,
                           settings=settings, question=question, action=ActionForm(),
                           certified=queries.certified_users(quiz) if quiz else [],
                           attempts=queries.attempts(quiz) if quiz else []), status


@bp.route("/admin/quiz-questions/<int:question_id>/remove", methods=["POST"])
@roles("admin")
def quiz_question_remove(question_id: int):
    question = get_for_client(QuizQuestion, question_id)
    checklist_id = question.quiz.checklist_id
    if not ActionForm().validate_on_submit():
        abort(400)
    operations.remove_quiz_question(question)
    flash(_("The question was removed."), "success")
    return redirect(url_for(".quiz_edit", checklist_id=checklist_id))


# --- certification: evaluators --------------------------------------------------------------


@bp.route("/quizzes")
@roles("evaluator")
def my_quizzes():
    return render_template("quality/my_quizzes.html", rows=queries.open_quizzes_for(current_user))


@bp.route("/quizzes/<int:quiz_id>", methods=["GET", "POST"])
@roles("evaluator")
def take_quiz(quiz_id: int):
    quiz = get_for_client(Quiz, quiz_id)
    form = ActionForm()
    errors: dict[str, str] = {}
    chosen: dict[int, int | None] = {}
    if request.method == "POST" and form.validate_on_submit():
        for q in quiz.questions:
            raw = request.form.get(f"q{q.id}", "")
            chosen[q.id] = int(raw) if raw.isdigit() else None
        try:
            attempt = operations.submit_attempt(quiz, current_user, chosen)
        except DomainError as exc:
            errors[exc.field or ""] = exc.message
            flash(exc.message, "danger")
        else:
            if attempt.passed:
                flash(_("You passed with %(score)d %%. You can now take its jobs.", score=round(attempt.score)),
                      "success")
            else:
                flash(_("You got %(score)d %%; %(mark)d %% is needed. Read the guidance and try again.",
                        score=round(attempt.score), mark=quiz.pass_mark), "warning")
            return redirect(url_for(".my_quizzes"))
    elif request.method == "POST":
        abort(400)
    return render_template("quality/take_quiz.html", quiz=quiz, form=form, chosen=chosen, errors=errors,
                           own=queries.attempts(quiz, current_user.id)), 400 if errors else 200


# --- the job board --------------------------------------------------------------------------


@bp.route("/jobs")
@roles("evaluator")
def board():
    region, city = request.args.get("region", "")[:120], request.args.get("city", "")[:120]
    return render_template("quality/board.html", board=queries.board_for(current_user, region, city),
                           region=region, city=city, action=ActionForm(), today=date.today())


@bp.route("/jobs/<int:job_id>/take", methods=["POST"])
@roles("evaluator")
def take_job(job_id: int):
    job = db.session.get(Job, job_id) or abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        operations.take(job, current_user)
    except DomainError as exc:
        flash(exc.message, "warning")
        return redirect(url_for(".board")), 303
    flash(_("The job is yours: it is now under My visits."), "success")
    return redirect(url_for("visits.my_visits"))


@bp.route("/jobs/<int:job_id>/give-back", methods=["POST"])
@roles("evaluator")
def give_back(job_id: int):
    job = db.session.get(Job, job_id)
    if job is None or job.visit.evaluator_id != current_user.id:
        abort(404)  # only a job one holds can be given back: someone else's is not there for them
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        operations.give_back(job, current_user)
    except DomainError as exc:
        flash(exc.message, "warning")
        return redirect(url_for(".board")), 303
    flash(_("You gave the job back."), "success")
    return redirect(url_for(".board"))


@bp.route("/admin/jobs", methods=["GET", "POST"])
@roles("admin")
def admin_jobs():
    client_id = request.args.get("client_id", type=int) or None
    wave_id = request.args.get("wave_id", type=int) or None
    form = PublishForm()
    status = 200
    if request.method == "POST":
        ids = [int(v) for v in request.form.getlist("visit_ids") if v.isdigit()]
        visits = [v for v in visit_queries.visits_by_ids(ids)]
        try:
            if not form.validate():
                raise DomainError(_("Give the last day as a date."), field="claim_deadline")
            jobs, skipped = operations.publish(visits, claim_deadline=form.claim_deadline.data, by=current_user)
        except DomainError as exc:
            form_error(form, exc)
            status = 400
        else:
            flash(_("%(n)d visits were put on the job board.", n=len(jobs)), "success")
            if skipped:
                flash(_("%(n)d visits had been started or were already on the board and were left as they were.",
                        n=skipped), "warning")
            return redirect(url_for(".admin_jobs"))
    return render_template("quality/admin_jobs.html", form=form, jobs=queries.admin_jobs(), action=ActionForm(),
                           visits=queries.publishable_visits(client_id, wave_id), clients=visit_queries.clients_overview(),
                           waves=visit_queries.waves(client_id), client_id=client_id, wave_id=wave_id), status


@bp.route("/admin/jobs/<int:job_id>/withdraw", methods=["POST"])
@roles("admin")
def withdraw_job(job_id: int):
    job = get_for_client(Job, job_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        operations.withdraw(job)
    except DomainError as exc:
        flash(exc.message, "warning")
        return redirect(url_for(".admin_jobs")), 303
    flash(_("The job was taken off the board."), "success")
    return redirect(url_for(".admin_jobs"))


@bp.route("/admin/clients/<int:client_id>/pool", methods=["GET", "POST"])
@roles("admin")
def pool_settings(client_id: int):
    client = get_for_client(Client, client_id)
    setting = operations.settings_for(client.id)
    form = PoolSettingsForm(obj=setting)
    if form.validate_on_submit():
        try:
            operations.save_settings(client, lockout_days=form.lockout_days.data, max_open_jobs=form.max_open_jobs.data)
        except DomainError as exc:
            form_error(form, exc)
        else:
            flash(_("The job board settings were saved."), "success")
            return redirect(url_for(".pool_settings", client_id=client.id))
    return render_template("quality/pool_settings.html", client=client, form=form), \
        400 if request.method == "POST" else 200


# --- calibration rounds -----------------------------------------------------------------------


@bp.route("/admin/calibration")
@roles("admin")
def rounds():
    return render_template("quality/rounds.html", rounds=queries.rounds())


@bp.route("/admin/calibration/new", methods=["GET", "POST"])
@roles("admin")
def round_new():
    form = RoundForm()
    clients = [c for c, _n, _m in visit_queries.clients_overview() if c.active]
    form.client_id.choices = [(c.id, c.name) for c in clients]
    form.checklist_version_id.choices = [(v.id, visit_queries.version_label(v, _language()))
                                         for v in visit_queries.published_versions()]
    form.channel.choices = visit_queries.channel_choices()
    client_id = form.client_id.data if request.method == "POST" else (clients[0].id if clients else 0)
    form.location_id.choices = [(0, _l("— none —"))] + [
        (loc.id, f"{loc.client.name}: {loc.name}") for c in clients for loc in visit_queries.locations_for_client(c.id, True)]
    evaluators = visit_queries.active_evaluators()
    if request.method == "POST":
        try:
            if not form.validate_on_submit():
                raise DomainError(_("Check the dates."), field="window_end")
            client = db.session.get(Client, form.client_id.data) or None
            if client is None:
                raise DomainError(_("Choose a client."), field="client_id")
            location = db.session.get(Location, form.location_id.data) if form.location_id.data else None
            chosen = [u for u in evaluators if str(u.id) in request.form.getlist("evaluator_ids")]
            audio = request.files.get(form.audio.name)
            rnd = operations.create_round(
                client=client, name=form.name.data, version=db.session.get(ChecklistVersion, form.checklist_version_id.data),
                channel=form.channel.data, location=location, window_start=form.window_start.data,
                window_end=form.window_end.data, evaluators=chosen, scenario=form.scenario.data or "",
                material_text=form.material_text.data or "", audio=audio.read() if audio else None, by=current_user)
        except DomainError as exc:
            form_error(form, exc)
        else:
            flash(_("The round was created: each evaluator has its visit under My visits."), "success")
            return redirect(url_for(".round_report", round_id=rnd.id))
    return render_template("quality/round_form.html", form=form, evaluators=evaluators, client_id=client_id,
                           chosen=request.form.getlist("evaluator_ids")), 400 if request.method == "POST" else 200


@bp.route("/admin/calibration/<int:round_id>")
@roles("admin")
def round_report(round_id: int):
    rnd = get_for_client(CalibrationRound, round_id)
    return render_template("quality/round_report.html", report=queries.round_report(rnd), language=_language())


@bp.route("/calibration/<int:round_id>/material")
@roles("admin", "evaluator")
def material(round_id: int):
    rnd = get_for_client(CalibrationRound, round_id)
    return render_template("quality/material.html", round=rnd)


@bp.route("/calibration/<int:round_id>/recording")
@roles("admin", "evaluator")
def recording(round_id: int):
    rnd = get_for_client(CalibrationRound, round_id)
    if not rnd.material_key:
        abort(404)
    from ..evidence.storage import get_storage

    data = get_storage().get(rnd.material_key)
    return Response(data, mimetype=rnd.material_type, headers={"Cache-Control": "private, max-age=300"})


@bp.app_template_global()
def calibration_round_of(visit: Visit):
    """The calibration round of a visit (for the evaluator's form and My visits), or None."""
    return queries.round_of_visit(visit.id) if getattr(visit, "calibration", False) else None


# --- the evaluators page ----------------------------------------------------------------------


def _period():
    today = date.today()
    try:
        start = date.fromisoformat(request.args.get("start", ""))
    except ValueError:
        start = today - timedelta(days=89)
    try:
        end = date.fromisoformat(request.args.get("end", ""))
    except ValueError:
        end = today
    return (start, end) if start <= end else (end, start)


@bp.route("/admin/evaluators")
@roles("admin")
def evaluators():
    start, end = _period()
    return render_template("quality/evaluators.html", rows=queries.evaluators_overview(start, end),
                           start=start, end=end)


@bp.route("/admin/evaluators/<int:user_id>")
@roles("admin")
def evaluator_detail(user_id: int):
    user = db.session.get(User, user_id)
    if user is None or user.role != "evaluator":
        abort(404)
    start, end = _period()
    return render_template("quality/evaluator_detail.html", user=user, start=start, end=end,
                           drift=queries.drift_rows(start, end, user.id),
                           quizzes=queries.open_quizzes_for(user))


@bp.app_template_filter("quality_tr")
def _tr_filter(text) -> str:
    """A text stored in both languages ({"en": ..., "fi": ...}) in the reader's language."""
    from ..checklists.models import tr

    return tr(text, _language()) if isinstance(text, dict) else str(text or "")


@bp.app_template_filter("quality_band")
def _band_filter(value):
    from .agreement import band

    return band(value)


@bp.app_template_filter("quality_dimension")
def _dimension_filter(code: str) -> str:
    from ..checklists.models import Dimension, tr

    row = db.session.get(Dimension, code)
    return tr(row.name, _language()) if row is not None else code
