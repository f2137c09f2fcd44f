"""A network's inference pass as a list of plain steps, the one description every exporter
translates: what each digitlab layer computes, said once.

A step is a (kind, settings) pair: ("conv", {W, b, stride, pad}), ("pool", {mode, size
(h, w), stride, pad}), ("flatten", {}), ("affine", {W, b}) with W (D_in, D_out),
("batchnorm", {gamma, beta, mean, var, eps, images: True on (N, C, H, W)}), ("relu",
{}), ("sigmoid", {}), ("tanh", {}), ("leaky_relu", {slope}), and last ("softmax", {}).
Dropout is left out (inference); a Flatten is put where an affine layer meets images
(digitlab's Affine flattens them itself). Arrays are float32.
"""

from __future__ import annotations

import numpy as np

from digitlab.errors import ConfigError
from digitlab.nn.conv import Convolution, Flatten, Pooling
from digitlab.nn.layers import Affine, BatchNorm, Dropout, LeakyReLU, ReLU, Sigmoid, Tanh

Step = tuple[str, dict]

_ACTIVATIONS = {ReLU: "relu", Sigmoid: "sigmoid", Tanh: "tanh"}


def inference_steps(network) -> list[Step]:
    """The steps of `network` (an MLP, TwoLayerNet or ConvNet) with float32 arrays, ending in
    softmax. Raises ConfigError, naming the layer, for a layer no format here can express."""
    steps: list[Step] = []
    images = len(input_shape(network)) == 4
    for name, layer in network.layers.items():
        if isinstance(layer, Convolution):
            W, b = (np.asarray(a, np.float32) for a in (layer.W, layer.b))
            steps.append(("conv", {"W": W, "b": b, "stride": layer.stride, "pad": layer.pad}))
        elif isinstance(layer, Pooling):
            size = (layer.pool_h, layer.pool_w)
            steps.append(
                (
                    "pool",
                    {"mode": layer.mode, "size": size, "stride": layer.stride, "pad": layer.pad},
                )
            )
        elif isinstance(layer, Flatten):
            steps.append(("flatten", {}))
            images = False
        elif isinstance(layer, Affine):
            if images:
                steps.append(("flatten", {}))
                images = False
            W, b = (np.asarray(a, np.float32) for a in (layer.W, layer.b))
            steps.append(("affine", {"W": W, "b": b}))
        elif isinstance(layer, BatchNorm):
            gamma, beta = (np.asarray(layer.params[n], np.float32) for n in layer.param_names)
            mean, var = (np.asarray(layer.state[n], np.float32) for n in layer.state_names)
            steps.append(
                (
                    "batchnorm",
                    {
                        "gamma": gamma,
                        "beta": beta,
                        "mean": mean,
                        "var": var,
                        "eps": layer.eps,
                        "images": images,
                    },
                )
            )
        elif isinstance(layer, LeakyReLU):
            steps.append(("leaky_relu", {"slope": layer.negative_slope}))
        elif type(layer) in _ACTIVATIONS:
            steps.append((_ACTIVATIONS[type(layer)], {}))
        elif not isinstance(layer, Dropout):
            raise ConfigError(
                f"layer {name} ({layer!r}) has no counterpart in the export formats; export a "
                "network made of digitlab's own layers."
            )
    steps.append(("softmax", {}))
    return steps


def input_shape(network) -> tuple:
    """The shape of the input the network's predict takes, with None for the batch: (None,
    784) for an MLP, (None, C, H, W) for a ConvNet."""
    if hasattr(network, "input_dim"):
        return (None, *network.input_dim)
    return (None, network.input_size)
