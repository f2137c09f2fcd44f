"""LivePlot: the loss and accuracy curves of a run in a Jupyter notebook, one figure redrawn in
place after every epoch (`Trainer(..., live=True)`)."""

from __future__ import annotations


class LivePlot:
    """A callback that shows the History (its curves, `History.plot()`) below the cell and
    updates it after each epoch. Outside IPython (a script, the command line) it does nothing."""

    def __init__(self) -> None:
        self._handle = None

    def on_epoch_end(self, trainer, epoch: int) -> None:
        try:
            from IPython.display import display
        except ImportError:
            return
        # the History shows as its curves (its _repr_html_, digitlab.display)
        if self._handle is None:
            self._handle = display(trainer.history, display_id=True)
        else:
            self._handle.update(trainer.history)
