"""Which gradient belongs to which parameter, under the names learners give them.

The book's `gradient(x, t)` returns a dict with the params' own keys (`W1`, `b1`, ...); learners
also write `dW1`, `dw1`, `grad_W1`, `W1_grad`, `gradW1`, `nabla_W1` or `d_W1`. Every consumer of
a gradient dict (the gradient check, the doctor, the training watcher) goes through
`align_gradients`, so that each parameter meets its own gradient whatever the spelling.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

#: what learners put before or after a parameter's name to name its gradient
_DECORATION = re.compile(
    r"^(?:d_?|grad_?|grads_?|gradient_?|nabla_?|delta_?)(?P<a>.+)$"
    r"|^(?P<b>.+?)_?(?:grad|gradient|_d|delta)$",
    re.IGNORECASE,
)


def gradient_key(name, grads: Mapping):
    """The key of `grads` that holds the gradient of the parameter `name`, or None.

    The exact name wins; then a decorated spelling of it (`dW1`, `grad_W1`, `W1_grad`, ...), in
    the same case or, where only one key matches, in another case (`dw1` for `W1`).
    """
    if name in grads:
        return name
    if not isinstance(name, str):
        return None
    exact, folded = [], []
    for key in grads:
        if not isinstance(key, str):
            continue
        stripped = undecorated(key)
        if stripped == name:
            exact.append(key)
        elif stripped is not None and stripped.lower() == name.lower():
            folded.append(key)
    if len(exact) == 1:
        return exact[0]
    if not exact and len(folded) == 1:
        return folded[0]
    return None


def undecorated(key: str) -> str | None:
    """The parameter name inside a gradient key ('dW1' -> 'W1'), or None if it is not one."""
    match = _DECORATION.match(key)
    if match is None:
        return None
    return match.group("a") or match.group("b")


def align_gradients(params: Mapping, grads: Mapping) -> dict:
    """`grads` re-keyed by the params' names: {param name: gradient} for every parameter whose
    gradient can be found (see `gradient_key`); parameters without one are left out."""
    aligned = {}
    for name in params:
        key = gradient_key(name, grads)
        if key is not None:
            aligned[name] = grads[key]
    return aligned
