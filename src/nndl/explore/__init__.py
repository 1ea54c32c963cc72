"""Explorations of the book's ideas: experiments that record JSON, figures drawn from it.

``runs`` trains and measures (returns a results dict, never prints), ``figures`` draws the
PNGs from that dict alone, ``ladder`` tabulates the accuracy ladder, and ``level3`` is the
command-line layer (progress bars, printing, exit codes) behind ``nndl explore level3`` and
``src/level3/1_improved_network.py``.
"""
