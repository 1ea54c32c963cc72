"""nndl: Level 3 of "Neural Networks and Deep Learning" - an exact, fast NumPy network2.

The public API is what ``__all__`` lists. The book's own names live in the top-level
modules ``network2`` and ``mnist_loader``, built on this package.
"""

from .activations import ACTIVATIONS, Sigmoid, sigmoid, sigmoid_prime
from .config import TrainConfig, rng_streams
from .costs import COSTS, CrossEntropyCost, QuadraticCost, get_cost
from .errors import (ConfigError, DataError, DivergenceError, FetchError, ImageError, ModelFileError,
                     NndlError)
from .examples import Examples, as_examples
from .initializers import INITIALIZERS, default_init, large_init
from .network import Network
from .rules import GradientDescent
from .serialization import load, save
from .training import EpochReport, History, sgd, train

__version__ = "0.1.0"

__all__ = [
    "ACTIVATIONS", "COSTS", "INITIALIZERS",
    "ConfigError", "CrossEntropyCost", "DataError", "DivergenceError", "EpochReport", "Examples",
    "FetchError", "GradientDescent", "History", "ImageError", "ModelFileError", "Network", "NndlError",
    "QuadraticCost", "Sigmoid", "TrainConfig",
    "as_examples", "default_init", "get_cost", "large_init", "load", "rng_streams", "save", "sgd",
    "sigmoid", "sigmoid_prime", "train",
]
