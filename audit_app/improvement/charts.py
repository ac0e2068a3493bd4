"""The perception gap as a diverging bar chart (matplotlib, as the reports' charts), an SVG data URL."""

from __future__ import annotations

import base64

from matplotlib.figure import Figure

from ..scoring import display

BELIEF_HIGHER = "#a4262c"  # the company believes it is better than customers find it
BELIEF_LOWER = "#1f5f8b"


def _svg(fig: Figure) -> str:
    import io

    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "font.family": "DejaVu Sans", "svg.hashsalt": "gap"}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    return buf.getvalue()


def gap_chart_svg(rows: list[dict], width: float = 6.4) -> str:
    """One bar per dimension (and overall) with a gap: right of zero (red) where belief is higher."""
    rows = [r for r in rows if r["gap"] is not None][::-1]
    n = max(len(rows), 1)
    height = 0.45 * n + 0.8
    fig = Figure(figsize=(width, height))
    names = [str(r["name"]).replace("$", r"\$") for r in rows]
    left = 0.2 + 0.075 * max((len(x) for x in names), default=4)
    fig.subplots_adjust(left=min(left, width / 2) / width, right=0.97, bottom=0.45 / height, top=1 - 0.1 / height)
    ax = fig.add_subplot()
    reach = max([abs(r["gap"]) for r in rows] + [10.0])
    reach = min(100.0, reach * 1.25)
    ax.set_xlim(-reach, reach)
    ax.set_ylim(-0.5, n - 0.5)
    values = [r["gap"] for r in rows]
    ax.barh(range(len(rows)), values, color=[BELIEF_HIGHER if v > 0 else BELIEF_LOWER for v in values], height=0.6)
    ax.axvline(0, color="#1d2327", linewidth=0.8)
    ax.set_yticks(range(len(rows)), names, fontsize=9)
    ax.tick_params(axis="x", labelsize=8)
    for spine in ("top", "right"):
        ax.spines[spine].set_visible(False)
    for y, r in enumerate(rows):
        v = r["gap"]
        ax.text(v + (reach * 0.02 if v >= 0 else -reach * 0.02), y, r["gap_display"], va="center",
                ha="left" if v >= 0 else "right", fontsize=9, color="#1d2327")
    return _svg(fig)


def gap_chart_url(rows: list[dict], language: str) -> str | None:
    if not any(r["gap"] is not None for r in rows):
        return None
    return "data:image/svg+xml;base64," + base64.b64encode(gap_chart_svg(rows).encode()).decode()


__all__ = ["display", "gap_chart_svg", "gap_chart_url"]
