"""`digitlab gradcheck [MODULE:FACTORY | PROGRAM.py]`: backprop against central differences,
with a verdict.

Without a target it checks digitlab's own TwoLayerNet; with MODULE:FACTORY, the learner's network
or layer, imported as `digitlab doctor` imports it (digitlab.doctor.loader); with PROGRAM.py,
the gradients the learner's training program applies (digitlab.doctor.program.gradcheck).
"""

from __future__ import annotations

import inspect
import time
import warnings
from pathlib import Path

import click
import numpy as np

from digitlab.cli.options import Sizes, activation_option, data_option, seed_option
from digitlab.i18n import _
from digitlab.workflows.config import DEFAULT_HIDDEN, NETS

#: the hidden layer of the MLP checked by default (the book's gradient_check uses 100 units)
OWN_HIDDEN = {"mlp": 100}

#: the width of a layer's input where neither --layer-input nor the layer's W tells it: the
#: pixels of an MNIST image, what the book's first Affine layer takes
LAYER_INPUT_WIDTH = 784


def _target(ctx, param, value: str | None) -> tuple[str, str] | None:
    """MODULE:FACTORY as (module, factory), PROGRAM.py as (path, ""); a malformed one is a usage
    error (exit code 2)."""
    from digitlab.doctor.loader import split_target
    from digitlab.errors import LearnerCodeError

    if value is None:
        return None
    if value.endswith(".py"):
        return value, ""
    try:
        return split_target(value)
    except LearnerCodeError:
        raise click.BadParameter(
            _(
                "{target!r} is neither MODULE:FACTORY nor PROGRAM.py; write the file and the class "
                "or function that makes your network or layer, e.g. `digitlab gradcheck "
                "mynet.py:TwoLayerNet`, or your training script, e.g. `digitlab gradcheck "
                "train.py`."
            ).format(target=value),
            ctx,
            param,
        ) from None


@click.command(
    help=_(
        "Check backpropagation against central differences, tensor by tensor, with a verdict. "
        "Without MODULE:FACTORY: digitlab's own float64 TwoLayerNet (784-HIDDEN-10, He or "
        "Xavier init), every weight, on SAMPLES training images. With it, your own code, "
        "imported as `digitlab doctor` imports it: a network (an object with `params`, "
        "`loss(x, t)` and `gradient(x, t)`, whose keys may be W1 or dW1) on SAMPLES training "
        "images in [0, 1], labels one-hot or class indices as your loss takes them; or a layer "
        "(a class with `forward(x)` and `backward(dout)`, as the book's Relu, or a function "
        "that returns one, with --layer-input) on random normal inputs of SAMPLES rows, as wide "
        "as its W, else 784. With PROGRAM.py [-- ARGS...]: your training script, run as "
        "`python PROGRAM.py ARGS` would for a few weight updates; the gradient each of its "
        "updates applies is checked against the loss its backprop differentiates, on the batch "
        "it trained on. Exit code 1 if a gradient is wrong."
    )
)
@click.argument("target", metavar="[MODULE:FACTORY|PROGRAM.py]", required=False, callback=_target)
@click.argument("args", metavar="[-- ARGS...]", nargs=-1, type=click.UNPROCESSED)
@click.option(
    "--net",
    type=click.Choice(NETS),
    default="mlp",
    show_default=True,
    help=_(
        "Without a target, the network to check: the two-layer mlp, or the book's conv nets "
        "simple-conv and deep-conv."
    ),
)
@click.option(
    "--hidden",
    type=click.IntRange(min=1),
    default=None,
    help=_("Units in the (fully connected) hidden layer  [default: {defaults}]").format(
        defaults=", ".join(
            f"{net} {OWN_HIDDEN.get(net, sizes[0])}" for net, sizes in DEFAULT_HIDDEN.items()
        )
    ),
)
@activation_option()
@click.option(
    "--samples",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help=_("Training images in the batch the loss is taken over."),
)
@click.option(
    "--labels",
    type=click.Choice(["auto", "one-hot", "index"]),
    default="auto",
    show_default=True,
    help=_(
        "How your network's loss takes the labels: one-hot rows, class indices, or auto (the "
        "first of the two for which loss(x, t) returns a finite number)."
    ),
)
@click.option(
    "--layer-input",
    type=Sizes(),
    default=None,
    metavar="N,D",
    help=_(
        "Check FACTORY as a layer, on a random normal input of this shape (e.g. 10,784; any "
        "number of dimensions)."
    ),
)
@data_option()
@seed_option(_("Seed of the initial weights and of the images drawn."))
def gradcheck(
    target, args, net, hidden, activation, samples, labels, layer_input, data, seed
) -> None:
    from digitlab.cli import EXIT_ERROR

    start = time.perf_counter()
    if args and (target is None or target[1]):
        raise click.UsageError(
            _("{args}: arguments are passed to a PROGRAM.py only.").format(args=" ".join(args))
        )
    if target is None:
        result = _own_network(net, hidden, activation, samples, data, seed)
    elif not target[1]:
        result = _program(target[0], args, seed)
    else:
        result = _learner_code(target, samples, labels, layer_input, data, seed)
    click.echo(result.table())
    click.echo(
        _("({count:,} partial derivatives in {seconds:.2f} s)").format(
            count=sum(c.checked for c in result.tensors), seconds=time.perf_counter() - start
        )
    )
    if result.wrong:
        click.get_current_context().exit(EXIT_ERROR)


def _program(path: str, args: tuple[str, ...], seed: int):
    """The check of the gradients the learner's program applies, with where each came from."""
    from digitlab.doctor.program.gradcheck import check_program

    click.echo(_("running {program} for a few weight updates…").format(program=path))
    result, sources = check_program(path, list(args), seed=seed)
    for name, source in sources.items():
        click.echo(_("  {weight}: the gradient is {source}").format(weight=name, source=source))
    return result


def _images(data: str, samples: int, seed: int):
    """SAMPLES training images: x (N, D) float64 in [0, 1], t (N,) class indices, classes."""
    from digitlab.datasets import load_dataset, to_inputs

    dataset = load_dataset(data, progress=False)
    rng = np.random.default_rng(seed)
    chosen = rng.choice(
        len(dataset.t_train), size=min(samples, len(dataset.t_train)), replace=False
    )
    x = to_inputs(dataset.x_train[chosen], np.float64)
    return x, dataset.t_train[chosen].astype(np.intp), len(dataset.classes)


def _own_network(net: str, hidden: int | None, activation: str, samples: int, data: str, seed: int):
    """The check of digitlab's own network `net` (float64, He's initial weights) on SAMPLES
    training images: every weight of an MLP, a random sample of each conv net tensor's."""
    from digitlab.gradients import check
    from digitlab.workflows.config import TrainConfig, build_network

    x, t, classes = _images(data, samples, seed)
    hidden = hidden or OWN_HIDDEN.get(net, DEFAULT_HIDDEN[net][0])
    settings = {"activation": activation} if net == "mlp" else {}
    config = TrainConfig(net=net, hidden=(hidden,), dtype="float64", seed=seed, **settings)
    network = build_network(config, x.shape[1], classes)
    if net == "mlp":
        return check(network, x, t)
    # Zero biases put every all-background patch exactly on ReLU's kink. check() judges such
    # a coordinate by its one-sided differences, which is enough for SimpleConvNet; in
    # DeepConvNet the kinks of six zero-bias layers stack (b3-b5 stayed "suspicious", ~2e-3),
    # so small biases move the patches off them
    rng = np.random.default_rng(seed)
    for name in network.params:
        if name.startswith("b"):
            network.params[name] = rng.normal(0, 0.01, network.params[name].shape)
    return check(network, x, t)


def _learner_code(
    target: tuple[str, str], samples: int, labels: str, layer_input, data: str, seed: int
):
    """The check of the learner's network or layer; LearnerCodeError for whatever fails."""
    from digitlab.doctor.loader import import_module, importable_from, make_network
    from digitlab.errors import LearnerCodeError
    from digitlab.gradients import check, check_layer

    module_name, factory = target
    folder = Path(module_name).resolve().parent if module_name.endswith(".py") else Path.cwd()
    with importable_from(folder):
        loaded = import_module(module_name)
        maker = getattr(loaded, factory, None)
        if maker is not None and (layer_input is not None or _is_layer(maker)):
            layer = _make_layer(maker, factory)
            shape = layer_input or (samples, _input_width(layer))
            x = np.random.default_rng(seed).standard_normal(shape)
            click.echo(
                _(
                    "checking the layer {factory} from {module} on an input of shape {shape}…"
                ).format(factory=factory, module=module_name, shape="x".join(map(str, shape)))
            )
            return _run_learner_code(factory, lambda: check_layer(layer, x, seed=seed))
        x, t, classes = _images(data, samples, seed)
        # make_network also explains a FACTORY the module does not have
        network = make_network(module_name, loaded, factory, x.shape[1], classes)
        if not callable(getattr(network, "gradient", None)):
            raise LearnerCodeError(
                _(
                    "{factory}() returned a {kind} without `gradient(x, t)`; gradcheck compares "
                    "what it returns with central differences of `loss(x, t)`."
                ).format(factory=factory, kind=type(network).__name__)
            )
        t = _labels(network, x, t, classes, labels, factory)
        click.echo(
            _("checking {factory} from {module} on {count} images of {data}…").format(
                factory=factory, module=module_name, count=len(x), data=data
            )
        )
        return _run_learner_code(factory, lambda: check(network, x, t, seed=seed))


def _is_layer(maker) -> bool:
    """Whether FACTORY is a layer class or object: forward and backward, and no loss (a network
    with forward and backward has loss(x, t) too). A function tells what it makes only when
    called: it needs --layer-input."""
    if inspect.isfunction(maker):
        return False
    kind = maker if inspect.isclass(maker) else type(maker)
    return (
        callable(getattr(kind, "forward", None))
        and callable(getattr(kind, "backward", None))
        and not hasattr(kind, "loss")
    )


def _make_layer(maker, factory: str):
    """The layer FACTORY names: the object itself, or what the class or function returns when
    called without arguments."""
    from digitlab.doctor.loader import call_factory
    from digitlab.errors import LearnerCodeError

    if inspect.isclass(maker) or inspect.isfunction(maker):
        required = [
            name
            for name, parameter in inspect.signature(maker).parameters.items()
            if parameter.default is parameter.empty
            and parameter.kind not in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD)
        ]
        if required:
            raise LearnerCodeError(
                _(
                    "{factory} needs the arguments {names}; add a function that makes your "
                    "layer, e.g. def make(): return {factory}(...), and run `digitlab gradcheck "
                    "FILE:make --layer-input N,D`."
                ).format(factory=factory, names=", ".join(required))
            )
        layer = call_factory(maker, factory)
    else:
        layer = maker
    if not (
        callable(getattr(layer, "forward", None)) and callable(getattr(layer, "backward", None))
    ):
        raise LearnerCodeError(
            _(
                "{factory} gives a {kind} without `forward(x)` and `backward(dout)`; "
                "--layer-input is for a layer, as the book's Affine or Relu."
            ).format(factory=factory, kind=type(layer).__name__)
        )
    return layer


def _input_width(layer) -> int:
    """The rows of the layer's W (the book's Affine: x @ W), else LAYER_INPUT_WIDTH."""
    weight = getattr(layer, "W", None)
    if isinstance(weight, np.ndarray) and weight.ndim == 2:
        return weight.shape[0]
    return LAYER_INPUT_WIDTH


def _labels(network, x, indices, classes: int, labels: str, factory: str) -> np.ndarray:
    """The labels as the network's loss takes them: (N, C) one-hot rows or (N,) indices."""
    from digitlab.errors import LearnerCodeError

    one_hot = np.eye(classes)[indices]
    if labels != "auto":
        return one_hot if labels == "one-hot" else indices
    # One-hot first: a loss written for indices raises on float rows (they cannot index), but a
    # loss written for one-hot rows multiplies index labels in silently, by broadcasting, where
    # the batch has as many samples as there are classes (10 and 10 by default).
    failures = []
    for t in (one_hot, indices):
        failure = _loss_failure(network, x, t)
        if failure is None:
            return t
        failures.append(failure)
    raise LearnerCodeError(
        _(
            "{factory}'s loss(x, t) gives no finite number, neither for one-hot labels ({one_hot}) "
            "nor for class indices ({index}); make it return the mean cross-entropy as a float."
        ).format(factory=factory, one_hot=failures[0], index=failures[1])
    )


def _loss_failure(network, x, t) -> str | None:
    """None where loss(x, t) is a finite scalar, else what it did instead."""
    from digitlab.doctor.loader import exception_text

    try:
        # a trial: the warnings of a label format the loss was not written for are not news
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            loss = network.loss(x, t)
        value = np.asarray(loss, dtype=np.float64)
    except Exception as exc:  # the learner's code may raise anything
        return exception_text(exc)
    if value.ndim != 0:
        return _("it returns an array of shape {shape}").format(shape=value.shape)
    if not np.isfinite(value):
        return _("it returns {value}").format(value=float(value))
    return None


def _run_learner_code(factory: str, action):
    """action(), with whatever the learner's code raises in it as one LearnerCodeError line."""
    from digitlab.doctor.loader import exception_text, raised_at
    from digitlab.errors import LearnerCodeError

    try:
        return action()
    except Exception as exc:
        raise LearnerCodeError(
            _("checking {factory} failed: {error} (at {where}).").format(
                factory=factory, error=exception_text(exc), where=raised_at(exc) or "?"
            )
        ) from None
