"""Every optimizer against PyTorch's: the same network, weights and MNIST batches, two steps.

Skipped where PyTorch is not installed (it is in the `test` extra on x86-64 Linux, Python 3.11).
The issue asks for agreement to 1e-6. In float64 the two agree to about 1e-15, except AdaGrad at
about 1e-11: its first step divides each gradient by its own size, so the last-bit differences of
the two backward passes in gradients near zero grow to that. We check 1e-10, far below what a
different rule gives (the book's Adam, with eps beside the uncorrected √v, differs by 1e-4 here).
"""

import copy

import numpy as np
import pytest

from digitlab import TwoLayerNet
from digitlab.train import SGD, AdaGrad, Adam, AdamW, Momentum, Nesterov, RMSprop

torch = pytest.importorskip(
    "torch", reason="PyTorch is not installed; `pip install '.[test]'` on x86-64 Python 3.11"
)

# (digitlab optimizer, torch.optim class name, its keyword arguments)
CASES = [
    (SGD(0.1), "SGD", {"lr": 0.1}),
    (SGD(0.1, weight_decay=0.01), "SGD", {"lr": 0.1, "weight_decay": 0.01}),
    (Momentum(0.1, momentum=0.9), "SGD", {"lr": 0.1, "momentum": 0.9}),
    (
        Momentum(0.1, momentum=0.9, weight_decay=0.01, decay_biases=True),
        "SGD",
        {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01},
    ),
    (Nesterov(0.1, momentum=0.9), "SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    (
        Nesterov(0.1, momentum=0.9, weight_decay=0.01),
        "SGD",
        {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01},
    ),
    (AdaGrad(0.05), "Adagrad", {"lr": 0.05, "eps": 1e-10}),
    (AdaGrad(0.05, weight_decay=0.01), "Adagrad", {"lr": 0.05, "eps": 1e-10, "weight_decay": 0.01}),
    (RMSprop(0.01), "RMSprop", {"lr": 0.01, "alpha": 0.99, "eps": 1e-8}),
    (
        RMSprop(0.01, weight_decay=0.01),
        "RMSprop",
        {"lr": 0.01, "alpha": 0.99, "eps": 1e-8, "weight_decay": 0.01},
    ),
    (Adam(1e-3), "Adam", {"lr": 1e-3}),
    (Adam(1e-3, weight_decay=0.01), "Adam", {"lr": 1e-3, "weight_decay": 0.01}),
    (
        Adam(1e-3, weight_decay=0.01, decay_biases=True),
        "Adam",
        {"lr": 1e-3, "weight_decay": 0.01},
    ),
    (AdamW(1e-3, weight_decay=0.1), "AdamW", {"lr": 1e-3, "weight_decay": 0.1}),
    (
        AdamW(1e-3, weight_decay=0.1, decay_biases=True),
        "AdamW",
        {"lr": 1e-3, "weight_decay": 0.1},
    ),
]


def torch_twin(net: TwoLayerNet):
    """784-H-10 in torch with net's weights; torch's Linear stores W transposed, (out, in)."""
    fc1, fc2 = torch.nn.Linear(784, net.sizes[1]), torch.nn.Linear(net.sizes[1], 10)
    model = torch.nn.Sequential(fc1, torch.nn.ReLU(), fc2).double()
    with torch.no_grad():
        for layer, i in ((fc1, 1), (fc2, 2)):
            layer.weight.copy_(torch.from_numpy(net.params[f"W{i}"].T))
            layer.bias.copy_(torch.from_numpy(net.params[f"b{i}"]))
    return model, {"W1": fc1.weight, "b1": fc1.bias, "W2": fc2.weight, "b2": fc2.bias}


def param_groups(torch_params, optimizer, kwargs):
    """What digitlab decays, said to torch: every parameter, or the weights alone."""
    if not kwargs.get("weight_decay") or optimizer.decay_biases:
        return list(torch_params.values())
    weights = [p for name, p in torch_params.items() if name.startswith("W")]
    biases = [p for name, p in torch_params.items() if name.startswith("b")]
    return [{"params": weights}, {"params": biases, "weight_decay": 0.0}]


@pytest.mark.parametrize(
    ("optimizer", "torch_name", "kwargs"), CASES, ids=[repr(c[0]) for c in CASES]
)
def test_two_steps_give_torchs_parameters(mnist_10k_inputs, optimizer, torch_name, kwargs):
    x_all, t_all = mnist_10k_inputs[0], mnist_10k_inputs[1]
    # a fresh copy: the parametrized instance keeps its velocities and moments between runs
    optimizer = copy.deepcopy(optimizer)
    net = TwoLayerNet(784, 50, 10, weight_init_std="he", seed=0)  # float64
    model, torch_params = torch_twin(net)
    torch_optimizer = getattr(torch.optim, torch_name)(
        param_groups(torch_params, optimizer, kwargs), **kwargs
    )
    for batch in (slice(0, 100), slice(100, 200)):
        x, t = x_all[batch].astype(np.float64), t_all[batch]
        optimizer.update(net.params, net.gradient(x, t))

        torch_optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(torch.from_numpy(x)), torch.from_numpy(t))
        loss.backward()
        torch_optimizer.step()

    for name, param in net.params.items():
        theirs = torch_params[name].detach().numpy()
        theirs = theirs.T if name.startswith("W") else theirs
        assert np.max(np.abs(param - theirs)) < 1e-10, name
