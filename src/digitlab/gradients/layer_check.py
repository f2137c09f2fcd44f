"""Gradient check of one layer: any object with `forward(x)` and `backward(dout)`.

As CS231n's `eval_numerical_gradient_array`: a random upstream gradient dout stands for the rest
of the network, so the layer's output out = forward(x) feeds the scalar f = sum(out * dout),
whose gradient with respect to x is exactly what backward(dout) must return. Parameters are the
book's: an array attribute (`W`, `b`, `gamma`) that forward uses but does not replace, with a
gradient attribute that backward sets (`dW`, `db`, `dgamma`; any spelling of
digitlab.gradients.keys). Each is compared with central differences of f, as in `check`.
"""

from __future__ import annotations

import numpy as np

from digitlab.gradients.check import (
    SAMPLED_COORDINATES,
    SAMPLED_H,
    WRONG_SHAPE,
    GradientCheck,
    TensorCheck,
    compare,
    describe,
    difference_noise,
    problem,
)
from digitlab.gradients.keys import align_gradients
from digitlab.i18n import N_, current_language
from digitlab.nn.numerical import sampled_numerical_gradient

#: the problem of an input gradient that backward did not return
NO_INPUT_GRADIENT = N_("backward() returned {kind}, not an array")


def check_layer(
    layer,
    x: np.ndarray,
    *,
    coordinates: int | None = None,
    h: float | None = None,
    seed: int = 0,
    lang: str | None = None,
) -> GradientCheck:
    """Compare `layer.backward(dout)` with central differences of sum(layer.forward(x) * dout).

    x: the layer's input in any shape it takes ((N, D) for the book's Affine), used in float64.
    dout: standard normal values of the output's shape, drawn from `seed`. Returns one
    TensorCheck named "x" for the input gradient backward returns, then one per parameter (see
    the module's docstring), each on `coordinates` random coordinates (None:
    SAMPLED_COORDINATES). backward is called right after forward, as in training, for layers
    that keep state between the two (Relu's mask, Affine's x); both get copies of x and dout,
    so a layer that writes into them (the book's Relu sets dout[mask] = 0) changes nothing
    here. Parameters are perturbed in place and always restored; the layer's caches are those
    of its last forward call, on a perturbed input. lang: the language of the result's table.
    """
    rng = np.random.default_rng(seed)
    x = np.array(x, dtype=np.float64)  # our own copy: its coordinates are perturbed in place
    h = SAMPLED_H if h is None else h
    count = coordinates or SAMPLED_COORDINATES
    before = _arrays(layer)
    out = np.asarray(layer.forward(x.copy()))
    dout = rng.standard_normal(out.shape)
    dx = layer.backward(dout.copy())
    after = _arrays(layer)
    # a parameter is the same array after forward and backward; caches (x, mask) are replaced
    params = {name: array for name, array in before.items() if after.get(name) is array}
    candidates = {name: array for name, array in after.items() if name not in params}
    # copies now: a later forward or backward may write into the layer's gradient arrays
    grads = {name: np.array(grad, dtype=np.float64) for name, grad in candidates.items()}
    grads = align_gradients(params, grads)

    def f(_) -> float:
        return float(np.sum(np.asarray(layer.forward(x.copy()), dtype=np.float64) * dout))

    # rounding of the sum comes from its terms, which cancel: their size, not the sum's
    scale = float(np.sum(np.abs(out * dout)))
    tensors = [_input_check(dx, x, f, count, rng, h, difference_noise(out.dtype, scale, h))]
    for name, grad in grads.items():
        param = params[name]
        if grad.shape != param.shape:
            tensors.append(problem(name, param.shape, WRONG_SHAPE, shape=str(grad.shape)))
            continue
        index, values = sampled_numerical_gradient(f, param, count, rng, h)
        noise = difference_noise(np.result_type(param, out), scale, h)
        tensors.append(compare(name, param.shape, grad[index], values, index, noise))
    samples = x.shape[0] if x.ndim else 1
    return GradientCheck(
        describe(layer), tuple(tensors), samples, h, True, lang or current_language()
    )


def _input_check(dx, x, f, count, rng, h, noise) -> TensorCheck:
    if not isinstance(dx, np.ndarray):
        return problem("x", x.shape, NO_INPUT_GRADIENT, kind=type(dx).__name__)
    if dx.shape != x.shape:
        return problem("x", x.shape, WRONG_SHAPE, shape=str(dx.shape))
    dx = dx.astype(np.float64)  # a copy, whatever the layer does with its array later
    index, values = sampled_numerical_gradient(f, x, count, rng, h)
    return compare("x", x.shape, dx[index], values, index, noise)


def _arrays(layer) -> dict[str, np.ndarray]:
    """The layer's array attributes, by name."""
    return {
        name: value
        for name, value in getattr(layer, "__dict__", {}).items()
        if isinstance(value, np.ndarray)
    }
