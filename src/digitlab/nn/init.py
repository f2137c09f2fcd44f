"""Initial weights: a fixed std (the book's 0.01), or a scale derived from the fan-in.

He (sqrt(2 / fan_in)) keeps the variance of ReLU (and leaky ReLU) activations constant from
layer to layer; Xavier (sqrt(1 / fan_in)) does the same for sigmoid and tanh. Weights are
zero-centred normals: all-positive `np.random.rand` weights are one of the learners' bugs this
library exists to name.
"""

from __future__ import annotations

import numpy as np

from digitlab.errors import ConfigError

#: the scale each activation calls for when weight_init_std is "auto"
DEFAULT_INIT = {"relu": "he", "leaky_relu": "he", "sigmoid": "xavier", "tanh": "xavier"}


#: the largest std accepted: beyond it, 784 inputs of 1 make pre-activations of ~1e4 and more,
#: and the next layer's overflow float32 (a std of 1e30 makes NaN in the first step)
MAX_STD = 100.0


def init_std(weight_init_std: float | str, fan_in: int, activation: str) -> float:
    """The standard deviation for a weight matrix with `fan_in` inputs.

    weight_init_std: a positive number, or "he", "xavier", or "auto" (He for ReLU and leaky
    ReLU, Xavier for sigmoid and tanh).
    """
    if isinstance(weight_init_std, str):
        name = weight_init_std.lower()
        if name == "auto":
            name = DEFAULT_INIT[activation]
        if name == "he":
            return float(np.sqrt(2.0 / fan_in))
        if name == "xavier":
            return float(np.sqrt(1.0 / fan_in))
        raise ConfigError(
            f"weight_init_std={weight_init_std!r} is not a known scale; "
            "use a positive number, 'he', 'xavier' or 'auto'."
        )
    is_number = isinstance(weight_init_std, (int, float, np.integer, np.floating))
    if is_number and not isinstance(weight_init_std, bool):
        std = float(weight_init_std)
        if 0 < std <= MAX_STD:
            return std
        if std > MAX_STD and np.isfinite(std):
            raise ConfigError(
                f"weight_init_std={weight_init_std!r} is over {MAX_STD:g}: the first layer's "
                "outputs would overflow to infinity; use 'auto' (He or Xavier), or the book's "
                "0.01."
            )
    raise ConfigError(
        f"weight_init_std={weight_init_std!r} must be a positive number (the book uses 0.01), "
        "'he', 'xavier' or 'auto'."
    )


def normal_weights(
    fan_in: int, fan_out: int, std: float, rng: np.random.Generator, dtype: np.dtype
) -> np.ndarray:
    """(fan_in, fan_out) zero-mean normal weights with the given std."""
    return (std * rng.standard_normal((fan_in, fan_out))).astype(dtype, copy=False)
