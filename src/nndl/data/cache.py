"""The array cache: each verified IDX file kept beside it as a ``.npy`` array, read back only
after its checksum is verified (``nndl.data.verify``), written atomically.

``nndl.data.load`` reads and writes it; ``nndl.data.store.info`` reports it. It lives apart
from both, so neither imports the other to reach it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nndl.data.npyfile import load_npy_file
from nndl.data.verify import check_array, mark_verified
from nndl.errors import DataError
from nndl.fileio import atomic_path


def npy_path(folder: Path, filename: str) -> Path:
    """Where the array cache of one IDX file lives."""
    return folder / f"{filename}.npy"


def check_cached_array(path: Path, sha256: str, limit: int | None = None) -> str | None:
    """Verify one array-cache file; ``None`` when it matches, else why not."""
    return read_cached(path, sha256, limit)[1]


def read_cached(path: Path, sha256: str, limit: int | None = None) -> tuple[np.ndarray | None, str | None]:
    """The cached array if it verifies, else (None, why). Never raises for a damaged file.

    Read by :mod:`nndl.data.npyfile`: a damaged header (or one that declares an absurd or
    empty shape, or more data than the file holds) is a reason, found before anything is
    allocated; ``limit`` bounds the data to the IDX file's known size.
    """
    try:
        size = path.stat().st_size
        if limit is not None and size > limit + 4096:
            return None, f"{size:,} bytes, more than the array of the published file can take"
        array = load_npy_file(path, kinds="iuf")
    except DataError as e:
        return None, str(e).removeprefix(f"{path}: ")
    except OSError as e:
        return None, f"unreadable ({e.strerror or e})"
    why = check_array(path, array, sha256)
    return (array, None) if why is None else (None, why)


def write_cache(path: Path, array: np.ndarray, sha256: str) -> None:
    """Keep ``array`` at ``path``, atomically (``atomic_path`` gives it the usual public mode),
    marked verified; a read-only folder keeps nothing."""
    try:
        with atomic_path(path, suffix=".npy.part") as tmp:
            with open(tmp, "wb") as f:
                np.save(f, array, allow_pickle=False)
    except OSError:  # a read-only data folder: the IDX files are read each time instead
        return
    mark_verified(path, sha256)
