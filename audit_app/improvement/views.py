"""Views of improvement: targets, self-assessments and the perception gap, corrective actions.

Clients see their own organisation's pages; its managers change them. Admins see every client's
pages and change nothing there (the loop is the client's). Evaluators never see any of it.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..accounts.models import Client
from ..checklists.models import ChecklistVersion, tr
from ..core.access import get_for_client, roles
from ..core.errors import DomainError
from ..core.forms import ActionForm, form_error
from ..core.labels import CHANNEL_LABELS
from ..core.models import db
from ..core.nav import register_nav
from ..core.transaction import keep_writes
from ..visits.models import CHANNELS, Location
from . import operations, queries
from .charts import gap_chart_url
from .forms import GapPeriodForm, StartSelfAssessmentForm, TargetForm
from .labels import TEMPLATE_HELPERS
from .models import OVERALL, SelfAssessment, Target
from .selfform import parse_posted_answers, posted_answers_view

bp = Blueprint("improvement", __name__)

register_nav("improvement.home", _l("Improvement"), ("admin", "client"), 35)


@bp.record_once
def _helpers(state):
    state.app.jinja_env.globals.update(TEMPLATE_HELPERS)
    state.app.jinja_env.filters.update(TEMPLATE_HELPERS)


@bp.context_processor
def _page_helpers():
    from ..scoring import display

    return {"tr": tr, "display": display, "signed": queries.signed}


def _language() -> str:
    return str(get_locale() or "fi")


def _client(client_id: int) -> Client:
    """The client if the current user may see it (a client user: only its own), else 404."""
    return get_for_client(Client, client_id)


def _manager_of(client_id: int) -> None:
    """Changes are the client's managers' to make: anyone else is refused (403)."""
    if not queries.may_change(current_user, client_id):
        abort(403)


def _channel_choices(blank=None):
    out = [("", blank)] if blank is not None else []
    return out + [(c, CHANNEL_LABELS[c]) for c in CHANNELS]


def _locations(client_id: int) -> list[Location]:
    return list(db.session.scalars(db.select(Location).where(Location.client_id == client_id)
                                   .order_by(Location.name)))


@bp.route("/improvement")
@roles("admin", "client")
def home():
    if current_user.is_client:
        return redirect(url_for(".overview", client_id=current_user.client_id))
    first = db.session.scalar(db.select(Client.id).order_by(Client.name).limit(1))
    if first is None:
        flash(_("There are no clients yet."), "info")
        return redirect(url_for("accounts.home"))
    return redirect(url_for(".overview", client_id=request.args.get("client_id", first, type=int)))


@bp.route("/clients/<int:client_id>/improvement")
@roles("admin", "client")
def overview(client_id: int):
    client = _client(client_id)
    clients = db.session.execute(db.select(Client.id, Client.name).order_by(Client.name)).all() \
        if current_user.is_admin else []
    return render_template("improvement/overview.html", client=client, clients=clients,
                           counts=queries.action_counts(client.id), targets=queries.targets(client.id),
                           assessments=queries.self_assessments(client.id)[:5],
                           manager=queries.may_change(current_user, client.id))


# --- targets --------------------------------------------------------------------------------------


def _target_form(client_id: int, language: str, formdata=None) -> TargetForm:
    form = TargetForm(formdata=formdata) if formdata is not None else TargetForm()
    names = queries.dimension_names(language)
    form.dimension.choices = [(OVERALL, _("Overall score"))] + list(names.items())
    form.channel.choices = _channel_choices(_("Every channel"))
    if form.applies_from.data is None and request.method == "GET":
        form.applies_from.data = date.today()
    return form


@bp.route("/clients/<int:client_id>/targets", methods=["GET", "POST"])
@roles("admin", "client")
def targets(client_id: int):
    client = _client(client_id)
    language = _language()
    form = _target_form(client.id, language)
    status = 200
    if request.method == "POST":
        _manager_of(client.id)
        if form.validate_on_submit():
            try:
                operations.set_target(client.id, current_user, dimension=form.dimension.data,
                                      channel=form.channel.data or None, value=form.value.data,
                                      applies_from=form.applies_from.data)
            except DomainError as exc:
                form_error(form, exc)
            else:
                flash(_("The target was saved."), "success")
                return redirect(url_for(".targets", client_id=client.id))
        status = 400
    return render_template("improvement/targets.html", client=client, form=form, rows=queries.targets(client.id),
                           names={OVERALL: _("Overall score"), **queries.dimension_names(language)},
                           manager=queries.may_change(current_user, client.id),
                           action_form=ActionForm(formdata=None)), status


@bp.route("/clients/<int:client_id>/targets/<int:target_id>/delete", methods=["POST"])
@roles("admin", "client")
def target_delete(client_id: int, target_id: int):
    client = _client(client_id)
    target = get_for_client(Target, target_id)
    if target.client_id != client.id:
        abort(404)
    _manager_of(client.id)
    if not ActionForm().validate_on_submit():
        abort(400)
    operations.delete_target(target)
    flash(_("The target was removed."), "success")
    return redirect(url_for(".targets", client_id=client.id))


# --- self-assessments -----------------------------------------------------------------------------


def _start_form(client_id: int, language: str) -> StartSelfAssessmentForm:
    form = StartSelfAssessmentForm()
    form.version_id.choices = [(v.id, f"{tr(v.title, language)} · {_('version %(n)d', n=v.number)}")
                               for v in queries.published_versions()]
    form.channel.choices = _channel_choices()
    form.location_id.choices = [(None, _("No location: the whole channel"))] + [
        (loc.id, loc.name) for loc in _locations(client_id)]
    return form


@bp.route("/clients/<int:client_id>/self-assessments", methods=["GET", "POST"])
@roles("admin", "client")
def self_assessments(client_id: int):
    client = _client(client_id)
    language = _language()
    form = _start_form(client.id, language)
    status = 200
    if request.method == "POST":
        _manager_of(client.id)
        if form.validate_on_submit():
            version = db.session.get(ChecklistVersion, form.version_id.data)
            location = db.session.get(Location, form.location_id.data) if form.location_id.data else None
            try:
                if version is None:
                    raise DomainError(_("Choose a published checklist."), field="version_id")
                sa = operations.start_self_assessment(client.id, current_user, version=version,
                                                      channel=form.channel.data, location=location)
            except DomainError as exc:
                form_error(form, exc)
            else:
                return redirect(url_for(".self_assessment", assessment_id=sa.id))
        status = 400
    return render_template("improvement/self_assessments.html", client=client, form=form,
                           rows=queries.self_assessments(client.id), language=language,
                           manager=queries.may_change(current_user, client.id)), status


def _render_self(sa: SelfAssessment, status: int = 200, answers=None, errors=None, missing=()):
    from ..submissions.queries import FormSection

    language = _language()
    sections = []
    for section in sa.checklist_version.sections:
        questions = [q for q in section.questions if q.applies_to(sa.channel)]
        if questions:
            sections.append(FormSection(len(sections) + 1, section, tr(section.title, language), questions))
    editable = sa.status == "draft" and queries.may_change(current_user, sa.client_id)
    return render_template(
        "improvement/self_assessment.html", sa=sa, sections=sections, language=language,
        answers=answers if answers is not None else queries.self_answers(sa), errors=errors or {},
        missing=missing, read_only=not editable, action_form=ActionForm(formdata=None),
        names={OVERALL: _("Overall score"), **queries.dimension_names(language)},
    ), status


@bp.route("/self-assessments/<int:assessment_id>", methods=["GET", "POST"])
@roles("admin", "client")
def self_assessment(assessment_id: int):
    sa = get_for_client(SelfAssessment, assessment_id)
    if request.method == "GET":
        return _render_self(sa)
    _manager_of(sa.client_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    if sa.status != "draft":
        flash(_("This self-assessment has been submitted; its answers can no longer be changed."), "info")
        return redirect(url_for(".self_assessment", assessment_id=sa.id))
    questions = [q for q in sa.checklist_version.questions() if q.applies_to(sa.channel)]
    given = parse_posted_answers(questions, request.form)
    errors = operations.save_self_answers(sa, given)
    if errors:
        return _render_self(sa, 400, answers=posted_answers_view(given, queries.self_answers(sa)), errors=errors)
    if request.form.get("do") == "submit":
        missing = operations.submit_self_assessment(sa)
        if missing:
            keep_writes()  # the answers given are kept; the submission waits for the missing ones
            return _render_self(sa, 400, missing=missing)
        flash(_("The self-assessment was submitted."), "success")
        return redirect(url_for(".self_assessment", assessment_id=sa.id))
    flash(_("Your answers were saved."), "success")
    return redirect(url_for(".self_assessment", assessment_id=sa.id))


@bp.route("/self-assessments/<int:assessment_id>/delete", methods=["POST"])
@roles("admin", "client")
def self_assessment_delete(assessment_id: int):
    sa = get_for_client(SelfAssessment, assessment_id)
    _manager_of(sa.client_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        operations.delete_self_assessment(sa)
    except DomainError as exc:
        flash(exc.message, "danger")
        return redirect(url_for(".self_assessment", assessment_id=sa.id))
    flash(_("The draft was removed."), "success")
    return redirect(url_for(".self_assessments", client_id=sa.client_id))


@bp.route("/clients/<int:client_id>/perception-gap")
@roles("admin", "client")
def perception_gap(client_id: int):
    client = _client(client_id)
    language = _language()
    form = GapPeriodForm(request.args)
    form.location_id.choices = [(None, _("Every location"))] + [(loc.id, loc.name) for loc in _locations(client.id)]
    if not form.validate():
        return render_template("improvement/perception_gap.html", client=client, form=form, channels=None), 400
    end = form.end.data or date.today()
    start = form.start.data or date(end.year - 1, end.month, min(end.day, 28))
    form.start.data, form.end.data = start, end
    channels = queries.perception_gap(client.id, start, end, language, location_id=form.location_id.data)
    charts = {g.channel: gap_chart_url(g.rows, language) for g in channels}
    return render_template("improvement/perception_gap.html", client=client, form=form, channels=channels,
                           charts=charts, start=start, end=end)


# --- corrective actions: action_views.py (the same blueprint) --------------------------------------

from . import action_views  # noqa: E402,F401
