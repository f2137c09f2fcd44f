"""Early stopping: end the run when the validation score stops improving, keep the best weights.

A callback (see digitlab.train.callbacks) for a Trainer fitted with `validation=(x_val, t_val)`:

    (x_fit, t_fit), validation = train_validation_split(x_train, t_train, 0.1, seed=0)
    trainer = Trainer(net, Adam(), epochs=50, callbacks=[EarlyStopping(patience=3)])
    history = trainer.fit(x_fit, t_fit, validation=validation)
    history.best_epoch  # the epoch whose weights the network now has
"""

from __future__ import annotations

import numpy as np

from digitlab._validate import number, whole
from digitlab.errors import ConfigError

#: what can be monitored: the History list it reads, and whether larger is better
MONITORS = {"val_acc": ("validation accuracy", True), "val_loss": ("validation loss", False)}


class EarlyStopping:
    """Stop after `patience` epochs without improvement; restore the best epoch's weights.

    After each epoch it reads the newest entry of `history.val_acc` (or `val_loss`). An epoch
    improves when it beats the best so far by more than `min_delta`; the weights are then copied
    aside. When the run ends — stopped here, by another callback, or after its last epoch — the
    copy is written back into the network's arrays (in place, so layers keep seeing them) and
    `history.best_epoch` names the epoch they come from (the accuracies recorded for later
    epochs then describe weights the network no longer has).

    Args:
        patience: epochs without improvement before the run stops.
        monitor: "val_acc" (higher is better) or "val_loss" (lower is better).
        min_delta: the smallest change that counts as an improvement.
        restore_best: write the best weights back at the end.
    """

    def __init__(
        self,
        patience: int = 5,
        monitor: str = "val_acc",
        min_delta: float = 0.0,
        restore_best: bool = True,
    ) -> None:
        self.patience = whole("patience", patience, low=1, example="5 (epochs)")
        if monitor not in MONITORS:
            raise ConfigError(f"monitor={monitor!r} is not known; choose one of {list(MONITORS)}.")
        self.monitor = monitor
        self.min_delta = number("min_delta", min_delta, low=0, example="0.001")
        self.restore_best = bool(restore_best)
        self.best: float | None = None
        self.best_epoch: int | None = None
        self._best_params: dict[str, np.ndarray] = {}
        self._waited = 0

    def on_train_begin(self, trainer) -> None:
        if trainer.validation is None:
            raise ConfigError(
                "EarlyStopping monitors a validation set, but fit was given none; pass "
                "validation=(x_val, t_val), e.g. from train_validation_split(x, t, 0.1)."
            )
        self.best, self.best_epoch, self._waited = None, None, 0
        self._best_state: dict[str, np.ndarray] = {}

    def on_epoch_end(self, trainer, epoch: int) -> None:
        value = getattr(trainer.history, self.monitor)[-1]
        if self.best is None or self._gain(value) > self.min_delta:
            self.best, self.best_epoch, self._waited = value, epoch, 0
            self._keep(trainer.network.params)
            # BatchNorm's running statistics belong to the weights they were gathered with
            state = getattr(trainer.network, "state", None)
            self._best_state = state() if state is not None else {}
            return
        self._waited += 1
        if self._waited >= self.patience:
            what = MONITORS[self.monitor][0]
            trainer.stop(
                f"no better {what} for {self.patience} epochs "
                f"(best {self._format(self.best)} at epoch {self.best_epoch})"
            )

    def on_train_end(self, trainer) -> None:
        if self.best_epoch is None:
            return
        trainer.history.best_epoch = self.best_epoch
        if self.restore_best:
            for name, param in trainer.network.params.items():
                param[...] = self._best_params[name]
            if self._best_state:
                trainer.network.load_state(self._best_state)
            if trainer.log is not None:
                trainer.log(f"restored the weights of epoch {self.best_epoch}")

    def _gain(self, value: float) -> float:
        """How much better `value` is than the best so far (negative: worse)."""
        higher_is_better = MONITORS[self.monitor][1]
        return value - self.best if higher_is_better else self.best - value

    def _keep(self, params: dict[str, np.ndarray]) -> None:
        """Copy params into arrays kept across epochs (made once, then overwritten)."""
        for name, param in params.items():
            kept = self._best_params.get(name)
            if kept is None or kept.shape != param.shape or kept.dtype != param.dtype:
                self._best_params[name] = param.copy()
            else:
                kept[...] = param

    def _format(self, value: float) -> str:
        return f"{value:.2%}" if self.monitor == "val_acc" else f"{value:.4f}"

    def __repr__(self) -> str:
        return (
            f"EarlyStopping(patience={self.patience}, monitor={self.monitor!r}, "
            f"min_delta={self.min_delta:g}, restore_best={self.restore_best})"
        )
