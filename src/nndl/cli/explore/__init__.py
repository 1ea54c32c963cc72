"""The explorations' command lines: ``nndl explore level3``, ``nndl explore beyond`` and ``nndl explore level4``.

``command`` is what they share (options, the run, Ctrl-C, --replot, the report page); ``level3``
and ``beyond`` each name their exploration's pieces and give its ``main(argv, prog) -> int``.
The explorations themselves (runs, figures, tables) are library code in ``nndl.explore``: this
package is the only part of them that prints, draws progress bars and chooses exit codes.
"""
