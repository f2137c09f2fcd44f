"""Checks for constructor arguments: a ConfigError that names the field, its range and an example.

Shared by every validated constructor (optimizers, schedules, augmentation) so the messages read
alike: `momentum=1.5 must be a number in [0, 1), e.g. 0.9.`
"""

from __future__ import annotations

import math

from digitlab.errors import ConfigError


def number(
    name: str,
    value: object,
    *,
    low: float = -math.inf,
    high: float = math.inf,
    low_open: bool = False,
    high_open: bool = False,
    example: str,
    label: str = "",
) -> float:
    """`value` as a float if it is a finite number in the range, else a ConfigError.

    The range is [low, high], with an open end where `low_open` / `high_open`; `label` is a
    plain-words name put before the field ("learning rate lr=...").
    """
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok and hasattr(value, "dtype") and getattr(value, "shape", None) == ():
        ok = value.dtype.kind in "iuf"  # a NumPy scalar such as np.float32(0.1)
    if ok:
        x = float(value)
        above = x > low if low_open else x >= low
        below = x < high if high_open else x <= high
        if math.isfinite(x) and above and below:
            return x
    field = f"{label} {name}" if label else name
    raise ConfigError(
        f"{field}={value!r} must be {_range(low, high, low_open, high_open)}, e.g. {example}."
    )


def whole(name: str, value: object, *, low: int, example: str) -> int:
    """`value` as an int if it is a whole number >= low, else a ConfigError."""
    if isinstance(value, bool) or not hasattr(value, "__index__") or value.__index__() < low:
        raise ConfigError(f"{name}={value!r} must be a whole number >= {low}, e.g. {example}.")
    return value.__index__()


def _range(low: float, high: float, low_open: bool, high_open: bool) -> str:
    if high == math.inf:
        if low == 0:
            return "a positive number" if low_open else "a number >= 0"
        return f"a number {'>' if low_open else '>='} {low:g}"
    return f"a number in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
