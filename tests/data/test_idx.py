"""read_idx / write_idx: every IDX type, raw and gzipped, and every kind of broken file."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from nndl.data import read_idx, write_idx
from nndl.data.idx import idx_bytes
from nndl.errors import DataError

DTYPES = [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64]


@pytest.mark.parametrize("compress", [False, True], ids=["raw", "gzip"])
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_round_trip_every_type(tmp_path, dtype, compress):
    rng = np.random.default_rng(0)
    array = (rng.standard_normal((3, 4, 5)) * 50).astype(dtype)
    path = write_idx(tmp_path / "a.idx", array, compress=compress)
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype) and back.dtype.isnative
    assert back.shape == (3, 4, 5)
    np.testing.assert_array_equal(back, array)
    assert back.flags.writeable


def test_reads_big_endian_data_by_hand(tmp_path):
    # type 0x0B (int16), 1 dimension of size 2, values 258 and -2 stored big-endian
    path = tmp_path / "x"
    path.write_bytes(b"\x00\x00\x0b\x01" + struct.pack(">I", 2) + b"\x01\x02\xff\xfe")
    out = read_idx(path)
    assert out.dtype == np.int16 and out.tolist() == [258, -2]


def test_gzip_is_recognised_by_content_not_name(tmp_path):
    data = idx_bytes(np.arange(6, dtype=np.uint8).reshape(2, 3))
    path = tmp_path / "looks-raw"
    path.write_bytes(gzip.compress(data))
    np.testing.assert_array_equal(read_idx(path), [[0, 1, 2], [3, 4, 5]])


def test_mnist_sample_as_idx_matches(tmp_path, tiny_mnist):
    for name, raw in tiny_mnist.raw.items():
        (tmp_path / name).write_bytes(raw)
        np.testing.assert_array_equal(read_idx(tmp_path / name), tiny_mnist.arrays[name])


GOOD = b"\x00\x00\x08\x02" + struct.pack(">II", 2, 3) + bytes(range(6))

BROKEN = {
    "wrong magic": (b"\x01\x00" + GOOD[2:], r"not an IDX file"),
    "unsupported type": (b"\x00\x00\x0a\x02" + GOOD[4:], r"unsupported IDX type byte 0x0A"),
    "too short for any header": (b"\x00\x00", r"truncated IDX header"),
    "truncated dimensions": (GOOD[:10], r"truncated IDX header .*2 dimensions need 12"),
    "truncated data": (GOOD[:-1], r"truncated IDX data \(shape \(2, 3\) needs 18 bytes, file has 17\)"),
    "trailing bytes": (GOOD + b"\x00\x00", r"2 trailing bytes"),
    "empty file": (b"", r"truncated IDX header"),
    "corrupt gzip": (b"\x1f\x8b" + b"not really gzip", r"not a valid gzip file"),
    "truncated gzip": (gzip.compress(GOOD)[:-10], r"not a valid gzip file"),
}


@pytest.mark.parametrize("content, message", BROKEN.values(), ids=BROKEN.keys())
def test_broken_files_raise_data_error_naming_file(tmp_path, content, message):
    path = tmp_path / "broken-idx"
    path.write_bytes(content)
    with pytest.raises(DataError, match=message) as info:
        read_idx(path)
    assert str(path) in str(info.value)
    assert isinstance(info.value, ValueError)


def test_truncated_data_inside_gzip(tmp_path):
    path = tmp_path / "short.gz"
    path.write_bytes(gzip.compress(GOOD[:-3]))
    with pytest.raises(DataError, match="truncated IDX data"):
        read_idx(path)


def test_not_a_file(tmp_path):
    with pytest.raises(DataError, match="is not a regular file"):
        read_idx(tmp_path)
    with pytest.raises(DataError, match="does not exist"):
        read_idx(tmp_path / "missing")


def test_write_idx_rejects_types_idx_cannot_hold(tmp_path):
    with pytest.raises(DataError, match="has no IDX type"):
        write_idx(tmp_path / "c", np.zeros(3, dtype=np.complex64))
    assert not (tmp_path / "c").exists()
