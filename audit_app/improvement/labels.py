"""The words for improvement's codes: action statuses, target met or not. The one home of these labels."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..core.labels import labeller

ACTION_STATUS_LABELS = {
    "open": _l("To do"),
    "in_progress": _l("In progress"),
    "done": _l("Done"),
    "verified": _l("Verified"),
    "reopened": _l("Reopened"),
}

action_status_label = labeller(ACTION_STATUS_LABELS)


def target_state_label(met: bool | None) -> str:
    """Met or not, told by word (the colour comes with it, never alone)."""
    from flask_babel import gettext as _

    if met is None:
        return _("No visits yet")
    return _("Met") if met else _("Not met")


def target_state_class(met: bool | None) -> str:
    return "target-none" if met is None else ("target-met" if met else "target-missed")


TEMPLATE_HELPERS = {"action_status_label": action_status_label, "target_state_label": target_state_label,
                    "target_state_class": target_state_class}
