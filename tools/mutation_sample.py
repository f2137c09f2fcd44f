"""A seeded random sample of mutmut's mutants, for a score where running them all takes days:

    python tools/mutation_sample.py > sample.txt        # after `mutmut run` has generated them
    OMP_NUM_THREADS=1 mutmut run --max-children 2 $(cat sample.txt)
    python tools/mutation_report.py

Each group (doctor/; the nn/ modules of the conv nets; the rest of nn/ with gradients/) is
sampled on its own, from its mutants in a fixed order (files sorted, names sorted within a
file), so that the same seed and sizes name the same mutants on any machine with the same
source (a change to a mutated module changes its mutants, and so the sample).
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

MUTANTS = Path(__file__).resolve().parents[1] / "mutants" / "src" / "digitlab"
#: group name -> (the files' paths under digitlab/ it takes, how many mutants to draw)
GROUPS = {
    "doctor": (("doctor/",), 150),
    "conv": (("nn/conv.py", "nn/convnet.py", "nn/init.py", "nn/build.py", "nn/summary.py"), 60),
    "core": (
        (
            "nn/base.py",
            "nn/finite_differences.py",
            "nn/functional.py",
            "nn/layers.py",
            "nn/network.py",
            "nn/numerical.py",
            "gradients/",
        ),
        100,
    ),
}


def mutant_names(prefixes: tuple[str, ...]) -> list[str]:
    """Every mutant of the files under `prefixes`, files sorted, names sorted in a file."""
    names = []
    for meta in sorted(MUTANTS.rglob("*.py.meta")):
        relative = meta.relative_to(MUTANTS).as_posix()
        if relative.startswith(prefixes):
            names += sorted(json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"])
    return names


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--only",
        choices=GROUPS,
        nargs="+",
        default=list(GROUPS),
        help="the groups to print "
        "(every group is still drawn, in order, so that each one's sample stays the same)",
    )
    args = parser.parse_args()
    if not MUTANTS.is_dir():
        raise SystemExit(f"no {MUTANTS}: run `mutmut run` once to generate the mutants")
    rng = random.Random(args.seed)
    pools = {group: mutant_names(prefixes) for group, (prefixes, _) in GROUPS.items()}
    for group, (_, size) in GROUPS.items():
        drawn = rng.sample(pools[group], min(size, len(pools[group])))
        if group in args.only:
            print("\n".join(drawn))


if __name__ == "__main__":
    main()
