"""Charts for reports: SVG drawn by matplotlib (Agg backend), never hand-made SVG strings."""

from __future__ import annotations

import io
from functools import lru_cache

import matplotlib

matplotlib.use("Agg")

from matplotlib import pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

ACCENT = "#1f5f8b"
GRADE_COLOURS = {"excellent": "#1e6b3a", "good": "#1f5f8b", "needs_improvement": "#8a5a00", "poor": "#a4262c"}
_plt = plt  # keep pyplot imported so the Agg backend is fixed before any Figure is drawn



def _svg_text(fig: Figure) -> str:
    """The figure as a standalone SVG document: text kept as text (selectable, small), no date metadata."""
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "font.family": "DejaVu Sans", "svg.hashsalt": "report"}):
        # margins are set by the charts themselves: bbox_inches="tight" would draw every chart twice
        fig.savefig(buf, format="svg", metadata={"Date": None})
    return buf.getvalue()


def _literal(text) -> str:
    """User text for matplotlib: a ``$`` would start mathtext (and ``$\\x$`` fail the whole report)."""
    return str(text or "").replace("$", r"\$")


PHONE_WIDTH = 3.4  # inches: drawn at about its own size on a 360 px screen, so 9 pt text stays 9 pt


#: drawings kept per process, by everything they show: a dashboard viewed again with the same figures (the
#: figures change only when a visit is approved or withdrawn) is not drawn again
CACHED_DRAWINGS = 128


def dimension_chart(dimensions: list[dict], title: str = "", width: float = 6.4, compact: bool = False) -> str:
    """Horizontal bars of the dimension scores (``_dimension_chart``), drawn once per distinct content."""
    items = tuple((str(d["name"]), d["score"], str(d["display"]), d.get("grade_class")) for d in dimensions)
    return _dimension_chart(items, str(title or ""), width, compact)


def trend_chart(points: list[dict], width: float = 6.4, compact: bool = False) -> str:
    """Mean score per month as a line (``_trend_chart``), drawn once per distinct content."""
    items = tuple((str(p.get("label") or p["month"]), p["score"], str(p["display"])) for p in points)
    return _trend_chart(items, width, compact)


@lru_cache(maxsize=CACHED_DRAWINGS)
def _dimension_chart(items: tuple, title: str, width: float, compact: bool) -> str:
    """Horizontal bars of the dimension scores (0..100) coloured by grade, labelled with the figure (SVG).

    ``compact`` draws it for a phone: narrow, each dimension's name above its bar instead of beside it.

    The axes' own tick machinery (a tick object per mark, each laid out twice) was two thirds of the
    drawing time, so the axes are switched off and the scale (grid, base lines, the 0-100 marks) and the
    names are drawn as plain lines and texts of the same axes.
    """
    dims = [{"name": n, "score": score, "display": disp, "grade_class": grade}
            for n, score, disp, grade in items][::-1]  # barh draws bottom-up; the first dimension goes on top
    n = max(len(dims), 1)
    if compact:
        width = PHONE_WIDTH
    step = 0.62 if compact else 0.45  # inches per dimension
    height = step * n + 0.75
    fig = Figure(figsize=(width, height))
    names = [_literal(d["name"]) for d in dims]
    if compact:
        fig.subplots_adjust(left=0.12 / width, right=0.97, bottom=0.32 / height,
                            top=1 - (0.34 if title else 0.08) / height)
    else:
        left = 0.2 + 0.075 * max((len(name) for name in names), default=4)  # inches for the names at 9 pt
        fig.subplots_adjust(left=min(left, width / 2) / width, right=0.98, bottom=0.32 / height,
                            top=1 - (0.34 if title else 0.08) / height)
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.set_xlim(0, 110 if not compact else 114)
    ax.set_ylim(-0.5, n - 0.5 + (0.25 if compact else 0))
    marks = (0, 25, 50, 75, 90, 100) if not compact else (0, 50, 75, 100)
    top = n - 0.5
    ax.vlines(marks[1:], -0.5, top, colors="#e3e6e8", linewidth=0.6, zorder=0)
    ax.vlines([0], -0.5, top, colors="#1d2327", linewidth=0.8, zorder=3)
    ax.hlines([-0.5], 0, 110, colors="#1d2327", linewidth=0.8, zorder=3)
    values = [d["score"] or 0 for d in dims]
    colours = [GRADE_COLOURS.get(d.get("grade_class"), "#4a5560") for d in dims]
    bar_height = 0.34 if compact else 0.6
    offset = -0.12 if compact else 0.0  # compact: the bar sits low in its row, its name above it
    ax.barh([y + offset for y in range(len(dims))], values, color=colours, height=bar_height, zorder=2)
    for y, (name, d, value) in enumerate(zip(names, dims, values, strict=True)):
        if compact:
            ax.text(0.5, y + 0.1, name, ha="left", va="bottom", fontsize=9, color="#333")
        else:
            ax.text(-1.5, y, name, ha="right", va="center", fontsize=9, color="#444")
        label = d["display"] if d["score"] is not None else "–"
        ax.text(min(value + 1.5, 101), y + offset, label, va="center", fontsize=9, color="#1d2327")
    for mark in marks:
        ax.text(mark, -0.62, str(mark), ha="center", va="top", fontsize=9, color="#444")
    if title:
        ax.text(0, 1.0, _literal(title), transform=ax.transAxes, ha="left", va="bottom", fontsize=10)
    return _svg_text(fig)


@lru_cache(maxsize=CACHED_DRAWINGS)
def _trend_chart(items: tuple, width: float, compact: bool) -> str:
    """Mean score per month as a line (SVG). A point's x label is its ``label`` (the month in the
    reader's language) or its ``month`` key; ``compact`` draws it for a phone."""
    points = [{"label": label, "score": score, "display": disp} for label, score, disp in items]
    if compact:
        width = PHONE_WIDTH
    height = 2.4 if compact else 2.2
    many = len(points) > (4 if compact else 8)
    bottom = (0.62 if compact and many else 0.3) / height
    fig = Figure(figsize=(width, height))
    fig.subplots_adjust(left=0.45 / width, right=0.97, bottom=bottom, top=1 - 0.14 / height)
    ax = fig.add_subplot()
    xs = list(range(len(points)))
    ys = [p["score"] for p in points]
    ax.plot(xs, ys, marker="o", color=ACCENT, linewidth=1.8)
    for x, y, p in zip(xs, ys, points, strict=True):
        ax.annotate(p["display"], (x, y), textcoords="offset points", xytext=(0, 6), ha="center",
                    fontsize=8)
    ax.set_ylim(0, 105)
    ax.set_xlim(-0.5, max(len(points) - 0.5, 0.5))
    ax.set_xticks(xs, [_literal(p["label"]) for p in points])
    ax.tick_params(labelsize=8, colors="#444")
    if compact and many:
        ax.tick_params(axis="x", labelsize=8, labelrotation=60)
        for label in ax.get_xticklabels():
            label.set_horizontalalignment("right")
            label.set_rotation_mode("anchor")
    else:
        ax.tick_params(axis="x", labelsize=7 if many else 8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.grid(axis="y", color="#e3e6e8", linewidth=0.6)
    return _svg_text(fig)
