"""The generic central-difference gradient."""

import numpy as np
import pytest

from digitlab.gradients import numerical_gradient


def test_gradient_of_a_cubic_on_a_3d_array():
    x = np.random.default_rng(0).normal(size=(2, 3, 4))
    before = x.copy()
    grad = numerical_gradient(lambda a: float(np.sum(a**3)), x)
    # central difference of x^3 is 3x^2 + h^2 exactly
    np.testing.assert_allclose(grad, 3 * before**2 + 1e-8, rtol=1e-6, atol=1e-9)
    assert np.array_equal(x, before)


def test_values_are_restored_when_f_raises():
    x = np.arange(6.0).reshape(2, 3)
    before = x.copy()
    calls = []

    def f(a):
        calls.append(1)
        if len(calls) == 4:  # fails on the minus side of the second entry
            raise RuntimeError("boom")
        return float(a.sum())

    with pytest.raises(RuntimeError, match="boom"):
        numerical_gradient(f, x)
    assert np.array_equal(x, before)
