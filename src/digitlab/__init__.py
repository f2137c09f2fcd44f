"""digitlab: neural networks for handwritten digits, from scratch in NumPy.

>>> from digitlab import TwoLayerNet, Trainer, predict
>>> net = TwoLayerNet(784, 100, 10)
>>> predict(None, "my-digit.jpg").top(3)  # the shipped model reads your own handwriting
"""

from digitlab import modelfile, notebook
from digitlab.doctor.watch import TrainingWatcher
from digitlab.errors import ConfigError, DataError, DigitlabError, ImageError, ModelFileError
from digitlab.imaging import predict
from digitlab.modelfile import load, save
from digitlab.nn import MLP, ConvNet, DeepConvNet, SimpleConvNet, TwoLayerNet
from digitlab.nn.base import Network
from digitlab.train import SGD, History, Trainer
from digitlab.version import __version__

# Where the layers meet (ARCHITECTURE.md): the core calls up through these hooks, so that no
# package imports a layer above its own.
# Every Trainer made with watch=True (the default) gets the doctor's TrainingWatcher: train/
# runs the loop, the doctor judges it.
Trainer.make_watcher = TrainingWatcher
# A network's save_params / load_params (the book's names) write and read model files.
Network.model_files = modelfile
# Jupyter shows networks, data sets, histories, checks, reports and predictions as pictures.
notebook.register()

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
