"""The evaluator's form and autosave, submission, the QA review and the review queue."""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..checklists.models import tr
from ..core.access import get_for_client, roles
from ..core.errors import DomainError, NotAllowed
from ..core.forms import ActionForm
from ..core.nav import register_nav
from ..scoring import display
from ..visits import presence
from ..visits.models import Visit
from . import operations, queries
from .forms import (
    CorrectForm,
    RejectForm,
    ReturnForm,
    parse_answer,
    parse_form_value,
    saved_reply,
)

bp = Blueprint("submissions", __name__)


@bp.context_processor
def _helpers():
    return {"tr": tr, "display": display, "asks_position": presence.asks_position,
            "presence_flag": presence.presence_flag}


def _language() -> str:
    return str(get_locale() or "fi")


def _own_visit(visit_id: int) -> Visit:
    """The visit if the current user may see it (an evaluator: only their own), else 404."""
    return get_for_client(Visit, visit_id)


# --- the evaluator's form --------------------------------------------------------------------------


@bp.route("/visits/<int:visit_id>/start", methods=["POST"])
@roles("evaluator")
def start(visit_id: int):
    visit = _own_visit(visit_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    if operations.start_visit(visit, current_user):
        # the position is used for the distance only: the coordinates are neither stored nor logged
        presence.record_start_position(visit, state=request.form.get("position"), lat=request.form.get("lat"),
                                       lon=request.form.get("lon"), accuracy=request.form.get("accuracy"))
    return redirect(url_for(".form", visit_id=visit.id, section=1))


@bp.route("/visits/<int:visit_id>/form")
@roles("admin", "evaluator")
def form(visit_id: int):
    visit = _own_visit(visit_id)
    language = _language()
    sections = queries.form_sections(visit, language)
    number = request.args.get("section", 1, type=int)
    number = min(max(number, 1), max(len(sections), 1))
    current = sections[number - 1] if sections else None
    read_only = current_user.is_admin or not visit.editable
    return render_template(
        "submissions/form.html",
        visit=visit,
        sections=sections,
        current=current,
        number=number,
        language=language,
        answers=queries.answers_by_question(visit),
        photos_by_question=queries.photos_by_question(visit),
        read_only=read_only,
        not_started=visit.status == "assigned" and current_user.is_evaluator,
        action_form=ActionForm(),
    )


def _json_error(message: str, status: int, code: str):
    return jsonify({"error": message, "code": code}), status


@bp.route("/visits/<int:visit_id>/answers", methods=["POST"])
@roles("evaluator")
def save_answer(visit_id: int):
    # locked: this visit's answers and its submit run one after the other (a submit waits for this
    # answer, or this answer for the submit and then finds it submitted); a first answer starts it
    try:
        given = parse_answer(request.get_json(silent=True))
    except DomainError as exc:
        get_for_client(Visit, visit_id)  # another's visit stays a 404, whatever was sent
        return _json_error(exc.message, 400, "bad_request")
    visit, question = queries.locked_visit_and_question(visit_id, given.question_id)
    try:
        saved_at, stale = operations.save_answer(
            visit, question, current_user, value=given.value,
            na=given.na, comment=given.comment, answered_at=given.answered_at or operations.utcnow(),
        )
    except operations.AnswerRejected as exc:
        return _json_error(exc.message, 400, "invalid")
    except NotAllowed as exc:
        return _json_error(exc.message, 409, "locked")
    return jsonify(saved_reply(saved_at, given.client_id, stale))


@bp.route("/visits/<int:visit_id>/submit", methods=["POST"])
@roles("evaluator")
def submit(visit_id: int):
    visit = _own_visit(visit_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        missing = operations.submit_visit(visit, current_user)
    except operations.AlreadySubmitted as exc:
        flash(exc.message, "info")
        return redirect(url_for(".form", visit_id=visit.id))
    if missing:
        language = _language()
        items = [
            {"question": q, "what": what, "section": queries.section_number_of(visit, q, language)}
            for q, what in missing
        ]
        return render_template("submissions/submit_refused.html", visit=visit, items=items, language=language), 400
    return redirect(url_for(".submitted", visit_id=visit.id))


@bp.route("/visits/<int:visit_id>/submitted")
@roles("evaluator")
def submitted(visit_id: int):
    """The receipt after submitting: when, how many answers and photos went in, what happens next."""
    visit = _own_visit(visit_id)
    if visit.submitted_at is None:
        return redirect(url_for(".form", visit_id=visit.id))
    return render_template("submissions/submitted.html", visit=visit, **queries.receipt(visit))


# --- QA review ---------------------------------------------------------------------------------


def _render_review(visit: Visit, status: int = 200, **forms):
    language = _language()
    return render_template(
        "submissions/review.html",
        visit=visit,
        language=language,
        sections=queries.form_sections(visit, language),
        answers=queries.answers_by_question(visit),
        photos_by_question=queries.photos_by_question(visit),
        score=queries.score_summary(visit, language),
        points=queries.points(visit),
        duration=queries.duration_minutes(visit),
        trail=queries.audit_trail(visit),
        return_form=forms.get("return_form") or ReturnForm(formdata=None),
        reject_form=forms.get("reject_form") or RejectForm(formdata=None),
        correct_form=forms.get("correct_form") or CorrectForm(formdata=None),
        approve_form=ActionForm(formdata=None),
        correct_question_id=forms.get("correct_question_id"),
    ), status


@bp.route("/admin/visits/<int:visit_id>/review")
@roles("admin")
def review(visit_id: int):
    return _render_review(_own_visit(visit_id))


def _form_failed(form) -> None:
    for errors in form.errors.values():
        for error in errors:
            flash(error, "danger")


@bp.route("/admin/visits/<int:visit_id>/correct", methods=["POST"])
@roles("admin")
def correct(visit_id: int):
    visit = _own_visit(visit_id)
    form = CorrectForm()
    if not form.validate_on_submit():
        _form_failed(form)
        return _render_review(visit, 400, correct_form=form)
    question = queries.question_in_visit(visit, form.question_id.data)
    try:
        if question is None:
            raise DomainError(_("This question is not part of this visit's checklist."))
        value = None if form.na.data else parse_form_value(question, form.value.data)
        operations.correct_answer(visit, question, current_user, value=value, na=bool(form.na.data),
                                  reason=form.reason.data)
    except DomainError as exc:
        flash(exc.message, "danger")
        return _render_review(visit, exc.status, correct_form=form, correct_question_id=form.question_id.data)
    flash(_("The answer was corrected and the scores recomputed."), "success")
    return redirect(url_for(".review", visit_id=visit.id))


@bp.route("/admin/visits/<int:visit_id>/return", methods=["POST"])
@roles("admin")
def return_visit(visit_id: int):
    visit = _own_visit(visit_id)
    form = ReturnForm()
    if not form.validate_on_submit():
        _form_failed(form)
        return _render_review(visit, 400, return_form=form)
    try:
        operations.return_visit(visit, current_user, form.comment.data)
    except DomainError as exc:
        flash(exc.message, "danger")
        return _render_review(visit, exc.status, return_form=form)
    flash(_("The visit was returned to the evaluator."), "success")
    return redirect(url_for(".queue"))


@bp.route("/admin/visits/<int:visit_id>/approve", methods=["POST"])
@roles("admin")
def approve(visit_id: int):
    visit = _own_visit(visit_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        operations.approve_visit(visit, current_user)
    except DomainError as exc:
        flash(exc.message, "danger")
        return _render_review(visit, exc.status)
    flash(_("The visit was approved and released to the client."), "success")
    return redirect(url_for(".queue"))


@bp.route("/admin/visits/<int:visit_id>/reject", methods=["POST"])
@roles("admin")
def reject(visit_id: int):
    visit = _own_visit(visit_id)
    form = RejectForm()
    if not form.validate_on_submit():
        _form_failed(form)
        return _render_review(visit, 400, reject_form=form)
    try:
        operations.reject_visit(visit, current_user, form.reason.data)
    except DomainError as exc:
        flash(exc.message, "danger")
        return _render_review(visit, exc.status, reject_form=form)
    flash(_("The visit was rejected."), "success")
    return redirect(url_for(".queue"))


@bp.route("/admin/review")
@roles("admin")
def queue():
    pagination = queries.review_queue(page=request.args.get("page", 1, type=int))
    return render_template("submissions/queue.html", pagination=pagination, visits=pagination.items,
                           language=_language())


register_nav("submissions.queue", _l("Review"), ("admin",), 40)


from . import offline  # noqa: E402,F401  (the manifest and the service worker join this blueprint)
