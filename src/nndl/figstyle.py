"""Two habits the figures share, so that a reader who has not read the code can read them.

* ``legend_beside`` / ``legend_below``: the legend goes to the right of the axes or under the
  figure, never over a curve;
* ``plain_log_ticks``: a log axis labelled with plain numbers (0.5, 2, 3), not 2^-1 or 3 x 10^0.
"""

from __future__ import annotations

import math

from matplotlib.ticker import FuncFormatter, NullFormatter


def legend_beside(ax, **kw):
    """The axes' legend outside it, on the right (constrained layout makes room for it)."""
    return ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, **kw)


def legend_below(fig, ax, ncol: int = 2, **kw):
    """``ax``'s legend under the whole figure (or subfigure), outside every axes: for a single
    wide panel, where a legend beside it would squeeze the curves."""
    handles, labels = ax.get_legend_handles_labels()
    return fig.legend(handles, labels, loc="outside lower center", ncol=ncol, frameon=False, **kw)


def _plain(v: float, _pos=None) -> str:
    return f"{v:g}" if v > 0 else ""


def _plain_minor(v: float, _pos=None) -> str:
    """Minor ticks of a log axis: label 2, 3 and 5 times a power of ten (else the axis crowds)."""
    if v <= 0:
        return ""
    mantissa = v / 10 ** math.floor(math.log10(v))
    return f"{v:g}" if any(abs(mantissa - m) < 1e-6 for m in (2, 3, 5)) else ""


def plain_log_ticks(axis, base: float = 10) -> None:
    """Label ``axis`` (``ax.xaxis`` or ``ax.yaxis``, already log-scaled) with plain decimals; for
    base 2 (halvings: 0.5, 0.25, ...) every power of two, with no minor labels."""
    axis.set_major_formatter(FuncFormatter(_plain))
    axis.set_minor_formatter(NullFormatter() if base != 10 else FuncFormatter(_plain_minor))
