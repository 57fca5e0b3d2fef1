"""Charts as PNG images for Slack uploads (matplotlib, imported only when a chart is drawn).

matplotlib is loaded lazily with the non-interactive Agg backend: processes that never draw
a chart do not pay its memory, and no display is needed.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

from bot.i18n import number, t

SERIES = ("negative", "neutral", "positive", "unknown")
"""The sentiment chart's series, bottom to top."""
WIDTH_PX = 1000
HEIGHT_PX = 500
DPI = 100
COLORS = {"negative": "#d64545", "neutral": "#9aa5b1", "positive": "#2f9e44",
          "unknown": "#d9dde3"}
RC: dict[Any, Any] = {"text.parse_math": False}
"""Matplotlib settings of every chart: a "$" in a watch, member or metric name is text,
never mathtext (which would render "$x$" as maths, or fail on "$\\foo$")."""



def chart_labels(language: str) -> dict[str, dict[str, str]]:
    """Legend labels of the sentiment chart, by series key."""
    return {"series": {key: t(language, f"report.sentiment_{key}") for key in SERIES}}

def render_sentiment_chart(labels: Sequence[str], series: Mapping[str, Sequence[int]], *,
                           title: str, xlabel: str, ylabel: str,
                           legend: Mapping[str, str]) -> bytes:
    """A stacked bar chart of mentions by sentiment per period, as a 1000x500 PNG.

    ``labels`` name the bars (dates); ``series`` maps a sentiment key to one count per bar;
    ``legend`` gives the display name of each key (keys absent from it are not drawn, and
    an all-zero "unknown" series is left out).
    """
    import matplotlib

    matplotlib.use("Agg", force=True)
    with matplotlib.rc_context(RC):
        figure = _sentiment_figure(labels, series, title=title, xlabel=xlabel, ylabel=ylabel,
                                   legend=legend)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _sentiment_figure(labels: Sequence[str], series: Mapping[str, Sequence[int]], *,
                      title: str, xlabel: str, ylabel: str, legend: Mapping[str, str]) -> Any:
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI)
    axes: Any = figure.add_subplot()
    positions = list(range(len(labels)))
    bottoms = [0] * len(labels)
    for key, name in legend.items():
        values = list(series.get(key, [0] * len(labels)))
        if key == "unknown" and not any(values):
            continue
        axes.bar(positions, values, bottom=bottoms, color=COLORS.get(key, "#4c6ef5"),
                 label=name, width=0.75, edgecolor="white", linewidth=0.5)
        bottoms = [low + value for low, value in zip(bottoms, values, strict=True)]
    axes.set_title(title, fontsize=14, pad=12)
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.set_xticks(positions)
    axes.set_xticklabels(labels, rotation=45, ha="right", fontsize=9)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    # Headroom above the tallest bar keeps the legend off the bars.
    axes.set_ylim(0, max([*bottoms, 1]) * 1.25)
    axes.grid(axis="y", alpha=0.3)
    axes.set_axisbelow(True)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.legend(loc="upper left", frameon=False, ncols=4)
    figure.tight_layout()
    return figure


SHARE_COLORS = ("#1c7ed6", "#f08c00", "#7048e8", "#0ca678", "#e64980", "#868e96", "#fab005",
                "#15aabf")


def render_share_chart(members: Sequence[str], metrics: Sequence[str],
                       shares: Sequence[Sequence[float]], *, title: str, xlabel: str,
                       language: str = "en") -> bytes:
    """Share of voice as horizontal 100 % bars, one per metric (mentions, reach...), split
    between the group's members; ``shares[i][j]`` is member i's percentage of metric j,
    labelled in ``language`` (``53%``, ``53 %`` in French)."""
    import matplotlib

    figure = share_figure(members, metrics, shares, title=title, xlabel=xlabel,
                          language=language)
    buffer = io.BytesIO()
    with matplotlib.rc_context(RC):
        figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def share_figure(members: Sequence[str], metrics: Sequence[str],
                 shares: Sequence[Sequence[float]], *, title: str, xlabel: str,
                 language: str = "en") -> Any:
    """The matplotlib figure ``render_share_chart`` draws, before it becomes a PNG."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    with matplotlib.rc_context(RC):
        return _share_figure(members, metrics, shares, title=title, xlabel=xlabel,
                             language=language)


def _share_figure(members: Sequence[str], metrics: Sequence[str],
                  shares: Sequence[Sequence[float]], *, title: str, xlabel: str,
                  language: str) -> Any:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI)
    axes: Any = figure.add_subplot()
    positions = list(range(len(metrics)))[::-1]  # the first metric on top
    lefts = [0.0] * len(metrics)
    for index, (member, values) in enumerate(zip(members, shares, strict=True)):
        widths = [float(v) for v in values]
        bars = axes.barh(positions, widths, left=lefts, height=0.6, label=member,
                         color=SHARE_COLORS[index % len(SHARE_COLORS)], edgecolor="white")
        for bar, width in zip(bars, widths, strict=True):
            if width >= 7:
                axes.text(bar.get_x() + width / 2, bar.get_y() + bar.get_height() / 2,
                          t(language, "number.percent", value=number(width, language)),
                          ha="center", va="center", color="white", fontsize=9)
        lefts = [left + width for left, width in zip(lefts, widths, strict=True)]
    axes.set_yticks(positions)
    axes.set_yticklabels(list(metrics))
    axes.set_xlim(0, 100)
    axes.set_title(title, fontsize=14, pad=12)
    axes.set_xlabel(xlabel)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), frameon=False,
                ncols=min(len(members), 6) or 1)
    figure.tight_layout()
    return figure


def render_chart_spec(spec: Mapping[str, Any]) -> bytes:
    """Draw a chart described as JSON (``labels``, ``series``, ``title``, ``xlabel``,
    ``ylabel``, ``legend``: the arguments of ``render_sentiment_chart``), as a PNG.

    Charts travel through the outbox as such descriptions and are drawn by the process that
    uploads them, never in a web process answering Slack. A spec with ``"kind": "share"``
    (``members``, ``metrics``, ``shares``, ``title``, ``xlabel`` and ``language``, English
    when absent) draws share of voice.
    """
    if spec.get("kind") == "share":
        return render_share_chart(
            [str(m) for m in spec["members"]], [str(m) for m in spec["metrics"]],
            [[float(v) for v in row] for row in spec["shares"]], title=str(spec["title"]),
            xlabel=str(spec["xlabel"]), language=str(spec.get("language") or "en"))
    return render_sentiment_chart(
        [str(label) for label in spec["labels"]],
        {str(key): [int(value) for value in values] for key, values in spec["series"].items()},
        title=str(spec["title"]), xlabel=str(spec["xlabel"]), ylabel=str(spec["ylabel"]),
        legend={str(key): str(name) for key, name in spec["legend"].items()})
