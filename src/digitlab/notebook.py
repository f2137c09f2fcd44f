"""How digitlab's objects show in Jupyter: HTML for `_repr_html_`, text for IPython's pretty
printer.

A doctor's Report shows its findings by severity, the fix first; a GradientCheck its table and
verdict; a History its curves; a network its summary (layers, output shapes, parameters); a
Dataset a grid of its images with their labels; a Prediction the image seen and the bars.
Every piece of text is escaped (a finding can quote a learner's names, a class name comes from a
file), and pictures are PNGs embedded as data URIs, so the page needs nothing from outside.
"""

from __future__ import annotations

import base64
import html
import io
from typing import TYPE_CHECKING

import numpy as np

from digitlab.datasets.dataset import Dataset
from digitlab.display import register_html
from digitlab.doctor.findings import Report
from digitlab.gradients.check import GradientCheck
from digitlab.i18n import N_, translate
from digitlab.imaging.prediction import Prediction, prediction_text
from digitlab.nn.base import Network
from digitlab.nn.summary import summary_rows
from digitlab.train.history import History

if TYPE_CHECKING:
    from matplotlib.figure import Figure

SEVERITY_COLOURS = {"error": "#c62828", "warning": "#ef6c00", "info": "#1565c0"}


def figure_html(fig: Figure, alt: str) -> str:
    """`fig` as an <img> holding its PNG."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def table_html(header: list[str], rows: list[list[str]]) -> str:
    """A table of text cells, each escaped."""
    head = "".join(f"<th>{html.escape(cell)}</th>" for cell in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in row) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def report_html(report) -> str:
    """A doctor's Report: one box per finding, the most severe first; what to do in bold
    before the message and the evidence (`Finding.parts`, as the text report has them)."""
    parts = [f"<p><b>{html.escape(report.summary())}</b></p>"]
    if not report.findings:
        parts.append(f"<p>{html.escape(translate(N_('No problems found.'), report.lang))}</p>")
    for finding in report.findings:
        colour = SEVERITY_COLOURS[finding.severity]
        text = {key: html.escape(value) for key, value in finding.parts().items()}
        lines = [
            f'<span style="color:{colour}">[{text["label"]}]</span> '
            f"<code>{html.escape(finding.code)}</code> — {text['where']}",
            f"<b>{text['fix']}</b>",
            text["message"],
            *([text["cause"]] if text["cause"] else []),
            f"<small>{text['evidence']}</small>",
        ]
        parts.append(
            f'<div class="digitlab-finding" style="border-left:4px solid {colour};'
            f'padding-left:8px;margin:6px 0">' + "<br>".join(lines) + "</div>"
        )
    return "".join(parts)


def gradient_check_html(result) -> str:
    """A GradientCheck: the heading, one row per tensor, and the verdict."""
    header, *rows = result.rows()
    return (
        f"<p>{html.escape(result.heading())}</p>"
        + table_html(list(header), [list(row) for row in rows])
        + f"<p><b>{html.escape(result.conclusion())}</b></p>"
    )


def history_html(history) -> str:
    """A History: its one-line summary and its curves."""
    if not history.loss:
        return f"<p>{html.escape(repr(history))}</p>"
    return f"<p>{html.escape(repr(history))}</p>" + figure_html(history.plot(), "loss and accuracy")


def network_html(network) -> str:
    """A network's summary as a table (see `summary_rows`)."""
    rows, total = summary_rows(network)
    header = [translate(word) for word in (N_("layer"), N_("output shape"), N_("parameters"))]
    table = table_html(header, [[name, shape, f"{count:,}"] for name, shape, count in rows])
    line = translate(N_("{total:,} parameters, {dtype}")).format(
        total=total, dtype=network.dtype.name
    )
    return f"<p><b>{html.escape(repr(network))}</b></p>{table}<p>{html.escape(line)}</p>"


def dataset_html(dataset, count: int = 40) -> str:
    """A Dataset: its description and its first `count` training images with their labels."""
    from matplotlib.figure import Figure  # imported where drawn: see train/curves.py

    count = min(count, len(dataset.t_train))
    columns = 10
    fig = Figure(figsize=(columns * 0.9, -(-count // columns) * 1.05), layout="constrained")
    for index in range(count):
        ax = fig.add_subplot(-(-count // columns), columns, index + 1)
        ax.imshow(dataset.x_train[index], cmap="gray_r")
        ax.set_title(dataset.classes[int(dataset.t_train[index])], fontsize=8)
        ax.axis("off")
    return f"<p>{html.escape(repr(dataset))}</p>" + figure_html(fig, "training images")


def prediction_html(prediction) -> str:
    """A Prediction: the 28x28 image the network saw beside a bar per class."""
    from matplotlib.figure import Figure  # imported where drawn: see train/curves.py

    fig = Figure(figsize=(6, 2.4), layout="constrained")
    image_axes, bar_axes = fig.subplots(1, 2, width_ratios=(1, 2))
    image_axes.imshow(prediction.input, cmap="gray_r", vmin=0, vmax=1)
    image_axes.axis("off")
    positions = np.arange(len(prediction.classes))
    bar_axes.bar(positions, prediction.probabilities, color="tab:blue")
    bar_axes.set_xticks(positions, prediction.classes, fontsize=7)
    bar_axes.set_ylim(0, 1)
    line = prediction_text(prediction)
    return f"<p><b>{html.escape(line)}</b></p>" + figure_html(fig, "what the network saw")


def register() -> None:
    """Make Jupyter show digitlab's objects with the functions above (digitlab.display)."""
    for cls, render in (
        (Report, report_html),
        (GradientCheck, gradient_check_html),
        (History, history_html),
        (Network, network_html),
        (Dataset, dataset_html),
        (Prediction, prediction_html),
    ):
        register_html(cls, render)
