"""Visits: list (filters, ``updated_since``, cursor), get, create, reassign, cancel."""

from __future__ import annotations

from datetime import UTC

from flask_login import current_user
from sqlalchemy import false, select

from ..accounts.models import Client, User
from ..checklists.models import ChecklistVersion
from ..core.access import authenticated, get_for_client, roles
from ..core.errors import NotAllowed
from ..core.models import db
from ..visits import bulk, operations
from ..visits.models import ClientChannel, Location, Visit
from .blueprint import blp
from .pagination import page
from .schemas import CancelIn, ReassignIn, VisitFilters, VisitIn, VisitOut, VisitPage


def visible_visits(user):
    """The visits ``user`` may see, as ``Visit.visible_to`` decides for one (SQL for the list)."""
    stmt = select(Visit)
    if user.is_admin:
        return stmt
    if user.is_evaluator:
        return stmt.where(Visit.evaluator_id == user.id)
    if user.is_client and user.client_id is not None:
        return stmt.where(Visit.client_id == user.client_id, Visit.status == "approved",
                          Visit.calibration.is_(False))
    return stmt.where(false())


def visit_out(visit: Visit) -> dict:
    data = {name: getattr(visit, name) for name in VisitOut().fields}
    if not current_user.is_admin:
        data["evaluator_id"] = None  # a client never learns who the evaluator was
    if not (current_user.is_admin or visit.evaluator_id == current_user.id):
        data.pop("scenario", None)
    return data


def _naive_utc(moment):
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


@blp.route("/visits", methods=["GET"])
@authenticated
@blp.arguments(VisitFilters, location="query", as_kwargs=True)
@blp.response(200, VisitPage)
def list_visits(cursor, limit, client_id, status, channel, location_id, wave_id, updated_since):
    """Visits the caller may see, oldest id first, a page at a time."""
    stmt = visible_visits(current_user)
    for column, value in ((Visit.client_id, client_id), (Visit.status, status), (Visit.channel, channel),
                          (Visit.location_id, location_id), (Visit.wave_id, wave_id)):
        if value is not None:
            stmt = stmt.where(column == value)
    if updated_since is not None:
        stmt = stmt.where(Visit.updated_at >= _naive_utc(updated_since))
    rows, next_cursor = page(stmt, Visit.id, cursor, limit)
    return {"items": [visit_out(v) for v in rows if v.visible_to(current_user)], "next_cursor": next_cursor}


@blp.route("/visits/<int:visit_id>", methods=["GET"])
@authenticated
@blp.response(200, VisitOut)
def get_visit(visit_id: int):
    return visit_out(get_for_client(Visit, visit_id))


def _optional(model, object_id):
    return get_for_client(model, object_id) if object_id else None


@blp.route("/visits", methods=["POST"])
@roles("admin")
@blp.arguments(VisitIn)
@blp.response(201, VisitOut)
def create_visit(data):
    """Assign a visit, as the visits page does."""
    visit = operations.create_visit(
        client=get_for_client(Client, data["client_id"]),
        channel=data["channel"],
        version=db.session.get(ChecklistVersion, data["checklist_version_id"]),
        evaluator=db.session.get(User, data["evaluator_id"]),
        due_from=data["due_from"], due_to=data["due_to"],
        location=_optional(Location, data["location_id"]),
        client_channel=_optional(ClientChannel, data["client_channel_id"]),
        scenario=data["scenario"],
    )
    return visit_out(visit)


@blp.route("/visits/<int:visit_id>/reassign", methods=["POST"])
@roles("admin")
@blp.arguments(ReassignIn)
@blp.response(200, VisitOut)
def reassign_visit(data, visit_id: int):
    """Give a visit nobody has started to another evaluator."""
    visit = get_for_client(Visit, visit_id, lock=True)
    result = bulk.apply("reassign", [visit], evaluator=db.session.get(User, data["evaluator_id"]), user=current_user)
    if not result.changed:
        raise NotAllowed(result.messages()[-1][1])
    return visit_out(visit)


@blp.route("/visits/<int:visit_id>/cancel", methods=["POST"])
@roles("admin")
@blp.arguments(CancelIn)
@blp.response(200, VisitOut)
def cancel_visit(data, visit_id: int):
    """Cancel a visit that is not submitted, through the status machine."""
    visit = get_for_client(Visit, visit_id, lock=True)
    operations.transition(visit, "cancelled", user=current_user, action="cancelled", comment=data["comment"])
    return visit_out(visit)
