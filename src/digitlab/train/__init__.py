"""Training: optimizers, the mini-batch trainer and the record it keeps."""

from digitlab.train.history import History
from digitlab.train.optimizers import SGD
from digitlab.train.trainer import Trainer

__all__ = ["SGD", "History", "Trainer"]
