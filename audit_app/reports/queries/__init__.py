"""Reads of the reports package, by what they serve: plain dicts and dataclasses, never ORM objects.

``base`` (filters, grades, names), ``dashboard`` (the aggregates of a period), ``report_data``
(the four report scopes), ``exports`` (CSV/XLSX rows) and ``generated`` (stored PDFs, scoped to
who may see them). The names the views and operations use are here.
"""

from .base import (
    MAX_PERIOD_DAYS,
    Filters,
    Grader,
    client_name,
    clients,
    default_period,
    dimension_names,
    period_label,
)
from .dashboard import (
    by_channel,
    by_location,
    critical_failures,
    dashboard,
    dimension_heatmap,
    filter_options,
    most_failed,
    overview,
    trend,
    visit_groups,
)
from .exports import export_answers, export_count, export_visits
from .generated import (
    export_jobs,
    generated_conditions,
    generated_reports,
    report_filename,
    report_titles,
    slug,
)
from .report_data import Report, period_report, report_visit_ids, visit_report

__all__ = [
    "MAX_PERIOD_DAYS", "Filters", "Grader", "Report", "by_channel", "by_location", "client_name",
    "clients", "critical_failures", "dashboard", "default_period", "dimension_heatmap", "dimension_names",
    "export_answers", "export_count", "export_jobs", "export_visits", "filter_options", "generated_conditions", "generated_reports",
    "report_filename", "report_titles",
    "slug", "most_failed", "overview", "period_label",
    "period_report", "report_visit_ids", "trend", "visit_groups", "visit_report",
]
