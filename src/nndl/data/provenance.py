"""Which data a result came from: a data set recorded so that it is found again, or refused.

A model file or an exploration's results.json records its data set: a registered name
('mnist', 'fashion': their files are verified by checksum whenever they are loaded), or an
.npz file by its absolute path and the SHA-256 of its bytes. A relative path read from
another folder would name another file, and evaluating on it would give a silently wrong
answer; ``check_recorded`` refuses a recorded file that is missing or whose content changed.
Files written before the hash was recorded (a path, no hash) still load, as before.
"""

from __future__ import annotations

import hashlib
import os

from nndl.errors import DataError
from nndl.data.registry import DATASETS

_CHUNK = 1 << 20
_HASHED: dict[tuple, str] = {}  # (resolved path, size, mtime_ns) -> sha256, for this process


def is_registered(dataset: str) -> bool:
    return dataset in DATASETS


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 (hex) of the file's bytes (remembered per path, size and time in this process)."""
    st = os.stat(path)
    key = (os.path.realpath(path), st.st_size, st.st_mtime_ns)
    if key not in _HASHED:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            while chunk := f.read(_CHUNK):
                h.update(chunk)
        _HASHED[key] = h.hexdigest()
    return _HASHED[key]


def record(dataset) -> dict:
    """What a file records of ``dataset``: ``{"dataset": name}`` for a registered one, else
    ``{"dataset": absolute path, "dataset_sha256": hex}`` (just the path as given when the
    file cannot be read now)."""
    text = os.fspath(dataset)
    if is_registered(text):
        return {"dataset": text}
    try:
        return {"dataset": os.path.abspath(text), "dataset_sha256": file_sha256(text)}
    except OSError:
        return {"dataset": text}


def check_recorded(dataset: str, sha256, source) -> None:
    """Raise ``DataError`` when the data set ``source`` (a model file, a results.json) records is a file
    that is now missing or differs from the one it recorded. Registered names and files recorded
    without a hash (older nndl) pass: their loading checks what it can."""
    if is_registered(dataset) or not isinstance(sha256, str):
        return
    try:
        found = file_sha256(dataset)
    except OSError as e:
        raise DataError(f"{source} was made with the data set {dataset}, which cannot be read now "
                        f"({e.strerror or e}); give --dataset to choose the data") from None
    if found != sha256:
        raise DataError(f"{source} was made with the data set {dataset} of SHA-256 {sha256[:16]}..., but that file "
                        f"now holds other data (SHA-256 {found[:16]}...); give --dataset {dataset} to use it anyway")


def recorded_of(d) -> tuple[str | None, str | None]:
    """(data set, its SHA-256 or None) as a parsed model file or results.json options records them."""
    if not isinstance(d, dict):
        return None, None
    name, sha = d.get("dataset"), d.get("dataset_sha256")
    return (name if isinstance(name, str) else None), (sha if isinstance(sha, str) else None)


__all__ = ["record", "check_recorded", "recorded_of", "file_sha256", "is_registered"]
