"""Bulk actions on visits an admin selected in the visits list: reassign to another evaluator,
change the due window, cancel.

Each visit is changed only when its status allows the action; the others are left as they
were and counted by status, so the admin is told exactly what happened. Operations flush,
never commit. Cancelling goes through the status machine (``operations.transition``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from flask_babel import ngettext

from ..accounts.models import User
from ..core.errors import DomainError
from ..core.models import db
from .models import Visit
from .operations import _check_evaluator, _check_window, transition
from .queries import status_label

ACTIONS = ("reassign", "window", "cancel")
#: the statuses in which each action may change a visit
ALLOWED: dict[str, tuple[str, ...]] = {
    "reassign": ("assigned",),  # once started, the answers are the evaluator's own
    "window": ("assigned", "in_progress", "returned"),
    "cancel": ("assigned", "in_progress", "returned"),
}
MAX_VISITS = 200


@dataclass
class BulkResult:
    action: str
    changed: list[Visit] = field(default_factory=list)
    refused: Counter = field(default_factory=Counter)  # status -> how many were left as they were

    def messages(self) -> list[tuple[str, str]]:
        """What happened, as (flash category, sentence) pairs in the user's language."""
        n = len(self.changed)
        done = {
            "reassign": ngettext("%(num)d visit was reassigned.", "%(num)d visits were reassigned.", n),
            "window": ngettext("The due window of %(num)d visit was changed.",
                               "The due window of %(num)d visits was changed.", n),
            "cancel": ngettext("%(num)d visit was cancelled.", "%(num)d visits were cancelled.", n),
        }[self.action]
        out = [("success" if n else "warning", done)]
        for status, count in sorted(self.refused.items()):
            out.append(("warning", ngettext(
                "%(num)d visit was “%(status)s” and was left as it was.",
                "%(num)d visits were “%(status)s” and were left as they were.",
                count, status=status_label(status),
            )))
        return out


def apply(action: str, visits: list[Visit], *, evaluator: User | None = None,
          due_from: date | None = None, due_to: date | None = None, user: User | None = None) -> BulkResult:
    """Apply ``action`` to each of ``visits`` whose status allows it; raises ``DomainError`` (400,
    nothing changed) for a missing choice, an evaluator who is not active or a window that ends
    before it starts."""
    if action not in ACTIONS:
        raise DomainError(_("Choose what to do with the selected visits."), field="action")
    if not visits:
        raise DomainError(_("Select at least one visit."), field="visit_ids")
    if len(visits) > MAX_VISITS:
        raise DomainError(_("Select at most %(max)d visits at a time.", max=MAX_VISITS), field="visit_ids")
    if action == "reassign":
        _check_evaluator(evaluator)
    elif action == "window":
        _check_window(due_from, due_to)
    result = BulkResult(action)
    for visit in visits:
        if visit.status not in ALLOWED[action]:
            result.refused[visit.status] += 1
            continue
        if action == "reassign":
            visit.evaluator_id = evaluator.id
        elif action == "window":
            visit.due_from, visit.due_to = due_from, due_to
        else:
            transition(visit, "cancelled", user=user, action="cancelled")
        result.changed.append(visit)
    db.session.flush()
    return result
