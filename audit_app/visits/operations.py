"""Writes for visits and waves, and the visit status machine (locations and channels: ``registers``).

Operations flush, never commit; the view (or CLI command) commits. Rule violations raise
``DomainError`` (400) or ``NotAllowed`` (409) with a translated message.
"""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import select

from ..accounts.models import Client, User
from ..checklists.models import ChecklistVersion
from ..core.errors import DomainError, NotAllowed
from ..core.models import db, utcnow
from .models import CHANNELS, ClientChannel, Location, Visit, Wave
from .queries import channel_label, status_label
from .registers import clean_text, no_nul
from .signals import status_changed

# --- the status machine ---------------------------------------------------------------------

#: allowed status changes: from -> the statuses it may become
TRANSITIONS: dict[str, frozenset[str]] = {
    "assigned": frozenset({"in_progress", "cancelled"}),
    "in_progress": frozenset({"submitted", "cancelled"}),
    "submitted": frozenset({"returned", "approved", "rejected"}),
    "returned": frozenset({"submitted", "cancelled"}),
    "approved": frozenset(),
    "rejected": frozenset(),
    "cancelled": frozenset(),  # an admin's bulk action (visits.bulk); never counted anywhere
}


def can_transition(visit: Visit, to: str) -> bool:
    return to in TRANSITIONS.get(visit.status, frozenset())


def check_transition(visit: Visit, to: str) -> None:
    """Raise ``NotAllowed`` (409) unless the visit may go from its status to ``to``."""
    if not can_transition(visit, to):
        raise NotAllowed(
            _(
                "A visit that is “%(current)s” cannot become “%(new)s”.",
                current=status_label(visit.status),
                new=status_label(to),
            ),
            field="status",
        )


def transition(visit: Visit, to: str, *, user=None, action: str = "status", comment: str = "",
               at: datetime | None = None) -> Visit:
    """Check and apply a status change with its timestamps: the only place a visit's status and
    their times change. ``status_changed`` is sent so that the change enters the visit's audit
    trail (``user`` made it; ``action`` and ``comment`` describe it). ``at`` backdates it (demo data).

    ``in_progress`` records the start time and the visit day (the first time only);
    ``submitted`` the submission time; ``returned``/``approved``/``rejected`` the review time;
    ``approved`` the release time.
    """
    check_transition(visit, to)
    now = at or utcnow()
    if to == "in_progress":
        visit.started_at = visit.started_at or now
        visit.visited_on = visit.visited_on or now.date()
    elif to == "submitted":
        visit.submitted_at = now
    if to in ("returned", "approved", "rejected"):
        visit.reviewed_at = now
    if to == "approved":
        visit.approved_at = now
    old, visit.status = visit.status, to
    db.session.flush()
    status_changed.send(visit, old=old, new=to, user=user, action=action, comment=comment, at=now)
    return visit


# --- visits -----------------------------------------------------------------------------------

SCENARIO_MAX = 5000
WAVE_MAX_VISITS = 500


def _check_version(version: ChecklistVersion | None) -> ChecklistVersion:
    if version is None or version.status != "published":
        raise DomainError(_("Choose a published checklist version."), field="checklist_version_id")
    return version


def _check_evaluator(user: User | None) -> User:
    if user is None or user.role != "evaluator" or not user.active:
        raise DomainError(_("Choose an active evaluator."), field="evaluator_id")
    return user


def _check_window(due_from: date | None, due_to: date | None, *, to_field: str = "due_to") -> None:
    if due_from is None or due_to is None:
        raise DomainError(_("Give both dates of the due window."), field=to_field)
    if due_to < due_from:
        raise DomainError(_("The end date cannot be before the start date."), field=to_field)


def _check_scenario(scenario: str) -> str:
    scenario = no_nul(scenario).strip()
    if len(scenario) > SCENARIO_MAX:
        raise DomainError(
            _("%(field)s is too long (at most %(max)d characters).", field=_("Scenario"), max=SCENARIO_MAX),
            field="scenario",
        )
    return scenario


def _check_place(client: Client, channel: str, location: Location | None,
                 client_channel: ClientChannel | None) -> None:
    if channel not in CHANNELS:
        raise DomainError(_("Choose a channel from the list."), field="channel")
    if location is not None and location.client_id != client.id:
        raise DomainError(_("The location belongs to another client."), field="location_id")
    if location is not None and not location.active:
        raise DomainError(_("The location is deactivated."), field="location_id")
    if channel == "in_person" and location is None:
        raise DomainError(_("A visit in person needs a location."), field="location_id")
    if client_channel is not None:
        if client_channel.client_id != client.id:
            raise DomainError(_("The client channel belongs to another client."), field="client_channel_id")
        if client_channel.channel != channel:
            raise DomainError(
                _("The client channel is for “%(channel)s”.", channel=channel_label(client_channel.channel)),
                field="client_channel_id",
            )
        if not client_channel.active:
            raise DomainError(_("The client channel is deactivated."), field="client_channel_id")


def create_visit(
    *,
    client: Client,
    channel: str,
    version: ChecklistVersion | None,
    evaluator: User | None,
    due_from: date | None,
    due_to: date | None,
    location: Location | None = None,
    client_channel: ClientChannel | None = None,
    scenario: str = "",
    wave: Wave | None = None,
) -> Visit:
    _check_place(client, channel, location, client_channel)
    _check_version(version)
    _check_evaluator(evaluator)
    _check_window(due_from, due_to)
    visit = Visit(
        client_id=client.id,
        channel=channel,
        location_id=location.id if location else None,
        client_channel_id=client_channel.id if client_channel else None,
        checklist_version_id=version.id,
        evaluator_id=evaluator.id,
        wave_id=wave.id if wave else None,
        due_from=due_from,
        due_to=due_to,
        scenario=_check_scenario(scenario),
        status="assigned",
    )
    db.session.add(visit)
    db.session.flush()
    return visit


def update_visit(
    visit: Visit,
    *,
    channel: str,
    version: ChecklistVersion | None,
    evaluator: User | None,
    due_from: date | None,
    due_to: date | None,
    location: Location | None = None,
    client_channel: ClientChannel | None = None,
    scenario: str = "",
) -> Visit:
    """Change an assignment; only while the evaluator has not started it."""
    if visit.status != "assigned":
        raise NotAllowed(_("Only a visit that has not been started can be edited."))
    client = db.session.get(Client, visit.client_id)
    _check_place(client, channel, location, client_channel)
    if version is None or version.id != visit.checklist_version_id:
        _check_version(version)
    _check_evaluator(evaluator)
    _check_window(due_from, due_to)
    visit.channel = channel
    visit.location_id = location.id if location else None
    visit.client_channel_id = client_channel.id if client_channel else None
    visit.checklist_version_id = version.id
    visit.evaluator_id = evaluator.id
    visit.due_from, visit.due_to = due_from, due_to
    visit.scenario = _check_scenario(scenario)
    db.session.flush()
    return visit


# --- waves ------------------------------------------------------------------------------------


def _by_ids(model, ids) -> list | None:
    """The rows with these ids, each once, in one statement; None when one of them is missing."""
    wanted = list(dict.fromkeys(ids or ()))
    rows = list(db.session.scalars(select(model).where(model.id.in_(wanted)))) if wanted else []
    return rows if len(rows) == len(wanted) else None


def wave_members(location_ids, evaluator_ids) -> tuple[list[Location], list[User]]:
    """The locations and evaluators chosen for a wave, looked up by id: each once, ordered by name
    (the round-robin follows that order). A missing location or user is a ``DomainError``."""
    locations = _by_ids(Location, location_ids)
    if locations is None:
        raise DomainError(_("The location does not exist."), field="location_ids")
    locations.sort(key=lambda loc: (loc.name.lower(), loc.id))
    evaluators = _by_ids(User, evaluator_ids)
    if evaluators is None:
        raise DomainError(_("Choose an active evaluator."), field="evaluator_ids")
    evaluators.sort(key=lambda u: (u.name.lower(), u.id))
    return locations, evaluators


def wave_plan(channels: list[str], locations: list[Location]) -> list[tuple[Location | None, str]]:
    """The (location, channel) pairs of a wave, in creation order.

    ``in_person`` gets one visit per selected location (and needs at least one). Every other
    channel gets one visit per selected location, or a single visit without a location when no
    location is selected. Locations go in the given order; channels in the order of ``CHANNELS``.
    """
    ordered = [c for c in CHANNELS if c in set(channels)]
    if not ordered:
        raise DomainError(_("Choose at least one channel."), field="channels")
    if "in_person" in ordered and not locations:
        raise DomainError(_("Visits in person need at least one location."), field="location_ids")
    if locations:
        return [(loc, ch) for loc in locations for ch in ordered]
    return [(None, ch) for ch in ordered]


def create_wave(
    *,
    client: Client,
    name: str,
    version: ChecklistVersion | None,
    period_start: date | None,
    period_end: date | None,
    channels: list[str],
    locations: list[Location],
    evaluators: list[User],
    scenario: str = "",
) -> Wave:
    """One visit per planned (location, channel), evaluators assigned round-robin in the given order.

    A channel with exactly one active client channel of that kind gets it attached to its visits.
    """
    name = clean_text(name)
    if not name:
        raise DomainError(_("The name is required."), field="name")
    if len(name) > 160:
        raise DomainError(_("%(field)s is too long (at most %(max)d characters).", field=_("Name"), max=160),
                          field="name")
    _check_version(version)
    _check_window(period_start, period_end, to_field="period_end")
    if not evaluators:
        raise DomainError(_("Choose at least one evaluator."), field="evaluator_ids")
    for evaluator in evaluators:
        _check_evaluator(evaluator)
    for location in locations:
        _check_place(client, "phone", location, None)
    plan = wave_plan(channels, locations)
    if len(plan) > WAVE_MAX_VISITS:
        raise DomainError(
            _("A wave can have at most %(max)d visits; this one would have %(n)d.", max=WAVE_MAX_VISITS, n=len(plan)),
            field="location_ids",
        )
    scenario = _check_scenario(scenario)
    attached: dict[str, ClientChannel | None] = {}
    for channel in {ch for _loc, ch in plan}:
        rows = list(db.session.scalars(select(ClientChannel).where(
            ClientChannel.client_id == client.id, ClientChannel.channel == channel, ClientChannel.active.is_(True)
        )))
        attached[channel] = rows[0] if len(rows) == 1 else None
    wave = Wave(client_id=client.id, name=name, checklist_version_id=version.id,
                period_start=period_start, period_end=period_end)
    db.session.add(wave)
    db.session.flush()
    for i, (location, channel) in enumerate(plan):
        create_visit(
            client=client, channel=channel, version=version, evaluator=evaluators[i % len(evaluators)],
            due_from=period_start, due_to=period_end, location=location,
            client_channel=attached[channel], scenario=scenario, wave=wave,
        )
    return wave
