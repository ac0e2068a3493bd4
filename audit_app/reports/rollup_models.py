"""Rollups: the approved visits' figures summed per client, day or month, location, channel and version.

Three tables share one key (``client_id``, ``grain``, ``day``, ``location_key``, ``channel``,
``version_id``): ``grain`` is ``"d"`` for one day (``day`` is that day) or ``"m"`` for a calendar
month (``day`` is its first day). ``location_key`` is the location's id, 0 for a visit without
one (phone, chat, ...), so the key has no NULL and stays unique. Every row holds sums and counts,
never means: a figure is Σ sum / Σ n over the rows a period covers, exact whatever the grouping.

Each table holds three levels of the same figures: the fine rows (a location's id, or 0, and a channel;
``grain`` "d" or "m"), every location's total per channel (``location_key`` = ``ALL_LOCATIONS``, -1;
``grain`` "cd" or "cm") and every channel's total per location (``channel`` = ``ALL_CHANNELS``, "*";
``grain`` "ld" or "lm"). The level is in ``grain`` so that the (client, grain, day) index reaches
exactly the rows of one level, and the planner's statistics of ``grain`` count them. A reader takes
the coarsest level its filters and grouping allow (``queries.rollup_reads.conditions``): a client-wide
dashboard of five years reads a few hundred rows per table instead of one per place, channel and month.

Kept by ``reports.rollups`` in the transaction that approves a visit, changes its stored scores
or takes it out of ``approved``; ``flask reports rebuild-rollups`` rebuilds them from the visits.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..core.models import db

KEY = ("client_id", "grain", "day", "location_key", "channel", "version_id")
#: ``location_key`` of the rows that total every location (per channel)
ALL_LOCATIONS = -1
#: ``channel`` of the rows that total every channel (per location)
ALL_CHANNELS = "*"
#: the prefix of ``grain`` of each level's rows ("d"/"m" fine, "cd"/"cm" per channel, "ld"/"lm" per location)
FINE, PER_CHANNEL, PER_LOCATION = "", "c", "l"


class _Key:
    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column()
    grain: Mapped[str] = mapped_column(String(2))  # "d" day, "m" month; a total's level first (FINE, ...)
    day: Mapped[date]
    location_key: Mapped[int] = mapped_column()  # the location's id; 0: no location
    channel: Mapped[str] = mapped_column(String(16))
    version_id: Mapped[int] = mapped_column()


class VisitRollup(_Key, db.Model):
    """Visits, Σ overall score, visits with a critical failure."""

    __tablename__ = "rollup_visits"
    __table_args__ = (UniqueConstraint(*KEY, name="uq_rollup_visits_key"),
                      Index("ix_rollup_visits_client_grain_day", "client_id", "grain", "day"),
                      Index("ix_rollup_visits_client_location", "client_id", "grain", "location_key", "day"))

    visits: Mapped[int] = mapped_column(default=0)
    score_sum: Mapped[float] = mapped_column(default=0.0)
    critical: Mapped[int] = mapped_column(default=0)


class ScoreRollup(_Key, db.Model):
    """Per dimension (built-in and custom, ``kind="dimension"``) or section (``kind="section"``, by key):
    how many visits have a score and its Σ."""

    __tablename__ = "rollup_scores"
    __table_args__ = (UniqueConstraint(*KEY, "kind", "code", name="uq_rollup_scores_key"),
                      Index("ix_rollup_scores_client_grain_day", "client_id", "grain", "day"),
                      Index("ix_rollup_scores_client_location", "client_id", "grain", "location_key", "day"))

    kind: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(64))
    n: Mapped[int] = mapped_column(default=0)
    total: Mapped[float] = mapped_column(default=0.0)


class QuestionRollup(_Key, db.Model):
    """Per question: answers that counted (included), Σ their fractions, failed answers."""

    __tablename__ = "rollup_questions"
    __table_args__ = (UniqueConstraint(*KEY, "question_id", name="uq_rollup_questions_key"),
                      Index("ix_rollup_questions_client_grain_day", "client_id", "grain", "day"),
                      Index("ix_rollup_questions_client_location", "client_id", "grain", "location_key", "day"))

    question_id: Mapped[int] = mapped_column()
    included: Mapped[int] = mapped_column(default=0)
    fraction_sum: Mapped[float] = mapped_column(default=0.0)
    failed: Mapped[int] = mapped_column(default=0)
