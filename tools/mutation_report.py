"""What a `mutmut run` left alive, sorted into kinds: python tools/mutation_report.py [--all]

mutmut (configured in pyproject.toml) writes each mutated module under mutants/ beside a .meta
file with every mutant's exit code: 1 killed (a test failed), 0 survived, 33 no test reaches it,
36 or -24 timed out, None not run yet. This prints the score and the survivors by kind, each as
the line it changes, so that every survivor is either killed by a new test or named here with
its reason:

    wording   only the text of a message changed (XX added, case changed) in a string with
              spaces or placeholders that nothing compares or looks up: the tests check what a
              message says by its key phrases and placeholders, not word by word
    strict    zip(..., strict=True) made lenient: the lengths always agree, strict only turns a
              future mistake into an error
    reshape   reshape(-1) made reshape(-2): NumPy reads any negative size as "the rest"
    default   a default value in a signature changed where every caller passes the argument
              (forward's train=, backward's input_grad=, im2col's stride=)
    placeholder
              an attribute's initial None made "" in __init__: forward sets it before any use
    other     anything else: a gap in the tests, or a mutant that cannot change a result (the
              README's "Mutation testing" section names these)

--all lists the wording survivors too (by default, a count per module).
"""

from __future__ import annotations

import argparse
import ast
import difflib
import io
import json
import re
import tokenize
from collections import Counter, defaultdict
from pathlib import Path

MUTANTS = Path(__file__).resolve().parents[1] / "mutants" / "src"
KILLED, SURVIVED, NO_TESTS = 1, 0, 33
#: timed out: mutmut's own code, and SIGXCPU from the CPU-time limit it sets on a mutant
TIMEOUTS = (36, -24)
KINDS = ("wording", "strict", "reshape", "default", "placeholder", "other")


def mutant_functions(source: str) -> dict[str, list[str]]:
    """The lines of each function mutmut wrote (`NAME__mutmut_orig`, `NAME__mutmut_3`, ...)."""
    lines = source.splitlines()
    return {
        node.name: lines[node.lineno - 1 : node.end_lineno]
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and "__mutmut_" in node.name
    }


def changed_lines(original: list[str], mutant: list[str]) -> tuple[list[str], list[str]]:
    """(lines removed, lines added), the function's names left out of the def lines."""
    if not original or not mutant:
        return [], []
    original = [original[0].replace("__mutmut_orig", ""), *original[1:]]
    mutant = [re.sub(r"__mutmut_\d+", "", mutant[0]), *mutant[1:]]
    removed, added = [], []
    for line in difflib.unified_diff(original, mutant, lineterm="", n=0):
        if line.startswith(("---", "+++", "@@")):
            continue
        (removed if line.startswith("-") else added).append(line[1:].strip())
    return removed, added


def tokens_of(lines: list[str]) -> list[tuple[int, str]]:
    """The (type, text) tokens of `lines`, line breaks and comments left out."""
    try:
        tokens = tokenize.generate_tokens(io.StringIO("\n".join(lines) + "\n").readline)
        return [
            (token.type, token.string)
            for token in tokens
            if token.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT)
        ]
    except (tokenize.TokenError, SyntaxError):  # a line cut from a longer statement
        return [(tokenize.ERRORTOKEN, line) for line in ["<unparsed>", *lines]]


#: tokens beside a string that make it a value the code acts on, not words shown to a person
COMPARED = {"==", "!=", "in", "[", "not"}


def only_words_changed(removed: list[str], added: list[str]) -> bool:
    """True where the lines differ only in the text of prose strings (with spaces or
    placeholders) that are not compared, looked up or used as keys: `kind == "f"` made "F",
    or `hasattr(x, "dtype")` made "XXdtypeXX", changes what the code does; a message does not."""
    before, after = tokens_of(removed), tokens_of(added)
    if not removed or len(before) != len(after):
        return False
    for i, ((kind, text), (_, new_text)) in enumerate(zip(before, after, strict=True)):
        if text == new_text:
            continue
        if kind != tokenize.STRING or not re.search(r"\s|\{", text):
            return False  # a word without spaces is a name the code may look up
        neighbours = {before[j][1] for j in (i - 1, i + 1) if 0 <= j < len(before)}
        if neighbours & COMPARED:
            return False
    return True


def kind_of(removed: list[str], added: list[str]) -> str:
    if only_words_changed(removed, added):
        return "wording"
    before, after = " ".join(removed), " ".join(added)
    unstrict = re.compile(r"strict=\w+|\s")  # the argument, and the spaces around it
    if "strict=True" in before and unstrict.sub("", before) == unstrict.sub("", after):
        return "strict"
    if before.replace("-1", "-2") == after:
        return "reshape"
    if before.lstrip().startswith("def ") and after.lstrip().startswith("def "):
        return "default"
    if re.fullmatch(r"self\.\w+(: [^=]+)? = None", before) and after.endswith('= ""'):
        return "placeholder"
    return "other"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all", action="store_true", help="list the wording survivors too")
    args = parser.parse_args()
    if not MUTANTS.is_dir():
        raise SystemExit(f"no {MUTANTS}: run `mutmut run` first (see the README)")
    counts: Counter = Counter()
    per_module: dict[str, Counter] = defaultdict(Counter)
    survivors: dict[str, list[str]] = defaultdict(list)
    for meta in sorted(MUTANTS.rglob("*.py.meta")):
        codes = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
        module = ".".join(meta.relative_to(MUTANTS).with_suffix("").with_suffix("").parts)
        functions = None
        for key, code in codes.items():
            counts[code] += 1
            per_module[module][code] += 1
            if code != SURVIVED:
                continue
            functions = functions or mutant_functions(meta.with_suffix("").read_text("utf-8"))
            name = key.rsplit(".", 1)[1]
            original = functions.get(name.rsplit("__mutmut_", 1)[0] + "__mutmut_orig", [])
            removed, added = changed_lines(original, functions.get(name, []))
            kind = kind_of(removed, added)
            shown = key.replace("\u01c1", ".").replace(".x.", ".").replace(".x_", ".")
            change = f"    - {' / '.join(removed)}\n    + {' / '.join(added)}"
            survivors[kind].append(f"{shown}\n{change}")
            per_module[module][kind] += 1
    timed_out = sum(counts[code] for code in TIMEOUTS)
    judged = counts[KILLED] + counts[SURVIVED] + timed_out
    print(
        f"{sum(counts.values())} mutants: {counts[KILLED]} killed, {timed_out} timed out, "
        f"{counts[SURVIVED]} survived, {counts[NO_TESTS]} reached by no test, "
        f"{counts[None]} not run"
    )
    if judged:
        score = (counts[KILLED] + timed_out) / judged
        print(f"score (killed or timed out, of those a test reaches): {score:.1%}")
    print()
    print(f"{'module':40s} {'killed':>7s} {'survived':>9s}  survivors by kind")
    for module, c in sorted(per_module.items()):
        kinds_seen = ", ".join(f"{kind} {c[kind]}" for kind in KINDS if c[kind])
        print(f"{module:40s} {c[KILLED]:7d} {c[SURVIVED]:9d}  {kinds_seen}")
    totals = {kind: len(survivors[kind]) for kind in KINDS if survivors[kind]}
    print("\nsurvivors by kind:", ", ".join(f"{kind} {n}" for kind, n in totals.items()))
    for kind in KINDS if args.all else ("other",):
        print(f"\n-- {kind}: {len(survivors[kind])}")
        print("\n".join(survivors[kind]))


if __name__ == "__main__":
    main()
