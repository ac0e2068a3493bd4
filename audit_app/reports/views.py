"""Views of the reports package: dashboard, report pages, PDFs kept in Storage, exports, logos."""

from __future__ import annotations

import io

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..accounts.models import Client
from ..core.access import get_for_client, roles
from ..core.errors import DomainError
from ..core.models import db
from ..core.nav import register_nav
from ..visits.models import CHANNELS, Location, Visit
from . import export_files, operations, queries
from .forms import ExportJobForm, LogoForm, PdfForm, PeriodForm
from .models import EXPORT_FORMATS, EXPORT_KINDS, ExportJob, GeneratedReport

bp = Blueprint("reports", __name__)

REPORT_ROLES = ("admin", "client")


def _language() -> str:
    return str(get_locale() or "fi")


def _client_or_404(client_id: int) -> Client:
    return get_for_client(Client, client_id)


def _period_form(client_id: int | None, with_client: bool = False) -> PeriodForm:
    form = PeriodForm(request.args)
    language = _language()
    options = queries.filter_options(client_id, language) if client_id else {
        "locations": [], "regions": [], "channels": [], "versions": []}
    everyone = ("", _("All"))
    form.client_id.choices = [(c, n) for c, n in queries.clients()] if with_client else []
    form.location_id.choices = [everyone, *options["locations"]]
    form.region.choices = [everyone, *[(r, r) for r in options["regions"]]]
    form.channel.choices = [everyone, *options["channels"]]
    form.version_id.choices = [everyone, *options["versions"]]
    return form


def _filters(form: PeriodForm, client_id: int, **fixed) -> queries.Filters:
    start, end = queries.default_period()
    if form.start.data and form.end.data:
        start, end = form.start.data, form.end.data
    elif form.start.data:
        start = form.start.data
        end = max(end, start)
    elif form.end.data:
        end = form.end.data
        start = min(start, end)
    values = dict(
        client_id=client_id, start=start, end=end, location_id=form.location_id.data or None,
        region=form.region.data or None, channel=form.channel.data or None, version_id=form.version_id.data or None,
    )
    values.update(fixed)
    return queries.Filters(**values)


def _validated(form: PeriodForm) -> bool:
    """Validate the query-string form; invalid values are reported, never a 500."""
    if not request.args:
        return True
    return form.validate()


# --- dashboard -------------------------------------------------------------------------------


@bp.route("/dashboard")
@roles(*REPORT_ROLES)
def dashboard():
    requested = request.args.get("client_id")
    if current_user.is_client:
        client_id = current_user.client_id
        if requested not in (None, "", str(client_id)):
            abort(404)
    else:
        all_clients = queries.clients()
        if not all_clients:
            return render_template("reports/dashboard.html", data=None, form=None, client_id=None)
        client_id = int(requested) if requested and requested.isdigit() else all_clients[0][0]
        _client_or_404(client_id)
    form = _period_form(client_id, with_client=current_user.is_admin)
    if current_user.is_admin:
        form.client_id.data = client_id
    if not _validated(form):
        return render_template("reports/dashboard.html", data=None, form=form, client_id=client_id), 400
    f = _filters(form, client_id)
    form.start.data, form.end.data = f.start, f.end  # the fields show the period the figures cover
    # many locations: the best and the worst are listed, ``locations=all`` lists every one
    data = queries.dashboard(f, _language(), all_locations=request.args.get("locations") == "all")
    from ..improvement.queries import report_targets
    from .rendering import page_charts

    data["targets"] = report_targets(f, data["overall"], data["dimensions"], _language())  # improvement

    return render_template("reports/dashboard.html", data=data, form=form, client_id=client_id,
                           client_name=queries.client_name(client_id), filters=f,
                           charts=page_charts(data["dimensions"], data["trend"]),
                           export_form=ExportJobForm() if current_app.config.get("REDIS_URL") else None)


# --- report pages ----------------------------------------------------------------------------


def _report_page(report, client_id: int, scope: str, ref: str, form=None):
    from .rendering import page_charts

    return render_template("reports/report.html", r=report, scope=scope, ref=ref, client_id=client_id,
                           pdf_form=PdfForm(formdata=None), form=form,
                           charts=page_charts(report.dimensions, report.trend))


@bp.route("/reports/visits/<int:visit_id>")
@roles(*REPORT_ROLES)
def visit_report(visit_id: int):
    visit = get_for_client(Visit, visit_id)
    if visit.score_data is None:
        abort(404)
    report = operations.build_report("visit", visit.client_id, str(visit.id), None, None, _language())
    return _report_page(report, visit.client_id, "visit", str(visit.id))


def _period_page(scope: str, client_id: int, ref: str, **fixed):
    form = _period_form(client_id)
    if not _validated(form):
        return render_template("reports/report.html", r=None, form=form, scope=scope, ref=ref,
                               client_id=client_id), 400
    f = _filters(form, client_id, **fixed)
    report = operations.build_report(scope, client_id, ref, f.start, f.end, _language())
    return _report_page(report, client_id, scope, ref, form=form)


@bp.route("/reports/locations/<int:location_id>")
@roles(*REPORT_ROLES)
def location_report(location_id: int):
    location = get_for_client(Location, location_id)
    return _period_page("location", location.client_id, str(location.id))


@bp.route("/reports/clients/<int:client_id>/channels/<channel>")
@roles(*REPORT_ROLES)
def channel_report(client_id: int, channel: str):
    _client_or_404(client_id)
    if channel not in CHANNELS:
        abort(404)
    return _period_page("channel", client_id, channel)


@bp.route("/reports/clients/<int:client_id>/summary")
@roles(*REPORT_ROLES)
def client_report(client_id: int):
    _client_or_404(client_id)
    return _period_page("client", client_id, "")


# --- PDFs kept in Storage --------------------------------------------------------------------


@bp.route("/reports/clients/<int:client_id>/pdf/<scope>/<ref>", methods=["POST"])
@roles(*REPORT_ROLES)
def make_pdf(client_id: int, scope: str, ref: str):
    _client_or_404(client_id)
    if scope == "visit":
        visit = get_for_client(Visit, ref)
        if visit.client_id != client_id:
            abort(404)
    elif scope == "location":
        location = get_for_client(Location, ref)
        if location.client_id != client_id:
            abort(404)
    form = PdfForm()
    if not form.validate_on_submit():
        abort(400)
    start, end = operations.report_period(_iso(form.start.data), _iso(form.end.data))
    row = operations.create_generated(client_id, scope, ref if scope != "client" else "", start, end, _language(),
                                      current_user)
    status_page = redirect(url_for("reports.generated_status", report_id=row.id))
    # the status page follows a report made by a worker and starts its download when it is ready
    state = operations.start_generated(row)
    if state == "queued":
        return status_page
    if state == "failed":  # the row says it failed (committed with the redirect); the user may try again
        flash(_("The report could not be made. Please try again."), "danger")
        return status_page
    # made in this request: the file itself is the answer (one step); it stays in My reports as well
    return _pdf_response(row, operations.pdf_bytes(row))


def _iso(value):
    from datetime import date

    try:
        return date.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        raise DomainError(_("Enter dates as YYYY-MM-DD."), field="start") from None


def _generated_or_404(report_id: int) -> GeneratedReport:
    """The stored report if the user may see it (``GeneratedReport.visible_to``), else 404."""
    return get_for_client(GeneratedReport, report_id)


@bp.route("/reports/generated")
@roles(*REPORT_ROLES)
def generated_list():
    rows, internal = queries.generated_reports(current_user)
    names = dict(queries.clients()) if current_user.is_admin else {}
    return render_template("reports/generated_list.html", rows=rows, names=names, internal=internal,
                           titles=queries.report_titles(rows), exports=queries.export_jobs(current_user))


@bp.route("/reports/generated/<int:report_id>")
@roles(*REPORT_ROLES)
def generated_status(report_id: int):
    row = _generated_or_404(report_id)
    if request.args.get("format") == "json":
        return jsonify({"state": row.state, "progress": row.progress,
                        "download": url_for("reports.generated_download", report_id=row.id)
                        if row.state == "done" else None})
    return render_template("reports/generated_status.html", row=row, title=queries.report_titles([row])[row.id])


@bp.route("/reports/generated/<int:report_id>/download")
@roles(*REPORT_ROLES)
def generated_download(report_id: int):
    row = _generated_or_404(report_id)
    if row.state != "done" or not row.storage_key:
        abort(404)
    from ..evidence.storage import ObjectMissing

    try:
        data = operations.pdf_bytes(row)
    except ObjectMissing:
        abort(404)
    return _pdf_response(row, data)


def _pdf_response(row: GeneratedReport, data: bytes) -> Response:
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{operations.filename(row)}"',
        "Cache-Control": "private, no-store",
        "X-Report-Id": str(row.id),
    })


# --- exports ---------------------------------------------------------------------------------


def _export_filters(client_id: int, kind: str, fmt: str):
    """The export's filters from the query string, or an error response (400 with the form's message)."""
    _client_or_404(client_id)
    if kind not in EXPORT_KINDS or fmt not in EXPORT_FORMATS:
        abort(404)
    form = _period_form(client_id)
    if not _validated(form):
        return None, (render_template("reports/dashboard.html", data=None, form=form, client_id=client_id), 400)
    return _filters(form, client_id), None


@bp.route("/reports/clients/<int:client_id>/export/<kind>.<fmt>")
@roles(*REPORT_ROLES)
def export(client_id: int, kind: str, fmt: str):
    f, error = _export_filters(client_id, kind, fmt)
    if error:
        return error
    build = queries.export_visits if kind == "visits" else queries.export_answers
    header, rows = build(f, _language())  # rows: an iterator that reads the database as it is consumed
    name = export_files.filename(kind, f.start, f.end, fmt)
    disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
    if fmt == "csv":  # Flask adds "; charset=utf-8"
        return Response(_streamed(export_files.csv_chunks, header, rows), mimetype="text/csv", headers=disposition)
    out = export_files.xlsx_file(export_files.sheet_name(kind), header, rows)
    size = out.seek(0, io.SEEK_END)
    out.seek(0)
    response = Response(export_files.file_chunks(out), mimetype=export_files.XLSX_TYPE,
                        headers={**disposition, "Content-Length": str(size)})
    response.call_on_close(out.close)
    return response


def _streamed(make, *args):
    """``make(*args)``'s chunks, produced while the server sends the body, in an application context
    of their own (their own database session, removed at the end) in the reader's language.

    Not ``stream_with_context``: that keeps the request's context pushed from the view on, for as long
    as the body is not consumed; here nothing runs, and nothing is held, until the first chunk is
    asked for. The request's transaction has been committed by then (``core/transaction.py``)."""
    app = current_app._get_current_object()
    language = _language()

    def generate():
        from flask_babel import force_locale

        with app.app_context(), force_locale(language):
            yield from make(*args)

    return generate()


@bp.route("/reports/clients/<int:client_id>/export/<kind>.<fmt>/job", methods=["POST"])
@roles(*REPORT_ROLES)
def export_job(client_id: int, kind: str, fmt: str):
    """With ``REDIS_URL``: the export is written by a worker; the user follows it on its status page.
    Without Redis (or Redis down): the streamed download, as the export link gives it."""
    f, error = _export_filters(client_id, kind, fmt)
    if error:
        return error
    if not ExportJobForm().validate_on_submit():
        abort(400)
    row = operations.queue_export(client_id, kind, fmt, f, _language(), current_user)
    if row is None:
        return redirect(url_for("reports.export", client_id=client_id, kind=kind, fmt=fmt, **f.as_args()))
    return redirect(url_for("reports.export_status", export_id=row.id))


@bp.route("/reports/exports/<int:export_id>")
@roles(*REPORT_ROLES)
def export_status(export_id: int):
    row = get_for_client(ExportJob, export_id)
    from .jobs import export_progress

    progress = export_progress(row)
    if request.args.get("format") == "json":
        return jsonify({**progress, "download": url_for("reports.export_download", export_id=row.id)
                        if row.state == "done" else None})
    return render_template("reports/export_status.html", row=row, progress=progress)


@bp.route("/reports/exports/<int:export_id>/download")
@roles(*REPORT_ROLES)
def export_download(export_id: int):
    row = get_for_client(ExportJob, export_id)
    if row.state != "done" or not row.storage_key:
        abort(404)
    from ..evidence.storage import ObjectMissing, get_storage

    try:
        fh = get_storage().open(row.storage_key)
    except ObjectMissing:
        abort(404)
    headers = {"Content-Disposition": f'attachment; filename="{row.filename()}"', "Cache-Control": "private, no-store"}
    if row.size_bytes is not None:
        headers["Content-Length"] = str(row.size_bytes)
    mimetype = "text/csv" if row.fmt == "csv" else export_files.XLSX_TYPE
    response = Response(export_files.file_chunks(fh), mimetype=mimetype, headers=headers)
    response.call_on_close(fh.close)
    return response


# --- logos -----------------------------------------------------------------------------------


@bp.route("/reports/clients/<int:client_id>/logo", methods=["GET", "POST"])
@roles("admin")
def logo(client_id: int):
    client = _client_or_404(client_id)
    form = LogoForm()
    status = 200
    if form.validate_on_submit():
        upload = form.logo.data
        try:
            operations.save_logo(client.id, upload.read(operations.LOGO_MAX_BYTES + 1) if upload else b"")
        except DomainError as exc:
            form.logo.errors = [*form.logo.errors, exc.message]
            status = 400
        else:
            flash(_("The logo was saved. It appears on the covers of new PDF reports."), "success")
            return redirect(url_for("reports.logo", client_id=client.id))
    elif request.method == "POST":
        status = 400
    from .models import ClientLogo

    has_logo = db.session.get(ClientLogo, client.id) is not None
    return render_template("reports/logo.html", form=form, client=client, has_logo=has_logo), status


register_nav("reports.dashboard", _l("Dashboard"), ("admin", "client"), 20)
register_nav("reports.generated_list", _l("My reports"), ("admin", "client"), 25)
