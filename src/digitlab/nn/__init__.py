"""Layers, losses, initial weights and the networks built from them."""

from digitlab.nn.build import network_from_config
from digitlab.nn.conv import Convolution, Flatten, Pooling, col2im, im2col
from digitlab.nn.convnet import ConvNet, DeepConvNet, SimpleConvNet
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
from digitlab.nn.network import MLP, TwoLayerNet

__all__ = [
    "MLP",
    "Affine",
    "BatchNorm",
    "ConvNet",
    "Convolution",
    "DeepConvNet",
    "Dropout",
    "Flatten",
    "Layer",
    "LeakyReLU",
    "Pooling",
    "ReLU",
    "Sigmoid",
    "SimpleConvNet",
    "SoftmaxWithLoss",
    "Tanh",
    "TwoLayerNet",
    "col2im",
    "im2col",
    "leaky_relu",
    "log_softmax",
    "network_from_config",
    "sigmoid",
    "softmax",
    "softmax_cross_entropy",
]
