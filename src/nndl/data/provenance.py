"""Which data a result came from: a data set recorded so that it is found again, or refused.

A model file or an exploration's results.json records its data set: a registered name
('mnist', 'fashion': their files are verified by checksum whenever they are loaded), or an
.npz file by its absolute path and the SHA-256 of its bytes. A relative path read from
another folder would name another file, and evaluating on it would give a silently wrong
answer; ``check_recorded`` refuses a recorded file that is missing or whose content changed.
Files written before the hash was recorded (a path, no hash) still load, as before.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat

from nndl.data.registry import DATASETS
from nndl.errors import DataError, quote

_CHUNK = 1 << 20
_HASHED: dict[tuple, str] = {}  # (resolved path, size, mtime_ns) -> sha256, for this process


def is_registered(dataset: str) -> bool:
    return dataset in DATASETS


NAME_LIMIT = 4096  # characters of a recorded data set (the longest path Linux takes)


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 (hex) of the file's bytes (remembered per path, size and time in this process).
    ``OSError`` for anything but a regular file: a FIFO or /dev/zero would never end."""
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):
        raise OSError(errno.EINVAL, "not a regular file", os.fspath(path))
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
    except (OSError, ValueError):
        return {"dataset": text}


def check_recorded(dataset: str, sha256, source) -> None:
    """Raise ``DataError`` when the data set ``source`` (a model file, a results.json) records is a file
    that is now missing or differs from the one it recorded. Registered names and files recorded
    without a hash (older nndl) pass: their loading checks what it can."""
    if is_registered(dataset) or not isinstance(sha256, str):
        return
    try:
        found = file_sha256(dataset)
    except (OSError, ValueError) as e:
        raise DataError(
            f"{source} was made with the data set {dataset}, which cannot be read now "
            f"({e.strerror or e}); give --dataset to choose the data"
        ) from None
    if found != sha256:
        raise DataError(
            f"{source} was made with the data set {dataset} of SHA-256 {sha256[:16]}..., but that file "
            f"now holds other data (SHA-256 {found[:16]}...); give --dataset {dataset} to use it anyway"
        )


def recorded_of(d, source, kind: str = "model file", error: type = DataError) -> tuple[str | None, str | None]:
    """(data set, its SHA-256 or None) as a parsed model file or results.json's options record them.

    A recorded data set is text of at most ``NAME_LIMIT`` characters with no NUL, and a hash is 64
    hex digits; anything else (a file edited by hand) is ``error`` naming ``source`` (a ``kind``)."""
    if not isinstance(d, dict):
        return None, None
    name, sha = d.get("dataset"), d.get("dataset_sha256")
    if name is not None and (not isinstance(name, str) or not name or len(name) > NAME_LIMIT or "\x00" in name):
        raise error(
            f"{source}: not a valid {kind}: dataset {quote(name, 60)} is not the name or path of "
            f"a data set (text of 1-{NAME_LIMIT:,} characters, no NUL)"
        )
    if sha is not None and (
        not isinstance(sha, str) or len(sha) != 64 or not all(c in "0123456789abcdef" for c in sha)
    ):
        raise error(f"{source}: not a valid {kind}: dataset_sha256 {quote(sha, 60)} is not a SHA-256 (64 hex digits)")
    return name, sha


__all__ = ["record", "check_recorded", "recorded_of", "file_sha256", "is_registered"]
