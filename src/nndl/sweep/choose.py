"""Which runner the command line asks for (``nndl sweep``, ``nndl explore``): inline, a local
pool, or a Dask cluster. Apart from ``nndl.sweep.runner`` so that the runners and the optional
Dask one (``nndl.sweep.dask``, built on ``Runner``) do not import each other.
"""

from __future__ import annotations

from nndl.errors import ConfigError

from .runner import InlineRunner, LocalRunner, Runner, check_dask_address, cpu_count


def make_runner(workers: int | None = None, dask: str | None = None, scatter: bool = False) -> Runner:
    """The runner the command line asks for: ``dask`` (a scheduler address) wins; otherwise
    ``workers`` 1 runs inline and anything else (default: one per core) a local pool."""
    if dask is not None:
        address = check_dask_address(dask)  # an empty address is an error, never "run locally"
        from .dask import DaskRunner  # the optional extra, imported only when asked for

        return DaskRunner(address, scatter=scatter)
    if scatter:
        raise ConfigError("--scatter sends the data to Dask workers; it needs --dask ADDRESS")
    n = cpu_count() if workers is None else workers
    return InlineRunner() if n == 1 else LocalRunner(n)
