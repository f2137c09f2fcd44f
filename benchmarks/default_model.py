"""Which model reads real handwriting best: candidate model files measured side by side on the
MNIST test set, on MNIST test digits shown as photos and scans show them, and on digits from
writers outside MNIST.

    python benchmarks/default_model.py MODEL.npz [MODEL.npz ...] [--photos 500]

With no MODEL, the model that ships with digitlab. Three measures per model:

* mnist: the 10,000 official test images, as they are (the network's own inputs);
* photos and scans: `--photos` test digits (seeded), each shown every way of
  digitlab.imaging.photo_like (inverted, off-centre on a large canvas, scaled up, thicker
  strokes, uneven light, coloured paper, JPEG) and as a phone photo with all of them at once,
  read through `digitlab.predict` (the preprocessing `digitlab predict` and the draw page use);
* other writers: the 1,797 digits of the UCI optical-recognition set as scikit-learn ships it
  (`load_digits`: 8x8 images by 43 writers, none of whom wrote MNIST), put in MNIST's form as
  MNIST put its own (a 20x20 box centred by mass in 28x28) and given to the network.

Prints a table and writes benchmarks/results/default_model.json.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from PIL import Image

from digitlab import load as load_model
from digitlab import modelfile
from digitlab.datasets import load_dataset
from digitlab.imaging import predict
from digitlab.imaging.photo_like import TRANSFORMS, phone_photo
from epoch_speed import write_report

ROOT = Path(__file__).resolve().parents[1]


def read_all(network, pictures) -> np.ndarray:
    """The digit `digitlab.predict` reads in each picture (-1 where it finds none)."""
    labels = []
    for picture in pictures:
        answer = predict(network, picture)
        labels.append(int(answer.label) if answer.digit else -1)
    return np.array(labels)


WAYS = (*TRANSFORMS, phone_photo)


def photos_and_scans(count: int) -> tuple[list, np.ndarray, np.ndarray]:
    """`count` test digits shown every way: (pictures, labels, which way (index into WAYS))."""
    data = load_dataset("mnist-10k", progress=False)
    rng = np.random.default_rng(0)
    chosen = rng.choice(len(data.t_test), size=count, replace=False)
    pictures, labels, ways = [], [], []
    for k, transform in enumerate(WAYS):
        pictures += [transform(digit, rng) for digit in data.x_test[chosen]]
        labels += list(data.t_test[chosen])
        ways += [k] * count
    return pictures, np.array(labels), np.array(ways)


def other_writers() -> tuple[np.ndarray, np.ndarray]:
    """UCI's digits as MNIST made its own: each 8x8 image (ink 0-16) enlarged into a 20x20 box
    (Lanczos), placed in a 28x28 field with its centre of mass at the centre. (Through
    `predict`'s preprocessing they would not pass: 8x8 blocks enlarged are blurs, not strokes.)"""
    from sklearn.datasets import load_digits

    digits = load_digits()
    inputs = np.zeros((len(digits.images), 28, 28), dtype=np.float32)
    rows, cols = np.mgrid[0:28, 0:28]
    for k, image in enumerate(digits.images):
        small = Image.fromarray(np.round(image * (255 / 16)).astype(np.uint8))
        box = np.asarray(small.resize((20, 20), Image.Resampling.LANCZOS), np.float32) / 255
        field = np.zeros((28, 28), np.float32)
        field[4:24, 4:24] = box
        mass = field.sum()
        centre = ((rows * field).sum() / mass, (cols * field).sum() / mass)
        inputs[k] = np.roll(field, (round(13.5 - centre[0]), round(13.5 - centre[1])), axis=(0, 1))
    return inputs.reshape(len(inputs), -1), digits.target


def measure(path: str | None, photos, writers) -> dict:
    network = load_model(path) if path else modelfile.load_default()
    data = load_dataset("mnist-10k", progress=False)
    x_test = data.x_test.reshape(len(data.x_test), -1).astype(np.float32) / 255
    start = time.perf_counter()
    row = {
        "model": path or "shipped default",
        "network": repr(network),
        "mnist": network.accuracy(x_test, data.t_test.astype(np.intp)),
    }
    right = read_all(network, photos[0]) == photos[1]
    row["photos"] = float(np.mean(right))
    row["photos_by_way"] = {
        way.__name__: float(np.mean(right[photos[2] == k])) for k, way in enumerate(WAYS)
    }
    row["writers"] = network.accuracy(*writers)
    row["seconds"] = time.perf_counter() - start
    row["handwriting"] = (row["photos"] + row["writers"]) / 2
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", help="model files (default: the shipped model)")
    parser.add_argument("--photos", type=int, default=500, help="test digits shown as photos")
    parser.add_argument(
        "--json", default=str(ROOT / "benchmarks" / "results" / "default_model.json")
    )
    args = parser.parse_args()
    photos, writers = photos_and_scans(args.photos), other_writers()
    rows = [measure(path, photos, writers) for path in args.models or [None]]
    print(
        f"{'model':58} {'MNIST test':>10} {'photos/scans':>12} {'UCI writers':>11} "
        f"{'mean of both':>12}"
    )
    for row in rows:
        print(
            f"{row['model'][-58:]:58} {row['mnist']:10.2%} {row['photos']:12.2%} "
            f"{row['writers']:11.2%} {row['handwriting']:12.2%}"
        )
    print("photos/scans, way by way: " + ", ".join(way.__name__ for way in WAYS))
    for row in rows:
        ways = " ".join(f"{row['photos_by_way'][way.__name__]:.1%}" for way in WAYS)
        print(f"  {row['model'][-40:]:40} {ways}")
    print(
        f"photos/scans: {len(photos[1])} pictures ({args.photos} test digits x "
        f"{len(TRANSFORMS) + 1} ways) read through digitlab.predict (a refusal counts as "
        f"wrong); UCI writers: {len(writers[1])} digits in MNIST's form"
    )
    report = {
        "benchmark": "default_model",
        "photos": {"digits": args.photos, "ways": len(TRANSFORMS) + 1},
        "writers": len(writers[1]),
        "results": rows,
    }
    write_report(args.json, report)


if __name__ == "__main__":
    main()
