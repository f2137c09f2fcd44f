"""Gradients by finite differences, and the check of backpropagation against them."""

from digitlab.gradients.check import GradientCheck, TensorCheck, check
from digitlab.gradients.fast import finite_differences, supports_fast_path
from digitlab.gradients.numerical import (
    DEFAULT_H,
    numerical_gradient,
    sampled_numerical_gradient,
)

__all__ = [
    "DEFAULT_H",
    "GradientCheck",
    "TensorCheck",
    "check",
    "finite_differences",
    "numerical_gradient",
    "sampled_numerical_gradient",
    "supports_fast_path",
]
