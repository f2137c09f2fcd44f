"""Layers, losses, initial weights and the networks built from them."""

from digitlab.nn.functional import log_softmax, sigmoid, softmax, softmax_cross_entropy
from digitlab.nn.layers import Affine, Layer, ReLU, Sigmoid, SoftmaxWithLoss
from digitlab.nn.network import MLP, TwoLayerNet, network_from_config

__all__ = [
    "MLP",
    "Affine",
    "Layer",
    "ReLU",
    "Sigmoid",
    "SoftmaxWithLoss",
    "TwoLayerNet",
    "log_softmax",
    "network_from_config",
    "sigmoid",
    "softmax",
    "softmax_cross_entropy",
]
