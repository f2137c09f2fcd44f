"""Loading a learner's network from `MODULE:FACTORY`, for `digitlab doctor` and `gradcheck`.

MODULE is a Python file (`mynet.py`, `ch05/two_layer_net.py`) or an importable module name;
FACTORY is a class or function in it that returns the network, or the network object itself.
A factory with the book's constructor arguments (`input_size`, `hidden_size`, `output_size`)
gets them from the data. Every way this can fail is a LearnerCodeError with one clear line.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
import traceback
from contextlib import contextmanager
from pathlib import Path

from digitlab.errors import LearnerCodeError
from digitlab.i18n import _

#: the hidden layer size given to a factory that asks for `hidden_size` (the book's chapter 4)
DEFAULT_HIDDEN = 100


def split_target(target: str) -> tuple[str, str]:
    """'path/to/file.py:Factory' -> ('path/to/file.py', 'Factory')."""
    module, sep, factory = target.rpartition(":")
    if not sep or not module or not factory.isidentifier():
        raise LearnerCodeError(
            _(
                "{target!r} is not MODULE:FACTORY; write the file and the class or function that "
                "makes your network, e.g. `digitlab doctor mynet.py:TwoLayerNet`."
            ).format(target=target)
        )
    return module, factory


@contextmanager
def importable_from(folder: Path):
    """The learner's folder first on sys.path while their code runs (they import siblings)."""
    entry = str(folder)
    sys.path.insert(0, entry)
    try:
        yield
    finally:
        if entry in sys.path:
            sys.path.remove(entry)


def import_module(module: str):
    """Import a file path or a module name; LearnerCodeError with the reason if it fails."""
    path = Path(module)
    try:
        if path.suffix == ".py" or path.exists():
            if not path.is_file():
                raise LearnerCodeError(
                    _("cannot import {module}: no such file.").format(module=module)
                )
            name = f"_digitlab_doctor_{path.stem}"
            spec = importlib.util.spec_from_file_location(name, path)
            loaded = importlib.util.module_from_spec(spec)
            sys.modules[name] = loaded
            spec.loader.exec_module(loaded)
            return loaded
        return importlib.import_module(module)
    except LearnerCodeError:
        raise
    except ModuleNotFoundError as exc:
        if exc.name != module.split(".")[0]:  # the learner's file imports something missing
            raise _import_error(module, exc) from None
        raise LearnerCodeError(
            _(
                "cannot import {module}: there is no {module}.py here and no module of that "
                "name; pass the path of your file, e.g. path/to/{module}.py:TwoLayerNet."
            ).format(module=module)
        ) from None
    except (Exception, SystemExit) as exc:  # whatever the learner's file raises at import
        raise _import_error(module, exc) from None


def _import_error(module: str, exc: BaseException) -> LearnerCodeError:
    where = raised_at(exc)
    if where is None:
        return LearnerCodeError(
            _("cannot import {module}: {error}.").format(module=module, error=exception_text(exc))
        )
    return LearnerCodeError(
        _("cannot import {module}: {error} (at {where}).").format(
            module=module, error=exception_text(exc), where=where
        )
    )


def make_network(module_name: str, loaded, factory: str, input_size: int, output_size: int):
    """Call FACTORY (filling the book's size arguments) and check what it returns."""
    if not hasattr(loaded, factory):
        defined = sorted(
            name
            for name, value in vars(loaded).items()
            if not name.startswith("_")
            and (inspect.isclass(value) or inspect.isfunction(value))
            and getattr(value, "__module__", None) == loaded.__name__
        )
        raise LearnerCodeError(
            _("{module} has no {factory}; it defines: {defined}.").format(
                module=module_name, factory=factory, defined=", ".join(defined) or "-"
            )
        )
    maker = getattr(loaded, factory)
    if hasattr(maker, "params") and not inspect.isclass(maker):
        network = maker
    elif callable(maker):
        network = call_factory(
            maker, factory, **_book_arguments(maker, factory, input_size, output_size)
        )
    else:
        raise LearnerCodeError(
            _("{factory} in {module} is neither a class, a function nor a network.").format(
                factory=factory, module=module_name
            )
        )
    params = getattr(network, "params", None)
    if not hasattr(params, "items") or not callable(getattr(network, "loss", None)):
        raise LearnerCodeError(
            _(
                "{factory}() returned a {kind} without `params` and `loss(x, t)`; the doctor "
                "needs an object with both, as in the book's TwoLayerNet."
            ).format(factory=factory, kind=type(network).__name__)
        )
    return network


def call_factory(maker, factory: str, **kwargs):
    """maker(**kwargs), the learner's class or function named `factory`; whatever it raises
    (an exit too) becomes a LearnerCodeError that names it and the line it failed at."""
    try:
        return maker(**kwargs)
    except (Exception, SystemExit) as exc:
        raise LearnerCodeError(
            _("{factory}() raised {error} (at {where}).").format(
                factory=factory, error=exception_text(exc), where=raised_at(exc) or "?"
            )
        ) from None


def _book_arguments(maker, factory: str, input_size: int, output_size: int) -> dict:
    try:
        signature = inspect.signature(maker)
    except (TypeError, ValueError):
        return {}
    known = {
        "input_size": input_size,
        "hidden_size": DEFAULT_HIDDEN,
        "output_size": output_size,
    }
    kwargs, missing = {}, []
    for name, parameter in signature.parameters.items():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        if name in known:
            kwargs[name] = known[name]
        elif parameter.default is parameter.empty:
            missing.append(name)
    if missing:
        raise LearnerCodeError(
            _(
                "{factory} needs the arguments {names}; add a function that makes your network, "
                "e.g. def make(): return {factory}(...), and pass FILE:make instead."
            ).format(factory=factory, names=", ".join(missing))
        )
    return kwargs


def exception_text(exc: BaseException) -> str:
    """`ValueError: shapes (2,3) and (4,5) not aligned`, on one line."""
    return f"{type(exc).__name__}: {exc}".strip().replace("\n", " ")


def raised_at(exc: BaseException) -> str | None:
    """file:line of the learner's code where `exc` was raised (not importlib's or ours)."""
    frames = [
        frame
        for frame in traceback.extract_tb(exc.__traceback__)
        if "importlib" not in frame.filename and Path(frame.filename).name != "loader.py"
    ]
    if isinstance(exc, SyntaxError) and exc.filename:
        return f"{Path(exc.filename).name}:{exc.lineno}"
    if not frames:
        return None
    return f"{Path(frames[-1].filename).name}:{frames[-1].lineno}"
