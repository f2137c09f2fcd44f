"""Mini-batch training: epochs over shuffled batches, a progress bar and a summary per epoch."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from typing import ClassVar

import numpy as np
from tqdm.auto import tqdm

from digitlab._validate import whole
from digitlab.errors import ConfigError
from digitlab.nn.network import check_batch_memory
from digitlab.train.callbacks import call
from digitlab.train.history import History
from digitlab.train.live import LivePlot
from digitlab.train.optimizers import SGD
from digitlab.train.threads import check_setting, limited, run_threads


class Trainer:
    """Trains a network (anything with `params` and `loss_and_gradient`, or `gradient` + `loss`).

    Each epoch visits every training sample exactly once, in a fresh random order drawn from the
    trainer's seeded generator, so the same seed gives the same run.

    Args:
        network: the network to train, changed in place.
        optimizer: anything with `update(params, grads)`; default SGD(lr=0.1).
        epochs: passes over the training set.
        batch_size: samples per step (the last batch of an epoch may be smaller).
        seed: seed of the shuffling.
        progress: show a progress bar per epoch (None: only when writing to a terminal).
        log: where the one-line summary of each epoch goes (None: nowhere).
        callbacks: objects watching the run (see digitlab.train.callbacks), such as
            EarlyStopping.
        schedule: a learning-rate schedule (digitlab.train.schedules): before each step,
            `optimizer.lr = base_lr * schedule(epochs done)`, base_lr being the optimizer's lr
            when the first fit began.
        augment: called as `augment(x_batch, rng)` on each training batch (not on the data
            set), e.g. digitlab.datasets.Augment(); it draws from the trainer's generator.
        watch: add a watcher, `Trainer.make_watcher()`, to the callbacks, kept as
            `self.watcher`. digitlab/__init__.py installs the doctor's TrainingWatcher, which
            stops a run whose loss turns NaN or diverges, with the finding that explains it,
            and logs saturated or dead units and stalls. (train/ does not know the doctor: the
            doctor reads train, and the two meet at the package's top.)
        train_accuracy_samples: the training accuracy after each epoch is measured on at most
            this many training samples, every k-th one, the same every epoch (None: all). On
            60,000 images, a full pass costs a third of an epoch's training, while 10,000
            samples pin the accuracy to within about 0.2 points (its standard error at 95%).
        live: in a Jupyter notebook, show the loss and accuracy curves below the cell and
            redraw them after every epoch (digitlab.train.live.LivePlot).
        blas_threads: threads of the BLAS library during `fit`: "auto" (one where every
            matrix product of a step is small, as for 784-100-10 in batches of 100, where a
            second thread slows training; else the library's choice; see
            digitlab.train.threads), a number, or None (leave the library as it is).
    """

    #: makes the watcher that `watch=True` adds (a callback object), installed where the
    #: layers meet (digitlab/__init__.py)
    make_watcher: ClassVar[Callable[[], object]]

    def __init__(
        self,
        network,
        optimizer=None,
        *,
        epochs: int = 10,
        batch_size: int = 100,
        seed: int | None = 0,
        progress: bool | None = None,
        log: Callable[[str], None] | None = tqdm.write,
        callbacks: Sequence[object] = (),
        schedule: Callable[[float], float] | None = None,
        augment: Callable[[np.ndarray, np.random.Generator], np.ndarray] | None = None,
        watch: bool = True,
        train_accuracy_samples: int | None = 10_000,
        live: bool = False,
        blas_threads: int | str | None = "auto",
    ) -> None:
        self.network = network
        self.optimizer = optimizer if optimizer is not None else SGD(0.1)
        # validated as every constructor's numbers are (a bool is no count: epochs=True is refused)
        self.epochs = whole("epochs", epochs, low=1, example="10")
        self.batch_size = whole("batch_size", batch_size, low=1, example="100")
        self.rng = np.random.default_rng(seed)
        self.progress = progress
        self.log = log
        self.history = History()
        self.callbacks = list(callbacks)
        if live:
            self.callbacks.append(LivePlot())
        if schedule is not None and not hasattr(self.optimizer, "lr"):
            raise ConfigError(
                f"a schedule sets optimizer.lr, but {self.optimizer!r} has no lr; "
                "use a digitlab optimizer or drop the schedule."
            )
        self.schedule = schedule
        self.augment = augment
        #: the optimizer's lr when the first fit began: what the schedule's factors multiply
        self.base_lr: float | None = None
        #: the (x_val, t_val) of the current fit, or None (read by EarlyStopping)
        self.validation: tuple[np.ndarray, np.ndarray] | None = None
        self._stop_reason: str | None = None
        self.watch = bool(watch)
        #: the doctor's TrainingWatcher, made at the first fit when watch is True
        self.watcher = None
        if train_accuracy_samples is not None and (
            not isinstance(train_accuracy_samples, (int, np.integer)) or train_accuracy_samples < 1
        ):
            raise ConfigError(
                f"train_accuracy_samples={train_accuracy_samples!r} must be a whole number >= 1, "
                "or None to measure the training accuracy on every sample."
            )
        self.train_accuracy_samples = train_accuracy_samples
        self.blas_threads = check_setting(blas_threads)

    def stop(self, reason: str) -> None:
        """Ask the run to end after the current step (called by callbacks)."""
        self._stop_reason = reason

    def fit(
        self,
        x_train: np.ndarray,
        t_train: np.ndarray,
        x_test: np.ndarray | None = None,
        t_test: np.ndarray | None = None,
        *,
        validation: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> History:
        """Train for `epochs` epochs. x: (N, D) float; t: (N,) int labels or (N, C) one-hot.

        validation: (x_val, t_val), held out of x_train (see train_validation_split); its
        accuracy and loss are recorded after each epoch, for EarlyStopping to monitor.

        Returns the History (also kept as `self.history`), extended if fit is called again.
        """
        if x_train.shape[0] != t_train.shape[0]:
            raise ConfigError(
                f"x_train has {x_train.shape[0]} samples but t_train has {t_train.shape[0]}."
            )
        n = x_train.shape[0]
        steps = -(-n // self.batch_size)
        history = self.history
        history.steps_per_epoch = steps
        step_fn = _step_function(self.network)
        first_epoch = history.epochs
        self.validation = validation
        if self.schedule is not None and self.base_lr is None:
            self.base_lr = self.optimizer.lr
        self._stop_reason = None
        if self.watch and self.watcher is None:
            self.watcher = Trainer.make_watcher()
            self.callbacks.append(self.watcher)
        x_seen, t_seen = self._accuracy_subset(x_train, t_train)
        call(self.callbacks, "on_train_begin", self)
        # Every batch is gathered into this one array rather than a new one per step (300 KB
        # for 100 MNIST images): freeing and re-allocating that much each step can make the
        # allocator hand pages back to the system and fault them in again.
        rows = min(self.batch_size, n)  # a batch larger than the data is the whole data
        if hasattr(self.network, "activation_sizes"):
            check_batch_memory(self.network.activation_sizes(), rows, x_train.dtype)
        batch_buffer = np.empty((rows, *x_train.shape[1:]), dtype=x_train.dtype)
        # one numpy error state for the whole loop: with a watcher, an overflow is its finding
        # (named, with its cause) rather than numpy's warning printed before it
        threads = run_threads(self.network, rows, self.blas_threads)
        with self._quiet_if_watched(), limited(threads):
            for epoch in range(first_epoch + 1, first_epoch + self.epochs + 1):
                start_time = time.perf_counter()
                order = self.rng.permutation(n)
                losses = np.empty(steps)
                bar = tqdm(
                    range(steps),
                    desc=f"epoch {epoch}/{first_epoch + self.epochs}",
                    disable=None if self.progress is None else not self.progress,
                    leave=False,
                    unit="batch",
                )
                for step in bar:
                    batch = order[step * self.batch_size : (step + 1) * self.batch_size]
                    # mode="clip" spares take the bounds-checked copy that mode="raise" makes
                    # before writing to `out`: the indices come from permutation(n), all in range
                    x_batch = np.take(
                        x_train, batch, axis=0, out=batch_buffer[: len(batch)], mode="clip"
                    )
                    if self.augment is not None:
                        x_batch = self.augment(x_batch, self.rng)
                    if self.schedule is not None:
                        self.optimizer.lr = self.base_lr * self.schedule(epoch - 1 + step / steps)
                    loss, grads = step_fn(x_batch, t_train[batch])
                    self.optimizer.update(self.network.params, grads)
                    losses[step] = loss
                    call(
                        self.callbacks,
                        "on_step_end",
                        self,
                        len(history.loss) + step + 1,
                        loss,
                        grads,
                    )
                    if self._stop_reason is not None:
                        losses = losses[: step + 1]
                        break
                bar.close()
                history.seconds.append(time.perf_counter() - start_time)
                history.loss.extend(losses.tolist())
                history.epoch_loss.append(float(losses.mean()))
                history.train_acc.append(self.network.accuracy(x_seen, t_seen))
                if x_test is not None and t_test is not None:
                    history.test_acc.append(self.network.accuracy(x_test, t_test))
                if validation is not None:
                    history.val_acc.append(self.network.accuracy(*validation))
                    history.val_loss.append(float(self.network.loss(*validation)))
                if hasattr(self.optimizer, "lr"):
                    history.lr.append(float(self.optimizer.lr))
                if self.log is not None:
                    self.log(self._summary(epoch, first_epoch + self.epochs))
                call(self.callbacks, "on_epoch_end", self, epoch)
                if self._stop_reason is not None:
                    history.stopped = self._stop_reason
                    if self.log is not None:
                        self.log(f"stopped: {self._stop_reason}")
                    break
        call(self.callbacks, "on_train_end", self)
        return history

    def _quiet_if_watched(self):
        """numpy's overflow/invalid warnings off while a TrainingWatcher checks every step (it
        stops the run at the first non-finite value and says why); on without one."""
        if self.watcher is None:
            return contextlib.nullcontext()
        return np.errstate(over="ignore", invalid="ignore", divide="ignore")

    def _accuracy_subset(self, x: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The training samples the accuracy after each epoch is measured on: all of them, or
        every k-th of them, at most train_accuracy_samples: a systematic sample, as
        representative as a random one (a data set sorted by class gives each class its
        share), and a view of x rather than a copy (a random 10,000 of 60,000 images is a
        31 MB gather, 6% of a 784-100-10 epoch). The shuffling (self.rng) is not touched."""
        limit = self.train_accuracy_samples
        if limit is None or x.shape[0] <= limit:
            return x, t
        step = -(-x.shape[0] // limit)  # the smallest step that keeps at most `limit`
        return x[::step], t[::step]

    def _summary(self, epoch: int, last_epoch: int) -> str:
        h = self.history
        line = f"epoch {epoch}/{last_epoch}  loss {h.epoch_loss[-1]:.4f}"
        line += f"  train {h.train_acc[-1]:.1%}"
        if h.test_acc:
            line += f"  test {h.test_acc[-1]:.1%}"
        if h.val_acc:
            line += f"  val {h.val_acc[-1]:.1%}"
        return line

    def __repr__(self) -> str:
        return (
            f"Trainer({self.network!r}, {self.optimizer!r}, epochs={self.epochs}, "
            f"batch_size={self.batch_size})"
        )


def _step_function(network):
    """loss_and_gradient when the network has it (one pass), else the book's loss + gradient."""
    if hasattr(network, "loss_and_gradient"):
        return network.loss_and_gradient

    def step(x: np.ndarray, t: np.ndarray):
        grads = network.gradient(x, t)
        return network.loss(x, t), grads

    return step
