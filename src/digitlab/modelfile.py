"""Model files: one `.npz` of arrays plus a `metadata.json` member, never a pickle.

The file is a zip (NumPy's npz layout): each parameter as `NAME.npy`, read back with
`allow_pickle=False`, and `metadata.json` with the format version, the architecture, what the
network was trained on and a SHA-256 of every array, so a tampered or mismatched file is refused
instead of becoming a silently wrong network. Writes go to a temporary file that is renamed into
place, so a crash never leaves half a model.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from digitlab.errors import ModelFileError
from digitlab.nn.network import MLP, network_from_config

FORMAT = "digitlab-model"
FORMAT_VERSION = 1
METADATA_MEMBER = "metadata.json"


def save(network: MLP, path: str | Path, **metadata) -> Path:
    """Write `network` to `path` (a `.npz`), atomically. Extra keywords go into the metadata
    (e.g. dataset="mnist-10k", accuracy={"test": 0.96}, classes=[...])."""
    from digitlab import __version__

    path = Path(path)
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "digitlab_version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "network": network.config(),
        "arrays": {
            name: {"shape": list(a.shape), "dtype": a.dtype.name, "sha256": _digest(a)}
            for name, a in network.params.items()
        },
        **metadata,
    }
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f, zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, array in network.params.items():
                with zf.open(f"{name}.npy", "w") as member:
                    np.lib.format.write_array(member, np.ascontiguousarray(array))
            zf.writestr(METADATA_MEMBER, json.dumps(meta, indent=1))
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private; a model is a normal file
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load(path: str | Path) -> MLP:
    """Rebuild the network saved at `path`, weights bit for bit; its metadata is `.metadata`.

    Raises ModelFileError for a missing, malformed, tampered or newer-format file.
    """
    path = Path(path)
    meta = read_metadata(path)
    try:
        network = network_from_config(meta["network"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(
            f"cannot load {path.name}: its metadata describes no network digitlab can build "
            f"({exc}); the file is damaged or was not written by digitlab."
        ) from None
    with np.load(path, allow_pickle=False) as npz:
        for name, param in network.params.items():
            network.params[name] = _checked_array(path, npz, name, param, meta)
    network.metadata = meta
    return network


def read_metadata(path: str | Path) -> dict:
    """The metadata of a model file, checked for the format and its version."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"cannot load {path}: no such file; check the path.")
    try:
        with zipfile.ZipFile(path) as zf:
            meta = json.loads(zf.read(METADATA_MEMBER))
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError, UnicodeDecodeError):
        raise ModelFileError(
            f"cannot load {path.name}: it is not a digitlab model file (no readable "
            f"{METADATA_MEMBER}); pass a model.npz written by `digitlab train`."
        ) from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelFileError(
            f"cannot load {path.name}: its metadata does not say format {FORMAT!r}; "
            "pass a model.npz written by `digitlab train`."
        )
    version = meta.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ModelFileError(
            f"cannot load {path.name}: it has model format version {version!r}, and this "
            f"digitlab reads up to {FORMAT_VERSION}; upgrade digitlab (pip install -U digitlab)."
        )
    return meta


def _checked_array(path: Path, npz, name: str, expected: np.ndarray, meta: dict) -> np.ndarray:
    if name not in npz.files:
        raise ModelFileError(
            f"cannot load {path.name}: the array {name!r} is missing; the file is incomplete, "
            "save the model again."
        )
    try:
        array = npz[name]
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        # ValueError includes an object array, which allow_pickle=False refuses to unpickle.
        raise ModelFileError(
            f"cannot load {path.name}: the array {name!r} cannot be read ({exc}); "
            "save the model again."
        ) from None
    if array.shape != expected.shape or array.dtype != expected.dtype:
        raise ModelFileError(
            f"cannot load {path.name}: {name} is {array.dtype}{list(array.shape)} but the "
            f"architecture needs {expected.dtype}{list(expected.shape)}; the file was altered."
        )
    recorded = meta.get("arrays", {}).get(name, {}).get("sha256")
    if recorded != _digest(array):
        raise ModelFileError(
            f"cannot load {path.name}: {name} does not match the checksum in its metadata; "
            "the file was altered or damaged, save the model again."
        )
    return array


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _digest(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()
