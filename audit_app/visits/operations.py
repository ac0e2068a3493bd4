"""Writes for locations, client channels, visits and waves, and the visit status machine.

Operations flush, never commit; the view (or CLI command) commits. Rule violations raise
``DomainError`` (400) or ``NotAllowed`` (409) with a translated message.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import func, select

from ..accounts.models import Client, User
from ..checklists.models import ChecklistVersion
from ..core.errors import DomainError, NotAllowed
from ..core.models import db, utcnow
from . import presence
from .models import CHANNELS, ClientChannel, Location, Visit, Wave
from .queries import channel_label, status_label
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


# --- locations --------------------------------------------------------------------------------

LOCATION_LIMITS = {"name": 160, "address": 255, "city": 120, "region": 120}


def _no_nul(value) -> str:
    """The text without NUL characters, which no database text column takes (a 500, not a message)."""
    return str(value or "").replace("\x00", "")


def _clean(value) -> str:
    return " ".join(_no_nul(value).split())


def _field_names() -> dict[str, str]:
    return {"name": _("Name"), "address": _("Address"), "city": _("City"), "region": _("Region")}


def _check_location_fields(fields: dict[str, str]) -> None:
    names = _field_names()
    if not fields["name"]:
        raise DomainError(_("The name is required."), field="name")
    for key, limit in LOCATION_LIMITS.items():
        if len(fields[key]) > limit:
            raise DomainError(
                _("%(field)s is too long (at most %(max)d characters).", field=names[key], max=limit), field=key
            )


def _existing_names(client_id: int, exclude_id: int | None = None) -> set[str]:
    stmt = select(func.lower(Location.name)).where(Location.client_id == client_id)
    if exclude_id is not None:
        stmt = stmt.where(Location.id != exclude_id)
    return {n.strip() for n in db.session.scalars(stmt)}


def _location_fields(name, address, city, region) -> dict[str, str]:
    return {"name": _clean(name), "address": _clean(address), "city": _clean(city), "region": _clean(region)}


def create_location(client: Client, *, name: str, address: str = "", city: str = "", region: str = "",
                    lat=None, lon=None) -> Location:
    fields = _location_fields(name, address, city, region)
    _check_location_fields(fields)
    fields["lat"], fields["lon"] = presence.clean_coordinates(lat, lon)
    if fields["name"].lower() in _existing_names(client.id):
        raise DomainError(_("This client already has a location with that name."), field="name")
    location = Location(client_id=client.id, active=True, **fields)
    db.session.add(location)
    db.session.flush()
    return location


def update_location(location: Location, *, name: str, address: str, city: str, region: str, active: bool,
                    lat=None, lon=None) -> Location:
    fields = _location_fields(name, address, city, region)
    _check_location_fields(fields)
    fields["lat"], fields["lon"] = presence.clean_coordinates(lat, lon)
    if fields["name"].lower() in _existing_names(location.client_id, exclude_id=location.id):
        raise DomainError(_("This client already has a location with that name."), field="name")
    for key, value in fields.items():
        setattr(location, key, value)
    location.active = bool(active)
    db.session.flush()
    return location


def set_location_active(location: Location, active: bool) -> Location:
    location.active = active
    db.session.flush()
    return location


# --- CSV import of locations ----------------------------------------------------------------

CSV_MAX_BYTES = 1024 * 1024
CSV_COLUMNS = ("name", "address", "city", "region")
#: accepted header names (English and Finnish)
CSV_HEADER_ALIASES = {
    "name": "name", "nimi": "name",
    "address": "address", "osoite": "address", "katuosoite": "address",
    "city": "city", "kaupunki": "city", "paikkakunta": "city",
    "region": "region", "alue": "region", "maakunta": "region",
    # optional coordinates (the presence check)
    "lat": "lat", "latitude": "lat", "leveys": "lat", "lon": "lon", "lng": "lon", "longitude": "lon", "pituus": "lon",
}


@dataclass
class ImportReport:
    imported: list[Location] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)  # (row number, message)


def read_csv_upload(data: bytes, filename: str = "") -> str:
    """Decode an uploaded locations file or raise ``DomainError`` (400) saying what is wrong."""
    lower = (filename or "").lower()
    if lower and not lower.endswith((".csv", ".txt")):
        raise DomainError(_("The file is not a CSV file. Save the spreadsheet as CSV (UTF-8) and try again."))
    if len(data) > CSV_MAX_BYTES:
        raise DomainError(_("The file is larger than 1 MB. Split it into smaller files."))
    if not data.strip():
        raise DomainError(_("The file is empty."))
    if b"\x00" in data:
        raise DomainError(_("The file is not a CSV file. Save the spreadsheet as CSV (UTF-8) and try again."))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DomainError(_("The file is not in UTF-8. Save it as “CSV UTF-8” and try again.")) from None


def _delimiter(text: str) -> str:
    first = text.lstrip("\r\n").splitlines()[0] if text.strip() else ""
    return ";" if first.count(";") > first.count(",") else ","


def import_locations(client: Client, text: str) -> ImportReport:
    """Import locations from CSV text (a header row, then one location per row).

    Valid rows are imported; each invalid row is reported with its line number and reason.
    A name that already exists for the client (or earlier in the file) is reported, not imported.
    A file without the header raises ``DomainError``.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    header_message = _("The first row must be a header with the columns name, address, city, region.")
    try:
        header = next(reader, None)
        while header is not None and not any(cell.strip() for cell in header):
            header = next(reader, None)
        if header is None:
            raise DomainError(_("The file is empty."))
        columns = [CSV_HEADER_ALIASES.get(cell.strip().lower()) for cell in header]
        if not set(CSV_COLUMNS) <= set(columns) or len([c for c in columns if c]) != len(set(c for c in columns if c)):
            raise DomainError(header_message)
        report = ImportReport()
        seen = {name: 0 for name in _existing_names(client.id)}
        for row in reader:
            number = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) > len(header) and any(cell.strip() for cell in row[len(header):]):
                report.errors.append(
                    (number, _("The row has %(got)d columns; the header has %(want)d.", got=len(row), want=len(header)))
                )
                continue
            values = {col: row[i] for i, col in enumerate(columns) if col and i < len(row)}
            fields = _location_fields(*(values.get(c, "") for c in CSV_COLUMNS))
            try:
                _check_location_fields(fields)
                fields["lat"], fields["lon"] = presence.clean_coordinates(values.get("lat"), values.get("lon"))
            except DomainError as exc:
                report.errors.append((number, exc.message))
                continue
            key = fields["name"].lower()
            if key in seen:
                if seen[key]:
                    message = _("The name “%(name)s” is already on row %(row)d.", name=fields["name"], row=seen[key])
                else:
                    message = _("This client already has a location named “%(name)s”.", name=fields["name"])
                report.errors.append((number, message))
                continue
            seen[key] = number
            location = Location(client_id=client.id, active=True, **fields)
            db.session.add(location)
            report.imported.append(location)
    except csv.Error as exc:
        raise DomainError(_("The file could not be read as CSV: %(reason)s", reason=str(exc))) from None
    db.session.flush()
    return report


# --- client channels --------------------------------------------------------------------------


def _channel_fields(channel: str, label: str, contact: str) -> dict[str, str]:
    if channel not in CHANNELS:
        raise DomainError(_("Choose a channel from the list."), field="channel")
    label, contact = _clean(label), _no_nul(contact).strip()
    if not label:
        raise DomainError(_("The label is required."), field="label")
    if len(label) > 160:
        raise DomainError(_("%(field)s is too long (at most %(max)d characters).", field=_("Label"), max=160),
                          field="label")
    if len(contact) > 255:
        raise DomainError(_("%(field)s is too long (at most %(max)d characters).", field=_("Contact"), max=255),
                          field="contact")
    return {"channel": channel, "label": label, "contact": contact}


def create_client_channel(client: Client, *, channel: str, label: str, contact: str = "") -> ClientChannel:
    row = ClientChannel(client_id=client.id, active=True, **_channel_fields(channel, label, contact))
    db.session.add(row)
    db.session.flush()
    return row


def update_client_channel(row: ClientChannel, *, channel: str, label: str, contact: str, active: bool) -> ClientChannel:
    for key, value in _channel_fields(channel, label, contact).items():
        setattr(row, key, value)
    row.active = bool(active)
    db.session.flush()
    return row


def set_client_channel_active(row: ClientChannel, active: bool) -> ClientChannel:
    row.active = active
    db.session.flush()
    return row


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
    scenario = _no_nul(scenario).strip()
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


def wave_members(location_ids, evaluator_ids) -> tuple[list[Location], list[User]]:
    """The locations and evaluators chosen for a wave, looked up by id: each once, ordered by name
    (the round-robin follows that order). A missing location or user is a ``DomainError``."""
    locations = []
    for location_id in dict.fromkeys(location_ids or ()):
        location = db.session.get(Location, location_id)
        if location is None:
            raise DomainError(_("The location does not exist."), field="location_ids")
        locations.append(location)
    locations.sort(key=lambda loc: (loc.name.lower(), loc.id))
    evaluators = [db.session.get(User, user_id) for user_id in dict.fromkeys(evaluator_ids or ())]
    if any(u is None for u in evaluators):
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
    name = _clean(name)
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
