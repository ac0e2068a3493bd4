"""The question-kind registry: what each kind keeps, and how kinds, units and answers read.

The one home of the per-kind fields (the designer, the validator, import and export use
``KIND_FIELDS``), of the labels of kinds, units and photo modes, and of an answer as text
("7 minutes", "Yes", "N/A") wherever one is shown: the review page, the audit trail, reports.
Templates call ``kind_label``, ``unit_label``, ``photo_label``, ``answer_text`` and
``trail_text`` as Jinja globals (registered in the app factory).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..core.labels import labeller
from .logic import form_logic
from .models import tr

#: the question fields each kind stores in ``Question.config`` (beside the common ones)
KIND_FIELDS = {
    "yes_no": ("good_answer",),
    "scale": ("min", "max", "min_label", "max_label"),
    "choice": ("options",),
    "multi": ("options",),
    "number": ("unit", "bands", "above"),
    "date": (),
    "time": (),
    "text": (),
    "photo": (),
}

KIND_LABELS = {
    "yes_no": _l("Yes / no"),
    "scale": _l("Scale"),
    "choice": _l("Choice"),
    "multi": _l("Multiple choice"),
    "number": _l("Number"),
    "date": _l("Date"),
    "time": _l("Time of day"),
    "text": _l("Text"),
    "photo": _l("Photo"),
}

#: one style everywhere: the designer's choice, the evaluator's input and a shown answer
UNIT_LABELS = {
    "minutes": _l("minutes"),
    "hours": _l("hours"),
    "seconds": _l("seconds"),
    "steps": _l("steps"),
    "count": _l("pcs"),
    "days": _l("days"),
}

PHOTO_LABELS = {"none": _l("No photo"), "allowed": _l("Photo allowed"), "required": _l("Photo required")}


kind_label = labeller(KIND_LABELS)
unit_label = labeller(UNIT_LABELS)
photo_label = labeller(PHOTO_LABELS)


def answer_text(kind: str | None, config: Mapping | None, value, na: bool = False,
                language: str | None = None) -> str:
    """An answer as the product shows it: "N/A", "–" when unanswered, "Yes"/"No", a choice's
    label, a multi-select's labels as a list ("Web, Phone"), a scale point with its maximum
    ("4 / 5"), a number with its unit ("7 minutes"), a date or time in the reader's locale."""
    if na:
        return _("N/A")
    if value is None:
        return "–"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    config = config or {}
    if kind == "scale":
        return f"{value} / {config.get('max', 5)}"
    if kind in ("choice", "multi"):
        language = language or str(get_locale() or "fi")
        labels = {o.get("key"): tr(o.get("label"), language) for o in config.get("options", ())}
        if kind == "multi" and isinstance(value, list | tuple):
            return ", ".join(labels.get(v) or str(v) for v in value) or "–"
        return labels.get(value) or str(value)
    if kind in ("date", "time") and isinstance(value, str):
        return _date_or_time(kind, value, language or str(get_locale() or "fi"))
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value))
    if kind == "number" and config.get("unit"):
        return f"{value} {unit_label(config['unit'])}"
    return str(value)


def _date_or_time(kind: str, value: str, language: str) -> str:
    """A stored ``YYYY-MM-DD`` or ``HH:MM`` in the reader's locale ("2.1.2025", "Jan 2, 2025";
    "9.30", "9:30 AM"); a value that does not read as one is shown as it is."""
    from datetime import date, time

    from babel.dates import format_date, format_time

    try:
        if kind == "date":
            return format_date(date.fromisoformat(value), "medium", locale=language)
        return format_time(time.fromisoformat(value), "short", locale=language)
    except (ValueError, LookupError):
        return value


def trail_text(entry) -> str:
    """An audit-trail value: an answer ``{"value": ..., "na": ...}`` as text, else as it is."""
    if isinstance(entry, Mapping):
        return answer_text(None, None, entry.get("value"), bool(entry.get("na")))
    return "–" if entry is None else str(entry)


TEMPLATE_HELPERS: dict[str, Callable] = {
    "kind_label": kind_label,
    "unit_label": unit_label,
    "photo_label": photo_label,
    "answer_text": answer_text,
    "trail_text": trail_text,
    "form_logic": form_logic,
}
