"""Small inline SVG line charts for the report page: a run's curves, saturation per epoch.

Plain SVG text (no JavaScript, no library), so the charts show even with scripts off and
weigh a few kilobytes each. Each series is (label, values, colour, dashed); x counts epochs.
"""

from __future__ import annotations

import math
from html import escape

from nndl.limits import MAX_CHART_POINTS

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")


MAX_TICKS = 12  # ticks on one axis, whatever the data
VALUE_LIMIT = 1e300  # values are clipped to +-this, so every span and padding below stays finite


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """About ``count`` round tick values covering [lo, hi] (steps of 1, 2 or 5 times a power of 10).

    Bounded for any input: at most ``MAX_TICKS`` values, computed by index (never by adding a
    step that may be below the values' resolution, as near 2**53); nan, inf, equal or reversed
    ends, and spans no round step can cover fall back to the ends themselves."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        lo, hi = (lo, lo + 1.0) if math.isfinite(lo) else (0.0, 1.0)
    lo, hi = max(-VALUE_LIMIT, min(lo, VALUE_LIMIT)), max(-VALUE_LIMIT, min(hi, VALUE_LIMIT))
    if hi <= lo:
        hi = lo + max(1.0, abs(lo) * 1e-6)
    raw = (hi - lo) / max(count - 1, 1)
    mag = 10.0 ** math.floor(math.log10(raw)) if raw > 0 else 0.0
    step = next((m * mag for m in (1, 2, 5, 10) if m * mag >= raw), 0.0)
    ends = [lo, hi]
    if not (step > 0 and math.isfinite(step)):
        return ends
    first = math.floor(lo / step) * step
    n = math.floor((hi - first) / step * (1 + 1e-12)) + 1
    if not 1 <= n <= MAX_TICKS:
        return ends
    ticks = [round(first + i * step, 10) for i in range(n)]
    if ticks[-1] < hi:
        ticks.append(round(first + n * step, 10))
    if len(set(ticks)) != len(ticks) or not all(math.isfinite(t) for t in ticks) or len(ticks) > MAX_TICKS:
        return ends  # the step is below the values' resolution (near 2**53, 1e300)
    return ticks


def thin(values: list, limit: int = MAX_CHART_POINTS) -> list[tuple[int, float]]:
    """(index, value) of at most ``limit`` evenly spaced finite values of ``values``, the last kept."""
    n = len(values)
    idx = range(n) if n <= limit else sorted({round(i * (n - 1) / (limit - 1)) for i in range(limit)})
    return [(k, values[k]) for k in idx if values[k] is not None and math.isfinite(values[k])]


def _fmt(v: float) -> str:
    return f"{v:g}" if abs(v) >= 0.01 or v == 0 else f"{v:.0e}"


def line_chart(
    series: list,
    *,
    title: str,
    ylabel: str,
    x_start: int = 1,
    width: int = 380,
    height: int = 210,
    y_range: tuple | None = None,
) -> str:
    """An SVG chart of ``series`` = [(label, values, colour, dashed), ...] against the epoch.

    ``x_start``: the epoch of each series' first value (1 for per-epoch metrics, 0 when the
    first value was measured before training). ``y_range`` fixes the y axis (else it fits
    the data, padded a little).
    """
    series = [s for s in series if s[1]]
    left, right, top = 52, 12, 26
    pw, ph = width - left - right, height - top - 34
    total_h = height + 10 + 16 * len(series)
    series = [
        (
            label,
            [None if v is None or not math.isfinite(v) else max(-VALUE_LIMIT, min(v, VALUE_LIMIT)) for v in vals],
            colour,
            dashed,
        )
        for label, vals, colour, dashed in series
    ]
    values = [v for s in series for v in s[1] if v is not None]
    if not values:
        return ""
    lo, hi = (min(values), max(values)) if y_range is None else y_range
    if y_range is None:
        pad = (hi - lo) * 0.08 or abs(hi) * 0.05 or 1.0
        lo, hi = lo - pad, hi + pad
    yt = nice_ticks(lo, hi)
    lo, hi = min(lo, yt[0]), max(hi, yt[-1])
    if not hi > lo:  # equal ends at a magnitude where +1 changes nothing
        lo, hi = lo - 1.0, hi + 1.0
        if not hi > lo:
            lo, hi = lo * (1 - 1e-9) - 1e-300, hi * (1 + 1e-9) + 1e-300
            lo, hi = min(lo, hi), max(lo, hi)
    n = max(len(s[1]) for s in series)
    x_end = x_start + n - 1
    xt = nice_ticks(x_start, max(x_end, x_start + 1), 6)
    xt = [t for t in xt if x_start <= t <= max(x_end, x_start + 1) and float(t).is_integer()] or [x_start]

    def X(e):
        return left + pw * (e - x_start) / max(x_end - x_start, 1)

    def Y(v):
        return top + ph * (1 - (v - lo) / (hi - lo))

    out = [
        f'<svg class="chart" viewBox="0 0 {width} {total_h}" width="{width}" height="{total_h}" '
        f'role="img" aria-label="{escape(title)}">',
        f'<text x="{left}" y="16" class="ct">{escape(title)}</text>',
    ]
    for t in yt:
        y = Y(t)
        out.append(
            f'<line x1="{left}" x2="{left + pw}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" class="tick" text-anchor="end">{_fmt(t)}</text>'
        )
    for t in xt:
        x = X(t)
        out.append(f'<text x="{x:.1f}" y="{top + ph + 16}" class="tick" text-anchor="middle">{int(t)}</text>')
    out.append(
        f'<text x="{left + pw / 2:.0f}" y="{top + ph + 30}" class="axis" text-anchor="middle">epoch</text>'
        f'<text x="12" y="{top + ph / 2:.0f}" class="axis" text-anchor="middle" '
        f'transform="rotate(-90 12 {top + ph / 2:.0f})">{escape(ylabel)}</text>'
        f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" class="frame"/>'
    )
    for i, (label, vals, colour, dashed) in enumerate(series):
        pts = " ".join(f"{X(x_start + k):.1f},{Y(v):.1f}" for k, v in thin(vals))
        dash = ' stroke-dasharray="5 3"' if dashed else ""
        out.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="1.8"{dash}/>')
        if len(vals) == 1 and vals[0] is not None:
            out.append(f'<circle cx="{X(x_start):.1f}" cy="{Y(vals[0]):.1f}" r="3" fill="{colour}"/>')
        ly = height + 12 + 16 * i
        out.append(
            f'<line x1="{left}" x2="{left + 22}" y1="{ly - 4}" y2="{ly - 4}" stroke="{colour}" '
            f'stroke-width="2.5"{dash}/><text x="{left + 28}" y="{ly}" class="legend">{escape(label)}</text>'
        )
    out.append("</svg>")
    return "".join(out)


def run_charts(run: dict) -> list[str]:
    """Accuracy and cost charts of one run record (history as in results.json)."""
    h = run.get("history") or {}
    n_eval, n_train = run.get("n_evaluation"), run.get("n_train")
    watched = "test" if run.get("evaluation_data") == "test" else "validation"
    acc = []
    if h.get("evaluation_accuracy") and n_eval:
        acc.append((f"{watched} accuracy", [100 * v / n_eval for v in h["evaluation_accuracy"]], PALETTE[0], False))
    if h.get("training_accuracy") and n_train:
        acc.append(("training accuracy", [100 * v / n_train for v in h["training_accuracy"]], PALETTE[2], False))
    cost = []
    if h.get("evaluation_cost"):
        cost.append((f"{watched} cost", h["evaluation_cost"], PALETTE[0], False))
    if h.get("training_cost"):
        cost.append(("training cost", h["training_cost"], PALETTE[2], False))
    charts = []
    if acc:
        charts.append(line_chart(acc, title="Accuracy after each epoch", ylabel="accuracy (%)"))
    if cost:
        charts.append(line_chart(cost, title="Cost after each epoch (with the L2 term)", ylabel="cost"))
    return [c for c in charts if c]


def distinct_colours(n: int) -> list[str]:
    """``n`` colours that tell lines apart: the palette, or hues spaced evenly around the wheel."""
    if n <= len(PALETTE):
        return list(PALETTE[:n])
    return [f"hsl({round(360 * i / n)}, 70%, {40 + 12 * (i % 2)}%)" for i in range(n)]


def saturation_chart(runs: list) -> str:
    """Saturated share (%) per epoch, one line per run and hidden layer (entry 0: before training)."""
    series = []
    recorded = [run for run in runs if (run.get("history") or {}).get("saturation")]
    for run, colour in zip(recorded, distinct_colours(len(recorded))):  # a colour per run
        sat = run["history"]["saturation"]
        layers = max((len(e) for e in sat if isinstance(e, list)), default=0)
        for layer in range(layers):
            vals = [100 * e[layer] if isinstance(e, list) and len(e) > layer else None for e in sat]
            name = run["name"] + (f", hidden layer {layer + 1}" if layers > 1 else "")
            series.append((name, vals, colour, layer > 0))
    if not series:
        return ""
    return line_chart(
        series,
        title="Saturated hidden neurons after each epoch",
        x_start=0,
        ylabel="saturated (%)",
        width=520,
        height=250,
        y_range=(0, 100),
    )
