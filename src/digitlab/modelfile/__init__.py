"""Model files: a trained network, its state and what it was trained on, never a pickle.

`save` writes digitlab's own format, an `.npz` of arrays with a checked `metadata.json`
(digitlab.modelfile.npz, which also writes and reads the checkpoints a run resumes from);
`load` reads it and the `.safetensors` files of `digitlab export`
(digitlab.modelfile.safetensors). Either way the network comes back bit for bit, or a
ModelFileError says why not.
"""

from __future__ import annotations

from pathlib import Path

from digitlab.atomic import remove_stale
from digitlab.modelfile.npz import (
    Checkpoint,
    CheckpointEachEpoch,
    default_model_path,
    load_checkpoint,
    load_default,
    load_npz,
    read_metadata,
    restore_optimizer,
    save,
    save_checkpoint,
    shipped_model_path,
)
from digitlab.modelfile.safetensors import read_safetensors


def load(path: str | Path):
    """Rebuild the network saved at `path`, bit for bit; its metadata is `.metadata`.

    Reads model files and checkpoints alike, and `.safetensors` files written by
    `digitlab export`. Raises ModelFileError for a missing, malformed, tampered or
    newer-format file.
    """
    path = Path(path)
    if path.suffix == ".safetensors" and path.is_file():
        remove_stale(path)  # what an export killed midway left beside it (load_npz does its own)
        return read_safetensors(path)
    return load_npz(path)


__all__ = [
    "Checkpoint",
    "CheckpointEachEpoch",
    "default_model_path",
    "load",
    "load_checkpoint",
    "load_default",
    "read_metadata",
    "restore_optimizer",
    "save",
    "save_checkpoint",
    "shipped_model_path",
]
