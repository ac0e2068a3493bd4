"""The checklist designer (admins): checklists, versions, sections, questions, preview, files."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..core.access import get_for_client, roles
from ..core.errors import DomainError
from ..core.models import db
from ..core.nav import register_nav
from ..scoring import CHANNELS, KINDS
from . import fileformat, operations, queries
from .demo import starter_doc
from .forms import meta_from_form, question_form_values, question_from_form, section_from_form
from .logic import logic_data
from .models import PHOTO_MODES, UNITS, ChecklistVersion, Question, Section, tr
from .operations import ValidationFailed

bp = Blueprint("checklists", __name__, url_prefix="/admin")

ADMIN = ("admin",)


@bp.app_template_global("checklist_text")
def checklist_text(text, language=None):
    """Checklist content text in ``language`` (default: the user's), falling back to the other."""
    return tr(text, language or _language())


#: a version's status (the visit statuses are in ``core.labels``)
VERSION_STATUS_LABELS = {"draft": _l("Draft"), "published": _l("Published"), "retired": _l("Retired")}


def _language() -> str:
    return str(get_locale() or "fi")


def _common() -> dict:
    language = _language()
    return {
        "language": language,
        "status_labels": VERSION_STATUS_LABELS,
        "dimension_names": {d.code: tr(d.name, language) or d.code for d in queries.dimensions()},
        "tr": tr,
        "CHANNELS": CHANNELS,
        "KINDS": KINDS,
        "UNITS": UNITS,
        "PHOTO_MODES": PHOTO_MODES,
    }


def _version(version_id: int) -> ChecklistVersion:
    return get_for_client(ChecklistVersion, version_id)


def _section(version: ChecklistVersion, section_id: int) -> Section:
    section = db.session.get(Section, section_id)
    if section is None or section.version_id != version.id:
        abort(404)
    return section


def _question(version: ChecklistVersion, question_id: int) -> Question:
    question = db.session.get(Question, question_id)
    if question is None or question.version_id != version.id:
        abort(404)
    return question


def _step() -> int:
    direction = request.form.get("direction")
    if direction not in ("up", "down"):
        raise DomainError(_("Choose up or down."))
    return -1 if direction == "up" else 1


def _back(version: ChecklistVersion, anchor: str | None = None):
    url = url_for("checklists.version", version_id=version.id)
    return redirect(f"{url}#{anchor}" if anchor else url)


# --- list, create, import -----------------------------------------------------------------


@bp.route("/checklists")
@roles("admin")
def index():
    return render_template("checklists/index.html", rows=queries.checklists(), **_common())


@bp.route("/checklists/new", methods=["GET", "POST"])
@roles("admin")
def new():
    values, problems = {"title": {}, "description": {}, "critical_scope": "section"}, []
    start = "blank"
    if request.method == "POST":
        values = meta_from_form(request.form)
        start = "starter" if request.form.get("start") == "starter" else "blank"
        try:
            if start == "starter":
                version = _from_starter(values)
            else:
                version = operations.create_checklist(values["title"], values["description"])
        except ValidationFailed as exc:
            problems = exc.problems
        else:
            if start == "starter":
                flash(_("The checklist was created from the starter checklist. Change it to fit, then publish it."),
                      "success")
            else:
                flash(_("The checklist was created. Add sections and questions to its draft."), "success")
            return _back(version)
    status = 400 if problems else 200
    return render_template("checklists/meta_form.html", values=values, problems=problems, version=None,
                           start=start, **_common()), status


def _from_starter(values: dict) -> ChecklistVersion:
    """A new checklist whose draft is a copy of the starter checklist (README: "start from the
    starter checklist"); a title or description typed in the form replaces the starter's."""
    doc = starter_doc()
    for name in ("title", "description"):
        typed = {lang: text for lang, text in (values.get(name) or {}).items() if (text or "").strip()}
        if typed:
            doc[name] = typed
    return fileformat.import_doc(doc)


@bp.route("/checklists/import", methods=["GET", "POST"])
@roles("admin")
def import_file():
    problems, error = [], None
    if request.method == "POST":
        upload = request.files.get("file")
        try:
            if upload is None or not upload.filename:
                raise DomainError(_("Choose a file to import."), field="file")
            doc = fileformat.parse_upload(upload.stream.read(fileformat.MAX_UPLOAD_BYTES + 1))
            version = fileformat.import_doc(doc)
        except ValidationFailed as exc:
            problems = exc.problems
        except DomainError as exc:
            error = exc.message
        else:
            flash(_("The checklist was imported as a draft."), "success")
            return _back(version)
    status = 400 if (problems or error) else 200
    return render_template("checklists/import.html", problems=problems, error=error, **_common()), status


@bp.route("/dimensions", methods=["GET", "POST"])
@roles("admin")
def dimensions():
    values, error, field = {"code": "", "name_en": "", "name_fi": ""}, None, None
    if request.method == "POST":
        values = {k: (request.form.get(k) or "").strip() for k in values}
        try:
            operations.add_dimension(values["code"], {"en": values["name_en"], "fi": values["name_fi"]})
        except DomainError as exc:
            error, field = exc.message, exc.field
        else:
            flash(_("The dimension was added."), "success")
            return redirect(url_for("checklists.dimensions"))
    return render_template(
        "checklists/dimensions.html", dims=queries.dimensions(), values=values, error=error, field=field,
        **_common(),
    ), (400 if error else 200)


# --- a version ----------------------------------------------------------------------------


@bp.route("/checklists/versions/<int:version_id>")
@roles("admin")
def version(version_id: int):
    v = _version(version_id)
    return _version_page(v, operations.problems_of(v) if v.is_draft else [])


def _version_page(v: ChecklistVersion, problems, status: int = 200):
    return render_template(
        "checklists/version.html", version=v, problems=problems,
        versions=list(v.checklist.versions), **_common(),
    ), status


@bp.route("/checklists/versions/<int:version_id>/edit", methods=["GET", "POST"])
@roles("admin")
def version_edit(version_id: int):
    v = _version(version_id)
    operations.require_draft(v)
    values = {"title": v.title, "description": v.description, "critical_scope": v.critical_scope}
    problems = []
    if request.method == "POST":
        values = meta_from_form(request.form)
        try:
            operations.update_version(v, values["title"], values["description"], values["critical_scope"])
        except ValidationFailed as exc:
            problems = exc.problems
        else:
            flash(_("The details were saved."), "success")
            return _back(v)
    return render_template("checklists/meta_form.html", values=values, problems=problems, version=v,
                           **_common()), (400 if problems else 200)


@bp.route("/checklists/versions/<int:version_id>/publish", methods=["GET", "POST"])
@roles("admin")
def publish(version_id: int):
    """GET: what publishing means (it freezes the version), with a confirm button; POST: publish."""
    v = _version(version_id)
    if request.method == "GET":
        if not v.is_draft:
            flash(_("This version is already published."), "info")
            return _back(v)
        return render_template("checklists/publish_confirm.html", version=v, problems=operations.problems_of(v),
                               **_common())
    try:
        operations.publish_checked(v, current_user)
    except ValidationFailed as exc:
        flash(_("The version was not published. Fix the problems below first."), "danger")
        return _version_page(v, exc.problems, 400)
    flash(_("The version was published. It can no longer be changed."), "success")
    return _back(v)


@bp.route("/checklists/versions/<int:version_id>/new-draft", methods=["POST"])
@roles("admin")
def new_draft(version_id: int):
    v = _version(version_id)
    draft = operations.new_draft(v)
    flash(_("You are editing draft version %(number)d.", number=draft.number), "info")
    return _back(draft)


@bp.route("/checklists/versions/<int:version_id>/retire", methods=["POST"])
@roles("admin")
def retire(version_id: int):
    v = _version(version_id)
    operations.retire(v)
    flash(_("The version was retired. No new visits can use it; it stays readable."), "success")
    return _back(v)


@bp.route("/checklists/versions/<int:version_id>/export")
@roles("admin")
def export(version_id: int):
    v = _version(version_id)
    body = fileformat.dumps(fileformat.export_doc(v))
    name = f"checklist-{v.checklist_id}-v{v.number}.json"
    return Response(body, mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.route("/checklists/versions/<int:version_id>/preview")
@roles("admin")
def preview(version_id: int):
    v = _version(version_id)
    channel = request.args.get("channel") or CHANNELS[0]
    if channel not in CHANNELS:
        channel = CHANNELS[0]
    return render_template(
        "checklists/preview.html", version=v, channel=channel,
        sections=queries.version_sections_for_channel(v, channel), logic=logic_data(v, channel, {}), **_common(),
    )


# --- sections -----------------------------------------------------------------------------


@bp.route("/checklists/versions/<int:version_id>/sections/new", methods=["GET", "POST"])
@roles("admin")
def section_new(version_id: int):
    v = _version(version_id)
    return _section_form(v, None)


@bp.route("/checklists/versions/<int:version_id>/sections/<int:section_id>", methods=["GET", "POST"])
@roles("admin")
def section_edit(version_id: int, section_id: int):
    v = _version(version_id)
    return _section_form(v, _section(v, section_id))


def _section_form(v: ChecklistVersion, section: Section | None):
    operations.require_draft(v)
    if section is not None:
        values = fileformat.section_doc(section, with_questions=False)
    else:
        values = {"key": operations.new_section_key(v), "title": {}, "dimension": None, "weight": 1, "guidance": {}}
    problems = []
    if request.method == "POST":
        values = section_from_form(request.form)
        try:
            saved = operations.save_section(v, values, section)
        except ValidationFailed as exc:
            problems = exc.problems
        else:
            flash(_("The section was saved."), "success")
            return _back(v, f"section-{saved.id}")
    return render_template("checklists/section_form.html", version=v, section=section, values=values,
                           problems=problems, earlier=queries.earlier_questions(v, section=section, of_section=True),
                           **_common()), (400 if problems else 200)


@bp.route("/checklists/versions/<int:version_id>/sections/<int:section_id>/delete", methods=["POST"])
@roles("admin")
def section_delete(version_id: int, section_id: int):
    v = _version(version_id)
    operations.delete_section(_section(v, section_id))
    flash(_("The section was deleted."), "success")
    return _back(v)


@bp.route("/checklists/versions/<int:version_id>/sections/<int:section_id>/move", methods=["POST"])
@roles("admin")
def section_move(version_id: int, section_id: int):
    v = _version(version_id)
    section = _section(v, section_id)
    operations.move_section(section, _step())
    return _back(v, f"section-{section.id}")


# --- questions ----------------------------------------------------------------------------


@bp.route("/checklists/versions/<int:version_id>/sections/<int:section_id>/questions/new",
          methods=["GET", "POST"])
@roles("admin")
def question_new(version_id: int, section_id: int):
    v = _version(version_id)
    return _question_form(v, _section(v, section_id), None)


@bp.route("/checklists/versions/<int:version_id>/questions/<int:question_id>", methods=["GET", "POST"])
@roles("admin")
def question_edit(version_id: int, question_id: int):
    v = _version(version_id)
    question = _question(v, question_id)
    return _question_form(v, question.section, question)


def _question_form(v: ChecklistVersion, section: Section, question: Question | None):
    operations.require_draft(v)
    if question is not None:
        doc = fileformat.question_doc(question)
    else:
        doc = {"key": operations.new_question_key(v), "kind": "yes_no", "weight": 1, "required": True}
    problems = []
    if request.method == "POST":
        doc = question_from_form(request.form)
        try:
            saved = operations.save_question(section, doc, question)
        except ValidationFailed as exc:
            problems = exc.problems
        else:
            flash(_("The question was saved."), "success")
            return _back(v, f"question-{saved.id}")
    return render_template(
        "checklists/question_form.html", version=v, section=section, question=question,
        values=question_form_values(doc), problems=problems,
        earlier=queries.earlier_questions(v, section=section, question=question), **_common(),
    ), (400 if problems else 200)


@bp.route("/checklists/versions/<int:version_id>/questions/<int:question_id>/delete", methods=["POST"])
@roles("admin")
def question_delete(version_id: int, question_id: int):
    v = _version(version_id)
    question = _question(v, question_id)
    section_id = question.section_id
    operations.delete_question(question)
    flash(_("The question was deleted."), "success")
    return _back(v, f"section-{section_id}")


@bp.route("/checklists/versions/<int:version_id>/questions/<int:question_id>/move", methods=["POST"])
@roles("admin")
def question_move(version_id: int, question_id: int):
    v = _version(version_id)
    question = _question(v, question_id)
    operations.move_question(question, _step())
    return _back(v, f"question-{question.id}")


register_nav("checklists.index", _l("Checklists"), ADMIN, 30)
