"""The doctor: why a network does not learn, in plain words, with the numbers and the fix.

    from digitlab.doctor import examine
    report = examine(net, x_batch, t_batch, learning_rate=0.1)   # any object with params, loss
    print(report)            # one block per finding, most severe first
    report.codes             # {"input-not-normalized", "activations-saturated", ...}

`TrainingWatcher` runs the cheap checks while a network trains (digitlab's Trainer uses one by
default) and stops the run with the finding that explains it, instead of going on with NaN.
"""

from digitlab.doctor.examine import examine
from digitlab.doctor.findings import (
    ERROR,
    INFO,
    SEVERITIES,
    WARNING,
    Finding,
    Report,
    save_findings,
)
from digitlab.doctor.messages import MESSAGES
from digitlab.doctor.watch import TrainingWatcher
from digitlab.errors import NotANetworkError

#: every code a finding can have
CODES = frozenset(key.split("/")[0] for key in MESSAGES)

__all__ = [
    "CODES",
    "ERROR",
    "INFO",
    "SEVERITIES",
    "WARNING",
    "Finding",
    "NotANetworkError",
    "Report",
    "TrainingWatcher",
    "examine",
    "save_findings",
]
