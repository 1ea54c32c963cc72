"""IDX headers and the array cache: bounded before allocating, damaged files rebuilt with a
note."""

from __future__ import annotations

import gzip
import struct
import tracemalloc

import numpy as np
import pytest

from nndl.cli import main
from nndl.data import FILENAMES, DirectorySource, info, load_mnist, read_idx
from nndl.data.idx import MAX_NDIM, parse_idx
from nndl.data.registry import TEST_IMAGES, TRAIN_LABELS
from nndl.errors import DataError


def header(type_byte, dims):
    return bytes([0, 0, type_byte, len(dims)]) + struct.pack(f">{len(dims)}I", *dims)


@pytest.mark.parametrize(
    "content, match",
    [
        (
            header(8, [2**32 - 1] * 3) + b"\0" * 10,
            r"declares shape \(4294967295, 4294967295, 4294967295\), which no "
            r"array can have",
        ),
        (header(0x0E, [2**31, 2**31]) + b"\0" * 8, r"declares shape \(2147483648, 2147483648\), which no array"),
        (header(0x0E, [2**20, 2**20]) + b"\0" * 8, r"truncated IDX data \(shape \(1048576, 1048576\) needs"),
        (header(8, [1] * 65) + b"\0", r"declares 65 dimensions \(1 to 32 are allowed\)"),
        (header(8, [1] * (MAX_NDIM + 1)) + b"\0", r"declares 33 dimensions"),
        (bytes([0, 0, 8, 0]) + b"\0", r"declares 0 dimensions"),
        # found by make fuzz: no bytes of data (a size is 0), but the others multiply past NumPy's limit
        (
            b"\x00\x00\x08\x04\x7f\xff\xff\xff\x00\x00\x00\x00\x00\x00\x03\x00\x00UUV",
            r"declares shape \(2147483647, 0, 768, 5592406\), which no array can have",
        ),
    ],
)
def test_headers_that_numpy_cannot_take_are_data_errors(tmp_path, content, match):
    path = tmp_path / "bad-idx"
    path.write_bytes(content)
    for call in (lambda: read_idx(path), lambda: parse_idx(content, str(path))):
        with pytest.raises(DataError, match=match) as e:
            call()
        assert str(e.value).startswith(str(path))


def test_32_dimensions_are_fine(tmp_path):
    path = tmp_path / "ok"
    path.write_bytes(header(8, [1] * 32) + b"\x07")
    assert read_idx(path).shape == (1,) * 32


def test_gzip_bomb_is_not_decompressed_past_the_declared_size(tmp_path, monkeypatch):
    """10 declared bytes followed by 400 MB of zeros (a 400 KB .gz): refused at once, in little memory."""
    path = tmp_path / "bomb.gz"
    with gzip.open(path, "wb", compresslevel=9) as f:
        f.write(header(8, [10]) + b"\0" * 10)
        block = b"\0" * (1 << 22)
        for _ in range(100):
            f.write(block)
    assert path.stat().st_size < 1_000_000
    decompressed = []
    read = gzip.GzipFile.read
    monkeypatch.setattr(gzip.GzipFile, "read", lambda self, *a: decompressed.append(len(r := read(self, *a))) or r)
    tracemalloc.start()
    try:
        with pytest.raises(DataError, match=r"trailing bytes after the IDX data of shape \(10,\)"):
            read_idx(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10_000_000, peak  # all of it would be 400 MB
    assert sum(decompressed) < 1_000_000, sum(decompressed)  # stops soon after the declared 10 bytes, not at 400 MB


def test_raw_file_size_is_checked_before_reading(tmp_path):
    path = tmp_path / "raw"
    path.write_bytes(header(8, [10**6]) + b"\0" * 5)
    tracemalloc.start()
    try:
        with pytest.raises(DataError, match=r"needs 1000008 bytes, file has 13"):
            read_idx(path)
        assert tracemalloc.get_traced_memory()[1] < 1_000_000
    finally:
        tracemalloc.stop()


def test_declared_array_larger_than_memory(tmp_path, monkeypatch):
    from nndl import memory

    monkeypatch.setattr(memory, "available", lambda: 1000)
    path = tmp_path / "big.gz"
    path.write_bytes(gzip.compress(header(8, [10_000]) + b"\0" * 10_000))
    with pytest.raises(DataError, match=r"an IDX array of shape \(10000,\) needs about .* more than the"):
        read_idx(path)


# --- the array cache -----------------------------------------------------------------------------


def npy_with_header(text: str, data: bytes = b"\0" * 64) -> bytes:
    h = text.encode("latin1")
    h += b" " * ((64 - (10 + len(h) + 1) % 64) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h + data


DAMAGE = {
    "garbage header": npy_with_header("{'descr': '|u1', 'fortran_order': False, 'shape': (3,), "),
    "absurd shape": npy_with_header("{'descr': '|u1', 'fortran_order': False, 'shape': (10000000000000,), }"),
    "empty shape": npy_with_header("{'descr': '|u1', 'fortran_order': False, 'shape': (0,), }", b""),
    "object dtype": npy_with_header("{'descr': '|O', 'fortran_order': False, 'shape': (3,), }"),
    "negative shape": npy_with_header("{'descr': '|u1', 'fortran_order': False, 'shape': (-1,), }"),
    "empty but too big": npy_with_header("{'descr': '<f8', 'fortran_order': False, 'shape': (2**62, 0, 2**62), }", b""),
    "empty but too big, literal": npy_with_header(
        "{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904, 0, 4611686018427387904), }", b""
    ),
    "not npy": b"not numpy at all",
    "empty file": b"",
}


@pytest.mark.usefixtures("offline_data")
@pytest.mark.parametrize("damage", DAMAGE.values(), ids=DAMAGE.keys())
def test_damaged_cache_is_rebuilt_with_a_note(tiny_mnist, tiny_source_dir, tmp_path, damage, monkeypatch, capsys):
    from nndl.data import verify

    load_mnist(tiny_mnist.spec, data_dir=tmp_path, sources=[DirectorySource(tiny_source_dir)])
    npy = tmp_path / "tiny" / (TRAIN_LABELS + ".npy")
    npy.write_bytes(damage)
    monkeypatch.setattr(verify, "_VERIFIED", set())
    report = info(tiny_mnist.spec, data_dir=tmp_path)  # `nndl data info` reads it too: no traceback
    assert report.array_cache[1].verified is False and report.array_cache[1].problem
    splits = load_mnist(tiny_mnist.spec, data_dir=tmp_path, sources=[])
    np.testing.assert_array_equal(splits.training.labels, tiny_mnist.arrays[TRAIN_LABELS][:100])
    assert splits.sources[TRAIN_LABELS] == "cache"  # rebuilt from the verified IDX file
    (note,) = splits.notes
    assert note.startswith(f"{npy}: ") and note.endswith("deleted, rebuilt from the IDX file")
    again = load_mnist(tiny_mnist.spec, data_dir=tmp_path, sources=[])
    assert set(again.sources.values()) == {"array cache"} and again.notes == ()


@pytest.mark.usefixtures("offline_data")
def test_the_command_line_prints_the_note_on_stderr(monkeypatch, tiny_mnist, tiny_source_dir, capsys):
    import dataclasses
    import os

    from nndl.data import registry

    spec = dataclasses.replace(tiny_mnist.spec, system_dir=str(tiny_source_dir))
    monkeypatch.setitem(registry.DATASETS, "tiny", spec)
    assert main(["data", "fetch", "tiny", "-q"]) == 0
    args = ["train", "--dataset", "tiny", "--sizes", "784,5,10", "--epochs", "1", "-q"]
    assert main(args) == 0
    npy = os.path.join(os.environ["NNDL_DATA_DIR"], "tiny", TEST_IMAGES + ".npy")
    with open(npy, "wb") as f:
        f.write(DAMAGE["absurd shape"])
    capsys.readouterr()
    assert main(args) == 0
    err = capsys.readouterr().err
    assert f"nndl: note: {npy}: its header declares shape (10000000000000,)" in err
    assert "Traceback" not in err


def test_every_filename_has_a_known_size():
    from nndl.data import FASHION, MNIST

    for spec in (MNIST, FASHION):
        assert [spec.content_bytes(f) for f in FILENAMES] == [47_040_016, 60_008, 7_840_016, 10_008]
