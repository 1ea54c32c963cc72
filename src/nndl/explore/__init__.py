"""Explorations of the book's ideas: experiments that record JSON, figures drawn from it.

Library code only, the same pieces for each exploration: Level 3 is ``runs`` (trains and
measures; returns a results dict, never prints), ``figures`` (the PNGs, from that dict alone)
and ``ladder`` (the accuracy ladder as tables); beyond Level 3 is ``beyond``,
``beyond_figures`` and ``beyond_ladder``. Their command lines (progress bars, printing, exit
codes) are ``nndl.cli.explore.level3`` and ``nndl.cli.explore.beyond``, behind ``nndl explore``
and ``src/level3/*.py``.

The public API (``__all__``) is what the notebooks use: the demos of Level 3 (``slowdown_demo``,
``gradient_curve``, ``z_distribution``, ``sample_images``), each figure function (a
``matplotlib.figure.Figure`` from a results dict) and their captions (``captions``,
``beyond_captions``: computed from the run they describe), ``run_record`` and ``results`` to make
that dict from runs of ``nndl.train``, the Level 3 ladder as text or Markdown, and the exercises'
checks (``check_*``).
"""

from nndl.explore.beyond import sample_images
from nndl.explore.beyond_figures import captions as beyond_captions
from nndl.explore.beyond_figures import (
    fig_dropout,
    fig_expanded,
    fig_ladder,
    fig_momentum,
    fig_neurons,
    fig_schedule,
    fig_softmax,
)
from nndl.explore.conv_figures import (
    fig_accuracy_curves,
    fig_feature_maps,
    fig_filters,
    fig_level4_ladder,
    fig_receptive_field,
)
from nndl.explore.exercises import (
    NotYetRight,
    check_conv_network,
    check_conv_vs_dense,
    check_delta,
    check_lambda,
    check_max_pool,
    check_momentum,
    check_softmax_delta,
    check_z_spread,
)
from nndl.explore.figures import (
    captions,
    fig_cost_comparison,
    fig_cross_entropy_advantage,
    fig_full_training,
    fig_initialization_comparison,
    fig_regularization_effect,
)
from nndl.explore.ladder import markdown as ladder_markdown
from nndl.explore.ladder import text as ladder_text
from nndl.explore.records import results, run_record
from nndl.explore.runs import gradient_curve, slowdown_demo, z_distribution

__all__ = [
    "NotYetRight",
    "beyond_captions",
    "captions",
    "check_conv_network",
    "check_conv_vs_dense",
    "check_delta",
    "check_max_pool",
    "check_lambda",
    "check_momentum",
    "check_softmax_delta",
    "check_z_spread",
    "fig_accuracy_curves",
    "fig_cost_comparison",
    "fig_cross_entropy_advantage",
    "fig_dropout",
    "fig_expanded",
    "fig_feature_maps",
    "fig_filters",
    "fig_full_training",
    "fig_initialization_comparison",
    "fig_ladder",
    "fig_level4_ladder",
    "fig_momentum",
    "fig_neurons",
    "fig_receptive_field",
    "fig_regularization_effect",
    "fig_schedule",
    "fig_softmax",
    "gradient_curve",
    "ladder_markdown",
    "ladder_text",
    "results",
    "run_record",
    "sample_images",
    "slowdown_demo",
    "z_distribution",
]
