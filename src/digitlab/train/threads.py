"""How many BLAS threads a training run uses.

OpenBLAS shares any matrix product above a quarter of a million multiply-adds among its
threads. A training batch of 100 images makes products of a few million, where waking and
joining a second thread costs more than it saves: on a 2-core machine, one epoch of
784-100-10 takes 0.52 s with two threads and 0.35 s with one (benchmarks/blas_threads.py
measures the products size by size). So a run whose largest product is small keeps BLAS to one
thread for the while; larger networks and batches keep the BLAS's own choice. One thread also
makes such runs repeat bit for bit on machines with other core counts (OpenBLAS's threads split
some products' sums differently).
"""

from __future__ import annotations

import contextlib

from threadpoolctl import threadpool_limits

from digitlab.errors import ConfigError

#: a run whose largest matrix product (multiply-adds per BLAS call) is under this uses one
#: BLAS thread (see benchmarks/blas_threads.py for where a second thread starts to pay)
SMALL_PRODUCT = 50_000_000


def run_threads(network, batch_size: int, setting: int | str | None) -> int | None:
    """The BLAS threads for training `network` in batches of `batch_size`: `setting` itself
    when it is a number or None (the BLAS's own choice); for "auto", 1 where the network's
    largest product is under SMALL_PRODUCT, else None. A network that cannot tell its
    products' sizes (no `product_sizes`) keeps the BLAS's choice."""
    if setting != "auto":
        return setting
    sizes = network.product_sizes(batch_size) if hasattr(network, "product_sizes") else []
    return 1 if sizes and max(sizes) < SMALL_PRODUCT else None


def check_setting(setting) -> int | str | None:
    """`setting` if it is "auto", None or a whole number >= 1, else a ConfigError."""
    if setting is None or setting == "auto":
        return setting
    if isinstance(setting, bool) or not isinstance(setting, int) or setting < 1:
        raise ConfigError(
            f"blas_threads={setting!r} must be 'auto', a whole number >= 1, or None (the BLAS "
            "library's own choice)."
        )
    return setting


def limited(threads: int | None):
    """A context in which BLAS uses `threads` threads (None: as it is)."""
    if threads is None:
        return contextlib.nullcontext()
    return threadpool_limits(threads, user_api="blas")
