"""Where a search's trials live: an Optuna study in a storage that outlives any one process.

A study holds exactly the trials the search was asked for. Whoever creates it queues that many
trials (Optuna's `enqueue_trial`, no setting fixed: the sampler still draws them); a worker only
ever takes a queued trial (`ask` pops one atomically, in every storage), so however many
workers share the study, on however many machines, each queued trial is run once and no more
are run. Should a worker's `ask` find the queue empty between its look and its ask, Optuna makes
a new trial instead; that one is marked surplus and failed at once, never trained.

Storages: by default a journal file in the search folder (`study.log`, Optuna's
JournalFileBackend: appended to under a file lock, nothing to start, safe for several processes
on one machine); or any database URL Optuna takes (`postgresql+psycopg://user@host/db`, for
workers on several machines). After a crash, `resume` marks the trials the dead processes were
running as failed and queues as many again: every finished trial stays, none is run twice.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

from digitlab.errors import ConfigError
from digitlab.i18n import _

#: the journal file of a search folder's own study
STUDY_FILE = "study.log"
#: user attribute of the trials this study queued, and of those made by an empty queue
QUEUED, SURPLUS = "queued", "surplus"
#: study user attribute: the request the study was made for (trials, settings, search space)
REQUEST = "request"
#: study user attribute, set once every trial is queued: a study a worker may join
READY = "ready"
#: seconds a joining worker waits for the study's creator to queue its trials
JOIN_TIMEOUT_S = 60


def optuna_module():
    """Optuna, or a one-line ConfigError saying which extra brings it."""
    try:
        import optuna
    except ImportError:
        raise ConfigError(
            _("digitlab search needs Optuna: pip install 'digitlab[search]'.")
        ) from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # digitlab prints its own progress
    return optuna


def open_storage(storage: str | Path, *, resume: bool = False):
    """An Optuna storage: a database URL as it is, else the path of a journal file.

    resume: the processes that used the storage are gone. A journal file's lock that one of them
    held when it was killed is then stale: it is released here, where Optuna would wait out its
    30 s grace period before taking it over, with nothing said."""
    optuna = optuna_module()
    text = str(storage)
    if "://" in text:
        return _database(optuna, text)
    from optuna.storages.journal import JournalFileBackend, JournalFileSymlinkLock

    lock = JournalFileSymlinkLock(text)
    if resume:
        with contextlib.suppress(RuntimeError):  # Optuna's word for "there was no lock"
            lock.release()
    return optuna.storages.JournalStorage(JournalFileBackend(text, lock_obj=lock))


def _database(optuna, url: str):
    """Optuna's storage in the database at `url`. Workers started at once on a new database
    all create Optuna's tables; all but one of them lose that race (a unique-key error) and find
    the tables made on their next try."""
    from sqlalchemy.exc import SQLAlchemyError

    for attempt in range(5):
        try:
            return optuna.storages.RDBStorage(url)
        except SQLAlchemyError:
            if attempt == 4:
                raise
            time.sleep(0.2 * (attempt + 1))
    raise AssertionError("unreachable")


def open_study(storage, name: str, request: dict, *, sampler, pruner, resume: bool = False):
    """The study `name` in `storage` for `request` (a JSON-able dict whose "trials" is the
    number of trials): created with that many queued trials if it is new, joined if it exists
    and was made for the same request. resume: the earlier processes are gone; the trials they
    left running are failed and queued again. Raises ConfigError for another request's study."""
    optuna = optuna_module()
    try:
        study = optuna.create_study(
            storage=storage, study_name=name, sampler=sampler, pruner=pruner, direction="maximize"
        )
    except optuna.exceptions.DuplicatedStudyError:
        study = optuna.load_study(storage=storage, study_name=name, sampler=sampler, pruner=pruner)
        _wait_until_ready(study, name)
        _check_same_request(study, name, request)
        if resume:
            _requeue_abandoned(study)
        return study
    study.set_user_attr(REQUEST, request)
    for _i in range(request["trials"]):
        study.enqueue_trial({}, user_attrs={QUEUED: True})
    study.set_user_attr(READY, True)
    return study


def stored_request(storage: str | Path, name: str) -> dict:
    """The request the study `name` in `storage` (a journal file's path or a database URL) was
    made for: what `--resume` continues."""
    optuna = optuna_module()
    try:
        study = optuna.load_study(storage=open_storage(storage), study_name=name)
    except KeyError:
        raise ConfigError(
            _("no search study called {name} in {storage}; check --resume or --study.").format(
                name=name, storage=storage
            )
        ) from None
    return study.user_attrs[REQUEST]


def run_queued(study, objective, *, deadline: float | None = None) -> int:
    """Run queued trials of `study` one after another until none is left (or `deadline`, a
    time.monotonic() value, has passed); returns how many this process ran.

    objective(trial) -> the value to maximize; it raises optuna.TrialPruned for a pruned trial.
    """
    optuna = optuna_module()
    state = optuna.trial.TrialState
    ran = 0
    while deadline is None or time.monotonic() < deadline:
        if not study.get_trials(deepcopy=False, states=(state.WAITING,)):
            break
        trial = study.ask()
        if not trial.user_attrs.get(QUEUED):  # the queue ran dry after the look above
            trial.set_user_attr(SURPLUS, True)
            study.tell(trial, state=state.FAIL)
            break
        try:
            value = objective(trial)
        except optuna.TrialPruned:
            study.tell(trial, state=state.PRUNED)
        except BaseException:
            study.tell(trial, state=state.FAIL)
            raise
        else:
            study.tell(trial, value)
        ran += 1
    return ran


def param_importances(storage: str | Path, name: str) -> dict[str, float] | None:
    """Optuna's estimate (fANOVA) of how much each searched setting mattered to the validation
    accuracy, summing to 1; None when the finished trials are too few or alike to tell."""
    optuna = optuna_module()
    study = optuna.load_study(storage=open_storage(storage), study_name=name)
    trials = finished_trials(study)
    varied = {
        key for t in trials for key in t.params if len({u.params.get(key) for u in trials}) > 1
    }
    if len(trials) < 3 or not varied:
        return None
    complete = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    if len(complete) < 3:
        return None
    return dict(optuna.importance.get_param_importances(study, params=sorted(varied)))


def finished_trials(study) -> list:
    """The study's queued trials that completed or were pruned, by number (FrozenTrials)."""
    state = optuna_module().trial.TrialState
    done = study.get_trials(deepcopy=False, states=(state.COMPLETE, state.PRUNED))
    return sorted((t for t in done if t.user_attrs.get(QUEUED)), key=lambda t: t.number)


def _wait_until_ready(study, name: str) -> None:
    """Wait while another worker, which has just made the study, queues its trials."""
    deadline = time.monotonic() + JOIN_TIMEOUT_S
    while not study.user_attrs.get(READY):
        if time.monotonic() > deadline:
            raise ConfigError(
                _(
                    "the study {name} has no queued trials after {seconds} s: the worker that "
                    "made it stopped before queueing them; delete the study or choose another "
                    "--study."
                ).format(name=name, seconds=JOIN_TIMEOUT_S)
            )
        time.sleep(0.2)


def _check_same_request(study, name: str, request: dict) -> None:
    stored = study.user_attrs.get(REQUEST)
    if stored != request:
        changed = sorted(
            key
            for key in set(stored or {}) | set(request)
            if (stored or {}).get(key) != request.get(key)
        )
        raise ConfigError(
            _(
                "the study {name} was started with other settings ({settings}); start every "
                "worker with the same command, or choose another --study."
            ).format(name=name, settings=", ".join(changed))
        )


def _requeue_abandoned(study) -> None:
    """Fail the trials left running by processes that are gone, and queue as many again."""
    state = optuna_module().trial.TrialState
    for trial in study.get_trials(deepcopy=False, states=(state.RUNNING,)):
        study.tell(trial.number, state=state.FAIL, skip_if_finished=True)
        if trial.user_attrs.get(QUEUED):
            study.enqueue_trial({}, user_attrs={QUEUED: True})
