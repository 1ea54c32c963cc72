""".npz data sets: every damaged archive, header or content is a DataError naming the file and
the problem, found from the headers before the arrays are allocated."""

from __future__ import annotations

import io
import struct
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest

from nndl.data import load_npz
from nndl.data import npz as npz_module
from nndl.errors import DataError

SAMPLE = Path(__file__).parents[1] / "data" / "mnist_sample.npz"


def arrays(n_train=12, n_test=5, **changes):
    rng = np.random.default_rng(0)
    d = {
        "train_images": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train_labels": rng.integers(0, 10, n_train).astype(np.uint8),
        "test_images": rng.integers(0, 256, (n_test, 784), dtype=np.uint8),
        "test_labels": rng.integers(0, 10, n_test).astype(np.int64),
    }
    for k, v in changes.items():
        if v is None:
            d.pop(k)
        else:
            d[k] = v
    return d


def npz_bytes(d: dict, compressed=False) -> bytes:
    buf = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buf, **d)
    return buf.getvalue()


def write(tmp_path, data: bytes, name="set.npz") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def refused(path, match):
    with pytest.raises(DataError, match=match) as info:
        load_npz(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ") and "\n" not in message and len(message) < 400, message
    assert "pickle" not in message and "allow_pickle" not in message
    return message


def npy_member(header: str, data: bytes) -> bytes:
    h = header.encode("latin1")
    h += b" " * ((64 - (10 + len(h) + 1) % 64) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h + data


def with_member(d: dict, name: str, raw: bytes, method=zipfile.ZIP_STORED) -> bytes:
    """An .npz of ``d`` whose member ``name`` is the raw bytes given."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for k, v in d.items():
            if k != name:
                b = io.BytesIO()
                np.save(b, v)
                zf.writestr(k + ".npy", b.getvalue())
        zf.writestr(name + ".npy", raw)
    return buf.getvalue()


def test_the_sample_loads(tmp_path):
    s = load_npz(SAMPLE)
    assert (len(s.training), len(s.validation), len(s.test)) == (1667, 333, 500)
    assert s.training.images.dtype == np.float32 and s.training.labels.dtype == np.int64


@pytest.mark.parametrize("compressed", [False, True])
def test_a_good_file_round_trips(tmp_path, compressed):
    d = arrays()
    s = load_npz(write(tmp_path, npz_bytes(d, compressed)))
    np.testing.assert_array_equal(s.test.labels, d["test_labels"])
    np.testing.assert_allclose(s.training.images[0], d["train_images"][0].ravel() / 255, rtol=1e-6)


def test_not_a_zip_is_never_called_pickled(tmp_path):
    refused(write(tmp_path, b"hello, not a zip at all"), r"not an \.npz file \(it is not a zip archive\)")
    refused(write(tmp_path, b""), r"not an \.npz file")


def test_a_plain_npy_named_npz(tmp_path):
    b = io.BytesIO()
    np.save(b, np.zeros(3))
    refused(write(tmp_path, b.getvalue()), r"is a single \.npy array, not an \.npz archive")


def test_missing_file_and_folder(tmp_path):
    refused(tmp_path / "nope.npz", "no such data file")
    (tmp_path / "dir.npz").mkdir()
    refused(tmp_path / "dir.npz", "is a folder")


def test_truncated_and_corrupt_archives(tmp_path):
    good = npz_bytes(arrays(), compressed=True)
    refused(write(tmp_path, good[: len(good) // 2]), r"damaged \.npz archive")
    flipped = bytearray(good)
    flipped[len(good) // 3] ^= 0xFF  # inside a deflate stream
    refused(write(tmp_path, bytes(flipped)), r"damaged \.npz archive|damaged \.npy header|not a \.npy")


def test_encrypted_flag(tmp_path):
    data = bytearray(npz_bytes(arrays()))
    i = data.find(b"PK\x01\x02")  # first central-directory entry: general purpose flag at +8
    data[i + 8] |= 0x1
    refused(write(tmp_path, bytes(data)), r"is encrypted")


def test_unsupported_compression_method(tmp_path):
    refused(
        write(tmp_path, with_member(arrays(), "train_labels", b"x" * 20, zipfile.ZIP_BZIP2)),
        r"uses zip compression method 12; nndl reads stored or deflate",
    )


@pytest.mark.parametrize(
    "header, data, match",
    [
        ("{'descr': '|u1', 'fortran_order': False, 'shape': (12,), ", b"\0" * 12, r"damaged \.npy header"),
        ("{'descr': '|u1', 'fortran_order': False, 'shape': (10**12,), }", b"\0" * 12, r"damaged \.npy header"),
        ("{'descr': '|O', 'fortran_order': False, 'shape': (12,), }", b"\0" * 96, r"holds '\|O' values"),
        ("{'descr': [('a', '<u1')], 'fortran_order': False, 'shape': (12,), }", b"\0" * 12, r"holds \[\('a'"),
        ("{'descr': '<U5', 'fortran_order': False, 'shape': (12,), }", b"\0" * 240, r"holds '<U5' values"),
        ("{'descr': '|u1', 'fortran_order': False, 'shape': (-1,), }", b"\0" * 12, r"is not a tuple of"),
        ("{'descr': '|u1', 'fortran_order': False, 'shape': (12,), 'x': 1}", b"\0" * 12, r"expected the keys"),
    ],
)
def test_garbage_member_headers(tmp_path, header, data, match):
    refused(write(tmp_path, with_member(arrays(), "train_labels", npy_member(header, data))), match)


def test_member_without_npy_magic(tmp_path):
    refused(write(tmp_path, with_member(arrays(), "test_images", b"PK not an npy")), r"test_images: not a \.npy")


def test_declared_shape_is_bounded_before_allocation(tmp_path):
    """A few hundred bytes that declare 10^12 images: refused from the header, allocating nothing."""
    header = "{'descr': '|u1', 'fortran_order': False, 'shape': (1000000000000, 784), }"
    path = write(tmp_path, with_member(arrays(), "train_images", npy_member(header, b"\0" * 784)))
    tracemalloc.start()
    try:
        refused(
            path,
            r"declares shape \(1000000000000, 784\) of uint8 \(784,000,000,000,000 bytes\), "
            r"but its member holds 784 bytes",
        )
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000


def test_a_set_larger_than_memory_is_refused_with_the_numbers(tmp_path, monkeypatch):
    from nndl import memory

    monkeypatch.setattr(memory, "available", lambda: 10_000)
    message = refused(
        write(tmp_path, npz_bytes(arrays())),
        r"loading this data set needs about .* more than "
        r"the 9\.8 KiB available now",
    )
    assert "GiB in all" in message or "MiB in all" in message


@pytest.mark.parametrize(
    "changes, match",
    [
        (
            {"train_images": np.zeros((0, 28, 28), np.uint8), "train_labels": np.zeros(0, np.uint8)},
            r"train_images holds no images \(shape \(0, 28, 28\)\); the training set needs at least one",
        ),
        (
            {"test_images": np.zeros((0, 784), np.uint8), "test_labels": np.zeros(0, np.uint8)},
            r"test_images holds no images",
        ),
        (
            {"train_images": np.zeros((1, 784), np.uint8), "train_labels": np.zeros(1, np.uint8)},
            r"train_images holds 1 image, too few to split",
        ),
        ({"train_labels": np.zeros(11, np.uint8)}, r"train_images holds 12 images but train_labels holds 11 labels"),
        ({"test_labels": np.array([0, 1, -3, 2, 1])}, r"test_labels holds -3 at index 2; labels must be classes 0-9"),
        ({"test_labels": np.array([0, 1, 11, 2, 1])}, r"test_labels holds 11 at index 2; labels must be classes 0-9"),
        ({"test_labels": np.zeros(5, np.float64)}, r"test_labels must be integers 0-9, got float64"),
        ({"test_labels": np.zeros((5, 1), np.uint8)}, r"test_labels has shape \(5, 1\); labels must be \(n,\)"),
        (
            {"test_images": np.zeros((5, 400), np.uint8)},
            r"test_images has 400 pixels per image, but train_images has 784",
        ),
        ({"train_images": np.zeros(12, np.uint8)}, r"train_images has shape \(12,\); images must be"),
        ({"test_images": np.full((5, 784), 300, np.int32)}, r"integer test_images must be 0-255"),
        ({"test_images": np.full((5, 784), 2.0)}, r"float test_images must be finite and within \[0, 1\]"),
        ({"test_images": np.full((5, 784), np.nan, np.float32)}, r"float test_images must be finite"),
        ({"test_labels": None}, r"missing arrays \['test_labels'\]"),
        ({"validation_images": np.zeros((3, 784), np.uint8)}, r"has validation_images but no validation_labels"),
    ],
)
def test_bad_contents_are_named(tmp_path, changes, match):
    message = refused(write(tmp_path, npz_bytes(arrays(**changes))), match)
    assert "last layer" not in message


def test_a_validation_part_is_used(tmp_path):
    d = arrays(validation_images=np.zeros((3, 784), np.uint8), validation_labels=np.arange(3))
    s = load_npz(write(tmp_path, npz_bytes(d)))
    assert (len(s.training), len(s.validation)) == (12, 3)


def test_every_zip_and_npy_error_is_caught_at_one_place():
    """The exceptions the zip and .npy layers raise on damage are named in one tuple."""
    for e in (
        zipfile.BadZipFile,
        struct.error,
        EOFError,
        OSError,
        ValueError,
        OverflowError,
        NotImplementedError,
        RuntimeError,
    ):
        assert issubclass(e, npz_module._ZIP_ERRORS)
