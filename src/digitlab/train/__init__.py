"""Training: optimizers, learning-rate schedules, early stopping, the trainer and its record."""

from digitlab.train.early_stopping import EarlyStopping
from digitlab.train.history import History
from digitlab.train.optimizers import (
    SGD,
    AdaGrad,
    Adam,
    AdamW,
    Momentum,
    Nesterov,
    Optimizer,
    RMSprop,
)
from digitlab.train.schedules import Constant, Cosine, Schedule, StepDecay, Warmup
from digitlab.train.trainer import Trainer

__all__ = [
    "SGD",
    "AdaGrad",
    "Adam",
    "AdamW",
    "Constant",
    "Cosine",
    "EarlyStopping",
    "History",
    "Momentum",
    "Nesterov",
    "Optimizer",
    "RMSprop",
    "Schedule",
    "StepDecay",
    "Trainer",
    "Warmup",
]
