"""What the property-based tests of hostile input share (tests/test_hostile_*.py).

Derandomized: CI runs the examples a developer ran (to explore others, drop `derandomize`).
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

#: the settings of every hostile-input property
SETTINGS = settings(
    derandomize=True,
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

#: any JSON value: what a hostile file or request body may hold where a setting belongs
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=16,
)
