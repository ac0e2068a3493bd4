"""Evidence integrity: when a photo was taken, judged against the visit window (DESIGN section 4).

A photo is *in the visit window* when it was captured between 15 minutes before the visit was
started and its submission (or now, while it is not submitted). The capture time comes from the
original file's metadata: read by the server from an unscaled file, or by the browser from the
original before it scaled the photo (and sent with the upload as ``captured_at``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask_babel import format_timedelta
from flask_babel import gettext as _

from ..core.models import utcnow

GRACE = timedelta(minutes=15)
#: a browser-sent capture time further than this in the future, or before this year, is not believed
FUTURE_SLACK = timedelta(days=1)
EARLIEST = datetime(2000, 1, 1)


def parse_browser_time(raw: str | None, now: datetime | None = None) -> datetime | None:
    """The ``captured_at`` field the browser sends (ISO 8601 with its offset or ``Z``) as naive UTC.

    Anything else (empty, not a time, no offset, impossible) is None: a photo is never refused for
    it, it is shown as having no capture time."""
    raw = (raw or "").strip()
    if not raw or len(raw) > 40:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if value.tzinfo is None:
        return None
    value = value.astimezone(UTC).replace(tzinfo=None)
    now = now or utcnow()
    if value < EARLIEST or value > now + FUTURE_SLACK:
        return None
    return value


def window_state(captured_at: datetime | None, started_at: datetime | None,
                 submitted_at: datetime | None, now: datetime | None = None) -> tuple[str, timedelta | None]:
    """``("in" | "before" | "after" | "unknown" | "not_started", how far outside)``."""
    if captured_at is None:
        return "unknown", None
    if started_at is None:
        return "not_started", None
    opens = started_at - GRACE
    closes = submitted_at or now or utcnow()
    if captured_at < opens:
        return "before", started_at - captured_at
    if captured_at > closes:
        return "after", captured_at - closes
    return "in", None


def window_flag(captured_at, started_at, submitted_at, now=None) -> dict:
    """Plain data for a page or a PDF: ``{"state", "flagged", "text"}`` in the user's language."""
    state, distance = window_state(captured_at, started_at, submitted_at, now)
    if state == "unknown":
        text = _("No capture time: the photo carries none, so it cannot be checked against the visit.")
    elif state == "not_started":
        text = _("The visit has not been started, so the capture time cannot be checked yet.")
    elif state == "before":
        text = _("Taken %(d)s before the visit started", d=format_timedelta(distance, threshold=1.0))
    elif state == "after":
        text = _("Taken %(d)s after the visit was submitted", d=format_timedelta(distance, threshold=1.0))
    else:
        text = _("Taken during the visit")
    return {"state": state, "flagged": state in ("before", "after", "unknown"), "text": text}
