"""Every setting of a training run in one checked record, and the objects it stands for.

`TrainConfig` holds the network (hidden sizes, activation, initial weights, BatchNorm,
dropout), the optimizer and its learning rate, the schedule, augmentation, the validation split
and early stopping, and the run's length, dtype and seed. A run folder's `config.json` is
`asdict(config)`; `load_config(path)` reads such a file back, so a run can be repeated exactly.

Settings that belong to one choice (`momentum` to the momentum optimizers, `beta1`/`beta2` to
Adam, `step_every`/`step_gamma` to the step schedule, `shift`/`rotation` to augmentation) are
None while that choice is off; left None, they take the choice's default when the config is
made, so `config.json` always records the values a run used.

>>> TrainConfig(optimizer="adam").lr
0.001
"""

from __future__ import annotations

import difflib
import json
import math
import shlex
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

import numpy as np

from digitlab._validate import number, whole
from digitlab.datasets import Augment, train_validation_split
from digitlab.errors import ConfigError
from digitlab.i18n import _
from digitlab.nn import MLP, DeepConvNet, SimpleConvNet, TwoLayerNet
from digitlab.nn.base import Network
from digitlab.nn.layers import ACTIVATIONS
from digitlab.train import (
    SGD,
    AdaGrad,
    Adam,
    AdamW,
    Cosine,
    EarlyStopping,
    Momentum,
    Nesterov,
    RMSprop,
    Schedule,
    StepDecay,
    Trainer,
    Warmup,
)

OPTIMIZERS = {
    "sgd": SGD,
    "momentum": Momentum,
    "nesterov": Nesterov,
    "adagrad": AdaGrad,
    "rmsprop": RMSprop,
    "adam": Adam,
    "adamw": AdamW,
}
#: each optimizer's learning rate when none is given: what trains the default network well in
#: a few epochs on mnist-10k (momentum's 0.05 makes steps like SGD's 0.5 once v has built up)
DEFAULT_LR = {
    "sgd": 0.5,
    "momentum": 0.05,
    "nesterov": 0.05,
    "adagrad": 0.05,
    "rmsprop": 0.001,
    "adam": 0.001,
    "adamw": 0.001,
}
SCHEDULES = ("constant", "step", "cosine")
#: the networks a run can train: the book's MLPs, its chapter 7 and chapter 8 conv nets
NETS = ("mlp", "simple-conv", "deep-conv")
#: each network's hidden layers and dropout when none are given: the book's (SimpleConvNet's
#: 100 units, DeepConvNet's 50 and its dropout of 0.5), and 256 units for the MLP
DEFAULT_HIDDEN = {"mlp": (256,), "simple-conv": (100,), "deep-conv": (50,)}
DEFAULT_DROPOUT = {"mlp": 0.0, "simple-conv": 0.0, "deep-conv": 0.5}
WEIGHT_INITS = ("auto", "he", "xavier")
DTYPES = ("float32", "float64")

#: the settings that belong to one choice: (the choice's setting, the values it belongs to,
#: its default there). Changing the choice resets them (see `TrainConfig.changed`).
DEPENDENT = {
    "lr": ("optimizer", tuple(OPTIMIZERS), None),  # default: DEFAULT_LR of the optimizer
    "momentum": ("optimizer", ("momentum", "nesterov"), 0.9),
    "beta1": ("optimizer", ("adam", "adamw"), 0.9),
    "beta2": ("optimizer", ("adam", "adamw"), 0.999),
    "step_every": ("schedule", ("step",), None),  # default: a third of the epochs
    "step_gamma": ("schedule", ("step",), 0.1),
    "shift": ("augment", (True,), 2.0),
    "rotation": ("augment", (True,), 10.0),
}


@dataclass(frozen=True)
class TrainConfig:
    """Every setting of a run; the defaults reach about 96% on mnist-10k in seconds.

    Network: `net` ("mlp"; "simple-conv", the book's SimpleConvNet; "deep-conv", its
    DeepConvNet), `hidden` sizes of the hidden layers ((256,) is the book's two-layer net; (512,
    256) two hidden layers; the one fully connected hidden layer of a conv net; None: the
    net's default, DEFAULT_HIDDEN), `activation` ("relu", "sigmoid", "tanh", "leaky_relu"; a
    conv net's is ReLU), `weight_init` ("auto": He for ReLU, Xavier for sigmoid and tanh; "he";
    "xavier"; or a std such as 0.01), `batchnorm` (MLP), `dropout` (probability of dropping a
    hidden unit; None: the net's default, 0.5 for deep-conv as in the book, else 0).

    Optimizer: `optimizer` (a key of OPTIMIZERS), `lr` (None: DEFAULT_LR), `momentum`,
    `beta1`, `beta2` (None: the optimizer's default), `weight_decay` (L2 strength; None: 0, or
    AdamW's 0.01). Schedule: `schedule` ("constant", "step", "cosine"), `step_every` epochs and
    `step_gamma` for "step", `warmup` epochs of linear warm-up before it.

    Data: `augment` with random shifts up to `shift` pixels and rotations up to `rotation`
    degrees, `validation` fraction of the training images held out (0: none),
    `early_stopping` patience in epochs (0: off; needs a validation set).

    Raises ConfigError, naming the setting and the fix, for a wrong type, a value out of
    range, or a combination that does not fit.
    """

    data: str = "mnist-10k"
    net: str = "mlp"
    hidden: tuple[int, ...] | None = None
    activation: str = "relu"
    weight_init: str | float = "auto"
    batchnorm: bool = False
    dropout: float | None = None
    optimizer: str = "sgd"
    lr: float | None = None
    momentum: float | None = None
    beta1: float | None = None
    beta2: float | None = None
    weight_decay: float | None = None
    schedule: str = "constant"
    step_every: float | None = None
    step_gamma: float | None = None
    warmup: float = 0.0
    augment: bool = False
    shift: float | None = None
    rotation: float | None = None
    validation: float = 0.0
    early_stopping: int = 0
    epochs: int = 20
    batch_size: int = 100
    dtype: str = "float32"
    seed: int = 0

    def __post_init__(self) -> None:
        # Frozen: the checked values are written with object.__setattr__, once, here.
        checked = {name: getattr(self, name) for name in _names()}
        checked.update(_check_types(checked))
        checked.update(_resolve_dependent(checked))
        _check_combinations(checked)
        for name, value in checked.items():
            object.__setattr__(self, name, value)

    def changed(self, **changes) -> TrainConfig:
        """A copy with `changes`; where a choice changes (optimizer, schedule, augment), the
        settings that belong to it and are not in `changes` go back to the new choice's
        defaults, so `--optimizer adam` over an SGD config does not keep SGD's lr."""
        unknown = sorted(set(changes) - set(_names()))
        if unknown:
            raise ConfigError(_("{key!r} is not a setting of a run.").format(key=unknown[0]))
        reset = {
            name: None
            for name, (choice, _values, _default) in DEPENDENT.items()
            if name not in changes
            and choice in changes
            and changes[choice] != getattr(self, choice)
        }
        if changes.get("net", self.net) != self.net:  # the other net's defaults
            reset.update({name: None for name in ("hidden", "dropout") if name not in changes})
        return replace(self, **{**reset, **changes})

    def to_dict(self) -> dict:
        """Plain JSON data: the content of a run folder's config.json."""
        return {**asdict(self), "hidden": list(self.hidden)}

    def is_two_layer_net(self) -> bool:
        """The book's case: an MLP with one hidden layer, no BatchNorm, no dropout."""
        return (
            self.net == "mlp" and len(self.hidden) == 1 and not self.batchnorm and not self.dropout
        )


#: the largest config file read (a run's config.json is under 1 KB)
MAX_CONFIG_BYTES = 1 << 20


def load_config(path: str | Path) -> TrainConfig:
    """Read a JSON object of TrainConfig keys (any subset; a run folder's config.json has all).

    Raises ConfigError naming the file, the key and the fix for an unreadable file, invalid
    JSON, an unknown key, or a wrong type or value.
    """
    path = Path(path)
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_CONFIG_BYTES + 1)  # never more, whatever the file's size
        if len(raw) > MAX_CONFIG_BYTES:
            raise ConfigError(
                _(
                    "the config file {path} is over {limit:,} bytes; a config holds a few "
                    "settings: pass a run folder's config.json or a file of settings."
                ).format(path=path, limit=MAX_CONFIG_BYTES)
            )
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ConfigError(
            _(
                "cannot read the config file {path}: {reason}; pass a JSON file such as a run "
                "folder's config.json."
            ).format(path=path, reason=reason.lower())
        ) from None
    try:
        settings = json.loads(text)
    except RecursionError:
        raise ConfigError(
            _("the config file {path} is nested too deeply to be a config; correct it.").format(
                path=path
            )
        ) from None
    except json.JSONDecodeError as exc:
        raise ConfigError(
            _(
                "the config file {path} is not valid JSON ({reason} at line {line}, column "
                "{column}); correct it there."
            ).format(path=path, reason=exc.msg, line=exc.lineno, column=exc.colno)
        ) from None
    if not isinstance(settings, dict):
        raise ConfigError(
            _(
                'the config file {path} must hold one JSON object of settings, e.g. {{"lr": '
                "0.1}}; it holds a {kind}."
            ).format(path=path, kind=type(settings).__name__)
        )
    for key in settings:
        if key not in _names():
            close = difflib.get_close_matches(key, _names(), n=1)
            hint = (
                _("did you mean {key!r}?").format(key=close[0])
                if close
                else _("the settings are {names}.").format(names=", ".join(_names()))
            )
            raise ConfigError(
                _("the config file {path} has an unknown setting {key!r}: {hint}").format(
                    path=path, key=key, hint=hint
                )
            )
    try:
        return TrainConfig(**settings)
    except ConfigError as exc:
        raise ConfigError(
            _("the config file {path} has a bad setting: {message}").format(path=path, message=exc)
        ) from None


def command_line(config: TrainConfig) -> str:
    """The `digitlab train` command that trains `config`: the options that differ from the
    defaults of its choices, in the order of the config's fields."""
    choices = ("net", "optimizer", "schedule", "augment", "epochs")
    defaults = TrainConfig()
    # the defaults of the settings that belong to the choices made
    reference = TrainConfig(**{name: getattr(config, name) for name in choices})
    words = ["digitlab", "train"]
    for name in _names():
        value = getattr(config, name)
        if value == getattr(defaults if name in choices else reference, name):
            continue
        option = "--" + name.replace("_", "-")
        if isinstance(value, bool):
            words.append(option if value else "--no-" + name.replace("_", "-"))
        elif isinstance(value, tuple):
            words += [option, ",".join(map(str, value))]
        else:
            words += [option, str(value)]  # str of a float is the shortest exact spelling
    return shlex.join(words)


# -- from settings to objects ------------------------------------------------------------------


def build_network(config: TrainConfig, input_size: int, output_size: int) -> Network:
    """The network `config` describes: the book's SimpleConvNet or DeepConvNet for square
    images of `input_size` pixels; for an MLP, the book's TwoLayerNet for one hidden layer
    without BatchNorm or dropout (the name a learner knows), else an MLP."""
    common = {"weight_init_std": config.weight_init, "seed": config.seed, "dtype": config.dtype}
    if config.net != "mlp":
        side = math.isqrt(input_size)
        if side * side != input_size:
            raise ConfigError(
                _(
                    "--net {net} reads square images, but the data's images have {pixels} "
                    "pixels; use --net mlp."
                ).format(net=config.net, pixels=input_size)
            )
        shape = (1, side, side)
        if config.net == "simple-conv":
            return SimpleConvNet(
                shape, None, config.hidden[0], output_size, dropout=config.dropout, **common
            )
        return DeepConvNet(shape, config.hidden[0], output_size, config.dropout, **common)
    common["activation"] = config.activation
    if config.is_two_layer_net():
        return TwoLayerNet(input_size, config.hidden[0], output_size, **common)
    return MLP(
        input_size,
        list(config.hidden),
        output_size,
        use_batchnorm=config.batchnorm,
        dropout=config.dropout,
        **common,
    )


def build_optimizer(config: TrainConfig):
    """The optimizer with its settings. Weight decay lives here rather than in the network for
    every optimizer: AdamW must decouple it, and the recorded losses stay plain cross-entropy,
    comparable between runs with different decay."""
    extra = {
        name: getattr(config, name)
        for name in ("momentum", "beta1", "beta2")
        if getattr(config, name) is not None
    }
    return OPTIMIZERS[config.optimizer](config.lr, weight_decay=config.weight_decay, **extra)


def build_schedule(config: TrainConfig) -> Schedule | None:
    """The learning-rate schedule, with its warm-up; None for a constant rate."""
    schedule: Schedule | None = None
    if config.schedule == "step":
        schedule = StepDecay(config.step_every, config.step_gamma)
    elif config.schedule == "cosine":
        schedule = Cosine(epochs=config.epochs - config.warmup)
    if config.warmup:
        return Warmup(schedule, epochs=config.warmup)
    return schedule


def build_trainer(config: TrainConfig, network, **trainer_options) -> Trainer:
    """A Trainer for `network` with the optimizer, schedule, augmentation and early stopping of
    `config`; `trainer_options` are the Trainer's others (progress=, log=, watch=)."""
    callbacks = [EarlyStopping(patience=config.early_stopping)] if config.early_stopping else []
    return Trainer(
        network,
        build_optimizer(config),
        epochs=config.epochs,
        batch_size=config.batch_size,
        seed=config.seed,
        schedule=build_schedule(config),
        augment=Augment(config.shift, config.rotation) if config.augment else None,
        callbacks=callbacks,
        **trainer_options,
    )


def split_validation(
    config: TrainConfig, x: np.ndarray, t: np.ndarray
) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
    """(x_fit, t_fit, validation): the training data less `config.validation` of it, held out
    at random (seeded by `config.seed`), or all of it and None when validation is 0."""
    if not config.validation:
        return x, t, None
    (x_fit, t_fit), validation = train_validation_split(x, t, config.validation, seed=config.seed)
    return x_fit, t_fit, validation


# -- checks ------------------------------------------------------------------------------------


def _names() -> tuple[str, ...]:
    return tuple(f.name for f in fields(TrainConfig))


def _option(name: str) -> str:
    return "--" + name.replace("_", "-")


def _check_types(c: dict) -> dict:
    """Each setting alone: its type and range. Returns the values in their canonical form."""
    out = {}
    for name, choices in (
        ("net", NETS),
        ("activation", tuple(ACTIVATIONS)),
        ("optimizer", tuple(OPTIMIZERS)),
        ("schedule", SCHEDULES),
        ("dtype", DTYPES),
    ):
        if c[name] not in choices:
            raise ConfigError(
                _("{option} {value!r} is not known; choose one of {choices}.").format(
                    option=_option(name), value=c[name], choices=", ".join(choices)
                )
            )
    if not isinstance(c["data"], str) or not c["data"]:
        raise ConfigError(
            _("data={value!r} must be a data set name or a folder, e.g. 'mnist-10k'.").format(
                value=c["data"]
            )
        )
    if c["hidden"] is not None:
        out["hidden"] = _hidden_sizes(c["hidden"])
    out["weight_init"] = _weight_init(c["weight_init"])
    for name in ("batchnorm", "augment"):
        if not isinstance(c[name], bool):
            raise ConfigError(
                _("{name}={value!r} must be true or false.").format(name=name, value=c[name])
            )
    if c["dropout"] is not None:
        out["dropout"] = number(
            "dropout", c["dropout"], low=0, high=1, high_open=True, example="0.2"
        )
    out["warmup"] = number("warmup", c["warmup"], low=0, example="1 (epoch)")
    out["validation"] = number(
        "validation", c["validation"], low=0, high=1, high_open=True, example="0.1"
    )
    out["early_stopping"] = whole("early_stopping", c["early_stopping"], low=0, example="5")
    out["epochs"] = whole("epochs", c["epochs"], low=1, example="20")
    out["batch_size"] = whole("batch_size", c["batch_size"], low=1, example="100")
    if isinstance(c["seed"], bool) or not isinstance(c["seed"], (int, np.integer)) or c["seed"] < 0:
        raise ConfigError(
            _("seed={value!r} must be a whole number from 0 up, e.g. 0.").format(value=c["seed"])
        )
    out["seed"] = int(c["seed"])
    optional = {
        "lr": {"low": 0, "low_open": True, "example": "0.1"},
        "momentum": {"low": 0, "high": 1, "high_open": True, "example": "0.9"},
        "beta1": {"low": 0, "high": 1, "high_open": True, "example": "0.9"},
        "beta2": {"low": 0, "high": 1, "high_open": True, "example": "0.999"},
        "weight_decay": {"low": 0, "example": "1e-4"},
        "step_every": {"low": 0, "low_open": True, "example": "5 (epochs)"},
        "step_gamma": {"low": 0, "high": 1, "low_open": True, "example": "0.1"},
        "shift": {"low": 0, "high": 14, "example": "2 (pixels)"},
        "rotation": {"low": 0, "high": 180, "example": "10 (degrees)"},
    }
    for name, limits in optional.items():
        if c[name] is not None:
            out[name] = number(name, c[name], **limits)
    return out


def _hidden_sizes(value) -> tuple[int, ...]:
    sizes = [value] if isinstance(value, int) and not isinstance(value, bool) else value
    ok = isinstance(sizes, (list, tuple)) and len(sizes) > 0
    ok = ok and all(isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in sizes)
    if not ok:
        raise ConfigError(
            _(
                "hidden={value!r} must list the sizes of the hidden layers, whole numbers >= 1, "
                "e.g. [256] or [512, 256]."
            ).format(value=value)
        )
    return tuple(sizes)


def _weight_init(value) -> str | float:
    if isinstance(value, str) and value in WEIGHT_INITS:
        return value
    if not isinstance(value, str):
        return number("weight_init", value, low=0, low_open=True, example="0.01, 'he' or 'auto'")
    raise ConfigError(
        _(
            "weight_init={value!r} is not known; use auto, he, xavier, or a standard deviation "
            "such as 0.01."
        ).format(value=value)
    )


def _resolve_dependent(c: dict) -> dict:
    """Fill in the defaults of the settings that belong to the choices made; refuse a setting
    given for a choice not made."""
    out = {}
    for name, (choice, values, default) in DEPENDENT.items():
        applies = c[choice] in values
        if c[name] is not None and not applies:
            raise ConfigError(_misplaced(name, choice, values))
        if c[name] is None and applies:
            out[name] = default
    if c["hidden"] is None:
        out["hidden"] = DEFAULT_HIDDEN[c["net"]]
    if c["dropout"] is None:
        out["dropout"] = DEFAULT_DROPOUT[c["net"]]
    if c["lr"] is None:
        out["lr"] = DEFAULT_LR[c["optimizer"]]
    if c["schedule"] == "step" and c["step_every"] is None:
        out["step_every"] = float(max(1, c["epochs"] // 3))
    if c["weight_decay"] is None:
        out["weight_decay"] = 0.01 if c["optimizer"] == "adamw" else 0.0
    return out


def _check_conv_net(c: dict) -> None:
    """The book's conv nets have one fully connected hidden layer and ReLU; neither has
    BatchNorm."""
    net = c["net"]
    if len(c["hidden"]) != 1:
        raise ConfigError(
            _(
                "--net {net} has one fully connected hidden layer, but --hidden gives {count}; "
                "give one size, e.g. --hidden {default}."
            ).format(net=net, count=len(c["hidden"]), default=DEFAULT_HIDDEN[net][0])
        )
    book = {"activation": "relu", "batchnorm": False}
    for setting, allowed in book.items():
        if c[setting] != allowed:
            raise ConfigError(
                _(
                    "{option} is a setting of --net mlp; --net {net} is the book's, without it."
                ).format(option=_option(setting), net=net)
            )


def _misplaced(name: str, choice: str, values: tuple) -> str:
    if choice == "augment":
        return _("{option} applies to augmented runs only; add --augment, or drop it.").format(
            option=_option(name)
        )
    choices = " / ".join(str(v) for v in values)
    return _(
        "{option} is a setting of {choice} {choices} only; choose one of those, or drop it."
    ).format(option=_option(name), choice=_option(choice), choices=choices)


def _check_combinations(c: dict) -> None:
    if c["net"] != "mlp":
        _check_conv_net(c)
    if c["early_stopping"] and not c["validation"]:
        raise ConfigError(
            _(
                "--early-stopping {patience} watches a validation set, but there is none; add "
                "--validation 0.1 (hold out a tenth of the training images), or drop "
                "--early-stopping."
            ).format(patience=c["early_stopping"])
        )
    if c["warmup"] >= c["epochs"]:
        raise ConfigError(
            _(
                "--warmup {warmup:g} leaves none of the {epochs} epochs after the warm-up; use a "
                "shorter --warmup or more --epochs."
            ).format(warmup=c["warmup"], epochs=c["epochs"])
        )
