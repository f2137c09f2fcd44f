"""From what the tracer saw to findings, in the learner's names and at the learner's lines.

The recovered network is examined with the doctor's usual checks (`examine`) on the data the
program fed it and the weights before its first update; then each watched step is judged:
the change the program applied to each weight against the slope of the loss its backprop
differentiates (see `model.Recovered`):

- climbing at every step size along the update: `update-sign-flipped`, never a learning rate;
- downhill, but `samples` times the learner's rate along the gradient (or, with no rate at all,
  about `samples` times the gradient): a sum over the batch missing its 1/N;
- not along the gradient at all, for a tensor: that tensor's gradient is wrong;
- larger than the weights it changes (measured against the weights before the step): exploding;
- the first NaN or Inf: at which step, in which array, after which line of the learner's file.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import numpy as np

from digitlab.doctor.context import rms
from digitlab.doctor.examine import examine
from digitlab.doctor.findings import ERROR, INFO, WARNING, Finding, make_finding
from digitlab.doctor.program import sites
from digitlab.doctor.program.model import SOFTMAX_OUTPUTS, Model, Recovered
from digitlab.doctor.program.scope import display_name, key_name
from digitlab.doctor.program.tracer import Recording, Step, Update
from digitlab.doctor.thresholds import EXPLODING_ABOVE
from digitlab.gradients.check import WRONG_FROM

#: steps whose update is judged against the slope of the loss (each costs a few forward passes)
JUDGED_STEPS = 3
#: step sizes, as fractions of the learner's own update, at which the loss is compared
STEP_FRACTIONS = (1e-4, 1e-3, 1e-2, 1e-1, 1.0)
#: cosine between a tensor's update and minus its gradient below which the update does not follow
#: the gradient (a correct update has 1; a derivative taken of the wrong tensor, ~0.5 or less)
ALIGNED_COSINE = 0.9
#: how far from the batch size the update's factor may be and still be read as a missing 1/N
SUM_FACTOR_SLACK = 3.0
#: fewer samples than this and a missing 1/N changes little
SUM_MIN_SAMPLES = 8
#: rows of a per-sample loop's data set examined after mapping them as the program maps a sample
EXAMINED_ROWS = 2000
#: |cosine| from which an array the program held is the one its update applied
SAME_DIRECTION = 0.9999
#: names learners give their targets, preferred among arrays of the right shape
TARGET_NAME = re.compile(r"^(t|y|target|label|one_?hot|output)", re.IGNORECASE)


def program_findings(
    recording: Recording, *, lang: str, seed: int
) -> tuple[list[Finding], str, int]:
    """The findings of a watched run, a description of the network found, and the number of
    samples it was examined on."""
    names = _Places(recording)
    findings: list[Finding] = []
    add = _adder(findings, lang)
    if recording.raised is not None:
        text, file, line, function = recording.raised
        add(
            "network-raised",
            ERROR,
            f"{function}()" if function and function != "<module>" else recording.program.name,
            file=file,
            line=line or None,
            error=text,
            where=f"{Path(file).name}:{line}" if file else "?",
        )
    numerical = recording.numerical
    if numerical is not None:
        subject = f"{numerical.function}()"
        if numerical.relative_error >= WRONG_FROM:
            add(
                "gradient-mismatch",
                ERROR,
                subject,
                "numerical",
                file=numerical.file,
                line=numerical.line,
                rms_theirs=numerical.rms_theirs,
                rms_truth=numerical.rms_truth,
                relative_error=numerical.relative_error,
            )
        per_step = numerical.seconds_per_loss * 2 * numerical.coordinates
        if recording.stopped == "numerical":
            steps_per_epoch = max(1, numerical.train_size // max(1, numerical.batch))
            add(
                "numerical-gradient-only",
                WARNING,
                subject,
                "program",
                file=numerical.file,
                line=numerical.line,
                parameters=numerical.coordinates,
                seconds_per_step=per_step,
                hours_per_epoch=per_step * steps_per_epoch / 3600,
                steps_per_epoch=steps_per_epoch,
            )
    model = recording.model
    if model is None:
        if not findings:  # nothing examined must not read as "no problems found"
            add(
                "network-not-recovered",
                INFO,
                recording.program.name,
                steps=len(recording.steps),
            )
        return findings, recording.program.name, 0
    first = recording.steps[0] if recording.steps else None
    data = _data(model, first.arrays if first else recording.arrays, recording.arrays)
    if data is not None and model.one_sample:
        data = _as_fed(data, recording)
    values = {name: u.before for name, u in first.updates.items()} if first else {}
    network = Recovered(model, {**model.arrays, **values})
    if data is not None:
        x, t, x_name, t_name = data
        rate = next((u.rate for u in first.updates.values() if u.rate), None) if first else None
        report = examine(network, x, t, learning_rate=rate, lang=lang, seed=seed)
        renames = {**model.canonical(), "x": x_name, "t": t_name}
        output = model.layers[-1].observed
        if output:
            renames["predict()"] = display_name(output)
        for finding in report.findings:
            if finding.code in ("network-changed-params", "numerical-gradient-only"):
                continue
            subject = renames.get(finding.subject, finding.subject)
            file, line = names.place(subject)
            findings.append(_with(finding, subject=subject, file=file, line=line))
        _judge_steps(recording, model, add)
        return findings, repr(network), len(x)
    return findings, repr(network), 0


def _judge_steps(recording: Recording, model: Model, add) -> None:
    flipped = summed = False
    misaligned: set[str] = set()
    biggest: tuple[float, str, int, object] | None = None
    for number, step in enumerate(recording.steps, 1):
        updates = step.updates
        broken = [n for n, u in updates.items() if not np.all(np.isfinite(u.after))]
        if broken:
            name = broken[0]
            event = recording.float_events[0] if recording.float_events else None
            add(
                "non-finite",
                ERROR,
                name,
                "program",
                file=event.file if event else updates[name].file,
                line=event.line if event else updates[name].line,
                step=number,
                arrays=", ".join(broken),
                where=_float_event_text(event),
            )
            break
        for name, update in updates.items():
            before = update.before
            if before.ndim != 2 or min(before.shape) < 2:
                continue  # a bias starts at 0: its size says nothing of the step's
            scale = max(rms(before), 1 / np.sqrt(max(before.shape[0], 1)))
            change = rms(update.after - before)
            if biggest is None or change / scale > biggest[0]:
                biggest = (change / scale, name, number, update, change, rms(before))
        if number > JUDGED_STEPS or summed or flipped:
            continue
        data = step_batch(recording, model, step)
        if data is None:
            continue
        x, t = data
        verdict = judge_step(model, step, x, t)
        if verdict is None:
            continue
        first = next(iter(updates.values()))
        subjects = ", ".join(updates)
        if verdict["climbs"]:
            flipped = True
            add(
                "update-sign-flipped",
                ERROR,
                subjects,
                "program",
                file=first.file,
                line=first.line,
                step=number,
                cosine=verdict["cosine"],
                loss_before=verdict["loss"],
                loss_small_step=verdict["losses"][0],
                loss_after=verdict["losses"][-1],
            )
            continue
        factor, samples = verdict["factor"], len(x)
        rate = first.rate
        if verdict["cosine"] < -ALIGNED_COSINE and samples >= SUM_MIN_SAMPLES:
            expected = factor / rate if rate else factor
            if samples / SUM_FACTOR_SLACK <= expected <= samples * SUM_FACTOR_SLACK:
                summed = True
                add(
                    "loss-not-averaged",
                    ERROR,
                    subjects,
                    "update" if rate else "update-no-rate",
                    file=first.file,
                    line=first.line,
                    samples=samples,
                    factor=expected,
                    learning_rate=rate or 0.0,
                    rate_name=first.rate_name or "-",
                )
        for name, cosine in verdict["tensors"].items():
            if -cosine < ALIGNED_COSINE and cosine < ALIGNED_COSINE and name not in misaligned:
                misaligned.add(name)
                update = updates[name]
                applied = applied_gradient(step, update)
                add(
                    "gradient-mismatch",
                    ERROR,
                    name,
                    "update" if applied is None else "update-from",
                    file=update.file,
                    line=update.line,
                    cosine=cosine,
                    step=number,
                    gradient=applied[1] if applied else "-",
                )
    if biggest is not None and biggest[0] > EXPLODING_ABOVE and not flipped:
        ratio, name, number, update, change, size = biggest
        add(
            "exploding-gradient",
            ERROR,
            name,
            "training",
            file=update.file,
            line=update.line,
            update_ratio=ratio,
            update_rms=change,
            weight_rms=size,
            step=number,
        )


def judge_step(model: Model, step: Step, x: np.ndarray, t: np.ndarray) -> dict | None:
    """The update of one step against the slope of each loss the learner may differentiate."""
    canonical = {learner: book for book, learner in model.canonical().items()}
    if not all(name in canonical for name in step.updates):
        return None
    values = {**model.arrays, **{n: u.before for n, u in step.updates.items()}}
    best = None
    # a softmax over the batch is still backpropagated as a softmax per row, (y - t) / N: judge
    # the update against that loss too (the softmax itself is a finding of its own)
    outputs = [model.output, "softmax"] if model.output in SOFTMAX_OUTPUTS else [model.output]
    for kind, output in ((k, o) for k in model.loss_kinds for o in outputs):
        network = Recovered(model, values, kind, output)
        with np.errstate(all="ignore"):
            loss = network.loss(x, t)
            grads = network.gradient(x, t)
        delta = {
            canonical[n]: model.to_rows(n, u.after) - model.to_rows(n, u.before)
            for n, u in step.updates.items()
        }
        dot = sum(float(np.sum(grads[k] * d)) for k, d in delta.items())
        g2 = sum(float(np.sum(grads[k] ** 2)) for k in delta)
        d2 = sum(float(np.sum(d**2)) for d in delta.values())
        if not (np.isfinite(dot) and np.isfinite(g2) and d2 > 0):
            continue
        # an update where the loss has no slope at all (saturated units) follows no gradient
        cosine = dot / np.sqrt(g2 * d2) if g2 > 0 else 0.0
        if best is not None and cosine >= best["cosine"]:
            continue
        tensors = {}
        for learner, book in canonical.items():
            if book in delta:
                g, d = grads[book], delta[book]
                norm = np.sqrt(float(np.sum(g**2)) * float(np.sum(d**2)))
                if norm > 0:
                    tensors[learner] = float(np.sum(g * d)) / norm
                elif np.any(d) and np.all(np.isfinite(g)):
                    tensors[learner] = 0.0  # moved where the loss has no slope at all
        best = dict(
            cosine=cosine,
            factor=-dot / g2 if g2 > 0 else 0.0,
            loss=loss,
            network=network,
            delta=delta,
            tensors=tensors,
        )
    if best is None:
        return None
    network, delta = best["network"], best["delta"]
    start = {k: v.copy() for k, v in network.params.items()}
    losses = []
    for fraction in STEP_FRACTIONS:
        for k, d in delta.items():
            network.params[k] = start[k] + fraction * d
        with np.errstate(all="ignore"):
            losses.append(network.loss(x, t))
    network.params = start
    best["losses"] = losses
    best["climbs"] = best["cosine"] > 0 and all(
        loss > best["loss"] for loss in losses if np.isfinite(loss)
    )
    return best


def step_batch(recording: Recording, model: Model, step: Step):
    """(x rows, t): the samples the program trained on in `step` and their targets, or None.

    A batch the program held when it updated (x_batch beside x_train: the smallest with targets
    beside it); for a per-sample loop, the samples it fed one by one since the step before."""
    data = _fed(step) if model.one_sample else _data(model, step.arrays, recording.arrays)
    return None if data is None else data[:2]


def _fed(step: Step):
    """(x rows, t, "", ""): the samples a per-sample loop fed in a step, with their targets."""
    if not step.fed or any(t is None for _, t in step.fed):
        return None
    x = np.stack([sample.reshape(-1) for sample, _ in step.fed])
    targets = [t for _, t in step.fed]
    if all(isinstance(t, int) for t in targets):
        return x, np.array(targets), "", ""
    if all(isinstance(t, np.ndarray) for t in targets):
        return x, np.stack(targets), "", ""
    return None


def applied_gradient(step: Step, update: Update) -> tuple[np.ndarray, str] | None:
    """(array, the learner's name of it) of the array the update applied, as the direction of
    descent (their `-=` of it, or `+=` of its negative): `dW1`, `grads['W1']`, `back_prop()[0]`;
    None where the program held no array the change is a multiple of. The weights themselves
    are never it (after a step 600 times their size, they point the update's way too)."""
    delta = np.asarray(update.after, dtype=np.float64) - update.before
    norm = np.linalg.norm(delta)
    if norm == 0:
        return None
    best = None
    for key, array in step.arrays.items():
        if array.shape != delta.shape or array.dtype.kind != "f" or key in step.updates:
            continue
        size = np.linalg.norm(array)
        if not np.isfinite(size) or size == 0:
            continue
        cosine = float(np.sum(array * delta)) / (size * norm)
        # the learner's own variable before a name the tracer made up
        if abs(cosine) >= SAME_DIRECTION and (best is None or ("#" in best[1] and "#" not in key)):
            best = (-np.sign(cosine) * np.asarray(array, dtype=np.float64), key)
    if best is None:
        return None
    return best[0], best[1].split("#")[0]


def _as_fed(data, recording: Recording):
    """A per-sample loop's data set as the network receives it, its first EXAMINED_ROWS rows
    (enough to judge, and the gradient check's passes stay short): where the program maps each
    sample it feeds (`images[i] / 255 * 0.99 + 0.01`), with the same map applied, so that the
    doctor examines the inputs the network saw, not the raw file."""
    x, t, x_name, t_name = data
    data = x[:EXAMINED_ROWS], t[:EXAMINED_ROWS], x_name, t_name
    sample = next((f[0][0] for f in map(_fed, recording.steps) if f is not None), None)
    if sample is None or sample.shape != x.shape[1:]:
        return data
    rows = np.asarray(x[:EXAMINED_ROWS], dtype=np.float64)
    centred = rows - rows.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(centred, axis=1) * np.linalg.norm(sample - sample.mean())
    with np.errstate(all="ignore"):
        correlation = centred @ (sample - sample.mean()) / norms
    best = int(np.nanargmax(correlation)) if np.any(np.isfinite(correlation)) else None
    if best is None or correlation[best] < 1 - 1e-9:
        return data  # not a row of this data set (or a row, mapped otherwise)
    row = rows[best]
    scale = float(np.dot(centred[best], sample - sample.mean()) / np.dot(centred[best], row))
    shift = float(sample.mean() - scale * row.mean())
    if np.max(np.abs(scale * row + shift - sample)) > 1e-6 * (1 + np.max(np.abs(sample))):
        return data
    if abs(scale - 1) < 1e-12 and abs(shift) < 1e-12:
        return data  # fed as stored
    return rows * scale + shift, t[:EXAMINED_ROWS], x_name, t_name


def _data(model: Model, arrays: dict, fallback: dict):
    """(x rows, t, learner's name of x, of t): the batch the program trains on and its targets.

    Among the arrays of inputs with targets beside them, the smallest with more than one sample
    is the mini-batch (x_batch beside x_train and x_test); a program that feeds one sample at a
    time (a per-sample loop) sums over all of them, so it is judged on the largest.
    """
    for pool in (arrays, {**fallback, **arrays}):
        found = _batches(model, pool)
        if found:
            _, _, x_name, x, (t_name, t) = min(found, key=lambda f: (f[0], not f[1]))
            return x, t, display_name(x_name), display_name(t_name)
    return None


def _batches(model: Model, pool: dict) -> list:
    width = model.features
    weights = {id(model.arrays[n]) for n in model.weight_names}
    shapes = {model.arrays[n].shape for n in model.weight_names}
    pool = {n: a for n, a in pool.items() if id(a) not in weights and not _is_weight_name(model, n)}
    found = []
    for name, a in pool.items():
        if a.ndim != 2 or a.dtype.kind not in "fiub":
            continue
        if a.shape in shapes:
            continue  # a gradient (dW1 has W1's shape), not a batch of inputs
        # the learner's layout; column-vector code may also keep its data as rows (a
        # per-sample loop feeds the columns of X.T)
        rows = model.samples(a)
        if model.transposed and rows.shape[1] != width and rows.T.shape[1] == width:
            rows = rows.T
        if rows.shape[1] == width and len(rows) > 1:
            target = _targets(model, pool, len(rows), exclude=name)
            if target is not None:
                found.append((len(rows), "#" not in name, name, rows, target))
    return found


def _targets(model: Model, pool: dict, n: int, exclude: str):
    """(name, array) of the targets for n samples: one-hot rows before labels, labels in the
    range of the classes before others (a batch's indices are integers too), the learner's
    own names for targets before other names, and named arrays before the tracer's."""
    classes = model.classes
    found = []
    for name, a in pool.items():
        if name == exclude:
            continue
        rows = model.samples(a) if a.ndim == 2 else a
        if rows.ndim == 2 and rows.shape == (classes, n):
            rows = rows.T
        if rows.shape == (n, classes) and _one_hot_like(rows):
            kind = 2
        elif rows.shape in ((n,), (n, 1)) and (
            a.dtype.kind in "iu"
            or (a.dtype.kind == "f" and _integral(rows) and np.unique(rows).size > 1)
        ):
            kind = 1
        else:
            continue
        in_range = kind == 2 or (rows.min() >= 0 and rows.max() <= classes)
        named = bool(TARGET_NAME.match(key_name(name)))
        found.append(((kind, in_range, named, "#" not in name), name, rows))
    if not found:
        return None
    found.sort(key=lambda f: f[0], reverse=True)
    return found[0][1], found[0][2]


def _is_weight_name(model: Model, name: str) -> bool:
    """Whether a name the tracer kept is one of the weights under another name
    (`initialize()['b2']` for `params['b2']`)."""
    return any(key_name(w) == key_name(name) for w in model.weight_names)


def _integral(values: np.ndarray) -> bool:
    return bool(np.all(values == np.round(values)))


def _one_hot_like(rows: np.ndarray) -> bool:
    """0/1 rows, most of which hold one 1 (a few may be broken: that is for the doctor to say)."""
    head = rows[: min(len(rows), 200)]
    if not set(np.unique(head).tolist()) <= {0, 1}:
        return False
    return bool(np.mean(head.sum(axis=1) == 1) >= 0.5)


def _float_event_text(event) -> str:
    if event is None:
        return "-"
    place = f"{Path(event.file).name}:{event.line}"
    return f"{event.kind} at {place} ({event.source}), step {event.step}"


class _Places:
    """Where in the learner's files a name was assigned: its first assignment (the program's
    own file first, then the modules of theirs it imported: the book's two_layer_net.py)."""

    def __init__(self, recording: Recording) -> None:
        self.files = list(recording.files) or [str(recording.program)]

    def place(self, subject: str) -> tuple[str | None, int | None]:
        keys = [subject]
        index = re.search(r"\[('[^']*'|\"[^\"]*\"|\d+)\]$", subject)
        # `self.W[0]` was made where the list `self.W` was
        container = subject[: index.start()] if index else subject
        if index:
            keys.append(index.group(1))
        keys += [container, container.rsplit(".", 1)[-1]]
        for file in self.files:
            lines = sites.assignment_lines(file)
            for key in keys:
                if key in lines:
                    return file, lines[key][0]
        return None, None


def _adder(findings: list[Finding], lang: str):
    def add(code, severity, subject, variant="", *, file=None, line=None, **evidence):
        findings.append(
            make_finding(
                code,
                severity,
                subject,
                variant,
                lang,
                file=_short(file),
                line=line,
                **evidence,
            )
        )

    return add


def _with(finding: Finding, *, subject: str, file: str | None, line: int | None) -> Finding:
    """The finding in the learner's names; its cause is linked again among all findings."""
    return replace(finding, subject=subject, file=_short(file), line=line, cause="")


def _short(file: str | None) -> str | None:
    return None if not file else Path(file).name
