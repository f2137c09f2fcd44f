"""Rebuild any digitlab network from its `config()`: what a model file stores."""

from __future__ import annotations

from digitlab.errors import ConfigError
from digitlab.nn.base import Network
from digitlab.nn.convnet import ConvNet, DeepConvNet, SimpleConvNet
from digitlab.nn.network import MLP

#: the network classes a config may name, by `config()["type"]`
NETWORKS: dict[str, type[Network]] = {
    "MLP": MLP,
    "TwoLayerNet": MLP,  # MLP.from_config builds the TwoLayerNet its config names
    "ConvNet": ConvNet,
    "SimpleConvNet": SimpleConvNet,
    "DeepConvNet": DeepConvNet,
}


def network_from_config(config: dict) -> Network:
    """The network `config` describes (from `network.config()`), with fresh initial weights
    (the same ones where it is seeded). A config without "type" is an MLP's (older files)."""
    kind = config.get("type", "MLP")
    if kind not in NETWORKS:
        raise ConfigError(
            f"a network of type {kind!r} is not known; digitlab builds {', '.join(NETWORKS)}."
        )
    return NETWORKS[kind].from_config(config)
