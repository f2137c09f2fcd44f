"""What happens inside a network while it trains, kept as histograms for the report.

`TrainingRecorder` is a Trainer callback. Before the first step and after every epoch it runs a
fixed probe batch through the network (in evaluation mode, changing nothing) and keeps, for each
activation layer, a histogram of its outputs and the fraction of units that are *saturated* —
where the activation's slope is below 0.02, so the gradient passing back through them is cut by
50x or more (a sigmoid near 0 or 1, a ReLU at 0). It also keeps a histogram of log10 |gradient|
of every parameter tensor at the first step and at each epoch's last step: gradients that shrink
layer by layer towards the input are the vanishing-gradient problem, made visible.

Everything is kept as plain arrays (`to_arrays`), saved as `stats.npz` in the run folder and
readable with `np.load(..., allow_pickle=False)`:

    epochs                      (E,)          epoch of each record (0: before training)
    probe_size                  ()            images in the probe batch
    activation_names            (A,)   str    e.g. "hidden 1 (ReLU)"
    activation_edges            (A, E, B+1)   histogram bin edges (each record its own range)
    activation_counts           (A, E, B)     probe samples x units in each bin
    activation_mean / _std      (A, E)
    activation_saturated        (A, E)        fraction of units with slope < 0.02
    gradient_names              (G,)   str    parameter names, e.g. "W1"
    gradient_edges              (B+1,)        bins of log10 |g| (the same for every record)
    gradient_counts             (G, E, B)     entries of the tensor in each bin
    gradient_zero               (G, E)        fraction of entries exactly 0 (not in the bins)
    gradient_rms                (G, E)        root mean square of the gradient
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

#: an activation's slope below this cuts the gradient through it by 50x: the unit is saturated
SATURATED_SLOPE = 0.02
BINS = 40
#: bins of log10 |gradient|: from 1e-12 to 10, values outside go to the end bins
GRADIENT_EDGES = np.linspace(-12.0, 1.0, 53)


class TrainingRecorder:
    """A Trainer callback that records activations and gradients per epoch (see module doc).

    Args:
        x_probe: (N, D) inputs run through the network at each record, e.g. 500 training images.
        bins: bins of each activation histogram.
    """

    def __init__(self, x_probe: np.ndarray, bins: int = BINS) -> None:
        self.x_probe = x_probe
        self.bins = int(bins)
        self.epochs: list[int] = []
        self.activations: dict[str, list[tuple[np.ndarray, np.ndarray, float, float, float]]] = {}
        self.gradients: dict[str, list[tuple[np.ndarray, float, float]]] = {}
        self._last_grads: dict[str, np.ndarray] | None = None
        self._start: dict | None = None

    # -- the callback ---------------------------------------------------------------------------

    def on_train_begin(self, trainer) -> None:
        # Epoch 0: activations of the initial weights, gradients of the first step. A resumed
        # run already has its records and goes on from them.
        if not self.epochs:
            self._start = self.measure_activations(trainer.network)

    def on_step_end(self, trainer, step: int, loss: float, grads: dict[str, np.ndarray]) -> None:
        # Kept by reference: an optimizer never changes the gradient arrays it is given.
        self._last_grads = grads
        if self._start is not None:
            self._record(trainer.history.epochs, self._start, grads)
            self._start = None

    def on_epoch_end(self, trainer, epoch: int) -> None:
        self._record(epoch, self.measure_activations(trainer.network), self._last_grads or {})

    def _record(self, epoch: int, activations: dict, grads: dict[str, np.ndarray]) -> None:
        if self.epochs and (
            set(activations) != set(self.activations) or set(grads) != set(self.gradients)
        ):
            return  # the network changed shape; keep the records consistent
        self.epochs.append(int(epoch))
        for name, values in activations.items():
            self.activations.setdefault(name, []).append(values)
        for name, grad in grads.items():
            self.gradients.setdefault(name, []).append(_gradient_histogram(grad))

    # -- recording ------------------------------------------------------------------------------

    def measure_activations(self, network) -> dict[str, tuple]:
        """Per activation layer: (counts, edges, mean, std, saturated fraction) on the probe."""
        layers = getattr(network, "layers", None)
        if layers is None:
            return {}
        x = self.x_probe
        if hasattr(network, "dtype"):
            x = x.astype(network.dtype, copy=False)
        if hasattr(network, "as_input"):
            x = network.as_input(x)
        out: dict[str, tuple] = {}
        hidden = 0
        for layer in layers:
            z = x
            x = layer.forward(z, False)
            function = getattr(layer, "elementwise", None)
            if function is None:
                continue
            hidden += 1
            values = np.asarray(x, dtype=np.float64)
            low, high = float(values.min()), float(values.max())
            if high <= low:
                high = low + 1.0
            counts, edges = np.histogram(values, bins=self.bins, range=(low, high))
            saturated = float(np.mean(np.abs(_slope(function, z)) < SATURATED_SLOPE))
            name = f"hidden {hidden} ({type(layer).__name__})"
            out[name] = (counts, edges, float(values.mean()), float(values.std()), saturated)
        return out

    # -- as arrays ------------------------------------------------------------------------------

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The records as plain arrays (see the module docstring); {} before any record."""
        if not self.epochs:
            return {}
        a_names = list(self.activations)
        g_names = list(self.gradients)
        n, b = len(self.epochs), self.bins
        arrays = {
            "epochs": np.array(self.epochs, dtype=np.int64),
            "probe_size": np.array(len(self.x_probe)),
            "activation_names": np.array(a_names, dtype=str),
            "activation_edges": np.zeros((len(a_names), n, b + 1)),
            "activation_counts": np.zeros((len(a_names), n, b), dtype=np.int64),
            "activation_mean": np.zeros((len(a_names), n)),
            "activation_std": np.zeros((len(a_names), n)),
            "activation_saturated": np.zeros((len(a_names), n)),
            "gradient_names": np.array(g_names, dtype=str),
            "gradient_edges": GRADIENT_EDGES.copy(),
            "gradient_counts": np.zeros((len(g_names), n, len(GRADIENT_EDGES) - 1), np.int64),
            "gradient_zero": np.zeros((len(g_names), n)),
            "gradient_rms": np.zeros((len(g_names), n)),
        }
        for i, name in enumerate(a_names):
            for j, (counts, edges, mean, std, saturated) in enumerate(self.activations[name]):
                arrays["activation_counts"][i, j] = counts
                arrays["activation_edges"][i, j] = edges
                arrays["activation_mean"][i, j] = mean
                arrays["activation_std"][i, j] = std
                arrays["activation_saturated"][i, j] = saturated
        for i, name in enumerate(g_names):
            for j, (counts, zero, rms) in enumerate(self.gradients[name]):
                arrays["gradient_counts"][i, j] = counts
                arrays["gradient_zero"][i, j] = zero
                arrays["gradient_rms"][i, j] = rms
        if not g_names:
            arrays["gradient_names"] = np.zeros(0, dtype="<U1")
        if not a_names:
            arrays["activation_names"] = np.zeros(0, dtype="<U1")
        return arrays

    def load_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        """Continue from records saved by `to_arrays` (a resumed run)."""
        if "epochs" not in arrays:
            return
        self.epochs = [int(e) for e in arrays["epochs"]]
        self.activations = {
            str(name): [
                (
                    arrays["activation_counts"][i, j],
                    arrays["activation_edges"][i, j],
                    float(arrays["activation_mean"][i, j]),
                    float(arrays["activation_std"][i, j]),
                    float(arrays["activation_saturated"][i, j]),
                )
                for j in range(len(self.epochs))
            ]
            for i, name in enumerate(arrays["activation_names"])
        }
        self.gradients = {
            str(name): [
                (
                    arrays["gradient_counts"][i, j],
                    float(arrays["gradient_zero"][i, j]),
                    float(arrays["gradient_rms"][i, j]),
                )
                for j in range(len(self.epochs))
            ]
            for i, name in enumerate(arrays["gradient_names"])
        }

    def save(self, path: str | Path) -> Path | None:
        """Write the records as an npz (no pickles); None when there is nothing to write."""
        arrays = self.to_arrays()
        if not arrays:
            return None
        np.savez_compressed(path, **arrays)
        return Path(path)

    def __repr__(self) -> str:
        return (
            f"TrainingRecorder(probe={len(self.x_probe)}, {len(self.epochs)} records, "
            f"{len(self.activations)} activation layers, {len(self.gradients)} tensors)"
        )


def load_stats(path: str | Path) -> dict[str, np.ndarray]:
    """A `stats.npz` as a dict of arrays (read without unpickling anything)."""
    with np.load(path, allow_pickle=False) as npz:
        return {name: npz[name] for name in npz.files}


def _slope(function, z: np.ndarray, h: float = 1e-3) -> np.ndarray:
    """The activation's slope at each input, by central differences (any elementwise f)."""
    z = np.asarray(z, dtype=np.float64)
    return (function(z + h) - function(z - h)) / (2 * h)


def _gradient_histogram(grad: np.ndarray) -> tuple[np.ndarray, float, float]:
    magnitude = np.abs(np.asarray(grad, dtype=np.float64)).ravel()
    nonzero = magnitude[magnitude > 0]
    logs = np.clip(np.log10(nonzero), GRADIENT_EDGES[0], GRADIENT_EDGES[-1])
    counts, _edges = np.histogram(logs, bins=GRADIENT_EDGES)
    zero = 1.0 - nonzero.size / max(magnitude.size, 1)
    rms = float(np.sqrt(np.mean(magnitude**2))) if magnitude.size else 0.0
    return counts, zero, rms
