"""Agreement and drift statistics (pure: no database, no Flask).

Krippendorff's alpha with the interval metric over answer fractions (DESIGN section 4,
calibration), computed by the ``krippendorff`` library; missing values (hidden, na,
unanswered) are ``None``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import krippendorff
import numpy as np

RELIABLE, TENTATIVE = 0.80, 0.667


def alpha(matrix: list[list[float | None]]) -> float | None:
    """Alpha of a raters × units matrix, or None when it is undefined (fewer than two pairable
    values, or no variation at all: nothing to agree or disagree about)."""
    data = np.array([[np.nan if v is None else float(v) for v in row] for row in matrix], dtype=float)
    if data.size == 0:
        return None
    pairable = (np.sum(~np.isnan(data), axis=0) >= 2)
    values = data[:, pairable]
    values = values[~np.isnan(values)]
    if values.size < 2 or np.unique(values).size < 2:
        return None
    return float(krippendorff.alpha(reliability_data=data, level_of_measurement="interval"))


def band(value: float | None) -> str | None:
    """``reliable`` (α ≥ 0.80), ``tentative`` (0.667 ≤ α < 0.80) or ``unreliable``."""
    if value is None:
        return None
    if value >= RELIABLE:
        return "reliable"
    if value >= TENTATIVE:
        return "tentative"
    return "unreliable"


def disagreement(values: list[float | None]) -> float | None:
    """Mean absolute difference between every pair of given values (0..1), or None under two values."""
    given = [v for v in values if v is not None]
    if len(given) < 2:
        return None
    pairs = [(a, b) for i, a in enumerate(given) for b in given[i + 1:]]
    return sum(abs(a - b) for a, b in pairs) / len(pairs)


# --- drift --------------------------------------------------------------------------------

#: two-sided 95 % quantiles of Student's t by degrees of freedom (1..30); beyond, 1.96
_T95 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
        2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
        2.045, 2.042]
DRIFT_FLAG = 10.0


def t95(df: int) -> float:
    return _T95[df - 1] if 1 <= df <= len(_T95) else 1.96


@dataclass(frozen=True)
class Drift:
    drift: float
    n: int
    low: float | None
    high: float | None

    @property
    def flagged(self) -> bool:
        """The interval excludes 0 and the drift is at least 10 points."""
        if self.low is None or self.high is None:
            return False
        return (self.low > 0 or self.high < 0) and abs(self.drift) >= DRIFT_FLAG


def drift(differences: list[float]) -> Drift | None:
    """The mean of an evaluator's differences from the reference means, with a 95 % t interval."""
    n = len(differences)
    if n == 0:
        return None
    mean = sum(differences) / n
    if n < 2:
        return Drift(mean, n, None, None)
    sd = math.sqrt(sum((d - mean) ** 2 for d in differences) / (n - 1))
    half = t95(n - 1) * sd / math.sqrt(n)
    return Drift(mean, n, mean - half, mean + half)
