"""The checklist file format (``docs/checklist-format.md``): export, parse an upload, import.

Export then import gives an identical version: ``export_doc(import_doc(export_doc(v)))`` equals
``export_doc(v)``.
"""

from __future__ import annotations

import json

from flask_babel import gettext as _

from ..core.errors import DomainError
from .kinds import KIND_FIELDS
from .models import ChecklistVersion
from .operations import ValidationFailed, build_version, known_dimensions
from .validation import FORMAT, validate_doc

MAX_UPLOAD_BYTES = 1024 * 1024


def _num(value):
    """Whole floats as ints, so that a weight of 2 is written ``2``, not ``2.0``."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def export_doc(version: ChecklistVersion) -> dict:
    """A version as a checklist document (plain JSON data)."""
    doc: dict = {
        "format": FORMAT,
        "title": dict(version.title or {}),
        "description": dict(version.description or {}),
        "critical_scope": version.critical_scope or "section",
    }
    if version.grade_bands:
        doc["grade_bands"] = [dict(b) for b in version.grade_bands]
    doc["sections"] = [section_doc(s) for s in version.sections]
    return doc


def section_doc(section, with_questions: bool = True) -> dict:
    doc = {
        "key": section.key,
        "title": dict(section.title or {}),
        "dimension": section.dimension,
        "weight": _num(section.weight),
        "guidance": dict(section.guidance or {}),
    }
    if section.condition:
        doc["condition"] = dict(section.condition)
    if with_questions:
        doc["questions"] = [question_doc(q) for q in section.questions]
    return doc


def question_doc(question) -> dict:
    doc = {
        "key": question.key,
        "kind": question.kind,
        "prompt": dict(question.prompt or {}),
        "guidance": dict(question.guidance or {}),
        "weight": _num(question.weight),
        "required": bool(question.required),
        "allow_na": bool(question.allow_na),
        "critical": bool(question.critical),
        "channels": list(question.channels) if question.channels else None,
        "photo": question.photo or "none",
    }
    # the form logic: written only when set, so files of checklists without it stay as they were
    if question.condition:
        doc["condition"] = dict(question.condition)
    if question.unscored:
        doc["unscored"] = True
    if (question.follow_up or "none") != "none":
        doc["follow_up"] = question.follow_up
    config = question.config or {}
    for name in KIND_FIELDS.get(question.kind, ()):
        if name in config:
            doc[name] = config[name]
    return doc


def dumps(doc: dict) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def parse_upload(data: bytes) -> object:
    """Bytes of an uploaded file as JSON data; ``DomainError`` (400) for anything else."""
    if data is None or len(data) == 0:
        raise DomainError(_("The file is empty."), field="file")
    if len(data) > MAX_UPLOAD_BYTES:
        raise DomainError(_("The file is too large: at most 1 MB."), field="file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DomainError(_("The file is not UTF-8 text."), field="file") from exc
    try:
        doc = json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:
        raise DomainError(_("The file is not valid JSON: %(reason)s", reason=str(exc)[:200]), field="file") from exc
    if not isinstance(doc, dict):
        raise DomainError(_("The file must contain one JSON object (a checklist), not a list or a value."),
                          field="file")
    return doc


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not allowed")


def import_doc(doc, checklist=None) -> ChecklistVersion:
    """A new draft version (of a new checklist unless ``checklist`` is given) from a document.

    Raises ``ValidationFailed`` with every problem; nothing is created then.
    """
    problems = validate_doc(doc, known_dimensions())
    if problems:
        raise ValidationFailed(problems)
    return build_version(doc, checklist)
