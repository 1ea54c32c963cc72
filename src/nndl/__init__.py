"""nndl: Level 3 of "Neural Networks and Deep Learning" - an exact, fast NumPy network2, and the
rest of the book's chapter 3 on the same engine.

The public API is what ``__all__`` lists. The book's own names live in the top-level
modules ``network2`` and ``mnist_loader``, built on this package.
"""

from . import _deps  # noqa: F401 - first, before NumPy: without nndl's libraries, one sentence on what to run

# isort: split

from .augment import EXPANSIONS
from .config import Streams, TrainConfig, rng_streams, training_streams
from .engine.activations import ACTIVATIONS, OUTPUTS, ReLU, Sigmoid, Softmax, Tanh, sigmoid, sigmoid_prime
from .engine.costs import COSTS, CrossEntropyCost, LogLikelihoodCost, QuadraticCost, get_cost
from .engine.history import EpochReport, History, Monitor
from .engine.initializers import INITIALIZERS, default_init, he_init, large_init
from .engine.network import Network
from .engine.regularizers import REGULARIZERS
from .engine.rules import GradientDescent
from .engine.schedules import SCHEDULES
from .engine.training import fit, sgd, train
from .errors import ConfigError, DataError, DivergenceError, FetchError, ImageError, ModelFileError, NndlError
from .examples import Examples, as_examples
from .serialization import load, save

__version__ = "0.2.0"

__all__ = [
    "ACTIVATIONS",
    "COSTS",
    "EXPANSIONS",
    "INITIALIZERS",
    "OUTPUTS",
    "REGULARIZERS",
    "SCHEDULES",
    "ConfigError",
    "CrossEntropyCost",
    "DataError",
    "DivergenceError",
    "EpochReport",
    "Examples",
    "FetchError",
    "GradientDescent",
    "History",
    "ImageError",
    "LogLikelihoodCost",
    "ModelFileError",
    "Monitor",
    "Network",
    "NndlError",
    "QuadraticCost",
    "ReLU",
    "Sigmoid",
    "Softmax",
    "Streams",
    "Tanh",
    "TrainConfig",
    "as_examples",
    "default_init",
    "fit",
    "get_cost",
    "he_init",
    "large_init",
    "load",
    "rng_streams",
    "save",
    "sgd",
    "sigmoid",
    "sigmoid_prime",
    "train",
    "training_streams",
]
