"""A network as an ONNX model, built with the onnx package's helpers (opset 17)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from digitlab.atomic import atomic_write
from digitlab.export.steps import inference_steps, input_shape

OPSET = 17
INPUT, OUTPUT = "x", "probabilities"


def to_onnx(network, path: str | Path) -> Path:
    """Write `network`'s inference pass to `path` as ONNX: input "x" as `network.predict`
    takes it ((N, 784) rows for an MLP, (N, C, H, W) images for a conv net; float32 in the
    range it was trained on, pixels / 255 for digitlab's runs), output "probabilities" (N,
    classes). The network's metadata (classes, data set, normalization) goes along as JSON in
    the model's metadata_props. Needs the onnx package (`pip install 'digitlab[export]'`).
    """
    model = onnx_model(network)
    with atomic_write(path, "wb") as file:
        file.write(model.SerializeToString())
    return Path(path)


def onnx_model(network):
    """The checked onnx.ModelProto of `network` (see `to_onnx`)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes, initializers = [], []
    current = INPUT
    steps = inference_steps(network)
    for index, (kind, settings) in enumerate(steps):
        out = OUTPUT if index == len(steps) - 1 else f"{kind}{index}"
        inputs = [current]
        for key in ("W", "b", "gamma", "beta", "mean", "var"):
            if key in settings:
                array = settings[key].T if kind == "affine" and key == "W" else settings[key]
                name = f"{kind}{index}.{key}"
                # Gemm computes x @ B.T with transB=1: W.T keeps B in ONNX's (out, in) order
                initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
                inputs.append(name)
        nodes.append(_node(helper, kind, settings, inputs, out))
        current = out
    shape = ["N", *input_shape(network)[1:]]
    classes = network.output_size
    graph = helper.make_graph(
        nodes,
        "digitlab",
        [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, ["N", classes])],
        initializers,
    )
    model = helper.make_model(
        graph, producer_name="digitlab", opset_imports=[helper.make_opsetid("", OPSET)]
    )
    metadata = getattr(network, "metadata", {}) or {}
    helper.set_model_props(model, {"digitlab": json.dumps(metadata, default=str)})
    onnx.checker.check_model(model)
    return model


def _node(helper, kind: str, settings: dict, inputs: list[str], out: str):
    """The ONNX node of one step (see digitlab.export.steps)."""
    if kind == "conv":
        p, stride = settings["pad"], settings["stride"]
        return helper.make_node("Conv", inputs, [out], pads=[p] * 4, strides=[stride] * 2)
    if kind == "pool":
        p, stride = settings["pad"], settings["stride"]
        window = {"kernel_shape": list(settings["size"]), "pads": [p] * 4, "strides": [stride] * 2}
        if settings["mode"] == "max":  # padding never wins, as digitlab's -inf
            return helper.make_node("MaxPool", inputs, [out], **window)
        # digitlab's average divides by the whole window, padding included
        return helper.make_node("AveragePool", inputs, [out], count_include_pad=1, **window)
    if kind == "affine":  # x @ W + b, with W given as B = W.T
        return helper.make_node("Gemm", inputs, [out], transB=1)
    if kind == "batchnorm":
        return helper.make_node("BatchNormalization", inputs, [out], epsilon=settings["eps"])
    if kind == "leaky_relu":
        return helper.make_node("LeakyRelu", inputs, [out], alpha=settings["slope"])
    if kind == "flatten":
        return helper.make_node("Flatten", inputs, [out], axis=1)
    if kind == "softmax":
        return helper.make_node("Softmax", inputs, [out], axis=1)
    simple = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh"}
    return helper.make_node(simple[kind], inputs, [out])
