"""`load_mnist` with the signature and conventions of *Deep Learning from Scratch*.

Code written for the book's ``dataset/mnist.py`` runs unchanged with
``from digitlab.datasets import load_mnist``. The dtypes are the book's own: images stay
uint8 unless normalized to float32, labels are uint8, and one-hot labels are float64
(the book builds them with ``np.zeros((N, 10))``).
"""

import os

import numpy as np

from digitlab.datasets.dataset import load_dataset, to_inputs


def load_mnist(
    normalize: bool = True,
    flatten: bool = True,
    one_hot_label: bool = False,
    *,
    dataset: str | os.PathLike = "mnist",
    cache_dir: str | os.PathLike | None = None,
    progress: bool = True,
    fallback: bool = True,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load a data set as ``(x_train, t_train), (x_test, t_test)``, as the book does.

    Args:
        normalize: images as float32 in [0, 1] (pixel / 255); else uint8 in 0..255.
        flatten: images as (N, 784); else (N, 1, 28, 28), one channel for convolutions.
        one_hot_label: labels as (N, 10) float64 rows of zeros with a single 1.0; else
            (N,) uint8 class indices.
        dataset: a data set name or folder, as for `load_dataset`. The book uses the full
            MNIST, downloaded on first use; without a network this falls back to the shipped
            ``mnist-10k`` with a `DataFallbackWarning` unless ``fallback=False``.
        cache_dir, progress, fallback: passed to `load_dataset`.

    Returns:
        ``((x_train, t_train), (x_test, t_test))``.

    Raises:
        DataError: see `load_dataset`.
    """
    data = load_dataset(dataset, cache_dir=cache_dir, progress=progress, fallback=fallback)

    def images(x: np.ndarray) -> np.ndarray:
        if normalize:
            return to_inputs(x, np.float32, flatten=flatten)
        return x.reshape(len(x), -1) if flatten else x.reshape(len(x), 1, *x.shape[1:])

    def labels(t: np.ndarray) -> np.ndarray:
        return np.eye(len(data.classes))[t] if one_hot_label else t

    return (images(data.x_train), labels(data.t_train)), (images(data.x_test), labels(data.t_test))
