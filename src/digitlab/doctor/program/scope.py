"""The arrays a learner's program can see at a moment: in its frames, its globals, its objects.

Weights live anywhere: module globals (`W1`), a function's locals (`weights1`), a dict
(`params['W1']`), an object's attributes (`self.w_ih`, `network.params['W1']`), a list
(`self.weights[0]`). `arrays_in_scope` names each array the way the learner would write it.
"""

from __future__ import annotations

import types

import numpy as np

#: entries of a dict or list looked into; more is a data set, not parameters
CONTAINER_LIMIT = 64
#: arrays collected at most (a program holding more is still examined on the first ones)
ARRAY_LIMIT = 400

_OPAQUE = (types.ModuleType, types.FunctionType, types.BuiltinFunctionType, type, types.MethodType)


def display_name(name: str) -> str:
    """The learner's name of an array the tracer kept, without its shape tag:
    `grads['dW1']#(784, 64)` -> `grads['dW1']`."""
    return name.split("#")[0]


def key_name(name: str) -> str:
    """The part of a kept name inside its last subscript, or the name itself:
    `grads['dW1']#(784, 64)` -> `dW1`, `t_batch` -> `t_batch`."""
    return display_name(name).split("[")[-1].strip("'\"]")


def arrays_in_scope(frames, extra: dict | None = None) -> dict[str, np.ndarray]:
    """{learner's name: array} for the numeric arrays reachable from `frames` (innermost
    first: their locals, then each frame's globals) and `extra` (name: value), one container
    or object deep."""
    found: dict[str, np.ndarray] = {}
    seen: set[int] = set()
    namespaces = {}
    for frame in frames:
        local = frame.f_locals
        namespaces.setdefault(id(local), local)
    for frame in frames:
        namespaces.setdefault(id(frame.f_globals), frame.f_globals)
    if extra:
        namespaces.setdefault(id(extra), extra)
    for namespace in namespaces.values():
        for name, value in list(namespace.items()):
            if isinstance(name, str) and name.startswith("__"):
                continue
            _collect(str(name), value, found, seen, depth=2)
            if len(found) >= ARRAY_LIMIT:
                return found
    return found


def _collect(name: str, value, found: dict, seen: set, depth: int) -> None:
    if id(value) in seen or len(found) >= ARRAY_LIMIT:
        return
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "fiub" and value.size:
            seen.add(id(value))
            found[name] = value
        return
    if depth == 0 or isinstance(value, (str, bytes, int, float, complex, *_OPAQUE)):
        return
    seen.add(id(value))
    if isinstance(value, dict):
        if len(value) <= CONTAINER_LIMIT:
            for key, item in list(value.items()):
                _collect(f"{name}[{key!r}]", item, found, seen, depth - 1)
    elif isinstance(value, (list, tuple)):
        if len(value) <= CONTAINER_LIMIT:
            for i, item in enumerate(value):
                _collect(f"{name}[{i}]", item, found, seen, depth - 1)
    else:
        attributes = getattr(value, "__dict__", None)
        if isinstance(attributes, dict):
            for key, item in list(attributes.items()):
                if not key.startswith("__"):
                    _collect(f"{name}.{key}", item, found, seen, depth - 1)
