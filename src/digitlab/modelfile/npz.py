"""Model files: one `.npz` of arrays plus a `metadata.json` member, never a pickle.

The file is a zip (NumPy's npz layout). Each array is a member `NAME.npy`, read back with
`allow_pickle=False`:

    W1, b1, W2, b2, ...          the network's `params`
    state/NAME                   non-parameter state (BatchNorm's running statistics), from
                                 `network.state()` where the network has one
    optimizer/..., extra/...     only in checkpoints: the optimizer's state (velocities,
                                 moments) and the training recorder's statistics

`metadata.json` holds the format and its version, the digitlab version, the creation time, the
network's `config()` (architecture and layer settings) and its `repr`, what it was trained on
(data set, class names, normalization, accuracy, training settings), a shape, dtype and SHA-256
for every array, and a SHA-256 of the metadata itself. A file from a newer format, a missing or
unlisted array, a shape that contradicts the architecture, or any changed byte of an array or of
the metadata is refused with a `ModelFileError` instead of becoming a silently wrong network.

Writes go to a temporary file in the same folder that is renamed into place, so a crash never
leaves half a model. Format history: version 1 (digitlab 0.1) had parameters only; version 2
adds `state/` arrays, checkpoints and the metadata checksum. Version 1 files still load.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
import zlib
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import partial
from importlib import resources
from pathlib import Path

import numpy as np

from digitlab.atomic import atomic_write, remove_stale
from digitlab.errors import ModelFileError
from digitlab.i18n import _
from digitlab.nn.build import network_from_config
from digitlab.train.history import History
from digitlab.version import __version__

FORMAT = "digitlab-model"
FORMAT_VERSION = 2
METADATA_MEMBER = "metadata.json"
STATE_PREFIX = "state/"
#: the largest metadata.json read: a model's is ~2 KB, a checkpoint's history some hundred KB
MAX_METADATA_BYTES = 8 << 20
#: bytes any array of a model file may hold, however small the network (random states, history)
MIN_ARRAY_BUDGET = 16 << 20
OPTIMIZER_PREFIX = "optimizer/"
EXTRA_PREFIX = "extra/"

#: metadata keys every save writes afresh (never copied from a loaded network's metadata)
_WRITTEN_KEYS = frozenset(
    {"format", "format_version", "digitlab_version", "created", "kind", "network", "arrays"}
    | {"architecture", "metadata_sha256"}
)
#: metadata keys only a checkpoint has
_CHECKPOINT_KEYS = frozenset({"history", "epoch", "optimizer", "random_state", "trainer"})


def save(network, path: str | Path, **metadata) -> Path:
    """Write `network` to `path` (a `.npz`), atomically; returns the path.

    Keywords go into the metadata (e.g. dataset="mnist-10k", classes=["0", ..., "9"],
    accuracy={"test": 0.96}, normalization={...}); the keys of `network.metadata` (what a
    loaded network knows of its training) are kept unless a keyword replaces them.
    """
    return _write_npz(path, *model_contents(network, **metadata))


def model_contents(network, **metadata) -> tuple[dict[str, np.ndarray], dict]:
    """The arrays and the metadata a model file of `network` holds, whatever its container (a
    .npz here, safetensors in digitlab.export): its params, its state under "state/", and the
    metadata of `save`."""
    inherited = {
        k: v
        for k, v in getattr(network, "metadata", {}).items()
        if k not in _WRITTEN_KEYS | _CHECKPOINT_KEYS
    }
    arrays = {**network.params, **_prefixed(STATE_PREFIX, network_state(network))}
    return _contents(network, arrays, {**inherited, **metadata, "kind": "model"})


def load_npz(path: str | Path):
    """Rebuild the network saved at `path` (a model file or a checkpoint), bit for bit; its
    metadata is `.metadata`. Raises ModelFileError for a missing, malformed, tampered or
    newer-format file.
    """
    path = Path(path)
    remove_stale(path)  # what a save killed midway left beside it
    meta = read_metadata(path)
    network = built_network(path, meta)
    with _open_npz(path) as npz:
        arrays = _checked_arrays(path, npz, meta, array_budget(network))
    return filled_network(path, meta, arrays, network)


def read_metadata(path: str | Path) -> dict:
    """The metadata of a model file, checked for the format, its version and its checksum."""
    path = Path(path)
    if not path.is_file():
        where = _("it is a folder") if path.is_dir() else _("no such file")
        raise ModelFileError(
            _("cannot load {path}: {where}; pass the path of a model .npz file.").format(
                path=path, where=where
            )
        )
    try:
        with zipfile.ZipFile(path) as zf:
            meta = json.loads(_read_metadata_member(path, zf))
    except (
        zipfile.BadZipFile,
        zlib.error,
        KeyError,
        json.JSONDecodeError,
        UnicodeDecodeError,
        OSError,
        RecursionError,  # JSON nested 100,000 deep
    ):
        raise ModelFileError(
            _(
                "cannot load {name}: it is not a digitlab model file (no readable "
                "{member}); pass a model.npz written by `digitlab train`."
            ).format(name=path.name, member=METADATA_MEMBER)
        ) from None
    return checked_metadata(path, meta)


def checked_metadata(path: Path, meta) -> dict:
    """`meta` (a model's metadata, from any container) checked for the format, its version,
    its checksum and the records it must hold; a ModelFileError naming `path` if not."""
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelFileError(
            _(
                "cannot load {name}: its metadata does not say format {format!r}; "
                "pass a model.npz written by `digitlab train`."
            ).format(name=path.name, format=FORMAT)
        )
    version = meta.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ModelFileError(
            _(
                "cannot load {name}: its format version {version!r} is not a version "
                "number; the file was altered, save the model again."
            ).format(name=path.name, version=version)
        )
    if version > FORMAT_VERSION:
        raise ModelFileError(
            _(
                "cannot load {name}: it has model format version {version!r}, and this "
                "digitlab reads up to {newest}; upgrade digitlab (pip install -U digitlab)."
            ).format(name=path.name, version=version, newest=FORMAT_VERSION)
        )
    if version >= 2 and meta.get("metadata_sha256") != _metadata_digest(meta):
        raise ModelFileError(
            _(
                "cannot load {name}: its metadata does not match its checksum; the file "
                "was altered or damaged, save the model again."
            ).format(name=path.name)
        )
    if not isinstance(meta.get("arrays"), dict) or not isinstance(meta.get("network"), dict):
        raise ModelFileError(
            _(
                "cannot load {name}: its metadata lists no network or no arrays; the file "
                "is damaged or was not written by digitlab."
            ).format(name=path.name)
        )
    return meta


# -- the default model --------------------------------------------------------------------------


def default_model_path() -> Path:
    """Where the model shipped with the package is (it may be absent from a source checkout)."""
    return shipped_model_path("default")


def shipped_model_path(name: str) -> Path:
    """Where the package's model `name` is: "default" (the digit reader, a SimpleConvNet) or
    "digit_or_not" (the network that refuses letters, see digitlab.imaging.digit_check)."""
    return Path(str(resources.files("digitlab") / "models" / f"{name}.npz"))


def load_default():
    """The model that ships with digitlab: the book's SimpleConvNet, 256 hidden units, trained
    on mnist-10k with augmentation (README, "The default model")."""
    path = default_model_path()
    if not path.is_file():
        raise ModelFileError(
            _(
                "the default model {path} is not installed; pass a model with --model "
                "(e.g. runs/.../model.npz from `digitlab train`)."
            ).format(path=path)
        )
    return load_npz(path)


# -- network state (BatchNorm's running statistics and the like) ---------------------------------


def network_state(network) -> dict[str, np.ndarray]:
    """The network's non-parameter arrays (`network.state()`), {} for a network without any."""
    state = getattr(network, "state", None)
    if not callable(state):
        return {}
    arrays = {}
    for name, value in state().items():
        array = np.asarray(value)
        if array.dtype.kind not in "biuf":
            raise TypeError(
                f"{type(network).__name__}.state()[{name!r}] is {array.dtype}, not numbers; "
                "a model file holds numeric arrays only."
            )
        arrays[name] = array
    return arrays


# -- checkpoints --------------------------------------------------------------------------------


@dataclass
class Checkpoint:
    """What `load_checkpoint` restores: enough to continue a run where it stopped.

    Resuming puts back the weights and network state (BatchNorm's running statistics), the
    optimizer's state (velocities, moments, step count, learning rate), the History, the
    random generators of the trainer (shuffling, augmentation) and of the layers (Dropout's
    masks), a schedule's base learning rate, and the recorder's statistics (`extras`): a
    resumed run is the uninterrupted run, bit for bit.

    network: the network after `epoch` epochs; history: the History so far (a dict,
    `History(**history)`); training: the run's settings; optimizer: its saved attributes
    (`restore_optimizer` puts them back); random_state: the generators' states.
    """

    network: object
    epoch: int
    history: dict
    training: dict
    optimizer: dict
    random_state: dict
    extras: dict[str, np.ndarray] = field(default_factory=dict)
    metadata: dict = field(default_factory=dict)

    def restore(self, trainer) -> None:
        """Put the history, optimizer state and random generators back into `trainer`.

        The trainer must train `self.network` with an optimizer of the saved type.
        """
        trainer.history = self._history()
        restore_optimizer(trainer.optimizer, self.optimizer, self.network)
        layers = getattr(self.network, "layers", [])
        for name, state in self.random_state.items():
            if not isinstance(name, str) or not isinstance(state, dict):
                raise _damaged("random_state", name)
            if name.startswith("layers/"):
                _prefix, index, attribute = name.split("/", 2)
                owner = layers[int(index)] if index.isdigit() and int(index) < len(layers) else None
            else:
                owner, attribute = trainer, name
            generator = getattr(owner, attribute, None)
            if isinstance(generator, np.random.Generator):
                try:
                    generator.bit_generator.state = state
                except (TypeError, ValueError, KeyError) as exc:
                    raise _damaged("random_state", exc) from None
        base_lr = self.metadata.get("trainer", {}).get("base_lr")
        if base_lr is not None and hasattr(trainer, "base_lr"):
            if not _finite_number(base_lr) or base_lr <= 0:
                raise _damaged("trainer.base_lr", base_lr)
            trainer.base_lr = base_lr

    def _history(self):
        """The saved History: lists of finite numbers, a count, a reason and an epoch."""
        try:
            history = History(**self.history)
        except TypeError as exc:
            raise _damaged("history", exc) from None
        for name, value in vars(history).items():
            if name in ("stopped", "best_epoch", "steps_per_epoch"):
                valid = value is None or (
                    isinstance(value, (str, int)) and not isinstance(value, bool)
                )
            else:
                valid = isinstance(value, list) and all(
                    isinstance(v, (int, float)) and not isinstance(v, bool) for v in value
                )
            if not valid:
                raise _damaged(f"history.{name}", value)
        return history


def save_checkpoint(
    path: str | Path,
    trainer,
    *,
    extras: dict[str, np.ndarray] | None = None,
    **metadata,
) -> Path:
    """Write what `trainer` needs to continue: network, optimizer, history, random generators.

    `extras` are more arrays to keep (the recorder's statistics); keywords go into the
    metadata as in `save` (training=..., dataset=..., classes=...).
    """
    network = trainer.network
    optimizer_meta, optimizer_arrays = optimizer_state(trainer.optimizer)
    arrays = {
        **network.params,
        **_prefixed(STATE_PREFIX, network_state(network)),
        **_prefixed(OPTIMIZER_PREFIX, optimizer_arrays),
        **_prefixed(EXTRA_PREFIX, extras or {}),
    }
    random_state = {
        name: value.bit_generator.state
        for name, value in vars(trainer).items()
        if isinstance(value, np.random.Generator)
    }
    # Layers with randomness of their own (Dropout's masks) keep a generator each.
    for i, layer in enumerate(getattr(network, "layers", [])):
        for name, value in vars(layer).items():
            if isinstance(value, np.random.Generator):
                random_state[f"layers/{i}/{name}"] = value.bit_generator.state
    meta = {
        **metadata,
        "kind": "checkpoint",
        "epoch": trainer.history.epochs,
        "history": trainer.history.to_dict(),
        "optimizer": optimizer_meta,
        "random_state": random_state,
        # A schedule multiplies the lr the first fit began with; resuming must keep it.
        "trainer": {"base_lr": getattr(trainer, "base_lr", None)},
    }
    return _write_npz(path, *_contents(network, arrays, meta))


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Read a checkpoint written by `save_checkpoint` (or `digitlab train --checkpoint`)."""
    path = Path(path)
    meta = read_metadata(path)
    if meta.get("kind") != "checkpoint":
        raise ModelFileError(
            _(
                "cannot resume from {name}: it is a model file, not a checkpoint; resume from "
                "the checkpoint.npz that `digitlab train --checkpoint` writes."
            ).format(name=path.name)
        )
    network = built_network(path, meta)
    with _open_npz(path) as npz:
        arrays = _checked_arrays(path, npz, meta, array_budget(network))
    network = filled_network(path, meta, arrays, network)
    try:
        return Checkpoint(
            network=network,
            epoch=int(meta["epoch"]),
            history=dict(meta["history"]),
            training=dict(meta.get("training", {})),
            optimizer={
                **meta["optimizer"],
                "arrays": _unprefixed(OPTIMIZER_PREFIX, arrays),
            },
            random_state=dict(meta["random_state"]),
            extras=_unprefixed(EXTRA_PREFIX, arrays),
            metadata=meta,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(
            _(
                "cannot resume from {name}: its checkpoint metadata is incomplete ({reason}); "
                "the file is damaged, start the run again."
            ).format(name=path.name, reason=exc)
        ) from None


def optimizer_state(optimizer) -> tuple[dict, dict[str, np.ndarray]]:
    """The optimizer's state as (JSON metadata, arrays by slash-joined key).

    Public attributes are saved: numbers, strings and None as they are, arrays and (nested)
    dicts of arrays (velocities, moments per parameter) as arrays. Private dicts of arrays are
    working memory (scratch buffers): only their shapes are kept, and they come back as zeros.
    Other objects are listed under "not_saved".
    """
    scalars, arrays, dicts, not_saved = {}, {}, [], []
    buffers: dict[str, dict[str, list]] = {}
    for name, value in vars(optimizer).items():
        if name.startswith("_"):
            shapes: dict[str, np.ndarray] = {}
            if isinstance(value, dict) and _flatten(value, name, shapes):
                buffers[name] = {k: [list(a.shape), a.dtype.name] for k, a in shapes.items()}
            continue
        if value is None or isinstance(value, (bool, int, float, str)):
            scalars[name] = value
        elif isinstance(value, (np.integer, np.floating)):
            scalars[name] = value.item()
        elif isinstance(value, np.ndarray):
            arrays[name] = value
        elif isinstance(value, dict) and _flatten(value, name, arrays):
            dicts.append(name)
        else:
            not_saved.append(name)
    meta = {
        "type": type(optimizer).__name__,
        "repr": repr(optimizer),
        "scalars": scalars,
        "dicts": dicts,
        "buffers": buffers,
        "not_saved": not_saved,
    }
    return meta, arrays


def restore_optimizer(optimizer, saved: dict, network=None) -> None:
    """Set the attributes `optimizer_state` saved back on an optimizer of the same type; each
    scalar must be one the optimizer has, of its kind, and each buffer shaped like one of the
    `network`'s params (a damaged file asking for a terabyte of zeros is refused)."""
    if type(optimizer).__name__ != saved.get("type"):
        raise ModelFileError(
            _(
                "cannot resume: the checkpoint's optimizer is {saved}, not {optimizer!r}; "
                "resume with the run's own settings."
            ).format(saved=saved.get("repr"), optimizer=optimizer)
        )
    scalars, dicts, buffers = (
        saved.get("scalars", {}),
        saved.get("dicts", []),
        saved.get("buffers", {}),
    )
    if not (isinstance(scalars, dict) and isinstance(dicts, list) and isinstance(buffers, dict)):
        raise _damaged("optimizer", "scalars, dicts or buffers of the wrong kind")
    for name, value in scalars.items():
        current = getattr(optimizer, name, _MISSING)
        if current is _MISSING or not _same_kind(current, value):
            raise _damaged(f"optimizer.{name}", value)
        setattr(optimizer, name, value)
    arrays = saved.get("arrays", {})
    for name in dicts:
        setattr(optimizer, name, _unflatten(arrays, name))
    for key, array in arrays.items():
        if "/" not in key and key not in dicts:
            setattr(optimizer, key, array)
    shapes_allowed = (
        {(tuple(np.shape(p)), np.asarray(p).dtype.name) for p in network.params.values()}
        if network is not None
        else None
    )
    for name, shapes in buffers.items():
        zeros = {}
        for key, entry in shapes.items() if isinstance(shapes, dict) else ():
            shape, dtype = _buffer_entry(entry)
            if shape is None or (
                shapes_allowed is not None and (shape, dtype) not in shapes_allowed
            ):
                raise _damaged(f"optimizer.{name}/{key}", entry)
            zeros[key] = np.zeros(shape, dtype)
        setattr(optimizer, name, _unflatten(zeros, name))


_MISSING = object()


def _same_kind(current, value) -> bool:
    """Whether a saved optimizer scalar may replace `current`: a finite number for a number
    (an int for an int count), or the same type (None, a string)."""
    if isinstance(current, bool) or isinstance(value, bool):
        return type(current) is type(value)
    if isinstance(current, (int, float, np.integer, np.floating)):
        if isinstance(current, (int, np.integer)):
            return isinstance(value, int)
        return _finite_number(value)
    return current is None or value is None or type(current) is type(value)


def _finite_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and np.isfinite(value)


def _buffer_entry(entry) -> tuple[tuple[int, ...] | None, str]:
    """(shape, dtype name) of a saved scratch buffer, or (None, "") for anything else."""
    if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], list)):
        return None, ""
    shape, dtype = entry
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape):
        return None, ""
    return tuple(shape), str(dtype)


def _damaged(field: str, detail) -> ModelFileError:
    return ModelFileError(
        _(
            "cannot resume: the checkpoint's {field} is damaged ({detail}); start the run again "
            "from its model or from scratch."
        ).format(field=field, detail=_clip(detail))
    )


class CheckpointEachEpoch:
    """A Trainer callback that writes a checkpoint at the end of every epoch (atomically).

    Args:
        path: the checkpoint file, replaced each epoch.
        metadata: keywords for `save_checkpoint` (training settings, data set, classes, ...).
        extras: a function returning more arrays to keep (the recorder's `to_arrays`).
    """

    def __init__(
        self,
        path: str | Path,
        metadata: dict | None = None,
        extras: Callable[[], dict[str, np.ndarray]] | None = None,
    ) -> None:
        self.path = Path(path)
        self.metadata = dict(metadata or {})
        self.extras = extras

    def on_epoch_end(self, trainer, epoch: int) -> None:
        extras = self.extras() if self.extras is not None else None
        save_checkpoint(self.path, trainer, extras=extras, **self.metadata)

    def __repr__(self) -> str:
        return f"CheckpointEachEpoch({str(self.path)!r})"


# -- writing and reading ------------------------------------------------------------------------


def _write_npz(path: str | Path, arrays: dict[str, np.ndarray], meta: dict) -> Path:
    path = Path(path)
    with atomic_write(path, "wb") as f, zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, array in arrays.items():
            with zf.open(f"{name}.npy", "w") as member:
                np.lib.format.write_array(member, array, allow_pickle=False)
        zf.writestr(METADATA_MEMBER, metadata_json(meta))
    return path


def metadata_json(meta: dict) -> str:
    return json.dumps(meta, indent=1, default=_json_default)


def _contents(
    network, arrays: dict[str, np.ndarray], metadata: dict
) -> tuple[dict[str, np.ndarray], dict]:
    """`arrays` made contiguous, and the metadata of a file holding them: `metadata` with the
    format, the network's config, each array's shape, dtype and SHA-256, and a checksum of it
    all."""

    arrays = {name: np.ascontiguousarray(a) for name, a in arrays.items()}
    meta = {
        **metadata,
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "digitlab_version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "architecture": repr(network),
        "network": network.config(),
        "arrays": {
            name: {"shape": list(a.shape), "dtype": a.dtype.name, "sha256": _digest(a)}
            for name, a in arrays.items()
        },
    }
    meta["metadata_sha256"] = _metadata_digest(meta)
    return arrays, meta


@contextmanager
def _open_npz(path: Path):
    """np.load(path, allow_pickle=False) as a context, with a damaged zip as ModelFileError."""
    try:
        npz = np.load(path, allow_pickle=False)
    except (OSError, ValueError, zipfile.BadZipFile, zlib.error) as exc:
        raise ModelFileError(
            _(
                "cannot load {name}: its arrays cannot be read ({reason}); save the model again."
            ).format(name=path.name, reason=exc)
        ) from None
    with npz:
        yield npz


def _read_metadata_member(path: Path, zf: zipfile.ZipFile) -> bytes:
    """metadata.json's bytes, refused over MAX_METADATA_BYTES before it is decompressed (and
    never decompressed further, whatever its zip entry claims)."""
    info = zf.getinfo(METADATA_MEMBER)
    with zf.open(info) as member:
        raw = member.read(MAX_METADATA_BYTES + 1) if info.file_size <= MAX_METADATA_BYTES else b""
    if info.file_size > MAX_METADATA_BYTES or len(raw) > MAX_METADATA_BYTES:
        raise ModelFileError(
            _(
                "cannot load {name}: its {member} is {size:,} bytes, over the limit of {limit:,}; "
                "the file was altered or damaged, save the model again."
            ).format(
                name=path.name,
                member=METADATA_MEMBER,
                size=max(info.file_size, len(raw)),
                limit=MAX_METADATA_BYTES,
            )
        )
    return raw


def built_network(path: Path, meta: dict):
    """The architecture in `meta`, built (weights drawn afresh), after its size was checked."""
    try:
        return network_from_config(meta["network"])
    except Exception as exc:  # any failure to build means the metadata is not ours
        raise ModelFileError(
            _(
                "cannot load {name}: its metadata describes no network digitlab can build "
                "({reason}); the file is damaged or was not written by a compatible digitlab."
            ).format(name=path.name, reason=exc)
        ) from None


def array_budget(network) -> int:
    """The most bytes one array of the file may hold: the network's largest weight (an
    optimizer's moments are as large), or MIN_ARRAY_BUDGET for the small extras."""
    largest = max((np.asarray(p).nbytes for p in network.params.values()), default=0)
    return max(largest, MIN_ARRAY_BUDGET)


def filled_network(path: Path, meta: dict, arrays: dict[str, np.ndarray], network):
    """Put the checked `arrays` into the `network` built from `meta`."""
    expected = {**network.params, **_prefixed(STATE_PREFIX, network_state(network))}
    for name, want in expected.items():
        if name not in arrays:
            raise missing_array(path, name)
        got = arrays[name]
        if got.shape != want.shape or got.dtype != want.dtype:
            raise ModelFileError(
                _(
                    "cannot load {file}: {name} is {got} but the architecture needs {want}; "
                    "the file was altered."
                ).format(
                    file=path.name,
                    name=name,
                    got=f"{got.dtype}{list(got.shape)}",
                    want=f"{want.dtype}{list(want.shape)}",
                )
            )
    unexpected = [
        name
        for name in arrays
        if name not in expected and not name.startswith((OPTIMIZER_PREFIX, EXTRA_PREFIX))
    ]
    if unexpected:
        raise ModelFileError(
            _(
                "cannot load {file}: it holds the array {name!r}, which its architecture "
                "{architecture} has no place for; the file was altered."
            ).format(file=path.name, name=unexpected[0], architecture=meta.get("architecture", ""))
        )
    for name in network.params:
        network.params[name] = arrays[name]
    state = _unprefixed(STATE_PREFIX, arrays)
    if state:
        network.load_state(state)
    classes = meta.get("classes")
    outputs = network.output_size
    if classes is not None and (
        not isinstance(classes, list) or not all(isinstance(c, (str, int)) for c in classes)
    ):
        raise ModelFileError(
            _(
                "cannot load {file}: its metadata's classes are {classes}, not a list of class "
                "names; the file was altered."
            ).format(file=path.name, classes=_clip(classes))
        )
    if classes is not None and len(classes) != outputs:
        raise ModelFileError(
            _(
                "cannot load {file}: its metadata names {count} classes but the network has "
                "{outputs} outputs; the file was altered."
            ).format(file=path.name, count=len(classes), outputs=outputs)
        )
    _check_normalization(path, meta.get("normalization"), network.input_size)
    for name, value in network.params.items():
        if not np.all(np.isfinite(value)):
            raise ModelFileError(
                _(
                    "cannot load {file}: its weights {name} hold NaN or infinity; the training "
                    "diverged before this file was saved: train again with a lower learning rate."
                ).format(file=path.name, name=name)
            )
    network.metadata = meta
    return network


def _check_normalization(path: Path, normalization, inputs: int) -> None:
    """None, or a dict whose `mean` and `std` (where present) are finite numbers, or lists of
    `inputs` of them, with std > 0: what classify() divides by."""
    if normalization is None:
        return
    problem = None
    if not isinstance(normalization, dict):
        problem = normalization
    else:
        for key in ("mean", "std"):
            value = normalization.get(key)
            if value is None:
                continue
            values = value if isinstance(value, list) else [value]
            numeric = all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v)
                for v in values
            )
            if not numeric or len(values) not in (1, inputs) or (key == "std" and min(values) <= 0):
                problem = {key: value}
    if problem is not None:
        raise ModelFileError(
            _(
                "cannot load {file}: its metadata's normalization is {value}, where a mapping "
                "with a finite mean and a positive std (numbers, or one per input) belongs; the "
                "file was altered."
            ).format(file=path.name, value=_clip(problem))
        )


def _clip(value, limit: int = 60) -> str:
    """A value for a message, cut to `limit` characters (a hostile file's can be megabytes)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _checked_arrays(path: Path, npz, meta: dict, budget: int) -> dict[str, np.ndarray]:
    """The arrays of a .npz model file (see `checked_arrays`)."""

    def read(name: str) -> np.ndarray:
        try:
            return npz[name]
        except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
            # ValueError includes an object array, which allow_pickle=False refuses to unpickle.
            raise _unreadable(path, name, exc) from None

    stored = set(npz.files) - {METADATA_MEMBER}
    return checked_arrays(path, meta, budget, stored, partial(_npy_header, path, npz), read)


def checked_arrays(
    path: Path,
    meta: dict,
    budget: int,
    stored: set[str],
    header: Callable[[str], tuple[tuple[int, ...], np.dtype | str]],
    read: Callable[[str], np.ndarray],
) -> dict[str, np.ndarray]:
    """Every array the metadata lists, from any container: `stored` are the names the file
    holds, `header(name)` their stored shape and dtype (read without the data: the container
    allocates what its header announces), `read(name)` the array. Each is checked against its
    metadata record and `budget` bytes before it is read, and against its SHA-256 after; an
    array the metadata does not list, or a listed one the file lacks, is refused."""
    listed = meta["arrays"]
    unlisted = sorted(stored - set(listed))
    if unlisted:
        raise ModelFileError(
            _(
                "cannot load {file}: it holds the array {name!r}, which its metadata does not "
                "list; the file was altered."
            ).format(file=path.name, name=unlisted[0])
        )
    arrays = {}
    for name, record in listed.items():
        if name not in stored:
            raise missing_array(path, name)
        record = record if isinstance(record, dict) else {}
        _check_stored(path, name, *header(name), record, budget)
        arrays[name] = _checked_array(path, name, read(name), record)
    return arrays


def _checked_array(path: Path, name: str, array: np.ndarray, record: dict) -> np.ndarray:
    """`array` if its shape, dtype and SHA-256 are those its metadata `record` lists."""
    shape, dtype = record.get("shape"), record.get("dtype")
    if list(array.shape) != shape or array.dtype.name != dtype:
        raise ModelFileError(
            _(
                "cannot load {file}: {name} is {got} but the metadata says {want}; the file "
                "was altered."
            ).format(
                file=path.name,
                name=name,
                got=f"{array.dtype}{list(array.shape)}",
                want=f"{dtype}{shape}",
            )
        )
    if record.get("sha256") != _digest(array):
        raise ModelFileError(
            _(
                "cannot load {file}: {name} does not match the checksum in its metadata; "
                "the file was altered or damaged, save the model again."
            ).format(file=path.name, name=name)
        )
    return array


def _npy_header(path: Path, npz, name: str) -> tuple[tuple[int, ...], np.dtype]:
    """The shape and dtype in the .npy header of `name`, without reading its data."""
    try:
        with npz.zip.open(f"{name}.npy") as member:
            version = np.lib.format.read_magic(member)
            read = {
                (1, 0): np.lib.format.read_array_header_1_0,
                (2, 0): np.lib.format.read_array_header_2_0,
            }.get(version)
            if read is None:
                raise ValueError(f"npy format version {version}")
            shape, _fortran, dtype = read(member)
    except (OSError, ValueError, KeyError, SyntaxError, zipfile.BadZipFile, zlib.error) as exc:
        raise _unreadable(path, name, _clip(str(exc))) from None
    return shape, dtype


def _check_stored(
    path: Path, name: str, shape, dtype: np.dtype | str, record: dict, budget: int
) -> None:
    """A stored array's header: as the metadata records it, and within `budget` bytes. `dtype`
    is a string where the container names a type numpy has no name for."""
    known = isinstance(dtype, np.dtype)
    size = int(np.prod(shape, dtype=np.float64)) * (dtype.itemsize if known else 1)
    name_of = dtype.name if known else dtype
    if list(shape) != record.get("shape") or name_of != record.get("dtype") or size > budget:
        raise ModelFileError(
            _(
                "cannot load {file}: {name} is stored as {got} but the metadata says {want} "
                "(at most {budget:,} bytes for this architecture); the file was altered."
            ).format(
                file=path.name,
                name=name,
                got=f"{name_of}{list(shape)}",
                want=f"{record.get('dtype')}{_clip(record.get('shape'))}",
                budget=budget,
            )
        )


def _unreadable(path: Path, name: str, reason) -> ModelFileError:
    return ModelFileError(
        _(
            "cannot load {file}: the array {name!r} cannot be read ({reason}); save the "
            "model again."
        ).format(file=path.name, name=name, reason=reason)
    )


def missing_array(path: Path, name: str) -> ModelFileError:
    return ModelFileError(
        _(
            "cannot load {file}: the array {name!r} is missing; the file is incomplete, save "
            "the model again."
        ).format(file=path.name, name=name)
    )


def _prefixed(prefix: str, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {prefix + name: array for name, array in arrays.items()}


def _unprefixed(prefix: str, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {name[len(prefix) :]: a for name, a in arrays.items() if name.startswith(prefix)}


def _flatten(tree: dict, prefix: str, out: dict[str, np.ndarray]) -> bool:
    """Put the arrays of a (nested) dict into `out` under slash-joined keys; False when the
    dict holds anything but arrays and dicts (then nothing is added)."""
    flat: dict[str, np.ndarray] = {}

    def walk(node: dict, key: str) -> bool:
        for name, value in node.items():
            if not isinstance(name, str) or "/" in name:
                return False
            if isinstance(value, np.ndarray):
                flat[f"{key}/{name}"] = value
            elif not (isinstance(value, dict) and walk(value, f"{key}/{name}")):
                return False
        return True

    if not walk(tree, prefix):
        return False
    out.update(flat)
    return True


def _unflatten(arrays: dict[str, np.ndarray], prefix: str) -> dict:
    tree: dict = {}
    for key, array in arrays.items():
        parts = key.split("/")
        if parts[0] != prefix or len(parts) < 2:
            continue
        node = tree
        for part in parts[1:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = np.array(array)  # a writable copy the optimizer may update in place
    return tree


def _digest(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def _metadata_digest(meta: dict) -> str:
    """SHA-256 of the metadata without its own checksum, in one canonical JSON spelling."""
    body = {k: v for k, v in meta.items() if k != "metadata_sha256"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), default=_json_default)
    return hashlib.sha256(text.encode()).hexdigest()


def _json_default(value):
    """NumPy numbers and arrays in metadata become plain JSON numbers and lists."""
    if isinstance(value, (np.generic, np.ndarray)):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} cannot be written to a model's metadata")
