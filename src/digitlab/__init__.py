"""digitlab: neural networks for handwritten digits, from scratch in NumPy.

>>> from digitlab import TwoLayerNet, Trainer, predict
>>> net = TwoLayerNet(784, 100, 10)
>>> predict(None, "my-digit.jpg").top(3)  # the shipped model reads your own handwriting
"""

from importlib.metadata import PackageNotFoundError, version

from digitlab.errors import ConfigError, DataError, DigitlabError, ImageError, ModelFileError
from digitlab.imaging import predict
from digitlab.modelfile import load, save
from digitlab.nn import MLP, ConvNet, DeepConvNet, SimpleConvNet, TwoLayerNet
from digitlab.train import SGD, History, Trainer


def _training_watcher():
    """The doctor's TrainingWatcher, for every Trainer made with watch=True (the default).
    Wired here, where the layers meet: train/ runs the loop, the doctor judges it, and neither
    package imports the other's way."""
    from digitlab.doctor.watch import TrainingWatcher

    return TrainingWatcher()


Trainer.make_watcher = staticmethod(_training_watcher)

try:
    __version__ = version("digitlab")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = [
    "MLP",
    "SGD",
    "ConfigError",
    "ConvNet",
    "DataError",
    "DeepConvNet",
    "DigitlabError",
    "History",
    "ImageError",
    "ModelFileError",
    "SimpleConvNet",
    "Trainer",
    "TwoLayerNet",
    "__version__",
    "load",
    "predict",
    "save",
]
