"""Reads for locations, client channels and visits, and the choices of channels and statuses
(their labels are in ``core.labels``)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Select, case, select
from sqlalchemy.orm import selectinload

from ..accounts.models import Client, User
from ..checklists.models import ChecklistVersion, tr
from ..core.labels import CHANNEL_LABELS, VISIT_STATUS_LABELS, channel_label, visit_status_label  # noqa: F401
from ..core.models import db
from .models import CHANNELS, STATUSES, ClientChannel, Location, Visit, Wave

#: the statuses an evaluator still sees in "My visits"
OPEN_STATUSES = ("assigned", "in_progress", "submitted", "returned")
#: visits whose work is over
CLOSED_STATUSES = ("approved", "rejected", "cancelled")


status_label = visit_status_label  # the operations' name for it


def channel_choices() -> list[tuple[str, object]]:
    return [(code, CHANNEL_LABELS[code]) for code in CHANNELS]


def status_choices() -> list[tuple[str, object]]:
    return [(code, VISIT_STATUS_LABELS[code]) for code in STATUSES]


# --- locations and channels -----------------------------------------------------------------


def locations_for_client(client_id: int, active_only: bool = False) -> list[Location]:
    stmt = select(Location).where(Location.client_id == client_id)
    if active_only:
        stmt = stmt.where(Location.active.is_(True))
    return list(db.session.scalars(stmt.order_by(Location.active.desc(), Location.name, Location.id)))


def client_channels(client_id: int, active_only: bool = False) -> list[ClientChannel]:
    order = case({code: i for i, code in enumerate(CHANNELS)}, value=ClientChannel.channel, else_=len(CHANNELS))
    stmt = select(ClientChannel).where(ClientChannel.client_id == client_id)
    if active_only:
        stmt = stmt.where(ClientChannel.active.is_(True))
    return list(db.session.scalars(stmt.order_by(ClientChannel.active.desc(), order, ClientChannel.label)))


def clients_overview() -> list[tuple[Client, int, int]]:
    """Every client with its number of active locations and active channels."""
    clients = list(db.session.scalars(select(Client).order_by(Client.name)))
    loc_counts = dict(db.session.execute(
        select(Location.client_id, db.func.count()).where(Location.active.is_(True)).group_by(Location.client_id)
    ).all())
    ch_counts = dict(db.session.execute(
        select(ClientChannel.client_id, db.func.count())
        .where(ClientChannel.active.is_(True)).group_by(ClientChannel.client_id)
    ).all())
    return [(c, loc_counts.get(c.id, 0), ch_counts.get(c.id, 0)) for c in clients]


def published_versions() -> list[ChecklistVersion]:
    return list(db.session.scalars(
        select(ChecklistVersion).where(ChecklistVersion.status == "published").order_by(ChecklistVersion.id.desc())
    ))


def version_label(version: ChecklistVersion, language: str) -> str:
    return f"{tr(version.title, language)} · v{version.number}"


def active_evaluators() -> list[User]:
    return list(db.session.scalars(
        select(User).where(User.role == "evaluator", User.active.is_(True)).order_by(User.name, User.id)
    ))


# --- visits -----------------------------------------------------------------------------------


def _with_relations(stmt: Select) -> Select:
    return stmt.options(
        selectinload(Visit.client), selectinload(Visit.location), selectinload(Visit.client_channel),
        selectinload(Visit.evaluator), selectinload(Visit.wave),
    )


def filter_visits(
    *,
    client_id: int | None = None,
    status: str | None = None,
    evaluator_id: int | None = None,
    wave_id: int | None = None,
    due_from: date | None = None,
    due_to: date | None = None,
) -> Select:
    """Visits matching the filters: open visits first, soonest due first; then the closed ones
    (approved, rejected), latest due first. ``due_from``/``due_to`` bound the due date (the end of
    the visit's due window). Returns a statement to paginate."""
    stmt = select(Visit)
    if client_id:
        stmt = stmt.where(Visit.client_id == client_id)
    if status:
        stmt = stmt.where(Visit.status == status)
    if evaluator_id:
        stmt = stmt.where(Visit.evaluator_id == evaluator_id)
    if wave_id:
        stmt = stmt.where(Visit.wave_id == wave_id)
    if due_from:
        stmt = stmt.where(Visit.due_to >= due_from)
    if due_to:
        stmt = stmt.where(Visit.due_to <= due_to)
    closed = Visit.status.in_(CLOSED_STATUSES)
    open_due = case((closed, None), else_=Visit.due_to)  # NULL for closed visits: ordered by the next key
    return _with_relations(stmt.order_by(case((closed, 1), else_=0), open_due, Visit.due_to.desc(), Visit.id))


def visit_page(page: int = 1, per_page: int = 50, **filters):
    """One page of ``filter_visits`` (Flask-SQLAlchemy pagination; a page past the end is empty)."""
    return db.paginate(filter_visits(**filters), page=page, per_page=per_page, error_out=False, max_per_page=200)


def visits_for_evaluator(user: User) -> list[Visit]:
    """The evaluator's visits not yet approved or rejected, most urgent first: returned ones,
    then those to do (assigned, in progress) by due date, then submitted ones waiting for review."""
    urgency = case({"returned": 0, "in_progress": 1, "assigned": 1, "submitted": 2}, value=Visit.status, else_=3)
    stmt = (
        select(Visit)
        .where(Visit.evaluator_id == user.id, Visit.status.in_(OPEN_STATUSES))
        .order_by(urgency, Visit.due_to, Visit.due_from, Visit.id)
    )
    return list(db.session.scalars(_with_relations(stmt)))


def waves(client_id: int | None = None) -> list[Wave]:
    """Waves to filter the visits list by (one client's when chosen), newest first."""
    stmt = select(Wave)
    if client_id:
        stmt = stmt.where(Wave.client_id == client_id)
    return list(db.session.scalars(stmt.order_by(Wave.period_start.desc(), Wave.id.desc())))


def visits_by_ids(ids) -> list[Visit]:
    """The visits with these ids (unknown ids left out), in id order, with what the list shows."""
    ids = sorted(set(ids))
    if not ids:
        return []
    return list(db.session.scalars(_with_relations(select(Visit).where(Visit.id.in_(ids)).order_by(Visit.id))))


def wave_visit_count(wave_id: int) -> int:
    return db.session.scalar(select(db.func.count()).select_from(Visit).where(Visit.wave_id == wave_id)) or 0
