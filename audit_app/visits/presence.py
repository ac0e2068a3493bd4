"""Presence check (DESIGN section 4, evidence integrity): was the evaluator near the location when
the visit started?

A location may carry coordinates. When a visit at such a location is started, the phone is asked
for its position once; the coordinates are used here to compute the distance and are then
dropped: never stored, never logged. The visit keeps only the distance (rounded to 10 m), the
device's stated accuracy and whether a position was given at all.
"""

from __future__ import annotations

import math

from flask_babel import gettext as _

from ..core.errors import DomainError
from ..core.models import db

EARTH_RADIUS_M = 6_371_008.8
#: a start farther than this plus the stated accuracy is flagged to the reviewer
FLAG_METRES = 300
MAX_ACCURACY_M = 100_000
#: what a visit records about the position at its start
GIVEN, NOT_GIVEN, UNAVAILABLE = "given", "not_given", "unavailable"


def _number(raw, lowest: float, highest: float) -> float | None:
    text = str(raw if raw is not None else "").strip().replace(",", ".")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError from None
    if not math.isfinite(value) or not lowest <= value <= highest:
        raise ValueError
    return value


def clean_coordinates(lat, lon) -> tuple[float | None, float | None]:
    """A location's latitude and longitude from what an admin typed (or a CSV cell): both or neither,
    in range, a decimal comma accepted. ``DomainError`` naming the field otherwise."""
    try:
        latitude = _number(lat, -90, 90)
    except ValueError:
        raise DomainError(_("The latitude must be a number from -90 to 90, for example 60.1699."), field="lat") from None
    try:
        longitude = _number(lon, -180, 180)
    except ValueError:
        raise DomainError(_("The longitude must be a number from -180 to 180, for example 24.9384."),
                          field="lon") from None
    if (latitude is None) != (longitude is None):
        field = "lon" if longitude is None else "lat"
        raise DomainError(_("Give both the latitude and the longitude, or neither."), field=field)
    return latitude, longitude


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def asks_position(visit) -> bool:
    location = visit.location
    return location is not None and location.lat is not None and location.lon is not None


def record_start_position(visit, *, state: str | None, lat=None, lon=None, accuracy=None) -> None:
    """Keep the distance from the visit's location (rounded to 10 m) and the stated accuracy; the
    coordinates themselves go nowhere. A position that is missing or not a real one counts as not
    given (the start is never refused for it)."""
    if not asks_position(visit):
        return
    location = visit.location
    if state == GIVEN:
        try:
            latitude, longitude = _number(lat, -90, 90), _number(lon, -180, 180)
            stated = _number(accuracy, 0, MAX_ACCURACY_M)
        except ValueError:
            latitude = longitude = stated = None
        if latitude is not None and longitude is not None:
            metres = distance_m(latitude, longitude, location.lat, location.lon)
            visit.start_position = GIVEN
            visit.start_distance_m = int(round(metres / 10.0) * 10)
            visit.start_accuracy_m = int(round(stated)) if stated is not None else None
            db.session.flush()
            return
    visit.start_position = UNAVAILABLE if state == UNAVAILABLE else NOT_GIVEN
    visit.start_distance_m = None
    visit.start_accuracy_m = None
    db.session.flush()


def presence_flag(visit) -> dict | None:
    """The review screen's line about the start position, or None when none was asked."""
    if visit.start_position is None:
        return None
    if visit.start_position != GIVEN or visit.start_distance_m is None:
        text = (_("Position not given at the start") if visit.start_position == NOT_GIVEN
                else _("Position not available at the start"))
        return {"flagged": True, "text": text, "state": visit.start_position}
    accuracy = visit.start_accuracy_m or 0
    flagged = visit.start_distance_m > FLAG_METRES + accuracy
    if flagged:
        text = _("Started %(d)s m from the location (accuracy ±%(a)s m): farther than %(limit)s m",
                 d=visit.start_distance_m, a=accuracy, limit=FLAG_METRES)
    else:
        text = _("Started %(d)s m from the location (accuracy ±%(a)s m)", d=visit.start_distance_m, a=accuracy)
    return {"flagged": flagged, "text": text, "state": "far" if flagged else "near"}
