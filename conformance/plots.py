"""PNG plots of failed trajectory checks: per param group the target's lr and the expected lr
over the steps, with the first divergent step marked. matplotlib is an optional extra."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

INSTALL = "pip install 'lr-conformance[plots]' (matplotlib)"
#: Steps either side of the first divergence in the zoomed panel (long runs only).
ZOOM = 12


def available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def file_name(target: str, check: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{target}--{check}") + ".png"


def _finite(values: list[float]) -> list[float]:
    return [v if isinstance(v, (int, float)) and math.isfinite(v) else math.nan for v in values]


def plot(target: str, row: dict[str, Any], path: Path) -> Path:
    """Draw `row`'s series (a failed trajectory check of `target`) into the PNG `path`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series = row["series"]
    seen, expected, first = series["seen"], series["expected"], series["first"]
    # Which param group each column is (a single-group comparison names its group), what
    # the x axis counts (calls of step(epoch) are no steps), and marked events.
    names = series.get("groups") or list(range(max((len(r) for r in expected), default=0)))
    xlabel = series.get("xlabel", "step")
    events = series.get("events", [])
    step, group, actual = row.get("step"), row.get("group"), row.get("actual")
    groups = max((len(r) for r in expected), default=0)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    zoom = step is not None and len(expected) > 2 * ZOOM
    fig, axes = plt.subplots(1, 2 if zoom else 1, figsize=(12 if zoom else 8, 4.5), dpi=110,
                             squeeze=False)
    spans = [(first, first + len(expected))]
    if zoom:
        assert step is not None
        spans.append((max(first, step - ZOOM), min(first + len(expected), step + ZOOM + 1)))
    for ax, (lo, hi) in zip(axes[0], spans, strict=True):
        values = []
        for g in range(groups):
            color = colors[g % len(colors)]
            name = names[g] if g < len(names) else g
            want = _finite([r[g] for r in expected[lo - first:hi - first] if len(r) > g])
            got = _finite([r[g] for r in seen[lo - first:hi - first] if len(r) > g])
            values += want + got
            ax.plot(range(lo, lo + len(want)), want, color=color, ls="--", lw=2.4, alpha=0.55,
                    label=f"group {name}: expected")
            ax.plot(range(lo, lo + len(got)), got, color=color, lw=1.1, marker=".", ms=3,
                    label=f"group {name}: target")
        for event in events:
            if lo <= event["step"] < hi:
                ax.axvline(event["step"], color="gray", ls="--", lw=1.0)
                ax.annotate(event["label"], (event["step"], 1), xycoords=("data", "axes fraction"),
                            xytext=(3, -12), textcoords="offset points", fontsize=8, color="gray")
        if step is not None:
            ax.axvline(step, color="red", ls=":", lw=1.2)
            if isinstance(actual, (int, float)) and math.isfinite(actual):
                ax.plot([step], [actual], "o", mfc="none", mec="red", mew=1.6, ms=11,
                        label=f"first divergence: {xlabel} {step}"
                              + (f", group {group}" if group is not None else ""))
        shown = [v for v in values if not math.isnan(v)]
        if shown and min(shown) > 0 and max(shown) / min(shown) > 100:
            ax.set_yscale("log")  # decaying schedules span decades
        ax.set_xlabel(xlabel)
        ax.set_ylabel("learning rate")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="best")
    axes[0][0].set_title(f"[{target}] {row['check']}" + (": the whole run" if zoom else ""),
                         fontsize=10)
    if zoom:
        axes[0][1].set_title(f"around step {step}", fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
