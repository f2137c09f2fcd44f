"""Gradients by finite differences, to check backpropagation against."""

from digitlab.gradients.numerical import DEFAULT_H, numerical_gradient

__all__ = ["DEFAULT_H", "numerical_gradient"]
