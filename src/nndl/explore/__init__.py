"""Explorations of the book's ideas: experiments that record JSON, figures drawn from it.

Library code only, the same pieces for each exploration: Level 3 is ``runs`` (trains and
measures; returns a results dict, never prints), ``figures`` (the PNGs, from that dict alone)
and ``ladder`` (the accuracy ladder as tables); beyond Level 3 is ``beyond``,
``beyond_figures`` and ``beyond_ladder``. Their command lines (progress bars, printing, exit
codes) are ``nndl.cli.explore.level3`` and ``nndl.cli.explore.beyond``, behind ``nndl explore``
and ``src/level3/*.py``.
"""
