"""Stable softmax, cross-entropy and sigmoid: right values, and no warning for any finite input
(pytest turns every warning into an error)."""

import math

import numpy as np
import pytest

from digitlab.nn import log_softmax, sigmoid, softmax, softmax_cross_entropy

EXTREME = np.array(
    [
        [1e308, -1e308, 0.0],
        [-1e308, -1e308, -1e308],
        [1000.0, -1000.0, 0.0],
        [-745.2, 709.8, 3.0],
    ]
)


def test_softmax_matches_the_definition_on_moderate_scores():
    scores = np.array([[1.0, 2.0, 3.0], [-1.0, 0.0, 0.5]])
    expected = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(softmax(scores), expected, rtol=1e-15)
    np.testing.assert_allclose(log_softmax(scores), np.log(expected), rtol=1e-14)


def test_softmax_of_extreme_scores_is_finite_and_sums_to_one():
    probs = softmax(EXTREME)
    assert np.all(np.isfinite(probs))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    assert probs[0, 0] == 1.0 and probs[2, 0] == 1.0
    np.testing.assert_allclose(probs[1], [1 / 3] * 3)


def test_cross_entropy_is_exact_where_the_probability_underflows():
    # p(class 1) = e^-1000 underflows to 0, yet -log p = 1000 exactly.
    loss, probs = softmax_cross_entropy(np.array([[1000.0, 0.0]]), np.array([1]))
    assert probs[0, 1] == 0.0
    assert loss == pytest.approx(1000.0, rel=1e-15)


def test_cross_entropy_is_the_batch_mean_for_indices_and_one_hot():
    scores = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3]])
    t = np.array([0, 2])
    by_hand = (
        -(
            math.log(math.exp(2.0) / (math.exp(2.0) + math.exp(1.0) + math.exp(0.1)))
            + math.log(math.exp(0.3) / (math.exp(0.5) + math.exp(2.5) + math.exp(0.3)))
        )
        / 2
    )
    assert softmax_cross_entropy(scores, t)[0] == pytest.approx(by_hand, rel=1e-14)
    assert softmax_cross_entropy(scores, np.eye(3)[t])[0] == pytest.approx(by_hand, rel=1e-14)


def test_cross_entropy_of_extreme_scores_with_one_hot_targets_is_finite():
    loss, _ = softmax_cross_entropy(EXTREME, np.eye(3)[[0, 1, 0, 1]])
    assert math.isfinite(loss)


def test_sigmoid_is_stable_and_exact():
    x = np.array([-1e308, -1000.0, -30.0, -1.0, 0.0, 1.0, 30.0, 1000.0, 1e308])
    y = sigmoid(x)
    np.testing.assert_allclose(y[2:7], 1 / (1 + np.exp(-x[2:7])), rtol=1e-12, atol=1e-16)
    assert y[0] == 0.0 and y[1] == 0.0 and y[-1] == 1.0 and y[-2] == 1.0
