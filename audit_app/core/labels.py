"""The words for the codes every package shows: channels, visit statuses, audit-trail actions.

The one home of these labels: views, forms, reports and templates all ask here (templates
through the Jinja globals and filters that ``install_template_helpers`` registers). The
question-kind labels and an answer as text live beside the kind registry, in
``checklists.kinds``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from flask import Flask
from flask_babel import lazy_gettext as _l

from .dates import TEMPLATE_HELPERS as DATE_HELPERS

CHANNEL_LABELS = {
    "in_person": _l("In person"),
    "phone": _l("Phone"),
    "chat": _l("Chat"),
    "email": _l("Email"),
    "social": _l("Social media"),
    "web": _l("Web self-service"),
}

VISIT_STATUS_LABELS = {
    "assigned": _l("Assigned"),
    "in_progress": _l("In progress"),
    "submitted": _l("Submitted"),
    "returned": _l("Returned"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
    "cancelled": _l("Cancelled"),
}

#: what an audit-trail entry records (``submissions.models.AuditEvent.action``)
TRAIL_ACTION_LABELS = {
    "status": _l("Status changed"),
    "resubmitted": _l("Resubmitted"),
    "returned": _l("Returned"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
    "correction": _l("Correction"),
    "cancelled": _l("Cancelled"),
    "answer_changed": _l("Answer changed by the evaluator"),
    "redaction": _l("Blurred areas of a photo changed"),
}


def labeller(labels: Mapping[str, object]) -> Callable[[str | None], str]:
    """The function that names a code from ``labels``: its label, an unknown code as it is,
    no code as ''."""

    def label(code: str | None) -> str:
        return str(labels.get(code, code or ""))

    return label


channel_label = labeller(CHANNEL_LABELS)
visit_status_label = labeller(VISIT_STATUS_LABELS)
trail_action_label = labeller(TRAIL_ACTION_LABELS)


TEMPLATE_HELPERS: dict[str, Callable] = {
    "channel_label": channel_label,
    "visit_status_label": visit_status_label,
    "trail_action_label": trail_action_label,
    **DATE_HELPERS,  # dates in the user's locale: day, moment, day_range
}


def install_template_helpers(app: Flask, *more: Mapping[str, Callable]) -> None:
    """Make these labels (and ``more`` helpers) callable in every template, as a function
    (``channel_label(code)``) and as a filter (``code|channel_label``)."""
    for helpers in (TEMPLATE_HELPERS, *more):
        app.jinja_env.globals.update(helpers)
        app.jinja_env.filters.update(helpers)
