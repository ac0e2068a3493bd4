"""Views of the visits package: locations, client channels, visits and waves (admins), and the
evaluator's "My visits"."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from ..accounts import queries as account_queries
from ..accounts.models import Client, User
from ..checklists.models import ChecklistVersion, Dimension, tr
from ..core.access import get_for_client, roles
from ..core.errors import DomainError, NotAllowed
from ..core.forms import form_error
from ..core.models import db
from ..core.nav import register_nav
from ..scoring import display
from ..scoring import grade as grade_of
from . import bulk, operations, queries, registers
from .forms import BulkForm, ChannelForm, ImportForm, LocationForm, VisitFilterForm, VisitForm, WaveForm
from .models import ClientChannel, Location, Visit

bp = Blueprint("visits", __name__)


def link_if(endpoint: str, **values) -> str | None:
    """The URL of ``endpoint``, or None while no blueprint provides it (e.g. before it lands)."""
    if endpoint not in current_app.view_functions:
        return None
    return url_for(endpoint, **values)


@bp.context_processor
def _helpers():
    return {"link_if": link_if, "score_display": display}


def _language() -> str:
    return str(get_locale() or "fi")


def _status(form) -> int:
    return 400 if request.method == "POST" else 200


# --- clients' locations and channels -------------------------------------------------------


@bp.route("/admin/locations-and-channels")
@roles("admin")
def clients():
    return render_template("visits/clients.html", rows=queries.clients_overview())


@bp.route("/admin/clients/<int:client_id>/locations")
@roles("admin")
def locations(client_id: int):
    client = get_for_client(Client, client_id)
    return render_template("visits/locations.html", client=client,
                           locations=queries.locations_for_client(client.id))


@bp.route("/admin/clients/<int:client_id>/locations/new", methods=["GET", "POST"])
@roles("admin")
def location_new(client_id: int):
    client = get_for_client(Client, client_id)
    form = LocationForm()
    del form.active
    if form.validate_on_submit():
        try:
            registers.create_location(client, name=form.name.data, address=form.address.data,
                                       city=form.city.data, region=form.region.data,
                                       lat=form.lat.data, lon=form.lon.data)
        except DomainError as exc:
            form_error(form, exc)
        else:
            flash(_("The location was saved."), "success")
            return redirect(url_for("visits.locations", client_id=client.id))
    return render_template("visits/location_form.html", form=form, client=client, location=None), _status(form)


@bp.route("/admin/locations/<int:location_id>", methods=["GET", "POST"])
@roles("admin")
def location_edit(location_id: int):
    location = get_for_client(Location, location_id)
    form = LocationForm(obj=location)
    if form.validate_on_submit():
        try:
            registers.update_location(location, name=form.name.data, address=form.address.data,
                                       city=form.city.data, region=form.region.data, active=form.active.data,
                                       lat=form.lat.data, lon=form.lon.data)
        except DomainError as exc:
            form_error(form, exc)
        else:
            flash(_("The location was saved."), "success")
            return redirect(url_for("visits.locations", client_id=location.client_id))
    return render_template("visits/location_form.html", form=form, client=location.client,
                           location=location), _status(form)


@bp.route("/admin/locations/<int:location_id>/deactivate", methods=["POST"])
@roles("admin")
def location_deactivate(location_id: int):
    location = get_for_client(Location, location_id)
    registers.set_location_active(location, False)
    flash(_("The location “%(name)s” was deactivated. Its visits stay.", name=location.name), "success")
    return redirect(url_for("visits.locations", client_id=location.client_id))


@bp.route("/admin/clients/<int:client_id>/locations/import", methods=["GET", "POST"])
@roles("admin")
def location_import(client_id: int):
    client = get_for_client(Client, client_id)
    form = ImportForm()
    report = None
    status = 200
    if form.validate_on_submit():
        upload = request.files.get("file")
        try:
            if upload is None or not upload.filename:
                raise DomainError(_("Choose a CSV file to import."), field="file")
            data = upload.stream.read(registers.CSV_MAX_BYTES + 1)
            text = registers.read_csv_upload(data, upload.filename)
            report = registers.import_locations(client, text)
        except DomainError as exc:  # 400: the edge rolls back whatever the import had flushed
            form.file.errors = [*form.file.errors, exc.message]
            status = 400
    elif request.method == "POST":
        status = 400
    return render_template("visits/location_import.html", form=form, client=client, report=report), status


@bp.route("/admin/clients/<int:client_id>/channels")
@roles("admin")
def channels(client_id: int):
    client = get_for_client(Client, client_id)
    return render_template("visits/channels.html", client=client, channels=queries.client_channels(client.id))


@bp.route("/admin/clients/<int:client_id>/channels/new", methods=["GET", "POST"])
@roles("admin")
def channel_new(client_id: int):
    client = get_for_client(Client, client_id)
    form = ChannelForm()
    del form.active
    if form.validate_on_submit():
        try:
            registers.create_client_channel(client, channel=form.channel.data, label=form.label.data,
                                             contact=form.contact.data)
        except DomainError as exc:
            form_error(form, exc)
        else:
            flash(_("The channel was saved."), "success")
            return redirect(url_for("visits.channels", client_id=client.id))
    return render_template("visits/channel_form.html", form=form, client=client, row=None), _status(form)


@bp.route("/admin/channels/<int:channel_id>", methods=["GET", "POST"])
@roles("admin")
def channel_edit(channel_id: int):
    row = get_for_client(ClientChannel, channel_id)
    form = ChannelForm(obj=row)
    if form.validate_on_submit():
        try:
            registers.update_client_channel(row, channel=form.channel.data, label=form.label.data,
                                             contact=form.contact.data, active=form.active.data)
        except DomainError as exc:
            form_error(form, exc)
        else:
            flash(_("The channel was saved."), "success")
            return redirect(url_for("visits.channels", client_id=row.client_id))
    return render_template("visits/channel_form.html", form=form, client=row.client, row=row), _status(form)


@bp.route("/admin/channels/<int:channel_id>/deactivate", methods=["POST"])
@roles("admin")
def channel_deactivate(channel_id: int):
    row = get_for_client(ClientChannel, channel_id)
    registers.set_client_channel_active(row, False)
    flash(_("The channel “%(label)s” was deactivated. Its visits stay.", label=row.label), "success")
    return redirect(url_for("visits.channels", client_id=row.client_id))


# --- visits ----------------------------------------------------------------------------------


def _versions(current: ChecklistVersion | None = None) -> list[tuple[int, str]]:
    versions = queries.published_versions()
    if current is not None and current not in versions:
        versions.insert(0, current)  # a visit keeps its version even once retired
    return [(v.id, queries.version_label(v, _language())) for v in versions]


def _chosen_client() -> Client | None:
    raw = request.values.get("client_id")
    if not raw:
        return None
    return get_for_client(Client, raw)


def _lookup(model, object_id):
    return db.session.get(model, object_id) if object_id else None


def _visit_objects(form: VisitForm) -> dict:
    location = _lookup(Location, form.location_id.data)
    if form.location_id.data and location is None:
        raise DomainError(_("The location does not exist."), field="location_id")
    client_channel = _lookup(ClientChannel, form.client_channel_id.data)
    if form.client_channel_id.data and client_channel is None:
        raise DomainError(_("The client channel does not exist."), field="client_channel_id")
    return dict(
        channel=form.channel.data,
        location=location,
        client_channel=client_channel,
        version=_lookup(ChecklistVersion, form.checklist_version_id.data),
        evaluator=_lookup(User, form.evaluator_id.data),
        due_from=form.due_from.data,
        due_to=form.due_to.data,
        scenario=form.scenario.data or "",
    )


def _visit_form(client: Client, visit: Visit | None) -> VisitForm:
    return VisitForm(
        obj=visit,
        locations=queries.locations_for_client(client.id, active_only=True),
        channels=queries.client_channels(client.id, active_only=True),
        versions=_versions(visit.checklist_version if visit else None),
        evaluators=queries.active_evaluators(),
    )


def _visits_page(status: int = 200, bulk_form: BulkForm | None = None):
    client_id = request.args.get("client_id", type=int)
    form = VisitFilterForm(
        request.args, clients=account_queries.clients(), evaluators=account_queries.users(role="evaluator"),
        waves=queries.waves(client_id if client_id and client_id > 0 else None),
    )
    filters = {}
    if form.validate():
        filters = dict(client_id=form.client_id.data or None, status=form.status.data or None,
                       evaluator_id=form.evaluator_id.data or None, wave_id=form.wave_id.data or None,
                       due_from=form.due_from.data, due_to=form.due_to.data)
    else:
        status = 400
    page = request.args.get("page", 1, type=int)
    pagination = queries.visit_page(page=max(1, min(page, 100_000)), **filters)
    args = MultiDict(request.args)
    args.pop("page", None)
    bulk_form = bulk_form or BulkForm(formdata=None, evaluators=queries.active_evaluators())
    return render_template("visits/visits.html", form=form, pagination=pagination, bulk_form=bulk_form,
                           page_args=args.to_dict(flat=True),
                           all_args=request.args.to_dict(flat=True)), status


@bp.route("/admin/visits")
@roles("admin")
def visits():
    return _visits_page()


@bp.route("/admin/visits/bulk", methods=["POST"])
@roles("admin")
def bulk_action():
    """Reassign, change the due window of or cancel the selected visits; the list's filters ride
    along in the query string, so the admin comes back to the same list."""
    form = BulkForm(evaluators=queries.active_evaluators())
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        for errors in form.errors.values():
            for error in errors:
                flash(error, "danger")
        return _visits_page(400, form)
    chosen = [v for v in queries.visits_by_ids(form.visit_ids.data) if v.visible_to(current_user)]
    try:
        result = bulk.apply(form.action.data, chosen, user=current_user, evaluator=_lookup(User, form.evaluator_id.data),
                            due_from=form.due_from.data, due_to=form.due_to.data)
    except DomainError as exc:
        flash(exc.message, "danger")
        return _visits_page(400, form)
    for category, message in result.messages():
        flash(message, category)
    return redirect(url_for("visits.visits", **request.args.to_dict(flat=True)))


@bp.route("/admin/visits/new", methods=["GET", "POST"])
@roles("admin")
def visit_new():
    client = _chosen_client()
    if client is None:
        return render_template("visits/choose_client.html", clients=account_queries.clients(active_only=True),
                               target="visits.visit_new", title=_("New visit"))
    form = _visit_form(client, None)
    if form.validate_on_submit():
        try:
            visit = operations.create_visit(client=client, **_visit_objects(form))
        except DomainError as exc:
            form_error(form, exc)
        else:
            flash(_("The visit was created."), "success")
            return redirect(url_for("visits.visit_detail", visit_id=visit.id))
    return render_template("visits/visit_form.html", form=form, client=client, visit=None), _status(form)


@bp.route("/admin/visits/<int:visit_id>")
@roles("admin")
def visit_detail(visit_id: int):
    visit = get_for_client(Visit, visit_id)
    language = _language()
    dimension_names = {d.code: tr(d.name, language) for d in db.session.query(Dimension).all()}
    dimensions = [(dimension_names.get(s.dimension, s.dimension), s.score) for s in visit.dimension_scores]
    grade = None
    if visit.score_overall is not None:  # the stored score has no grade: it comes from the version's bands
        code = grade_of(visit.score_overall, visit.checklist_version.spec_grade_bands())
        grade = visit.checklist_version.grade_label(code, language) if code else None
    return render_template(
        "visits/visit_detail.html", visit=visit, dimensions=dimensions, grade=grade,
        version_label=queries.version_label(visit.checklist_version, language),
    )


@bp.route("/admin/visits/<int:visit_id>/edit", methods=["GET", "POST"])
@roles("admin")
def visit_edit(visit_id: int):
    visit = get_for_client(Visit, visit_id)
    if visit.status != "assigned":
        if request.method == "POST":
            raise NotAllowed(_("Only a visit that has not been started can be edited."))
        flash(_("Only a visit that has not been started can be edited."), "warning")
        return redirect(url_for("visits.visit_detail", visit_id=visit.id))
    form = _visit_form(visit.client, visit)
    if request.method == "GET":
        form.location_id.data = visit.location_id or 0
        form.client_channel_id.data = visit.client_channel_id or 0
    if form.validate_on_submit():
        try:
            operations.update_visit(visit, **_visit_objects(form))
        except DomainError as exc:
            form_error(form, exc)
        else:
            flash(_("The visit was saved."), "success")
            return redirect(url_for("visits.visit_detail", visit_id=visit.id))
    return render_template("visits/visit_form.html", form=form, client=visit.client, visit=visit), _status(form)


@bp.route("/admin/waves/new", methods=["GET", "POST"])
@roles("admin")
def wave_new():
    client = _chosen_client()
    if client is None:
        return render_template("visits/choose_client.html", clients=account_queries.clients(active_only=True),
                               target="visits.wave_new", title=_("New wave"))
    locations = queries.locations_for_client(client.id, active_only=True)
    evaluators = queries.active_evaluators()
    form = WaveForm(locations=locations, versions=_versions(), evaluators=evaluators)
    if form.validate_on_submit():
        try:
            chosen_locations, chosen_evaluators = operations.wave_members(form.location_ids.data,
                                                                          form.evaluator_ids.data)
            wave = operations.create_wave(
                client=client, name=form.name.data,
                version=_lookup(ChecklistVersion, form.checklist_version_id.data),
                period_start=form.period_start.data, period_end=form.period_end.data,
                channels=form.channels.data, locations=chosen_locations,
                evaluators=chosen_evaluators, scenario=form.scenario.data or "",
            )
        except DomainError as exc:
            form_error(form, exc)
        else:
            count = queries.wave_visit_count(wave.id)
            flash(_("The wave “%(name)s” was created with %(n)d visits.", name=wave.name, n=count), "success")
            return redirect(url_for("visits.visits", client_id=client.id))
    return render_template("visits/wave_form.html", form=form, client=client, locations=locations,
                           evaluators=evaluators), _status(form)


# --- the evaluator ---------------------------------------------------------------------------


@bp.route("/my/visits")
@roles("evaluator")
def my_visits():
    if not current_user.is_evaluator:
        abort(403)
    return render_template("visits/my_visits.html", visits=queries.visits_for_evaluator(current_user),
                           today=date.today())


register_nav("visits.my_visits", _l("My visits"), ("evaluator",), 10)
register_nav("visits.visits", _l("Visits"), ("admin",), 30)
register_nav("visits.clients", _l("Locations and channels"), ("admin",), 70, setup=True)
