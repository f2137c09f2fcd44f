"""TrainConfig: every setting checked, read back from JSON, and turned into the right objects."""

import json
import shlex

import pytest

from digitlab.cli.train import config_from_options, train
from digitlab.datasets import Augment
from digitlab.errors import ConfigError
from digitlab.nn import MLP, DeepConvNet, SimpleConvNet, TwoLayerNet
from digitlab.train import SGD, AdamW, Cosine, EarlyStopping, Nesterov, StepDecay, Warmup
from digitlab.workflows.config import (
    TrainConfig,
    build_network,
    build_optimizer,
    build_schedule,
    build_trainer,
    command_line,
    load_config,
)


def test_defaults_are_the_books_run_and_choices_fill_in_their_own():
    config = TrainConfig()
    assert (config.hidden, config.optimizer, config.lr, config.epochs) == ((256,), "sgd", 0.5, 20)
    assert (config.batch_size, config.dtype, config.seed) == (100, "float32", 0)
    assert config.momentum is None and config.weight_decay == 0.0 and config.shift is None
    adamw = TrainConfig(optimizer="adamw")
    assert (adamw.lr, adamw.beta1, adamw.beta2, adamw.weight_decay) == (0.001, 0.9, 0.999, 0.01)
    step = TrainConfig(schedule="step", epochs=9)
    assert (step.step_every, step.step_gamma) == (3.0, 0.1)
    assert TrainConfig(augment=True).shift == 2.0
    assert TrainConfig(hidden=64).hidden == (64,)  # a bare size, as JSON writers may give


def test_changing_a_choice_resets_only_its_own_settings():
    sgd = TrainConfig(lr=0.1, weight_decay=1e-4)
    adam = sgd.changed(optimizer="adam")
    assert (adam.lr, adam.beta1, adam.weight_decay) == (0.001, 0.9, 1e-4)
    assert sgd.changed(optimizer="sgd").lr == 0.1  # the same choice keeps its lr
    assert sgd.changed(optimizer="momentum", lr=0.02).lr == 0.02


def test_each_setting_builds_its_object(tmp_path):
    config = TrainConfig(
        hidden=(32, 16),
        batchnorm=True,
        dropout=0.2,
        optimizer="nesterov",
        momentum=0.8,
        weight_decay=1e-4,
        schedule="cosine",
        warmup=1,
        augment=True,
        rotation=5,
        validation=0.1,
        early_stopping=2,
        epochs=6,
    )
    network = build_network(config, 784, 10)
    assert type(network) is MLP and network.sizes == [784, 32, 16, 10]
    assert network.use_batchnorm and network.dropout == 0.2
    optimizer = build_optimizer(config)
    assert type(optimizer) is Nesterov
    assert (optimizer.lr, optimizer.momentum, optimizer.weight_decay) == (0.05, 0.8, 1e-4)
    schedule = build_schedule(config)
    assert isinstance(schedule, Warmup) and isinstance(schedule.schedule, Cosine)
    assert schedule.schedule.epochs == 5  # the cosine descends over the epochs after warm-up
    trainer = build_trainer(config, network, log=None, progress=False)
    assert isinstance(trainer.augment, Augment) and trainer.augment.max_degrees == 5
    assert [type(c) for c in trainer.callbacks] == [EarlyStopping]
    assert trainer.callbacks[0].patience == 2

    book = TrainConfig()
    assert type(build_network(book, 784, 10)) is TwoLayerNet
    assert type(build_optimizer(book)) is SGD and build_schedule(book) is None
    assert isinstance(build_schedule(TrainConfig(schedule="step", epochs=9)), StepDecay)
    assert type(build_optimizer(TrainConfig(optimizer="adamw"))) is AdamW


def test_a_config_file_reads_back_the_same_config(tmp_path):
    config = TrainConfig(hidden=(64, 32), optimizer="adam", schedule="step", augment=True)
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config.to_dict()))
    assert load_config(path) == config
    (tmp_path / "part.json").write_text('{"optimizer": "momentum", "hidden": [100]}')
    assert load_config(tmp_path / "part.json") == TrainConfig(optimizer="momentum", hidden=[100])


def test_options_override_the_config_file(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(TrainConfig(optimizer="adam", lr=0.003, epochs=7).to_dict()))
    config = config_from_options(path, {"epochs": 2, "lr": None, "hidden": (32,)})
    assert (config.optimizer, config.lr, config.epochs, config.hidden) == ("adam", 0.003, 2, (32,))
    # another optimizer on the command line does not inherit Adam's lr and betas
    config = config_from_options(path, {"optimizer": "sgd"})
    assert (config.lr, config.beta1) == (0.5, None)


@pytest.mark.parametrize(
    ("text", "phrases"),
    [
        ('{"lr": 0.1,}', ["is not valid JSON", "line 1, column 12"]),
        ("[1, 2]", ["must hold one JSON object", "list"]),
        ('{"batch-size": 10}', ["unknown setting 'batch-size': did you mean 'batch_size'?"]),
        ('{"colour": 1}', ["unknown setting 'colour'", "the settings are data, net, hidden"]),
        ('{"lr": "0.1"}', ["bad setting", "lr='0.1' must be a positive number"]),
        ('{"hidden": [0]}', ["hidden=[0] must list the sizes"]),
        ('{"batchnorm": "yes"}', ["batchnorm='yes' must be true or false"]),
        ('{"optimizer": "adamm"}', ["--optimizer 'adamm' is not known", "adam, adamw"]),
        ('{"weight_init": "glorot"}', ["weight_init='glorot' is not known"]),
        ('{"epochs": 2.5}', ["epochs=2.5 must be a whole number"]),
        ('{"optimizer": "adam", "momentum": 0.9}', ["--momentum is a setting of --optimizer"]),
        ('{"step_every": 2}', ["--step-every is a setting of --schedule step only"]),
        ('{"shift": 3}', ["--shift applies to augmented runs only; add --augment"]),
        ('{"early_stopping": 3}', ["--early-stopping 3 watches a validation set", "--validation"]),
        ('{"warmup": 5, "epochs": 5}', ["--warmup 5 leaves none of the 5 epochs"]),
    ],
)
def test_every_bad_config_names_the_file_and_the_setting(tmp_path, text, phrases):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(ConfigError) as error:
        load_config(path)
    message = str(error.value)
    assert str(path) in message and "\n" not in message
    for phrase in phrases:
        assert phrase in message


def test_an_unreadable_config_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match=r"cannot read the config file .*absent\.json: no such"):
        load_config(tmp_path / "absent.json")
    with pytest.raises(ConfigError, match="cannot read the config file"):
        load_config(tmp_path)


def test_the_printed_command_line_gives_back_the_config():
    config = TrainConfig(
        hidden=(200,),
        activation="tanh",
        weight_init=0.01,
        dropout=0.0527,
        optimizer="rmsprop",
        lr=0.00123,
        weight_decay=6.69e-07,
        schedule="step",
        step_gamma=0.5,
        augment=True,
        shift=1.5,
        validation=0.2,
        early_stopping=3,
        epochs=12,
        seed=4,
    )
    words = shlex.split(command_line(config))
    assert words[:2] == ["digitlab", "train"] and "--beta1" not in words
    ctx = train.make_context("train", words[2:])
    settings = {k: v for k, v in ctx.params.items() if k in TrainConfig.__dataclass_fields__}
    assert config_from_options(None, settings) == config
    assert command_line(TrainConfig()) == "digitlab train"


def test_a_conv_net_takes_the_books_defaults_and_builds_the_books_class():
    simple, deep = TrainConfig(net="simple-conv"), TrainConfig(net="deep-conv")
    assert (simple.hidden, simple.dropout) == ((100,), 0.0)
    assert (deep.hidden, deep.dropout) == ((50,), 0.5)
    net = build_network(simple, 784, 10)
    assert isinstance(net, SimpleConvNet) and net.params["W2"].shape == (30 * 12 * 12, 100)
    deep_net = build_network(deep.changed(hidden=(20,), dropout=0.3), 784, 10)
    assert isinstance(deep_net, DeepConvNet)
    assert deep_net.params["W7"].shape == (1024, 20) and deep_net.dropout == 0.3
    # a switch of network brings that network's defaults, unless given
    assert TrainConfig().changed(net="simple-conv").hidden == (100,)
    assert TrainConfig().changed(net="deep-conv", hidden=(64,)).hidden == (64,)
    assert simple.changed(net="mlp").hidden == (256,)
    config = TrainConfig(net="simple-conv", hidden=(32,), optimizer="adam")
    command = command_line(config)
    assert command == "digitlab train --net simple-conv --hidden 32 --optimizer adam"
    ctx = train.make_context("train", shlex.split(command)[2:])
    settings = {k: v for k, v in ctx.params.items() if k in TrainConfig.__dataclass_fields__}
    assert config_from_options(None, settings) == config


@pytest.mark.parametrize(
    ("settings", "phrase"),
    [
        ({"net": "simple-conv", "hidden": (100, 50)}, "one fully connected hidden layer"),
        ({"net": "deep-conv", "activation": "sigmoid"}, "--activation is a setting of --net mlp"),
        ({"net": "simple-conv", "batchnorm": True}, "--batchnorm is a setting of --net mlp"),
        ({"net": "conv"}, "--net 'conv' is not known; choose one of mlp, simple-conv"),
    ],
)
def test_what_the_books_conv_nets_do_not_have_is_refused(settings, phrase):
    with pytest.raises(ConfigError, match=phrase):
        TrainConfig(**settings)


def test_a_conv_net_needs_square_images():
    with pytest.raises(ConfigError, match="reads square images, but the data's images have 60"):
        build_network(TrainConfig(net="simple-conv"), 60, 10)
