"""Handwritten-digit data sets: an IDX reader, named data sets, checked downloads.

>>> from digitlab.datasets import load_dataset
>>> load_dataset("mnist-10k")
Dataset('mnist-10k', train=10000, test=10000, 28x28, 10 classes)
"""

from digitlab.datasets.book import load_mnist
from digitlab.datasets.dataset import DataFallbackWarning, Dataset, load_dataset
from digitlab.datasets.download import fetch
from digitlab.datasets.idx import read_idx
from digitlab.datasets.sources import DATASETS

__all__ = [
    "DATASETS",
    "DataFallbackWarning",
    "Dataset",
    "fetch",
    "load_dataset",
    "load_mnist",
    "read_idx",
]
