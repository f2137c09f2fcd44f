"""Gradients by finite differences, and the check of backpropagation (of a network or of one
layer) against them."""

from digitlab.gradients.check import GradientCheck, TensorCheck, check
from digitlab.gradients.keys import align_gradients, gradient_key
from digitlab.gradients.layer_check import check_layer
from digitlab.nn.finite_differences import finite_differences, supports_fast_path
from digitlab.nn.numerical import (
    DEFAULT_H,
    numerical_gradient,
    sampled_numerical_gradient,
)

__all__ = [
    "DEFAULT_H",
    "GradientCheck",
    "TensorCheck",
    "align_gradients",
    "check",
    "check_layer",
    "finite_differences",
    "gradient_key",
    "numerical_gradient",
    "sampled_numerical_gradient",
    "supports_fast_path",
]
