"""How many BLAS threads a training run uses.

A step of a small network is many short NumPy calls around a few small matrix products. On a
small machine, BLAS threads that wait for the next product hold cores the rest of the step
needs, and a second thread slows such a step down: 784-100-10 in batches of 100 takes 0.89 ms a
step with one BLAS thread and 0.97 ms with two on a 2-core machine, while 784-256-10 and larger
networks, and every conv net, gain from the second thread
(benchmarks/blas_threads.py). So a run whose steps are small keeps BLAS to one thread for the
while; the others keep the library's own choice. One thread also makes such runs repeat bit for
bit on machines with other core counts (OpenBLAS's threads split some sums differently).
"""

from __future__ import annotations

import contextlib

from threadpoolctl import threadpool_limits

from digitlab.errors import ConfigError

#: a run whose step makes fewer multiply-adds than this (a batch's forward pass: 7.9 million for
#: 784-100-10 in batches of 100, 20 million for 784-256-10) uses one BLAS thread
SMALL_STEP = 12_000_000


def run_threads(network, batch_size: int, setting: int | str | None) -> int | None:
    """The BLAS threads for training `network` in batches of `batch_size`: `setting` itself
    when it is a number or None (the library's own choice); for "auto", 1 where a step makes
    fewer than SMALL_STEP multiply-adds, else None. A network that cannot tell its work (no
    `multiply_adds`) keeps the library's choice."""
    if setting != "auto":
        return setting
    if not hasattr(network, "multiply_adds"):
        return None
    return 1 if network.multiply_adds(batch_size) < SMALL_STEP else None


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
