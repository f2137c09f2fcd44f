"""Reading the learner's source: where weights are updated, assigned, and with what rate.

An *update site* is a statement that changes an array from its own value: `W -= lr * dW`,
`weights1 += w1`, `W = W - lr * dW`, `params[key] -= alpha * grads[key]`,
`self.weights = [w - eta * nw for w, nw in zip(self.weights, nabla_w)]`, or
`w1, b1 = update(w1, b1, dw1, db1, lr)`: an augmented `+=`/`-=`, or an assignment whose target
also appears in its value. The tracer evaluates each site's targets before and after the
statement runs; which of them are weights (not counters or gradient sums) the model decides.
"""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Target:
    """One assignment target of a site: its source text, and its code to evaluate (Load)."""

    text: str
    code: object
    #: the index expression of a subscript target (`key` in `params[key]`), compiled, or None
    index: object | None
    #: the source text of the subscripted value (`params` in `params[key]`)
    base: str | None


@dataclass(frozen=True)
class Site:
    """An update statement: its lines and the targets it changes."""

    file: str
    line: int
    end_line: int
    targets: tuple[Target, ...]
    #: names the statement reads that may hold the learning rate (floats are kept at run time)
    rate_names: tuple[str, ...]


@functools.cache
def parse(file: str) -> ast.Module | None:
    """The file's syntax tree (None if it cannot be read or parsed)."""
    try:
        return ast.parse(Path(file).read_text(encoding="utf-8"), filename=file)
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return None


@functools.cache
def update_sites(file: str) -> dict[int, Site]:
    """Every update site of the file, by the line it starts on."""
    tree = parse(file)
    if tree is None:
        return {}
    sites = {}
    for node in ast.walk(tree):
        site = _site(file, node)
        if site is not None:
            sites[site.line] = site
    return sites


def _site(file: str, node: ast.AST) -> Site | None:
    if isinstance(node, ast.AugAssign) and isinstance(node.op, (ast.Add, ast.Sub)):
        targets = [node.target]
    elif isinstance(node, ast.Assign) and len(node.targets) == 1:
        reads = {ast.dump(_as_load(n)) for n in ast.walk(node.value) if _is_place(n)}
        candidates = _flatten(node.targets[0])
        targets = [t for t in candidates if ast.dump(_as_load(t)) in reads]
    else:
        return None
    targets = [t for t in targets if _is_place(t)]
    if not targets:
        return None
    rate_names = tuple(
        sorted(
            {
                n.id
                for n in ast.walk(node.value)
                if isinstance(n, ast.Name) and not any(_mentions(t, n.id) for t in targets)
            }
            | {
                f"self.{n.attr}"
                for n in ast.walk(node.value)
                if isinstance(n, ast.Attribute)
                and isinstance(n.value, ast.Name)
                and n.value.id == "self"
            }
        )
    )
    return Site(
        file,
        node.lineno,
        node.end_lineno or node.lineno,
        tuple(_target(t) for t in targets),
        rate_names,
    )


def _target(node: ast.expr) -> Target:
    load = _as_load(node)
    code = compile(ast.Expression(load), "<digitlab-doctor>", "eval")
    index = base = None
    if isinstance(load, ast.Subscript) and not isinstance(load.slice, ast.Constant):
        index = compile(ast.Expression(load.slice), "<digitlab-doctor>", "eval")
        base = ast.unparse(load.value)
    return Target(ast.unparse(node), code, index, base)


def _flatten(node: ast.expr) -> list[ast.expr]:
    if isinstance(node, (ast.Tuple, ast.List)):
        return [leaf for element in node.elts for leaf in _flatten(element)]
    return [node]


def _is_place(node: ast.AST) -> bool:
    """A name, an attribute chain or a subscript of one: something that holds a value."""
    if isinstance(node, ast.Name):
        return True
    if isinstance(node, ast.Attribute):
        return _is_place(node.value)
    if isinstance(node, ast.Subscript):
        return _is_place(node.value) and isinstance(
            node.slice, (ast.Constant, ast.Name, ast.Attribute)
        )
    return False


def _mentions(node: ast.AST, name: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(node))


def _as_load(node: ast.expr) -> ast.expr:
    """A copy of the target expression with Load contexts, to evaluate or compare."""
    copy = ast.parse(ast.unparse(node), mode="eval").body
    return copy


@functools.cache
def assignment_lines(file: str) -> dict[str, list[int]]:
    """Lines where each name (or `x.attr`, `d['key']`) is assigned, in source order: where a
    weight was first drawn, where the input was scaled."""
    tree = parse(file)
    found: dict[str, list[int]] = {}
    if tree is None:
        return found
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for leaf in _flatten(target):
                    found.setdefault(ast.unparse(leaf), []).append(node.lineno)
                    if isinstance(leaf, ast.Subscript) and isinstance(leaf.slice, ast.Constant):
                        found.setdefault(repr(leaf.slice.value), []).append(node.lineno)
        if isinstance(node, ast.Dict):
            for key in node.keys:
                if isinstance(key, ast.Constant):
                    found.setdefault(repr(key.value), []).append(key.lineno)
    for lines in found.values():
        lines.sort()
    return found
