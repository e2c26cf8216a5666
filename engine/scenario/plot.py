"""``--plot FILE.png``: each account's balance over time, as a step chart.

matplotlib is an optional extra (``pip install -e '.[plot]'``), so it is
imported only when a chart is asked for, and its absence is a plain error
with the command that fixes it (exit 2), never an ImportError traceback.
The chart draws on a bare ``Figure`` with the Agg canvas: no pyplot, no GUI
backend, no global state touched, so it is safe inside tests and servers.

The data is the ledger itself (every entry carries the balance after it), so
the chart shows exactly what the engine recorded; expiries, cap forfeits,
cancel forfeits and credit backs are drawn as markers on the line.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from engine.codes import C
from engine.scenario.run import ScenarioResult

#: Ledger entry kinds drawn as markers: (marker, colour, legend label).
MARKERS: dict[str, tuple[str, str, str]] = {
    "expire": ("x", "tab:red", "credits expired"),
    "forfeit_cap": ("v", "tab:orange", "forfeited (cap)"),
    "forfeit_cancel": ("s", "black", "forfeited (cancel)"),
    "credit_back": ("^", "tab:green", "credited back"),
    "purchase": ("P", "tab:purple", "purchased"),
}


def _matplotlib() -> tuple[Any, Any, Any]:
    try:
        from matplotlib import dates as mdates
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise C.missing_dependency(
            "--plot needs matplotlib, which is not installed",
            help="pip install 'inmail-engine[plot]' (in a checkout: pip install -e '.[plot]')",
        ) from None
    return Figure, FigureCanvasAgg, mdates


def write_png(results: Sequence[ScenarioResult], path: str | Path) -> None:
    """Write one chart per scenario (stacked) into a PNG at ``path``."""
    Figure, FigureCanvasAgg, mdates = _matplotlib()
    n = max(1, len(results))
    fig = Figure(figsize=(10, 3.6 * n), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(n, 1, squeeze=False)
    for ax, result in zip((row[0] for row in axes), results, strict=False):
        _draw(ax, result, mdates)
    try:
        fig.savefig(str(path), format="png", dpi=110)
    except OSError as exc:
        raise C.unwritable_file(f"cannot write the chart to `{path}`: {exc.strerror or exc}") from None


def _end(result: ScenarioResult) -> dt.datetime | None:
    times = [s.step.at for s in result.steps]
    times.extend(e.at for entries in result.history.values() for e in entries)
    return max(times) if times else None


def _draw(ax: Any, result: ScenarioResult, mdates: Any) -> None:
    tz = result.scenario.policy.timezone
    end = _end(result)
    seen: set[str] = set()
    for name, entries in result.history.items():
        start = result.starts.get(name)
        xs: list[dt.datetime] = [start] if start is not None else []
        ys: list[int] = [0] if start is not None else []
        for e in entries:
            xs.append(e.at)
            ys.append(e.balance_after)
        if not xs:
            continue
        if end is not None and end > xs[-1]:
            xs.append(end)
            ys.append(ys[-1])
        ax.step(xs, ys, where="post", label=name, linewidth=1.8)
        for kind, (marker, colour, label) in MARKERS.items():
            pts = [(e.at, e.balance_after) for e in entries if e.kind == kind]
            if not pts:
                continue
            ax.scatter(
                [p[0] for p in pts],
                [p[1] for p in pts],
                marker=marker,
                color=colour,
                zorder=3,
                s=46,
                label=label if kind not in seen else None,
            )
            seen.add(kind)
    ax.set_title(result.scenario.title, loc="left")
    ax.set_ylabel("credits")
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    locator = mdates.AutoDateLocator(tz=tz)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, tz=tz))
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper left", fontsize="small", ncols=2)
