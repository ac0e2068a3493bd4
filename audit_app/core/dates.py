"""Dates and times as the user reads them, in their language (Flask-Babel): ``24.11.2026`` in
Finnish, ``Nov 24, 2026`` in English. Exports keep ISO dates; these are for pages only.

Registered as Jinja globals and filters beside the labels (``core.labels``): ``day``,
``moment`` and ``day_range``.
"""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import format_date, format_time


def day(value: date | datetime | None) -> str:
    """A date (or the date of a datetime) in the user's locale; nothing as ''."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.date()
    return format_date(value, "medium")


def moment(value: datetime | None) -> str:
    """A date and time (minutes) in the user's locale: ``24.11.2026 14.05`` / ``Nov 24, 2026 2:05 PM``."""
    if value is None:
        return ""
    return f"{format_date(value, 'medium')} {format_time(value, 'short')}"


def day_range(start: date | None, end: date | None) -> str:
    """Two dates as a window, ``1.9.2026 – 30.11.2026``; one date when both are the same."""
    if start is None or end is None or start == end:
        return day(start or end)
    return f"{day(start)} – {day(end)}"


TEMPLATE_HELPERS = {"day": day, "moment": moment, "day_range": day_range}
