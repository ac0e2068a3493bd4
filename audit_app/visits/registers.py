"""The client's registers: its locations (and their CSV import) and its channels.

Operations flush, never commit; the view (or CLI command) commits. Rule violations raise
``DomainError`` (400) with a translated message.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import func, select

from ..accounts.models import Client
from ..core.errors import DomainError
from ..core.models import db
from . import presence
from .models import CHANNELS, ClientChannel, Location

# --- locations --------------------------------------------------------------------------------

LOCATION_LIMITS = {"name": 160, "address": 255, "city": 120, "region": 120}


def no_nul(value) -> str:
    """The text without NUL characters, which no database text column takes (a 500, not a message)."""
    return str(value or "").replace("\x00", "")


def clean_text(value) -> str:
    """The text without NUL characters, its white space folded."""
    return " ".join(no_nul(value).split())


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
    return {"name": clean_text(name), "address": clean_text(address), "city": clean_text(city), "region": clean_text(region)}


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
    label, contact = clean_text(label), no_nul(contact).strip()
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
