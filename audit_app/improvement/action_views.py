"""Corrective actions: the list with its filters, creating one from a failed item or from a
location's most-failed questions, the action page with its history, status changes and comments."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..accounts.models import User
from ..checklists.models import ChecklistVersion, tr
from ..core.access import get_for_client, roles
from ..core.aftercommit import after_rollback
from ..core.errors import DomainError
from ..core.forms import form_error
from ..core.labels import channel_label
from ..core.models import db
from ..evidence.operations import delete_objects
from ..evidence.processing import DEFAULT_MAX_PIXELS, TooLarge
from ..evidence.storage import ObjectMissing, StorageUnavailable, get_storage
from ..evidence.views import storage_unavailable
from ..reports.export_files import CSV_TYPE, XLSX_TYPE, csv_chunks, xlsx_file
from . import operations, queries
from .forms import ActionCommentForm, ActionCreateForm, ActionFilterForm, ActionPhotoForm, ActionStatusForm
from .labels import ACTION_STATUS_LABELS
from .models import ACTION_STATUSES, MANUAL_MOVES, ActionPhoto, CorrectiveAction
from .views import _channel_choices, _client, _language, _locations, _manager_of, bp

# the photos of a fix live in the evidence store: its outage is the evidence pages' clear 503, not a 500
bp.register_error_handler(StorageUnavailable, storage_unavailable)


def _filter_form(client_id: int) -> ActionFilterForm:
    form = ActionFilterForm(request.args)
    form.status.choices = [("", _("Any status"))] + [(s, ACTION_STATUS_LABELS[s]) for s in ACTION_STATUSES]
    form.owner_id.choices = [(None, _("Anyone"))] + [(u.id, u.name) for u in queries.client_users(client_id)]
    form.location_id.choices = [(None, _("Any location"))] + [(loc.id, loc.name) for loc in _locations(client_id)]
    form.channel.choices = _channel_choices(_("Any channel"))
    form.overdue.choices = [("", _("Overdue or not")), ("1", _("Overdue only"))]
    return form


def _filters(form: ActionFilterForm) -> queries.ActionFilters:
    """The validated filter form as the action list's filters (the page and its export)."""
    return queries.ActionFilters(status=form.status.data or None, owner_id=form.owner_id.data,
                                 location_id=form.location_id.data, channel=form.channel.data or None,
                                 overdue=form.overdue.data == "1")


@bp.route("/clients/<int:client_id>/actions")
@roles("admin", "client")
def actions(client_id: int):
    client = _client(client_id)
    form = _filter_form(client.id)
    if not form.validate():
        return render_template("improvement/actions.html", client=client, form=form, rows=[], today=date.today(),
                               manager=False), 400
    filters = _filters(form)
    manager = queries.may_change(current_user, client.id)
    return render_template("improvement/actions.html", client=client, form=form, today=date.today(),
                           rows=queries.actions(client.id, filters), manager=manager,
                           locations=_locations(client.id), language=_language())


@bp.route("/clients/<int:client_id>/actions.<fmt>")
@roles("admin", "client")
def actions_export(client_id: int, fmt: str):
    """The action list with the list's filters as CSV or XLSX (the reports' export writers)."""
    client = _client(client_id)
    if fmt not in ("csv", "xlsx"):
        abort(404)
    form = _filter_form(client.id)
    if not form.validate():
        abort(400)
    filters = _filters(form)
    language, today = _language(), date.today()
    header = [_("What"), _("Question"), _("Location"), _("Channel"), _("Owner"), _("Due date"), _("Status"),
              _("Overdue"), _("Created"), _("Failed in the visit of"), _("Checked by the visit of")]
    rows = []
    for a in queries.actions(client.id, filters, today=today, limit=100_000):
        rows.append([a.what, tr(a.question.prompt, language), a.location.name if a.location else "",
                     str(channel_label(a.channel)) if a.channel else "", a.owner.name, a.due_on.isoformat(),
                     str(ACTION_STATUS_LABELS.get(a.status, a.status)), _("yes") if a.overdue(today) else "",
                     a.created_at.date().isoformat(), a.visit.visited_on.isoformat() if a.visit else "",
                     a.decided_by_visit.visited_on.isoformat() if a.decided_by_visit else ""])
    name = f"actions_{today.isoformat()}.{fmt}"
    disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
    if fmt == "csv":
        return Response(b"".join(csv_chunks(header, rows)), content_type=CSV_TYPE, headers=disposition)
    with xlsx_file(_("Corrective actions")[:31], header, rows) as out:
        out.seek(0)
        return Response(out.read(), content_type=XLSX_TYPE, headers=disposition)


def _source(client_id: int):
    """(visit, location, question) named by the query string, checked; 404 when they do not fit."""
    return queries.action_subject(client_id, _language(), visit_id=request.values.get("visit_id"),
                                  key=request.values.get("key", ""), location_id=request.values.get("location_id"),
                                  question_id=request.values.get("question_id", type=int))


@bp.route("/clients/<int:client_id>/actions/new", methods=["GET", "POST"])
@roles("admin", "client")
def action_new(client_id: int):
    client = _client(client_id)
    _manager_of(client.id)
    visit, location, question = _source(client.id)
    language = _language()
    if question is None:  # a location: choose one of its most-failed questions first
        return render_template("improvement/action_pick.html", client=client, location=location,
                               rows=queries.location_failed_questions(location.id, client.id, language))
    form = ActionCreateForm()
    form.owner_id.choices = [(u.id, u.name) for u in queries.client_users(client.id)]
    if request.method == "GET":
        form.owner_id.data = current_user.id
        form.due_on.data = date.today() + timedelta(days=30)
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            owner = db.session.get(User, form.owner_id.data) if form.owner_id.data else None
            try:
                action = operations.create_action(client.id, current_user, question=question, what=form.what.data,
                                                  owner=owner, due_on=form.due_on.data, visit=visit,
                                                  location=location)
            except DomainError as exc:
                form_error(form, exc)
            else:
                flash(_("The action was created."), "success")
                return redirect(url_for(".action", action_id=action.id))
        status = 400
    return render_template("improvement/action_new.html", client=client, form=form, visit=visit, location=location,
                           question=question, prompt=tr(question.prompt, language)), status


def _render_action(action: CorrectiveAction, status: int = 200, status_form=None, comment_form=None,
                   photo_form=None):
    manager = queries.may_change(current_user, action.client_id)
    if status_form is None:
        status_form = ActionStatusForm(formdata=None)
    status_form.status.choices = [(s, ACTION_STATUS_LABELS[s]) for s in MANUAL_MOVES.get(action.status, ())]
    checklist_title = db.session.scalar(select(ChecklistVersion.title).where(
        ChecklistVersion.checklist_id == action.checklist_id).order_by(ChecklistVersion.number.desc()).limit(1))
    return render_template(
        "improvement/action.html", action=action,
        manager=manager, status_form=status_form, comment_form=comment_form or ActionCommentForm(formdata=None),
        prompt=tr(action.question.prompt, _language()), checklist_title=tr(checklist_title, _language()),
        today=date.today(), events=queries.history(action), photo_form=photo_form or ActionPhotoForm(formdata=None),
    ), status


@bp.route("/actions/<int:action_id>")
@roles("admin", "client")
def action(action_id: int):
    return _render_action(get_for_client(CorrectiveAction, action_id))


@bp.route("/actions/<int:action_id>/status", methods=["POST"])
@roles("admin", "client")
def action_status(action_id: int):
    action = get_for_client(CorrectiveAction, action_id)
    _manager_of(action.client_id)
    form = ActionStatusForm()
    form.status.choices = [(s, ACTION_STATUS_LABELS[s]) for s in MANUAL_MOVES.get(action.status, ())]
    if not form.validate_on_submit():
        return _render_action(action, 400, status_form=form)
    try:
        operations.move_action(action, current_user, form.status.data, form.comment.data)
    except DomainError as exc:
        flash(exc.message, "danger")
        return _render_action(action, exc.status, status_form=form)
    flash(_("The status was changed."), "success")
    return redirect(url_for(".action", action_id=action.id))


@bp.route("/actions/<int:action_id>/comments", methods=["POST"])
@roles("admin", "client")
def action_comment(action_id: int):
    action = get_for_client(CorrectiveAction, action_id)
    _manager_of(action.client_id)
    form = ActionCommentForm()
    if not form.validate_on_submit():
        return _render_action(action, 400, comment_form=form)
    operations.comment_action(action, current_user, form.text.data)
    flash(_("The comment was added."), "success")
    return redirect(url_for(".action", action_id=action.id))


# --- evidence of the fix ----------------------------------------------------------------------------


@bp.route("/actions/<int:action_id>/photos", methods=["POST"])
@roles("admin", "client")
def action_photo_add(action_id: int):
    action = get_for_client(CorrectiveAction, action_id)
    _manager_of(action.client_id)
    form = ActionPhotoForm()
    limit = int(current_app.config.get("MAX_UPLOAD_MB", 15)) * 1024 * 1024
    if not form.validate_on_submit() or not getattr(form.file.data, "stream", None):
        if not form.errors.get("file"):
            form.file.errors = [*form.file.errors, _("Choose a photo to upload.")]
        return _render_action(action, 400, photo_form=form)
    data = form.file.data.stream.read(limit + 1)
    storage = get_storage()
    try:
        if len(data) > limit:
            raise TooLarge(_("The photo is too large. The limit is %(mb)d MB.", mb=limit // (1024 * 1024)),
                           field="file")
        photo = operations.add_action_photo(action, current_user, data=data, caption=form.caption.data,
                                            storage=storage, max_bytes=limit,
                                            max_pixels=int(current_app.config.get("MAX_IMAGE_PIXELS",
                                                                                  DEFAULT_MAX_PIXELS)))
    except DomainError as exc:
        form_error(form, exc)
        return _render_action(action, 413 if exc.status == 413 else 400, photo_form=form)
    keys = [photo.storage_key, photo.report_key, photo.thumb_key]
    after_rollback(lambda: delete_objects(storage, keys))
    flash(_("The photo was added."), "success")
    return redirect(url_for(".action", action_id=action.id))


@bp.route("/action-photos/<int:photo_id>/<any(report, thumb):size>")
@roles("admin", "client")
def action_photo(photo_id: int, size: str):
    photo = get_for_client(ActionPhoto, photo_id)
    key = photo.report_key if size == "report" else photo.thumb_key
    try:
        data = get_storage().get(key)
    except ObjectMissing:
        abort(404)
    response = Response(data, mimetype="image/jpeg")
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response
