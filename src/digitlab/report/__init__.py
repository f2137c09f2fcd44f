"""The training report: one offline HTML page of what a run learned, and the recorder behind it.

`write_report(run_dir)` reads a run folder (history.json, model.npz, config.json, stats.npz,
findings.json) and writes `report.html` with its figures in `report/`. `TrainingRecorder` is the
Trainer callback that records activations and gradients for it while the network trains.
"""

from digitlab.report.build import REPORT_HTML, write_report
from digitlab.report.recorder import TrainingRecorder, load_stats

__all__ = ["REPORT_HTML", "TrainingRecorder", "load_stats", "write_report"]
