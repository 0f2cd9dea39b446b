"""The dashboard's plots: matplotlib (Agg) drawn to SVG text for inlining (pure).

The SVG is made self-contained and quiet for an HTML page: no XML prolog, DOCTYPE,
metadata or namespace declarations (an HTML parser knows inline SVG), so the page
names no external URL at all; ids are salted deterministically so two reports of
the same data are byte-identical.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")

from matplotlib import pyplot as plt
from matplotlib.axes import Axes
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num
from matplotlib.figure import Figure

plt.rcParams.update({
    "svg.fonttype": "none",  # text stays text: smaller, and the page's font applies
    "svg.hashsalt": "mcprod",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
})

_STRIP = (
    re.compile(r"<\?xml[^>]*\?>\s*"),
    re.compile(r"<!DOCTYPE[^>]*>\s*"),
    re.compile(r"<metadata>.*?</metadata>\s*", re.S),
    re.compile(r'\s+xmlns(?::\w+)?="[^"]*"'),
)
COMPLETED, REMAINING, FAILED = "#2e7d32", "#9e9e9e", "#c62828"


def plain(text: str) -> str:
    """Text safe for a matplotlib title (no mathtext from a `$` in a document)."""
    return re.sub(r"[^\w .:/+-]", "_", text)


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(figure)
    text = buffer.getvalue()
    for pattern in _STRIP:
        text = pattern.sub("", text)
    return text.strip()


def _axes(title: str) -> tuple[Figure, Axes]:
    figure, axes = plt.subplots(figsize=(6.4, 2.6))
    axes.set_title(plain(title), loc="left", fontsize=10)
    axes.grid(axis="y", color="#e0e0e0", linewidth=0.6)
    return figure, axes


def _numbers(times: Sequence[dt.datetime]) -> Any:
    """Dates as matplotlib's day numbers (what its typed plotting functions accept)."""
    return date2num(times)  # type: ignore[no-untyped-call]


def _date_axis(axes: Axes) -> None:
    locator = AutoDateLocator()  # type: ignore[no-untyped-call]
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]


def burn_down(label: str, completed_at: Sequence[dt.datetime], declared: int,
              now: dt.datetime) -> str:
    """Cumulative completed jobs and jobs remaining, over time."""
    figure, axes = _axes(f"{label}: completed and remaining jobs")
    if completed_at:
        times = _numbers([completed_at[0], *completed_at, now])
        done = [0, *range(1, len(completed_at) + 1), len(completed_at)]
        axes.step(times, done, where="post", color=COMPLETED, label="completed")
        axes.step(times, [max(0, declared - n) for n in done], where="post",
                  color=REMAINING, linestyle="--", label="remaining")
        axes.legend(frameon=False, loc="center right")
        _date_axis(axes)
    else:
        axes.text(0.5, 0.5, "no job completed yet", ha="center", va="center",
                  transform=axes.transAxes, color=REMAINING)
        axes.set_xticks([])
    axes.set_ylim(bottom=0, top=max(declared, len(completed_at), 1) * 1.05)
    axes.set_ylabel("jobs")
    return _svg(figure)


def _bins(first: dt.datetime, now: dt.datetime) -> dt.timedelta:
    span = (now - first).total_seconds()
    for seconds in (60, 600, 3600, 6 * 3600, 86400, 7 * 86400):
        if span / seconds <= 48:
            return dt.timedelta(seconds=seconds)
    return dt.timedelta(days=30)


def throughput(site: str, completed_at: Sequence[dt.datetime],
               failed_at: Sequence[dt.datetime], now: dt.datetime) -> str:
    """Finished attempts per time bin, completed and failed stacked."""
    figure, axes = _axes(f"site {site}: finished attempts")
    every = sorted([*completed_at, *failed_at])
    if every:
        width = _bins(every[0], now)
        start = every[0] - dt.timedelta(seconds=every[0].timestamp() % width.total_seconds())
        count = int((now - start) / width) + 1
        edges = _numbers([start + i * width for i in range(count)])
        done = [0] * count
        bad = [0] * count
        for stamp in completed_at:
            done[min(count - 1, int((stamp - start) / width))] += 1
        for stamp in failed_at:
            bad[min(count - 1, int((stamp - start) / width))] += 1
        days = width.total_seconds() / 86400 * 0.9
        axes.bar(edges, done, width=days, align="edge", color=COMPLETED, label="completed")
        axes.bar(edges, bad, width=days, align="edge", bottom=done, color=FAILED,
                 label="failed")
        axes.legend(frameon=False, loc="upper right")
        axes.set_ylabel(f"per {_bin_name(width)}")
        _date_axis(axes)
    else:
        axes.text(0.5, 0.5, "nothing finished yet", ha="center", va="center",
                  transform=axes.transAxes, color=REMAINING)
        axes.set_xticks([])
    return _svg(figure)


def _bin_name(width: dt.timedelta) -> str:
    seconds = int(width.total_seconds())
    names = {60: "minute", 600: "10 min", 3600: "hour", 21600: "6 h", 86400: "day",
             604800: "week"}
    return names.get(seconds, f"{seconds // 86400} days")
