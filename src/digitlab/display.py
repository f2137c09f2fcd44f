"""How the core's objects show in Jupyter, without the core importing the notebook layer.

A class of the core (a network, a data set, a History, a gradient check, a doctor's report, a
prediction) inherits `Displayed`, which gives it IPython's `_repr_html_`; the HTML itself is
drawn by digitlab.notebook, which registers a renderer per class when digitlab is imported
(digitlab/__init__.py, where the layers meet). The lookup follows the class's MRO, so a
subclass (a learner's network) shows as its base does. With no renderer, `_repr_html_` returns
None and IPython falls back to the text repr.
"""

from __future__ import annotations

from collections.abc import Callable

_RENDERERS: dict[type, Callable[[object], str]] = {}


def register_html(cls: type, render: Callable[[object], str]) -> None:
    """Show instances of `cls` (and of its subclasses) in Jupyter as `render(obj)`."""
    _RENDERERS[cls] = render


class Displayed:
    """A core object that Jupyter shows through its registered renderer."""

    def _repr_html_(self) -> str | None:
        for cls in type(self).__mro__:
            render = _RENDERERS.get(cls)
            if render is not None:
                return render(self)
        return None
