"""Conv nets with the book's API: names and shapes, backprop against central differences,
inputs in every layout a learner has, save and load bit for bit, and training on real digits."""

import copy

import numpy as np
import pytest

from digitlab import ConvNet, DataError, DeepConvNet, SimpleConvNet, Trainer, TwoLayerNet
from digitlab import load as load_model
from digitlab import save as save_model
from digitlab.errors import ConfigError, ModelFileError
from digitlab.nn import network_from_config
from digitlab.nn.numerical import numerical_gradient
from digitlab.train import Adam

#: every kind of layer, odd sizes, stride 2, padding, both poolings, BatchNorm on images and on
#: units, dropout
EVERYTHING = [
    {"type": "conv", "filters": 3, "size": 3, "stride": 2, "pad": 1},
    {"type": "batchnorm"},
    {"type": "relu"},
    {"type": "pool", "size": 2, "stride": 1, "mode": "average"},
    {"type": "conv", "filters": 4, "size": 2},
    {"type": "tanh"},
    {"type": "pool", "size": 2, "stride": 2, "pad": 1},
    {"type": "affine", "units": 6},
    {"type": "batchnorm"},
    {"type": "sigmoid"},
    {"type": "dropout", "p": 0.3},
    {"type": "affine", "units": 3},
]


def small_batch(shape=(4, 2, 9, 7), classes=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape), rng.integers(0, classes, shape[0])


def test_simple_conv_net_has_the_books_names_and_shapes():
    net = SimpleConvNet()
    assert {name: p.shape for name, p in net.params.items()} == {
        "W1": (30, 1, 5, 5),
        "b1": (30,),
        "W2": (30 * 12 * 12, 100),
        "b2": (100,),
        "W3": (100, 10),
        "b3": (10,),
    }
    assert net.layers.keys() == ["Conv1", "Relu1", "Pool1", "Affine1", "Relu2", "Affine2"]
    assert net.layers["Conv1"] is net.layers[0] and net.layers["Affine2"] is net.layers[-1]
    assert list(net.layers.values()) == list(net.layers)
    assert net.lastLayer is net.last_layer
    assert np.std(net.params["W1"]) == pytest.approx(0.01, rel=0.1)  # the book's scale
    with pytest.raises(KeyError, match="Conv1, Relu1, Pool1"):
        net.layers["Conv9"]


def test_deep_conv_net_has_the_books_shapes_and_he_scales():
    net = DeepConvNet(seed=0)
    shapes = {name: p.shape for name, p in net.params.items() if name.startswith("W")}
    assert shapes == {
        "W1": (16, 1, 3, 3),
        "W2": (16, 16, 3, 3),
        "W3": (32, 16, 3, 3),
        "W4": (32, 32, 3, 3),
        "W5": (64, 32, 3, 3),
        "W6": (64, 64, 3, 3),
        "W7": (64 * 4 * 4, 50),
        "W8": (50, 10),
    }
    assert net.layers.keys()[-5:] == ["Affine1", "Relu7", "Dropout1", "Affine2", "Dropout2"]
    # He: sqrt(2 / fan_in), the fan-in of a filter being channels x 3 x 3
    assert np.std(net.params["W2"]) == pytest.approx(np.sqrt(2 / (16 * 9)), rel=0.05)
    assert net.scores(np.zeros((2, 1, 28, 28))).shape == (2, 10)


def test_two_layer_net_gains_the_books_layer_names():
    net = TwoLayerNet(784, 50, 10)
    assert net.layers.keys() == ["Affine1", "Relu1", "Affine2"]
    assert net.layers["Affine1"].W is net.params["W1"]
    assert net.lastLayer is net.last_layer
    copied = copy.deepcopy(net)  # the doctor examines a deep copy, by the same names
    assert copied.layers.keys() == ["Affine1", "Relu1", "Affine2"]
    assert copied.layers["Affine1"].W is copied.params["W1"]


@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
def test_backprop_matches_central_differences_through_every_kind_of_layer(weight_decay):
    net = ConvNet((2, 9, 7), EVERYTHING, weight_decay=weight_decay, seed=3)
    x, t = small_batch()
    with net.frozen():
        grads = net.gradient(x, t)
        numerical = net.numerical_gradient(x, t, h=1e-5)
    assert set(grads) == set(net.params) == set(numerical)
    for name in net.params:
        np.testing.assert_allclose(grads[name], numerical[name], rtol=1e-5, atol=1e-8, err_msg=name)


def test_simple_conv_net_numerical_gradient_is_the_books_loop():
    """The conv layer's central differences are the book's loop number for number (each run
    from its own layer's input); the fully connected layers' come from the cached fast path
    (digitlab.nn.finite_differences), equal to the loop but for the loop's own rounding."""
    conv_param = {"filter_num": 2, "filter_size": 3, "pad": 1, "stride": 1}
    net = SimpleConvNet((1, 8, 8), conv_param, 4, 3, weight_init_std=0.3, seed=0)
    x, t = small_batch((3, 1, 8, 8))
    fast = net.numerical_gradient(x, t)
    for name, param in net.params.items():
        book = numerical_gradient(lambda _: net.loss(x, t, train=True), param)
        if name in ("W1", "b1"):
            np.testing.assert_array_equal(fast[name], book, err_msg=name)
        else:  # f(w+h) - f(w-h) of two losses near 1 loses about 1e-16 / 1e-4 to rounding
            np.testing.assert_allclose(fast[name], book, rtol=0, atol=1e-10, err_msg=name)
    # h = 1e-6 for the comparison with backprop: here two cells of a pooling window differ by
    # 7e-5, and a step of 1e-4 crosses the max's kink (the book's step is not always small)
    backprop, fine = net.gradient(x, t), net.numerical_gradient(x, t, h=1e-6)
    for name in net.params:
        np.testing.assert_allclose(backprop[name], fine[name], rtol=1e-6, atol=1e-9)


def test_inputs_in_every_layout_a_learner_has():
    net = SimpleConvNet((1, 28, 28), {"filter_num": 2, "filter_size": 5}, 8, seed=0)
    images = np.random.default_rng(0).random((3, 1, 28, 28))
    expected = net.predict(images)
    np.testing.assert_array_equal(net.predict(images.reshape(3, 784)), expected)
    np.testing.assert_array_equal(net.predict(images[:, 0]), expected)
    with pytest.raises(DataError, match=r"channels last.*transpose\(0, 3, 1, 2\)"):
        ConvNet((3, 8, 8), [{"type": "affine", "units": 2}]).predict(np.zeros((2, 8, 8, 3)))
    with pytest.raises(DataError, match=r"x has shape \(3, 100\).*\(N, 1, 28, 28\)"):
        net.predict(np.zeros((3, 100)))


def test_predict_and_eval_loss_run_a_batch_at_a_time_with_the_same_result():
    # a conv net's activations for 10,000 images at once take gigabytes: eval mode goes through
    # eval_batch_size samples at a time, and must give what one pass gives
    net = ConvNet((2, 9, 7), EVERYTHING, seed=0)
    x, t = small_batch((23, 2, 9, 7))
    net.eval_batch_size = 23
    whole_probs, whole_loss = net.predict(x), net.loss(x, t)
    net.eval_batch_size = 5
    np.testing.assert_allclose(net.predict(x), whole_probs, rtol=1e-12)
    assert net.loss(x, t) == pytest.approx(whole_loss, rel=1e-12)
    seen = []
    first = net.layers[0].forward
    net.layers[0].forward = lambda x, train=True: seen.append(len(x)) or first(x, train)
    net.predict(x)
    assert seen == [5, 5, 5, 5, 3]


def test_activations_are_each_activation_layers_output_by_name():
    net = SimpleConvNet((1, 28, 28), {"filter_num": 3, "filter_size": 5}, 8, seed=0)
    x = np.random.default_rng(0).random((2, 784))
    outputs = net.activations(x)
    assert list(outputs) == ["Relu1", "Relu2"]
    conv = net.layers["Conv1"].forward(x.reshape(2, 1, 28, 28))
    np.testing.assert_array_equal(outputs["Relu1"], np.maximum(conv, 0))
    assert outputs["Relu2"].shape == (2, 8)


def test_labels_are_checked_as_for_an_mlp():
    net = SimpleConvNet((1, 8, 8), {"filter_num": 2, "filter_size": 3}, 4, 3)
    with pytest.raises(DataError, match="label 3, outside the 3 classes"):
        net.loss(np.zeros((2, 1, 8, 8)), [0, 3])
    x = np.random.default_rng(0).random((2, 1, 8, 8))
    # a column of labels (N, 1), as the book's gradient_check passes it, is a column of indices
    assert net.loss(x, np.array([[2], [0]])) == net.loss(x, [2, 0])
    with pytest.raises(DataError, match="label 3, outside"):
        net.loss(x, np.array([[2], [3]]))


@pytest.mark.parametrize(
    ("layers", "message"),
    [
        ([{"type": "conv", "filters": 2, "size": 3}], "ends with an affine layer"),
        ([{"type": "conv", "size": 3}, {"type": "affine", "units": 2}], "needs 'filters'"),
        ([{"type": "pool", "sizes": 2}, {"type": "affine", "units": 2}], "no setting 'sizes'"),
        ([{"type": "magic"}], "is not a layer"),
        (
            [
                {"type": "affine", "units": 4},
                {"type": "conv", "filters": 2, "size": 3},
                {"type": "affine", "units": 2},
            ],
            "put them first",
        ),
        (
            [{"type": "conv", "filters": 2, "size": 30}, {"type": "affine", "units": 2}],
            "does not fit",
        ),
        ([{"type": "dropout", "p": 1.0}, {"type": "affine", "units": 2}], r"p=1.0 must be in"),
    ],
)
def test_bad_designs_name_the_layer_and_the_fix(layers, message):
    with pytest.raises(ConfigError, match=message):
        ConvNet((1, 28, 28), layers)


def test_an_architecture_too_large_for_the_machine_is_refused_before_allocating():
    layers = [{"type": "conv", "filters": 1_000_000, "size": 28}, {"type": "affine", "units": 10}]
    with pytest.raises(ConfigError, match="training needs about"):
        ConvNet((1000, 28, 28), layers)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_save_and_load_bit_for_bit(tmp_path, dtype):
    net = ConvNet((2, 9, 7), EVERYTHING, seed=1, dtype=dtype)
    x, t = small_batch()
    Trainer(net, Adam(0.01), epochs=2, batch_size=2, log=None, progress=False).fit(x, t)
    deep = DeepConvNet(seed=0, hidden_size=8, dtype=dtype)
    for network in (net, deep):
        path = save_model(network, tmp_path / "model.npz")
        loaded = load_model(path)
        assert type(loaded) is type(network) and loaded.config() == network.config()
        for name in network.params:
            assert loaded.params[name].dtype == np.dtype(dtype)
            np.testing.assert_array_equal(loaded.params[name], network.params[name])
        for name, value in network.state().items():
            np.testing.assert_array_equal(loaded.state()[name], value)
        probe = np.random.default_rng(5).random((2, *network.input_dim))
        np.testing.assert_array_equal(loaded.predict(probe), network.predict(probe))


def test_config_rebuilds_the_same_network():
    for net in (SimpleConvNet(seed=4), DeepConvNet(seed=4), ConvNet((2, 9, 7), EVERYTHING, seed=4)):
        again = network_from_config(net.config())
        assert type(again) is type(net)
        for name, param in net.params.items():
            np.testing.assert_array_equal(again.params[name], param)


def test_simple_conv_net_takes_dropout_after_its_hidden_layer_and_keeps_it_in_its_config():
    net = SimpleConvNet(input_dim=(1, 12, 12), hidden_size=8, dropout=0.3, seed=2)
    names = ["Conv1", "Relu1", "Pool1", "Affine1", "Relu2", "Dropout1", "Affine2"]
    assert list(net.layers.keys()) == names
    assert list(SimpleConvNet(hidden_size=8).layers.keys())[-2:] == ["Relu2", "Affine2"]
    again = network_from_config(net.config())
    assert again.dropout == 0.3 and list(again.layers.keys()) == names
    older = {k: v for k, v in SimpleConvNet(hidden_size=8).config().items() if k != "dropout"}
    assert network_from_config(older).dropout == 0.0  # a file from before the argument
    x = np.random.default_rng(0).random((4, 1, 12, 12))
    with net.frozen():  # same masks for both: the dropout layer's backward is the forward's
        numeric = net.numerical_gradient(x[:2], np.array([1, 2]))
        analytic = net.gradient(x[:2], np.array([1, 2]))
    np.testing.assert_allclose(analytic["W3"], numeric["W3"], rtol=1e-5, atol=1e-8)
    assert net.loss(x, np.arange(4), train=True) != net.loss(x, np.arange(4))


def test_simple_conv_net_learns_real_digits(mnist_10k_inputs):
    x_train, t_train, x_test, t_test = mnist_10k_inputs
    net = SimpleConvNet(
        (1, 28, 28),
        {"filter_num": 8, "filter_size": 5},
        32,
        weight_init_std="he",
        seed=0,
        dtype=np.float32,
    )
    trainer = Trainer(net, Adam(0.003), epochs=2, batch_size=50, log=None, progress=False)
    trainer.fit(x_train[:2000].reshape(-1, 1, 28, 28), t_train[:2000])
    # a chance network is right 10% of the time
    assert net.accuracy(x_test[:500], t_test[:500]) > 0.88


def test_a_batch_too_large_for_the_machine_is_refused_with_its_estimate():
    net = DeepConvNet()
    # conv 2 alone: 16 channels x 28 x 28 outputs and 144 x 784 im2col numbers per image
    assert 16 * 28 * 28 in net.activation_sizes() and 144 * 784 in net.activation_sizes()
    trainer = Trainer(net, epochs=1, batch_size=10**9, log=None, progress=False)
    x = np.broadcast_to(np.zeros(784, np.float32), (10**9, 784))  # no memory behind it
    with pytest.raises(ConfigError, match=r"a batch of 1,000,000,000 samples .* needs about"):
        trainer.fit(x, np.broadcast_to(np.int64(0), (10**9,)))


def test_save_params_and_load_params_as_the_book_calls_them(tmp_path):
    net, other = SimpleConvNet(seed=0), SimpleConvNet(seed=1)
    path = tmp_path / "params.pkl"  # the book's name; the file is no pickle
    net.save_params(path)
    assert path.read_bytes()[:2] == b"PK"  # a zip of .npy arrays and JSON
    other.load_params(path)
    for name in net.params:
        np.testing.assert_array_equal(other.params[name], net.params[name])
    with pytest.raises(ModelFileError, match="not the architecture of DeepConvNet"):
        DeepConvNet().load_params(path)


def test_multiply_adds_counted_by_hand():
    # SimpleConvNet: 30 filters of 5x5 over 24x24 positions (432,000), 4,320 -> 100 (432,000),
    # 100 -> 10 (1,000): 865,000 a sample
    assert SimpleConvNet().multiply_adds(1) == 865_000
    assert SimpleConvNet().multiply_adds(3) == 3 * 865_000
    # DeepConvNet: six 3x3 convolutions (28x28: 1->16, 16->16; 14x14: 16->32, then pad 2 to
    # 16x16: 32->32; 8x8: 32->64, 64->64), then 1,024 -> 50 -> 10
    by_hand = (
        28 * 28 * 16 * 9 * 1
        + 28 * 28 * 16 * 9 * 16
        + 14 * 14 * 32 * 9 * 16
        + 16 * 16 * 32 * 9 * 32
        + 8 * 8 * 64 * 9 * 32
        + 8 * 8 * 64 * 9 * 64
        + 1024 * 50
        + 50 * 10
    )
    assert DeepConvNet().multiply_adds(1) == by_hand == 8_772_340
