"""Fashion-MNIST near the 92.5% bar with a ConvNet of your own design, trained by Trainer.fit.

The book's SimpleConvNet (one convolution of 30 5x5 filters) levels off near 92.2% on
Fashion-MNIST: clothes differ in textures and small parts that one layer of filters does not
separate. Two blocks of 3x3 convolutions (32 then 64 filters, each followed by ReLU and 2x2 max
pooling) and a hidden layer of 128 with dropout, trained on the images and their mirror images
(a shirt seen in a mirror is still a shirt), reach about 92.6% in 15 epochs.

    python examples/fashion_convnet.py --seed 0     # Debian's copy of the data, or a download
    python examples/fashion_convnet.py --data PATH --epochs 15 --out runs/fashion

One epoch takes about two minutes on one core of a 2-core test machine.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from digitlab import ConvNet, Trainer, save
from digitlab.datasets import Augment, load_mnist
from digitlab.train.optimizers import Adam
from digitlab.train.schedules import Cosine

#: the layers before the output layer (an affine layer of one unit per class, added below)
DESIGN = [
    {"type": "conv", "filters": 32, "size": 3, "pad": 1},
    {"type": "relu"},
    {"type": "pool", "size": 2, "stride": 2},
    {"type": "conv", "filters": 64, "size": 3, "pad": 1},
    {"type": "relu"},
    {"type": "pool", "size": 2, "stride": 2},
    {"type": "affine", "units": 128},
    {"type": "relu"},
    {"type": "dropout", "p": 0.3},
]


def train(
    x_train, t_train, x_test, t_test, *, seed: int = 0, epochs: int = 15, mirror=True, **options
):
    """The ConvNet of DESIGN trained on images x: (N, 1, H, W) float, labels t: (N,) int;
    returns (network, history). mirror: half of each batch flipped left to right (for clothes;
    not for digits). `options` go to the Trainer (log=, progress=)."""
    classes = int(t_train.max()) + 1
    design = [*DESIGN, {"type": "affine", "units": classes}]
    net = ConvNet(x_train.shape[1:], design, seed=seed, dtype="float32")
    trainer = Trainer(
        net,
        Adam(0.001),
        epochs=epochs,
        batch_size=100,
        seed=seed,
        schedule=Cosine(epochs),
        augment=Augment(max_shift=0, max_degrees=0, mirror=True) if mirror else None,
        **options,
    )
    return net, trainer.fit(x_train, t_train, x_test, t_test)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="fashion-mnist", help="a data set name or folder")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--out", help="a folder for the model (model.npz) and history.json")
    args = parser.parse_args()

    (x_train, t_train), (x_test, t_test) = load_mnist(flatten=False, dataset=args.data)
    net, history = train(
        x_train, t_train, x_test, t_test, seed=args.seed, epochs=args.epochs, log=print
    )
    print(f"test accuracy {history.test_acc[-1]:.2%}")
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        save(net, out / "model.npz", dataset=args.data, accuracy={"test": history.test_acc[-1]})
        history.save(out / "history.json")


if __name__ == "__main__":
    main()
