"""Read a digit with a network: preprocess a picture as MNIST was, then classify it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from digitlab.display import Displayed
from digitlab.errors import ModelFileError, NoDigitError
from digitlab.i18n import N_, _, translate
from digitlab.imaging.digit_check import not_a_digit
from digitlab.imaging.mnist_style import SIDE, Preprocessed, preprocess
from digitlab.modelfile import load, load_default

#: below this probability for its most probable class, a reading is a guess (`Prediction.unsure`)
UNSURE_BELOW = 0.6


@dataclass
class Prediction(Displayed):
    """What the network read.

    probabilities: (C,) float, one per class, summing to 1; classes: the class names;
    input: (28, 28) float in [0, 1], exactly what the network saw; steps: the preprocessing
    on the way (see `Preprocessed`). digit: False when the picture holds no digit the network
    can read; `reason` then says why ("a filled shape ..."), and `label` and `probabilities`
    are no answer: what the network would have said (uniform when there was no ink to show it).
    """

    probabilities: np.ndarray
    classes: list[str]
    input: np.ndarray
    steps: Preprocessed | None = None
    digit: bool = True
    reason: str | None = None

    @property
    def label(self) -> str:
        """The most probable class."""
        return self.classes[int(np.argmax(self.probabilities))]

    @property
    def confidence(self) -> float:
        return float(np.max(self.probabilities))

    @property
    def unsure(self) -> bool:
        """A digit read, but with its most probable class below UNSURE_BELOW: an answer to be
        shown as a guess (the next classes beside it), not as a reading."""
        return self.digit and self.confidence < UNSURE_BELOW

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        printer.text(prediction_text(self))

    def top(self, k: int = 3) -> list[tuple[str, float]]:
        """The k most probable classes with their probabilities, most probable first."""
        order = np.argsort(-self.probabilities, kind="stable")[:k]
        return [(self.classes[i], float(self.probabilities[i])) for i in order]

    def __repr__(self) -> str:
        if not self.digit:
            return f"Prediction(no digit: {self.reason})"
        best = ", ".join(f"{label} {p:.1%}" for label, p in self.top())
        return f"Prediction({best})"


def predict(model, image, *, name: str | None = None, drawn: bool = False) -> Prediction:
    """Read the digit in `image` with `model`.

    model: a network (e.g. from `digitlab.load`), a path to a model file, or None for the
    model that ships with digitlab. image: a path to a picture (PNG, JPEG, BMP, ...), a PIL
    image, or an array (H, W[, 3|4]), of any size and polarity; see `preprocess`.
    A picture that holds no digit (blank, specks, a dot, a line, a letter, noise; see
    `digit_check`) is answered with `digit=False` and its `reason`, not with a digit.
    Raises ImageError for a picture that cannot be read, ModelFileError for a model that cannot
    be loaded or does not take 28x28 images.
    """
    network = resolve_model(model)
    classes = class_names(network)
    try:
        steps = preprocess(image, name=name, drawn=drawn)
    except NoDigitError as exc:
        return Prediction(
            probabilities=np.full(len(classes), 1 / len(classes)),
            classes=classes,
            input=np.zeros((SIDE, SIDE)),
            digit=False,
            reason=exc.reason,
        )
    reason = not_a_digit(steps.image)
    reason = None if reason is None else _(reason)
    return Prediction(
        probabilities=classify(network, steps.image),
        classes=classes,
        input=steps.image,
        steps=steps,
        digit=reason is None,
        reason=reason,
    )


def classify(network, pixels: np.ndarray) -> np.ndarray:
    """Class probabilities (C,) for one preprocessed digit, pixels (28, 28) in [0, 1],
    normalized as the model's metadata says its training inputs were."""
    x, _scale = network_input(network, pixels)
    return np.asarray(network.predict(x), dtype=np.float64)[0]


def saliency(network, pixels: np.ndarray) -> np.ndarray:
    """For one preprocessed digit, pixels (28, 28) in [0, 1]: the gradient of each class's
    score with respect to those pixels, (C, 28, 28) float64, by the network's own backward pass
    (`score_gradients`), through the model's input normalization. Positive where more ink
    would make the class more likely, negative where it would make it less likely."""
    x, scale = network_input(network, pixels)
    gradients = network.score_gradients(x).reshape(-1, SIDE * SIDE).astype(np.float64)
    return (gradients * scale).reshape(-1, SIDE, SIDE)


def network_input(network, pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The (1, 784) input of `network` for pixels (28, 28), in its dtype, normalized as the
    model's metadata says its training inputs were, and d input / d pixel (784,): ones, or
    1/std where it normalizes by a mean and std. Every reading of a digit goes through it."""
    x = pixels.reshape(1, SIDE * SIDE)
    normalization = getattr(network, "metadata", {}).get("normalization") or {}
    mean, std = normalization.get("mean"), normalization.get("std")
    scale = np.ones(SIDE * SIDE)
    if mean is not None and std is not None:
        x = (x - np.asarray(mean)) / np.asarray(std)
        scale = scale / np.asarray(std, dtype=np.float64)
    dtype = getattr(network, "dtype", np.float64)
    return x.astype(dtype), scale


def class_names(network) -> list[str]:
    classes = getattr(network, "metadata", {}).get("classes")
    outputs = getattr(network, "output_size", 10)
    return [str(c) for c in classes] if classes else [str(i) for i in range(outputs)]


def resolve_model(model):
    """A network from a network, a model file's path, or None (the shipped default)."""
    if model is None:
        network = load_default()
    elif isinstance(model, (str, os.PathLike)):
        network = load(Path(model))
    else:
        network = model
    inputs = getattr(network, "input_size", SIDE * SIDE)
    if inputs != SIDE * SIDE:
        raise ModelFileError(
            _(
                "the model {model} takes {inputs} inputs, but a digit picture becomes 28x28 = "
                "784; use a model trained on 28x28 images"
            ).format(model=network, inputs=inputs)
        )
    return network


def prediction_text(prediction) -> str:
    """The answer in one line: the three most probable classes, or why there is no digit."""
    if not prediction.digit:
        return translate(N_("no digit found ({reason})")).format(reason=prediction.reason)
    return "  ".join(f"{label} {p:6.1%}" for label, p in prediction.top(3))
