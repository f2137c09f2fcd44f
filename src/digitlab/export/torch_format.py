"""A network as a PyTorch nn.Sequential holding the same weights, and the code that builds it."""

from __future__ import annotations

from digitlab.export.steps import inference_steps


def torch_code(network, weights: str | None = None) -> str:
    """Python source of the nn.Sequential that fits `network`: `model = nn.Sequential(...)`,
    one module per line; with `weights` (the path of the state_dict `digitlab export --format
    torch` writes), also the lines that load it."""
    lines = ["import torch", "from torch import nn", "", "model = nn.Sequential("]
    for index, (kind, settings) in enumerate(inference_steps(network)):
        name, args, kwargs = _spec(kind, settings)
        words = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
        lines.append(f"    nn.{name}({', '.join(words)}),  # {index}")
    lines.append(")")
    if weights is not None:
        lines += [f"model.load_state_dict(torch.load({weights!r}, weights_only=True))"]
    lines += ["model.eval()", ""]
    return "\n".join(lines)


def to_torch(network):
    """An nn.Sequential in eval mode computing `network`'s inference pass (inputs as
    `network.predict` takes them, float32; outputs the class probabilities: drop the last
    module for the scores nn.CrossEntropyLoss takes), its weights copied from the network.
    Needs torch."""
    import torch
    from torch import nn

    modules, state = [], {}
    for index, (kind, settings) in enumerate(inference_steps(network)):
        name, args, kwargs = _spec(kind, settings)
        modules.append(getattr(nn, name)(*args, **kwargs))
        for key, array in _weights(kind, settings).items():
            state[f"{index}.{key}"] = torch.from_numpy(array.copy())
    model = nn.Sequential(*modules)
    for key, value in model.state_dict().items():
        state.setdefault(key, value)  # BatchNorm's num_batches_tracked
    model.load_state_dict(state)
    return model.eval()


def _spec(kind: str, settings: dict) -> tuple[str, tuple, dict]:
    """The nn module of one step: (class name, positional arguments, keyword arguments)."""
    if kind == "conv":
        out, channels, h, w = settings["W"].shape
        return (
            "Conv2d",
            (channels, out),
            {"kernel_size": (h, w), "stride": settings["stride"], "padding": settings["pad"]},
        )
    if kind == "pool":
        window = {
            "kernel_size": tuple(settings["size"]),
            "stride": settings["stride"],
            "padding": settings["pad"],
        }
        if settings["mode"] == "max":
            return "MaxPool2d", (), window
        # digitlab's average divides by the whole window, padding included
        return "AvgPool2d", (), {**window, "count_include_pad": True}
    if kind == "affine":
        return "Linear", tuple(settings["W"].shape), {}
    if kind == "batchnorm":
        name = "BatchNorm2d" if settings["images"] else "BatchNorm1d"
        return name, (len(settings["gamma"]),), {"eps": settings["eps"]}
    if kind == "leaky_relu":
        return "LeakyReLU", (settings["slope"],), {}
    if kind == "softmax":
        return "Softmax", (), {"dim": 1}
    names = {"relu": "ReLU", "sigmoid": "Sigmoid", "tanh": "Tanh", "flatten": "Flatten"}
    return names[kind], (), {}


def _weights(kind: str, settings: dict) -> dict:
    """The step's arrays under the nn module's state_dict names."""
    if kind == "conv":
        return {"weight": settings["W"], "bias": settings["b"]}
    if kind == "affine":  # nn.Linear keeps (out, in)
        return {"weight": settings["W"].T, "bias": settings["b"]}
    if kind == "batchnorm":
        return {
            "weight": settings["gamma"],
            "bias": settings["beta"],
            "running_mean": settings["mean"],
            "running_var": settings["var"],
        }
    return {}
