"""Optimizers: `update(params, grads)` over same-keys dicts, changing params in place.

The update rules are *Deep Learning from Scratch*'s (`common/optimizer.py`) where they agree with
PyTorch's `torch.optim` classes of the same name; where they differ, we follow PyTorch, so one
step from the same weights and gradients gives the same parameters (tests/test_torch_crosscheck.py
checks it), and each class's docstring says what the book writes instead.

State (velocities, moments) lives in `optimizer.state[name]`, keyed by parameter name and made at
the first update with the parameter's shape and dtype, so float32 training stays float32. Every
rule runs in place (`out=`) through one scratch array per parameter: after the first step an
update allocates nothing.

Weight decay (L2): `weight_decay=λ` adds λ·p to the gradient before the rule sees it (PyTorch's
`weight_decay`; the same as adding λ/2·‖W‖² to the loss). It decays the weight matrices only —
parameters with two or more dimensions — and not the biases, as the book's loss does (it sums
‖W‖² alone): a bias shifts a unit's input and does not make the network any more complex.
`decay_biases=True` decays every parameter, as PyTorch does for all the parameters it is given.
`AdamW` decays decoupled instead: p ← p - lr·λ·p, outside the adaptive step.
"""

from __future__ import annotations

import math

import numpy as np

from digitlab._validate import number


class Optimizer:
    """Base class: the validated learning rate and weight decay, per-parameter state, the loop.

    A subclass names its state arrays in `state_names`, its extra settings in `settings` (for the
    repr) and writes its rule in `_step`.

    Args:
        lr: the learning rate; a schedule may change `optimizer.lr` between steps.
        weight_decay: L2 coefficient λ (0: none); see the module docstring.
        decay_biases: decay 1-d parameters (biases) too.
    """

    #: names of the arrays kept per parameter, e.g. ("m", "v") for Adam
    state_names: tuple[str, ...] = ()
    #: hyperparameters shown in the repr after lr
    settings: tuple[str, ...] = ()

    def __init__(self, lr: float, *, weight_decay: float = 0.0, decay_biases: bool = False):
        self.lr = number("lr", lr, low=0, low_open=True, example="0.1", label="learning rate")
        self.weight_decay = number("weight_decay", weight_decay, low=0, example="1e-4")
        self.decay_biases = bool(decay_biases)
        #: updates made so far (Adam's bias correction counts them)
        self.steps = 0
        #: per parameter name, the rule's arrays by state name (velocity, moments, ...)
        self.state: dict[str, dict[str, np.ndarray]] = {}
        self._scratch: dict[str, np.ndarray] = {}
        self._decayed: dict[str, np.ndarray] = {}

    def update(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        """One step for every parameter in `grads`, written into the arrays of `params`."""
        self.steps += 1
        for name, grad in grads.items():
            param = params[name]
            state = self.state.get(name)
            if state is None:
                state = self.state[name] = {s: np.zeros_like(param) for s in self.state_names}
                self._scratch[name] = np.empty_like(param)
            if self.weight_decay and (self.decay_biases or param.ndim >= 2):
                grad = self._apply_weight_decay(name, param, grad)
            self._step(param, grad, state, self._scratch[name])

    def _apply_weight_decay(self, name: str, param: np.ndarray, grad: np.ndarray) -> np.ndarray:
        """Coupled L2: grad + λ·param, in an array of its own (the caller's grads stay as they
        are, since callbacks read them after the update)."""
        decayed = self._decayed.get(name)
        if decayed is None:
            decayed = self._decayed[name] = np.empty_like(param)
        np.multiply(param, self.weight_decay, out=decayed)
        decayed += grad
        return decayed

    def _step(
        self,
        param: np.ndarray,
        grad: np.ndarray,
        state: dict[str, np.ndarray],
        scratch: np.ndarray,
    ) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        parts = [f"lr={self.lr:g}"] + [f"{s}={getattr(self, s):g}" for s in self.settings]
        if self.weight_decay:
            parts.append(f"weight_decay={self.weight_decay:g}")
            if self.decay_biases:
                parts.append("decay_biases=True")
        return f"{type(self).__name__}({', '.join(parts)})"


class SGD(Optimizer):
    """Plain stochastic gradient descent: p ← p - lr·g (a step *against* the gradient g)."""

    def __init__(
        self,
        lr: float = 0.1,
        *,
        weight_decay: float = 0.0,
        decay_biases: bool = False,
    ) -> None:
        super().__init__(lr, weight_decay=weight_decay, decay_biases=decay_biases)

    def _step(self, param, grad, state, scratch) -> None:
        np.multiply(grad, self.lr, out=scratch)
        param -= scratch


class Momentum(Optimizer):
    """SGD with momentum (PyTorch's `SGD(momentum=μ)`): v ← μ·v + g;  p ← p - lr·v.

    The book keeps the velocity in parameter units, v ← μ·v - lr·g; p ← p + v. With a fixed
    learning rate the two are the same steps (its v is -lr times ours); under a schedule ours
    applies each step's lr to the whole velocity, as PyTorch does.
    """

    state_names = ("v",)
    settings = ("momentum",)

    def __init__(
        self,
        lr: float = 0.01,
        momentum: float = 0.9,
        *,
        weight_decay: float = 0.0,
        decay_biases: bool = False,
    ) -> None:
        super().__init__(lr, weight_decay=weight_decay, decay_biases=decay_biases)
        self.momentum = number("momentum", momentum, low=0, high=1, high_open=True, example="0.9")

    def _step(self, param, grad, state, scratch) -> None:
        v = state["v"]
        v *= self.momentum
        v += grad
        np.multiply(v, self.lr, out=scratch)
        param -= scratch


class Nesterov(Momentum):
    """Nesterov momentum (PyTorch's `SGD(momentum=μ, nesterov=True)`):
    v ← μ·v + g;  p ← p - lr·(g + μ·v), the gradient step plus a look-ahead along the new v.

    The book writes it as v ← μ·v - lr·g; p ← p + μ²·v - (1 + μ)·lr·g, which scales the old
    velocity by μ³ rather than μ²; we follow PyTorch's (Sutskever et al.'s) form.
    """

    def _step(self, param, grad, state, scratch) -> None:
        v = state["v"]
        v *= self.momentum
        v += grad
        np.multiply(v, self.momentum, out=scratch)
        scratch += grad
        scratch *= self.lr
        param -= scratch


class AdaGrad(Optimizer):
    """AdaGrad (PyTorch's `Adagrad`): h ← h + g²;  p ← p - lr·g / (√h + eps).

    Each weight's step shrinks with the squared gradients it has seen. The book's formula is the
    same with eps = 1e-7; the default here is PyTorch's 1e-10.
    """

    state_names = ("h",)
    settings = ("eps",)

    def __init__(
        self,
        lr: float = 0.01,
        eps: float = 1e-10,
        *,
        weight_decay: float = 0.0,
        decay_biases: bool = False,
    ) -> None:
        super().__init__(lr, weight_decay=weight_decay, decay_biases=decay_biases)
        self.eps = number("eps", eps, low=0, low_open=True, example="1e-10")

    def _step(self, param, grad, state, scratch) -> None:
        h = state["h"]
        np.multiply(grad, grad, out=scratch)
        h += scratch
        _divide_by_root(param, grad, h, self.lr, self.eps, scratch)


class RMSprop(Optimizer):
    """RMSprop (PyTorch's `RMSprop`, whose `alpha` is the book's `decay_rate`):
    h ← ρ·h + (1 - ρ)·g²;  p ← p - lr·g / (√h + eps).

    An AdaGrad that forgets: h is a moving average, so steps do not shrink forever. The book's
    formula is the same with eps = 1e-7; the default here is PyTorch's 1e-8.
    """

    state_names = ("h",)
    settings = ("decay_rate", "eps")

    def __init__(
        self,
        lr: float = 0.01,
        decay_rate: float = 0.99,
        eps: float = 1e-8,
        *,
        weight_decay: float = 0.0,
        decay_biases: bool = False,
    ) -> None:
        super().__init__(lr, weight_decay=weight_decay, decay_biases=decay_biases)
        self.decay_rate = number(
            "decay_rate", decay_rate, low=0, high=1, high_open=True, example="0.99"
        )
        self.eps = number("eps", eps, low=0, low_open=True, example="1e-8")

    def _step(self, param, grad, state, scratch) -> None:
        h = state["h"]
        h *= self.decay_rate
        np.multiply(grad, grad, out=scratch)
        scratch *= 1.0 - self.decay_rate
        h += scratch
        _divide_by_root(param, grad, h, self.lr, self.eps, scratch)


class Adam(Optimizer):
    """Adam (PyTorch's `Adam`), after t updates:
    m ← β1·m + (1 - β1)·g;  v ← β2·v + (1 - β2)·g²;
    p ← p - lr / (1 - β1^t) · m / (√v / √(1 - β2^t) + eps).

    Momentum (m) and RMSprop (v) together, each divided by its bias correction because both
    start at zero. The book folds both corrections into the learning rate and adds eps to the
    uncorrected √v, lr·√(1 - β2^t) / (1 - β1^t) · m / (√v + eps), which differs while eps is not
    negligible beside √v; we follow PyTorch and the Adam paper (eps beside the corrected √v).
    """

    state_names = ("m", "v")
    settings = ("beta1", "beta2", "eps")

    def __init__(
        self,
        lr: float = 0.001,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        *,
        weight_decay: float = 0.0,
        decay_biases: bool = False,
    ) -> None:
        super().__init__(lr, weight_decay=weight_decay, decay_biases=decay_biases)
        self.beta1 = number("beta1", beta1, low=0, high=1, high_open=True, example="0.9")
        self.beta2 = number("beta2", beta2, low=0, high=1, high_open=True, example="0.999")
        self.eps = number("eps", eps, low=0, low_open=True, example="1e-8")

    def _step(self, param, grad, state, scratch) -> None:
        m, v = state["m"], state["v"]
        m *= self.beta1
        np.multiply(grad, 1.0 - self.beta1, out=scratch)
        m += scratch
        v *= self.beta2
        np.multiply(grad, grad, out=scratch)
        scratch *= 1.0 - self.beta2
        v += scratch
        # denominator √v̂ + eps, then the step lr·m̂ / denominator, all in the scratch array
        np.sqrt(v, out=scratch)
        scratch *= 1.0 / math.sqrt(1.0 - self.beta2**self.steps)
        scratch += self.eps
        np.divide(m, scratch, out=scratch)
        scratch *= self.lr / (1.0 - self.beta1**self.steps)
        param -= scratch


class AdamW(Adam):
    """Adam with decoupled weight decay (PyTorch's `AdamW`, Loshchilov & Hutter):
    p ← p - lr·λ·p, then the Adam step on the gradient alone.

    With coupled L2 (`Adam(weight_decay=λ)`) the decay goes through Adam's per-weight scaling and
    barely acts on weights with large gradients; decoupled, every weight shrinks by the same
    fraction lr·λ per step. The default λ = 0.01 is PyTorch's.
    """

    def __init__(
        self,
        lr: float = 0.001,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        *,
        weight_decay: float = 0.01,
        decay_biases: bool = False,
    ) -> None:
        super().__init__(
            lr, beta1, beta2, eps, weight_decay=weight_decay, decay_biases=decay_biases
        )

    def _apply_weight_decay(self, name, param, grad) -> np.ndarray:
        param *= 1.0 - self.lr * self.weight_decay
        return grad


def _divide_by_root(
    param: np.ndarray,
    grad: np.ndarray,
    h: np.ndarray,
    lr: float,
    eps: float,
    scratch: np.ndarray,
) -> None:
    """p ← p - lr·g / (√h + eps), AdaGrad's and RMSprop's step, through `scratch`."""
    np.sqrt(h, out=scratch)
    scratch += eps
    np.divide(grad, scratch, out=scratch)
    scratch *= lr
    param -= scratch
