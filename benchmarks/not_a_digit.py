"""How often `predict` refuses: real MNIST test digits (false refusals) and each kind of
picture that holds no digit (dots, blobs, filled squares, lines, letters, noise, frames), and
each letter on its own (200 of each).

    python benchmarks/not_a_digit.py [--digits 10000] [--per-kind 1000]

Prints a table and writes benchmarks/results/not_a_digit.json. The refusals of real digits must
stay below 1%; the README quotes the numbers.
"""

from __future__ import annotations

import argparse
import json
import platform
from collections import Counter
from pathlib import Path

from digitlab import modelfile
from digitlab.datasets import load_dataset
from digitlab.imaging import predict
from digitlab.imaging.non_digits import KINDS, LETTERS, non_digits

ROOT = Path(__file__).resolve().parents[1]


def refusals(network, pictures) -> dict:
    """Share of `pictures` refused, and how many for each reason."""
    answers = [predict(network, picture) for picture in pictures]
    reasons = Counter(answer.reason for answer in answers if not answer.digit)
    return {
        "pictures": len(answers),
        "refused": sum(reasons.values()) / len(answers),
        "reasons": dict(reasons.most_common()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--digits", type=int, default=10_000, help="MNIST test digits to read")
    parser.add_argument("--per-kind", type=int, default=1000, help="pictures of each kind")
    parser.add_argument("--json", default=str(ROOT / "benchmarks/results/not_a_digit.json"))
    args = parser.parse_args()

    network = modelfile.load_default()
    digits = load_dataset("mnist-10k").x_test[: args.digits]
    rows = {"MNIST test digits (false refusals)": refusals(network, digits)}
    # seed 1: other pictures than the tests' (seed 7)
    for kind in KINDS:
        rows[kind] = refusals(network, non_digits(kind, args.per_kind, seed=1))
    for name in LETTERS:
        rows[f"letter {name}"] = refusals(network, non_digits(f"letter {name}", 200, seed=1))

    print(f"{'pictures':<36} {'n':>6} {'refused':>8}  most common reason")
    for name, row in rows.items():
        reason = next(iter(row["reasons"]), "")
        print(f"{name:<36} {row['pictures']:>6} {row['refused']:>8.2%}  {reason}")
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    record = {"machine": platform.platform(), "python": platform.python_version(), "rows": rows}
    out.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
