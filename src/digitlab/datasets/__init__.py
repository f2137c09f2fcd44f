"""Handwritten-digit data sets: an IDX reader, named data sets, checked downloads, and a
learner's own data read as it is stored.

>>> from digitlab.datasets import load_dataset
>>> load_dataset("mnist-10k")
Dataset('mnist-10k', train=10000, test=10000, 28x28, 10 classes)
"""

from digitlab.datasets.augment import Augment, augment, rotate_and_shift
from digitlab.datasets.book import load_mnist
from digitlab.datasets.dataset import DataFallbackWarning, Dataset, load_dataset, to_inputs
from digitlab.datasets.download import fetch
from digitlab.datasets.idx import read_idx
from digitlab.datasets.sources import DATASETS
from digitlab.datasets.split import train_validation_split
from digitlab.datasets.user import UserData, read_user_data

__all__ = [
    "DATASETS",
    "Augment",
    "DataFallbackWarning",
    "Dataset",
    "UserData",
    "augment",
    "fetch",
    "load_dataset",
    "load_mnist",
    "read_idx",
    "read_user_data",
    "rotate_and_shift",
    "to_inputs",
    "train_validation_split",
]
