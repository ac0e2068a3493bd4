"""Writes for checklists. Operations flush; the caller commits.

A published version is immutable: every operation that changes a version, a section or a
question goes through ``_require_draft`` first.
"""

from __future__ import annotations

from flask_babel import gettext as _

from ..core.errors import DomainError, NotAllowed
from ..core.models import db, utcnow
from .kinds import KIND_FIELDS
from .models import Checklist, ChecklistVersion, Dimension, Question, Section
from .queries import known_dimensions
from .validation import (
    KEY_RE,
    Problem,
    validate_conditions_at,
    validate_doc,
    validate_meta,
    validate_question,
    validate_section,
)


class ValidationFailed(DomainError):
    """Content that does not pass the validator; ``problems`` name every place."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


def _require_draft(version: ChecklistVersion) -> None:
    if version.status != "draft":
        raise NotAllowed(_("A published version cannot be changed. Edit the checklist to make a new draft."))


require_draft = _require_draft


def build_version(doc: dict, checklist: Checklist | None = None) -> ChecklistVersion:
    """Create a draft version (and its checklist when none is given) from a checklist document.

    ``doc`` is in the file format of ``docs/checklist-format.md`` and already validated.
    """
    if checklist is None:
        checklist = Checklist()
        db.session.add(checklist)
        db.session.flush()
    number = max((v.number for v in checklist.versions), default=0) + 1
    version = ChecklistVersion(
        checklist=checklist,
        number=number,
        status="draft",
        title=dict(doc.get("title") or {}),
        description=dict(doc.get("description") or {}),
        critical_scope=doc.get("critical_scope", "section"),
        grade_bands=[dict(b) for b in doc["grade_bands"]] if doc.get("grade_bands") else None,
    )
    db.session.add(version)
    for s_pos, s_doc in enumerate(doc.get("sections", [])):
        section = Section(
            version=version,
            position=s_pos,
            key=s_doc["key"],
            title=dict(s_doc.get("title") or {}),
            dimension=s_doc.get("dimension"),
            weight=float(s_doc.get("weight", 1)),
            guidance=dict(s_doc.get("guidance") or {}),
            condition=_condition(s_doc),
        )
        db.session.add(section)
        for q_pos, q_doc in enumerate(s_doc.get("questions", [])):
            kind = q_doc["kind"]
            config = {f: q_doc[f] for f in KIND_FIELDS.get(kind, ()) if f in q_doc}
            db.session.add(
                Question(
                    section=section,
                    version=version,
                    position=q_pos,
                    key=q_doc["key"],
                    kind=kind,
                    prompt=dict(q_doc.get("prompt") or {}),
                    guidance=dict(q_doc.get("guidance") or {}),
                    weight=float(q_doc.get("weight", 1)),
                    required=bool(q_doc.get("required", True)),
                    allow_na=bool(q_doc.get("allow_na", False)),
                    critical=bool(q_doc.get("critical", False)),
                    channels=list(q_doc["channels"]) if q_doc.get("channels") else None,
                    photo=q_doc.get("photo", "none"),
                    config=config,
                    condition=_condition(q_doc),
                    unscored=bool(q_doc.get("unscored", False)),
                    follow_up=q_doc.get("follow_up", "none"),
                )
            )
    db.session.flush()
    return version


def _condition(doc: dict) -> dict | None:
    condition = doc.get("condition")
    return dict(condition) if condition else None


def _doc_with(version: ChecklistVersion, path_section: int, item_doc: dict, question_index: int | None) -> dict:
    """The version as a document with one section's fields (``question_index`` None) or one
    question replaced or appended: the context a condition is checked in."""
    from .fileformat import export_doc

    doc = export_doc(version)
    while len(doc["sections"]) <= path_section:
        doc["sections"].append({"key": "", "questions": []})
    section = doc["sections"][path_section]
    if question_index is None:
        section.update({k: v for k, v in item_doc.items() if k != "questions"})
        if "condition" not in item_doc:
            section.pop("condition", None)
    else:
        questions = section.setdefault("questions", [])
        if question_index < len(questions):
            questions[question_index] = item_doc
        else:
            questions.append(item_doc)
    return doc


def publish(version: ChecklistVersion, user=None) -> ChecklistVersion:
    """Freeze a draft version. Validation of the content is the caller's first step."""
    _require_draft(version)
    version.status = "published"
    version.published_at = utcnow()
    version.published_by_id = getattr(user, "id", None)
    db.session.flush()
    return version


# --- the designer -------------------------------------------------------------------------------

def _check(problems: list[Problem]) -> None:
    if problems:
        raise ValidationFailed(problems)


def create_checklist(title: dict, description: dict | None = None) -> ChecklistVersion:
    """A new checklist with an empty draft version 1."""
    doc = {"title": title, "description": description or {}, "critical_scope": "section"}
    _check(validate_meta(doc))
    return build_version({**doc, "sections": []})


def update_version(version: ChecklistVersion, title: dict, description: dict, critical_scope: str) -> None:
    _require_draft(version)
    doc = {"title": title, "description": description, "critical_scope": critical_scope}
    _check(validate_meta(doc))
    version.title, version.description, version.critical_scope = dict(title), dict(description), critical_scope
    db.session.flush()


def _section_path(version: ChecklistVersion, section: Section | None) -> str:
    index = version.sections.index(section) if section is not None else len(version.sections)
    return f"sections[{index}]"


def _new_key(prefix: str, taken: set[str]) -> str:
    n = len(taken) + 1
    while f"{prefix}{n}" in taken:
        n += 1
    return f"{prefix}{n}"


def new_section_key(version: ChecklistVersion) -> str:
    return _new_key("s", {s.key for s in version.sections})


def new_question_key(version: ChecklistVersion) -> str:
    return _new_key("q", {q.key for q in version.questions()})


def save_section(version: ChecklistVersion, doc: dict, section: Section | None = None) -> Section:
    """Create (``section`` None) or update a section from a section document without questions."""
    _require_draft(version)
    if section is not None and section.version_id != version.id:
        raise DomainError(_("The section does not belong to this version."))
    others = {s.key for s in version.sections if s is not section}
    index = version.sections.index(section) if section is not None else len(version.sections)
    problems = validate_section(doc, _section_path(version, section), known_dimensions(), others)
    if doc.get("condition") is not None:
        problems += validate_conditions_at(_doc_with(version, index, doc, None), f"sections[{index}]")
    _check(problems)
    if section is None:
        section = Section(version=version, position=len(version.sections))
        db.session.add(section)
    section.key = doc["key"]
    section.title = dict(doc.get("title") or {})
    section.dimension = doc["dimension"]
    section.weight = float(doc.get("weight", 1))
    section.guidance = dict(doc.get("guidance") or {})
    section.condition = _condition(doc)
    db.session.flush()
    return section


def _renumber(items) -> None:
    for position, item in enumerate(items):
        item.position = position


def delete_section(section: Section) -> None:
    version = section.version
    _require_draft(version)
    db.session.delete(section)
    db.session.flush()
    db.session.expire(version, ["sections"])
    _renumber(version.sections)
    db.session.flush()


def _move(items: list, item, step: int) -> None:
    index = items.index(item)
    target = index + step
    if 0 <= target < len(items):
        items[index], items[target] = items[target], items[index]
    _renumber(items)


def move_section(section: Section, step: int) -> None:
    version = section.version
    _require_draft(version)
    ordered = list(version.sections)
    _move(ordered, section, 1 if step > 0 else -1)
    db.session.flush()
    db.session.expire(version, ["sections"])


def save_question(section: Section, doc: dict, question: Question | None = None) -> Question:
    """Create (``question`` None) or update a question of ``section`` from a question document."""
    version = section.version
    _require_draft(version)
    if question is not None and question.section_id != section.id:
        raise DomainError(_("The question does not belong to this section."))
    others = {q.key for q in version.questions() if q is not question}
    index = section.questions.index(question) if question is not None else len(section.questions)
    path = f"{_section_path(version, section)}.questions[{index}]"
    problems = validate_question(doc, path, others)
    if doc.get("condition") is not None:
        s_index = version.sections.index(section)
        problems += validate_conditions_at(_doc_with(version, s_index, doc, index), path)
    _check(problems)
    if question is None:
        question = Question(section=section, version=version, position=len(section.questions))
        db.session.add(question)
    kind = doc["kind"]
    question.key = doc["key"]
    question.kind = kind
    question.prompt = dict(doc.get("prompt") or {})
    question.guidance = dict(doc.get("guidance") or {})
    question.weight = float(doc.get("weight", 1))
    question.required = bool(doc.get("required", True))
    question.allow_na = bool(doc.get("allow_na", False))
    question.critical = bool(doc.get("critical", False))
    question.channels = list(doc["channels"]) if doc.get("channels") else None
    question.photo = doc.get("photo", "none")
    question.config = {f: doc[f] for f in KIND_FIELDS[kind] if f in doc}
    question.condition = _condition(doc)
    question.unscored = bool(doc.get("unscored", False))
    question.follow_up = doc.get("follow_up", "none")
    db.session.flush()
    return question


def delete_question(question: Question) -> None:
    section = question.section
    _require_draft(section.version)
    db.session.delete(question)
    db.session.flush()
    db.session.expire(section, ["questions"])
    _renumber(section.questions)
    db.session.flush()


def move_question(question: Question, step: int) -> None:
    section = question.section
    _require_draft(section.version)
    ordered = list(section.questions)
    _move(ordered, question, 1 if step > 0 else -1)
    db.session.flush()
    db.session.expire(section, ["questions"])


def problems_of(version: ChecklistVersion) -> list[Problem]:
    """Every problem that stops the version from being published."""
    from .fileformat import export_doc

    return validate_doc(export_doc(version), known_dimensions())


def publish_checked(version: ChecklistVersion, user=None) -> ChecklistVersion:
    """Validate, then publish; ``ValidationFailed`` lists every problem."""
    _require_draft(version)
    _check(problems_of(version))
    return publish(version, user)


def new_draft(version: ChecklistVersion) -> ChecklistVersion:
    """"Edit" of a published (or retired) checklist: a new draft copied from ``version``.

    When the checklist already has a draft, that draft is returned instead.
    """
    from .fileformat import export_doc

    checklist = version.checklist
    existing = next((v for v in checklist.versions if v.status == "draft"), None)
    if existing is not None:
        return existing
    draft = build_version(export_doc(version), checklist)
    db.session.expire(checklist, ["versions"])
    return draft


def retire(version: ChecklistVersion) -> ChecklistVersion:
    """No new visits may use the version; it stays readable."""
    if version.status != "published":
        raise NotAllowed(_("Only a published version can be retired."))
    version.status = "retired"
    version.retired_at = utcnow()
    db.session.flush()
    return version


def add_dimension(code: str, name: dict) -> Dimension:
    code = (code or "").strip()
    if not KEY_RE.match(code):
        raise DomainError(_("A code is 1 to 64 lowercase letters, digits or _."), field="code")
    if db.session.get(Dimension, code) is not None:
        raise DomainError(_("A dimension with this code already exists."), field="code")
    name = {k: (v or "").strip() for k, v in name.items() if k in ("en", "fi")}
    if not any(name.values()):
        raise DomainError(_("Give the name in Finnish or English."), field="name_en")
    if any(len(v) > 120 for v in name.values()):
        raise DomainError(_("At most %(max)d characters.", max=120), field="name_en")
    dimension = Dimension(code=code, name=name, builtin=False, position=100)
    db.session.add(dimension)
    db.session.flush()
    return dimension
