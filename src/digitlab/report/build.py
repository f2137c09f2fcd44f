"""Gather what a run folder holds, draw the figures, and write `report.html` beside them.

The page is one HTML file with its CSS inline and no script, font or stylesheet from anywhere
else, so it opens offline. Its figures are PNG files in `report/` beside it, referenced by
relative paths (not embedded as data URIs): the page stays small enough to read as text, each
figure can be reused on its own (in notes, slides, an issue), and the run folder — copied or
zipped whole — carries everything.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from digitlab.datasets import load_dataset, to_inputs
from digitlab.errors import DigitlabError
from digitlab.i18n import _
from digitlab.modelfile import load
from digitlab.report import figures
from digitlab.report.page import render
from digitlab.report.recorder import load_stats
from digitlab.train.history import History

REPORT_HTML = "report.html"
FIGURE_DIR = "report"
#: how many misread test images the gallery shows, most confident first
GALLERY = 40
#: the keys of a finding in findings.json (the doctor's output)
FINDING_KEYS = ("code", "severity", "message")


@dataclass
class Section:
    """One part of the page: a title, figures (paths relative to the page), HTML-safe
    paragraphs and tables built by page.py, and notes saying why something is missing."""

    key: str
    title: str
    figures: list[str] = field(default_factory=list)
    captions: list[str] = field(default_factory=list)
    tables: list[tuple[list[str], list[list[str]]]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def write_report(
    run_dir: str | Path,
    *,
    network=None,
    dataset=None,
) -> Path:
    """Write RUN_DIR/report.html and its figures in RUN_DIR/report/; returns the page's path.

    network, dataset: the trained network and its Dataset when the caller has them in memory
    (`train` does); otherwise they are read from model.npz and the data set config.json names.
    Parts whose inputs are missing (no model yet, no stats.npz, data set not available) are
    left out with a note saying why. Raises DigitlabError when RUN_DIR holds no history.json.
    """
    run_dir = Path(run_dir)
    history_path = run_dir / "history.json"
    if not history_path.is_file():
        raise DigitlabError(
            _(
                "cannot write a report for {folder}: it has no history.json; pass a run folder "
                "written by `digitlab train`"
            ).format(folder=run_dir)
        )
    try:
        history = History.load(history_path)
    except (ValueError, TypeError) as exc:
        raise DigitlabError(
            _("cannot write a report for {folder}: history.json is damaged ({reason})").format(
                folder=run_dir, reason=exc
            )
        ) from None
    out = run_dir / FIGURE_DIR
    out.mkdir(exist_ok=True)
    config = _read_json(run_dir / "config.json") or {}
    notes: list[str] = []
    if network is None:
        network = _load_model(run_dir / "model.npz", notes)
    metadata = dict(getattr(network, "metadata", {}) or {})

    sections = [_training_section(history, out)]
    if network is not None:
        if dataset is None:
            dataset = _load_dataset(config.get("data") or metadata.get("dataset"), notes)
        sections += _test_set_sections(network, dataset, out)
        sections.append(_weights_section(network, dataset, out))
    sections += _inside_sections(run_dir / "stats.npz", out)
    sections.append(_findings_section(run_dir / "findings.json"))
    sections.append(_settings_section(config, metadata, network))

    summary = _summary(run_dir, history, network, metadata, config)
    page = render(run_dir.name, summary, sections, notes)
    path = run_dir / REPORT_HTML
    path.write_text(page, encoding="utf-8")
    return path


# -- the parts ---------------------------------------------------------------------------------


def _training_section(history: History, out: Path) -> Section:
    section = Section("training", _("Training"))
    if not history.loss:
        section.notes.append(_("The run has not finished an epoch yet."))
        return section
    figures.plot_training(history, out / "training.png")
    section.figures.append(f"{FIGURE_DIR}/training.png")
    section.captions.append(
        _(
            "Left: the loss of every mini-batch (pale) and its running mean; it should fall "
            "quickly, then slowly. Right: accuracy after each epoch. A test accuracy that stops "
            "rising while training accuracy keeps climbing is overfitting."
        )
    )
    if history.stopped:
        section.notes.append(_("The run stopped early: {reason}").format(reason=history.stopped))
    return section


def _test_set_sections(network, dataset, out: Path) -> list[Section]:
    confusion_section = Section("confusion", _("Confusion matrix"))
    gallery = Section("mistakes", _("Mistakes"))
    if dataset is None:
        note = _("The data set could not be loaded, so the test images are not shown.")
        return [_noted(confusion_section, note), _noted(gallery, note)]
    if network.input_size != int(np.prod(dataset.x_test.shape[1:])) or network.output_size != len(
        dataset.classes
    ):
        note = _("The model does not fit the data set {name}.").format(name=dataset.name)
        return [_noted(confusion_section, note), _noted(gallery, note)]
    classes = [str(c) for c in dataset.classes]
    x = to_inputs(dataset.x_test, network.dtype)
    probabilities = np.concatenate(
        [network.predict(x[i : i + 2000]) for i in range(0, len(x), 2000)]
    )
    predicted = probabilities.argmax(axis=1)
    true = dataset.t_test.astype(np.intp)
    n = len(classes)
    confusion = np.zeros((n, n), dtype=np.int64)
    np.add.at(confusion, (true, predicted), 1)

    figures.plot_confusion(confusion, classes, out / "confusion.png")
    confusion_section.figures.append(f"{FIGURE_DIR}/confusion.png")
    confusion_section.captions.append(
        _(
            "Row: the true class; column: what the network answered. The diagonal (grey "
            "numbers) is right; red cells are the mistakes, darker for more."
        )
    )
    rows = []
    totals = confusion.sum(axis=1)
    for i, name in enumerate(classes):
        errors = confusion[i].copy()
        errors[i] = 0
        worst = int(errors.argmax())
        mistaken = (
            _("{name} ({count}x)").format(name=classes[worst], count=int(errors[worst]))
            if errors[worst]
            else "–"
        )
        accuracy = confusion[i, i] / totals[i] if totals[i] else float("nan")
        rows.append([name, str(int(totals[i])), f"{accuracy:.1%}", mistaken])
    confusion_section.tables.append(
        ([_("class"), _("test images"), _("accuracy"), _("most often read as")], rows)
    )

    wrong = np.flatnonzero(predicted != true)
    confidence = probabilities[np.arange(len(true)), predicted]
    order = wrong[np.argsort(-confidence[wrong], kind="stable")][:GALLERY]
    if len(order) == 0:
        gallery.notes.append(_("The network reads every test image correctly."))
        return [confusion_section, gallery]
    figures.plot_mistakes(
        dataset.x_test[order],
        true[order],
        predicted[order],
        confidence[order],
        classes,
        out / "mistakes.png",
    )
    gallery.figures.append(f"{FIGURE_DIR}/mistakes.png")
    gallery.captions.append(
        _(
            "The {shown} most confident of the {total:,} test images the network gets wrong "
            "({rate:.1%} of {count:,}): 'true → answer' and the probability the network gave "
            "its answer. Some are misread, some are hard to read for a person too."
        ).format(shown=len(order), total=len(wrong), rate=len(wrong) / len(true), count=len(true))
    )
    return [confusion_section, gallery]


def _weights_section(network, dataset, out: Path) -> Section:
    section = Section("weights", _("First layer"))
    weights = network.params.get("W1")
    if weights is not None and weights.ndim == 4:
        return _filters_section(section, network, dataset, out)
    if weights is None or weights.shape[0] != 784:
        section.notes.append(_("The first layer does not take 28x28 images."))
        return section
    figures.plot_first_layer(weights, out / "weights.png")
    section.figures.append(f"{FIGURE_DIR}/weights.png")
    section.captions.append(
        _(
            "Each tile is one hidden unit's 784 incoming weights, laid out as the 28x28 image "
            "they multiply: red pixels raise the unit's input when there is ink there, blue "
            "pixels lower it. Strokes and blobs are patterns the unit detects; pure noise is a "
            "unit that learned little."
        )
    )
    return section


def _filters_section(section: Section, network, dataset, out: Path) -> Section:
    """A conv net's first filters, and what they find in a test digit (its feature maps)."""
    figures.plot_filters(network.params["W1"], out / "filters.png")
    section.figures.append(f"{FIGURE_DIR}/filters.png")
    section.captions.append(
        _(
            "Each tile is one filter of the first convolution: the small pattern it slides over "
            "the image, red where ink raises its output and blue where ink lowers it. Edges of "
            "one direction, spots and stroke ends are what such filters learn."
        )
    )
    if dataset is None or network.input_size != int(np.prod(dataset.x_test.shape[1:])):
        return section
    image = to_inputs(dataset.x_test[:1], network.dtype)[0]
    maps = next(
        (x[0] for x in network.activations(image.reshape(1, -1)).values() if x.ndim == 4), None
    )
    if maps is None:
        return section
    label = str(dataset.classes[int(dataset.t_test[0])])
    figures.plot_feature_maps(image.reshape(28, 28), maps, label, out / "feature_maps.png")
    section.figures.append(f"{FIGURE_DIR}/feature_maps.png")
    section.captions.append(
        _(
            "The first test digit and what each filter finds in it: one map per filter, "
            "bright where the filter's pattern is, after the activation. The layers above read "
            "these maps, not the pixels."
        )
    )
    return section


def _inside_sections(stats_path: Path, out: Path) -> list[Section]:
    activations = Section("activations", _("Activations"))
    gradients = Section("gradients", _("Gradients"))
    if not stats_path.is_file():
        note = _(
            "No stats.npz in the run folder: activations and gradients are recorded by "
            "`digitlab train` (not by a Trainer of your own unless you add a TrainingRecorder)."
        )
        return [_noted(activations, note), _noted(gradients, note)]
    try:
        stats = load_stats(stats_path)
        epochs = stats["epochs"]
    except (OSError, ValueError, KeyError) as exc:
        note = _("stats.npz cannot be read ({reason}).").format(reason=exc)
        return [_noted(activations, note), _noted(gradients, note)]

    if len(stats.get("activation_names", [])):
        figures.plot_activations(stats, out / "activations.png")
        activations.figures.append(f"{FIGURE_DIR}/activations.png")
        activations.captions.append(
            _(
                "How often each output value occurs in every hidden layer on the same {probe} "
                "training images, from the first epoch (light) to the last (dark). A unit is "
                "saturated where its activation is flat (slope below 0.02): a sigmoid near 0 "
                "or 1, a ReLU below 0. Gradients barely pass through saturated units, so the "
                "weights before them stop learning."
            ).format(probe=int(stats.get("probe_size", 0)))
        )
        rows = []
        for i, name in enumerate(stats["activation_names"]):
            rows.append(
                [
                    str(name),
                    f"{stats['activation_mean'][i, 0]:.3g} / {stats['activation_mean'][i, -1]:.3g}",
                    f"{stats['activation_std'][i, 0]:.3g} / {stats['activation_std'][i, -1]:.3g}",
                    f"{stats['activation_saturated'][i, 0]:.1%} / "
                    f"{stats['activation_saturated'][i, -1]:.1%}",
                ]
            )
        first, last = int(epochs[0]), int(epochs[-1])
        header = _("epoch {first} / {last}").format(first=first, last=last)
        activations.tables.append(
            (
                [_("layer"), _("mean, ") + header, _("std, ") + header, _("saturated, ") + header],
                rows,
            )
        )
    else:
        activations.notes.append(_("The network has no activation layers to record."))

    if len(stats.get("gradient_names", [])):
        figures.plot_gradients(stats, out / "gradients.png")
        gradients.figures.append(f"{FIGURE_DIR}/gradients.png")
        gradients.captions.append(
            _(
                "Left: how large the gradient's entries are (log10 |g|: -3 means 0.001) for "
                "each weight matrix. Right: the gradient's overall size per epoch. When the "
                "first layers' gradients are orders of magnitude below the last layer's, the "
                "gradient vanishes on its way back and the first layers learn slowly."
            )
        )
        rows = []
        names = [str(n) for n in stats["gradient_names"]]
        last_rms = stats["gradient_rms"][:, -1]
        reference = last_rms[names.index(_last_weight(names))] if _last_weight(names) else 0
        for i, name in enumerate(names):
            ratio = last_rms[i] / reference if reference > 0 else float("nan")
            rows.append(
                [
                    name,
                    f"{stats['gradient_rms'][i, 0]:.2e}",
                    f"{last_rms[i]:.2e}",
                    f"{ratio:.2g}",
                    f"{stats['gradient_zero'][i, -1]:.1%}",
                ]
            )
        gradients.tables.append(
            (
                [
                    _("tensor"),
                    _("RMS at epoch {epoch}").format(epoch=int(epochs[0])),
                    _("RMS at epoch {epoch}").format(epoch=int(epochs[-1])),
                    _("÷ last layer's"),
                    _("exactly 0"),
                ],
                rows,
            )
        )
    else:
        gradients.notes.append(_("No gradients were recorded."))
    return [activations, gradients]


def _findings_section(path: Path) -> Section:
    """The doctor's findings: findings.json, a list of {code, severity, message} (other keys
    are ignored but "fix", a suggested remedy, shown after the message)."""
    section = Section("findings", _("Doctor's findings"))
    if not path.is_file():
        section.notes.append(
            _("No findings.json in the run folder: the doctor has not examined this run.")
        )
        return section
    findings = _read_json(path)
    if not isinstance(findings, list) or not all(
        isinstance(f, dict) and all(k in f for k in FINDING_KEYS) for f in findings
    ):
        section.notes.append(
            _("findings.json is not a list of findings (code, severity, message); not shown.")
        )
        return section
    if not findings:
        section.captions.append(_("The doctor found nothing wrong with this run."))
        return section
    section.tables.append(
        (
            [_("severity"), _("code"), _("finding")],
            [[str(f["severity"]), str(f["code"]), _finding_text(f)] for f in findings],
        )
    )
    return section


def _settings_section(config: dict, metadata: dict, network) -> Section:
    section = Section("settings", _("Settings"))
    if config:
        section.tables.append(
            ([_("setting"), _("value")], [[str(k), _plain(v)] for k, v in config.items()])
        )
    else:
        section.notes.append(_("No config.json in the run folder."))
    if network is not None:
        rows = [[_("network"), repr(network)]]
        for key in ("dataset", "classes", "normalization", "accuracy", "format_version"):
            if key in metadata:
                rows.append([key, _plain(metadata[key])])
        for key in ("digitlab_version", "created"):
            if key in metadata:
                rows.append([key, _plain(metadata[key])])
        network_config = metadata.get("network") or network.config()
        rows.append([_("layer settings"), _plain(network_config)])
        section.tables.append(([_("model"), _("value")], rows))
    return section


# -- helpers -----------------------------------------------------------------------------------


def _summary(run_dir: Path, history: History, network, metadata: dict, config: dict) -> list:
    items = []
    if network is not None:
        items.append((_("network"), repr(network)))
    data = metadata.get("dataset") or config.get("data")
    if data:
        items.append((_("data set"), str(data)))
    items.append((_("epochs"), str(history.epochs)))
    if history.test_acc:
        items.append((_("test accuracy"), f"{history.test_acc[-1]:.2%}"))
    if history.train_acc:
        items.append((_("train accuracy"), f"{history.train_acc[-1]:.2%}"))
    if history.seconds:
        items.append((_("training time"), f"{sum(history.seconds):.1f} s"))
    if metadata.get("created"):
        items.append((_("model saved"), str(metadata["created"])))
    return items


def _finding_text(finding: dict) -> str:
    """The message, and the suggested fix where the finding has one (optional key "fix")."""
    text = str(finding["message"])
    if finding.get("fix"):
        text += " " + _("Fix: {fix}").format(fix=finding["fix"])
    return text


def _noted(section: Section, note: str) -> Section:
    section.notes.append(note)
    return section


def _last_weight(names: list[str]) -> str | None:
    weights = [n for n in names if n.startswith("W") and n[1:].isdigit()]
    return max(weights, key=lambda n: int(n[1:])) if weights else None


def _plain(value) -> str:
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _read_json(path: Path):
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _load_model(path: Path, notes: list[str]):
    if not path.is_file():
        notes.append(_("No model.npz yet: the parts that need the trained network are left out."))
        return None
    try:
        return load(path)
    except DigitlabError as exc:
        notes.append(_("The model cannot be loaded: {reason}").format(reason=exc))
        return None


def _load_dataset(name, notes: list[str]):
    if not name:
        notes.append(_("The run does not say which data set it used."))
        return None
    try:
        with warnings.catch_warnings():
            # A fallback to mnist-10k still has all 10,000 MNIST test images: fine here.
            warnings.simplefilter("ignore")
            return load_dataset(name, progress=False)
    except DigitlabError as exc:
        notes.append(_("The data set cannot be loaded: {reason}").format(reason=exc))
        return None
