"""The array cache (``nndl.data.cache``): each verified IDX file kept as a ``.npy`` array beside
it, public, written atomically, read back only when it verifies, and every damaged or oversized
cache file a reason (never an exception)."""

from __future__ import annotations

import stat

import numpy as np
import pytest

from nndl.data.cache import check_cached_array, npy_path, read_cached, write_cache
from nndl.data.verify import array_sha256

NAME = "t10k-labels-idx1-ubyte"


def cached(tmp_path, array):
    path = npy_path(tmp_path, NAME)
    write_cache(path, array, array_sha256(array))
    return path


def test_a_cached_array_is_kept_public_beside_its_idx_file_and_read_back_when_it_verifies(tmp_path):
    labels = np.arange(10, dtype=np.uint8)
    path = cached(tmp_path, labels)
    assert path == tmp_path / f"{NAME}.npy"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left behind
    back, why = read_cached(path, array_sha256(labels))
    assert why is None and back.dtype == np.uint8 and back.tolist() == labels.tolist()
    assert check_cached_array(path, array_sha256(labels)) is None
    back, why = read_cached(path, array_sha256(labels + 1))
    assert back is None and why.startswith("checksum mismatch (sha256 ")


def test_a_cache_file_larger_than_its_idx_file_allows_is_refused_before_it_is_read(tmp_path):
    labels = np.arange(10, dtype=np.uint8)
    path = cached(tmp_path, labels)
    size = path.stat().st_size  # the data and a header; up to 4,096 bytes of header are allowed
    assert check_cached_array(path, array_sha256(labels), limit=size - 4096) is None
    why = check_cached_array(path, array_sha256(labels), limit=size - 4097)
    assert why == f"{size:,} bytes, more than the array of the published file can take"


def test_damaged_cache_files_give_a_reason_without_the_path(tmp_path):
    path = npy_path(tmp_path, NAME)
    np.save(path, np.zeros(4, bool))  # no IDX file holds booleans
    why = check_cached_array(path, array_sha256(np.zeros(4, np.uint8)))
    assert why == "holds '|b1' values; allowed are integers, unsigned integers, floats"
    path.unlink()
    path.mkdir()
    assert check_cached_array(path, "0" * 64) == "unreadable (Is a directory)"


def test_a_folder_that_cannot_be_written_keeps_no_cache_and_raises_nothing(tmp_path):
    labels = np.arange(10, dtype=np.uint8)
    (tmp_path / "file").write_bytes(b"")
    write_cache(tmp_path / "file" / f"{NAME}.npy", labels, array_sha256(labels))  # its folder is a file
    assert [p.name for p in tmp_path.iterdir()] == ["file"]


def test_a_cache_just_written_is_known_verified_and_not_hashed_again(tmp_path, monkeypatch):
    """nndl.data.verify remembers a verified file for the life of the process (repeated loads
    instant): the array cache marks what it writes from verified data."""
    from nndl.data import verify

    labels = np.arange(10, dtype=np.uint8)
    path = cached(tmp_path, labels)

    def never(array):
        raise AssertionError("hashed again")

    monkeypatch.setattr(verify, "array_sha256", never)
    assert check_cached_array(path, array_sha256(labels)) is None


def test_the_cache_never_holds_a_pickle_an_array_of_objects_is_refused_and_nothing_is_kept(tmp_path):
    """A cache file is data, never code: np.save would pickle an array of Python objects, so
    the cache refuses one (NumPy's ValueError) and leaves no file, finished or temporary."""
    objects = np.array([{"a": 1}, None], dtype=object)
    with pytest.raises(ValueError, match="allow_pickle"):
        write_cache(npy_path(tmp_path, NAME), objects, "0" * 64)
    assert list(tmp_path.iterdir()) == []
