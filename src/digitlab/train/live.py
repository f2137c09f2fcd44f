"""LivePlot: the loss and accuracy curves of a run in a Jupyter notebook, one figure redrawn in
place after every epoch (`Trainer(..., live=True)`)."""

from __future__ import annotations


class LivePlot:
    """A callback that shows `History.plot()`'s figure below the cell and updates it after
    each epoch. Outside IPython (a script, the command line) it does nothing."""

    def __init__(self) -> None:
        self._handle = None

    def on_epoch_end(self, trainer, epoch: int) -> None:
        try:
            from IPython.display import HTML, display
        except ImportError:
            return
        from digitlab.notebook import figure_html

        page = HTML(figure_html(trainer.history.plot(), "loss and accuracy"))
        if self._handle is None:
            self._handle = display(page, display_id=True)
        else:
            self._handle.update(page)
