"""A range of numbers as a finding writes it: "0.01–0.02", or "0.01" where the ends read alike.

The range is written when the evidence is made, not when the finding is read, so it must read
in every language of the catalogue: digits and an en dash do, in English and in Chinese alike.
"""

from __future__ import annotations


def format_range(low: float, high: float, spec: str = ".3g") -> str:
    """ "low–high" with both ends formatted by `spec`, or one number where the two ends print
    the same (0.0100 and 0.0100004 are "0.01", not "0.01–0.01")."""
    low_text, high_text = format(low, spec), format(high, spec)
    return low_text if low_text == high_text else f"{low_text}–{high_text}"
