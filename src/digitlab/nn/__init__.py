"""Layers, losses, initial weights and the networks built from them."""

from digitlab.nn.functional import (
    leaky_relu,
    log_softmax,
    sigmoid,
    softmax,
    softmax_cross_entropy,
)
from digitlab.nn.layers import (
    Affine,
    BatchNorm,
    Dropout,
    Layer,
    LeakyReLU,
    ReLU,
    Sigmoid,
    SoftmaxWithLoss,
    Tanh,
)
from digitlab.nn.network import MLP, TwoLayerNet, network_from_config

__all__ = [
    "MLP",
    "Affine",
    "BatchNorm",
    "Dropout",
    "Layer",
    "LeakyReLU",
    "ReLU",
    "Sigmoid",
    "SoftmaxWithLoss",
    "Tanh",
    "TwoLayerNet",
    "leaky_relu",
    "log_softmax",
    "network_from_config",
    "sigmoid",
    "softmax",
    "softmax_cross_entropy",
]
