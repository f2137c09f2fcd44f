"""A network as a safetensors file: the arrays of a digitlab model file, in the format Hugging
Face's libraries read, with digitlab's metadata (the network's config, each array's shape,
dtype and SHA-256) as JSON under the "digitlab" key, so `digitlab.load` rebuilds the network
from it bit for bit. safetensors holds raw tensors and a JSON header: nothing in it is
executed, and every array is checked against the metadata before it is used."""

from __future__ import annotations

import json
from pathlib import Path

from digitlab.atomic import atomic_write
from digitlab.errors import ModelFileError
from digitlab.i18n import _
from digitlab.modelfile import (
    MAX_METADATA_BYTES,
    array_budget,
    built_network,
    checked_array,
    checked_metadata,
    describe,
    filled_network,
    metadata_json,
    missing_array,
    model_arrays,
)

#: the key of safetensors' string-to-string metadata that holds digitlab's metadata JSON
METADATA_KEY = "digitlab"


def to_safetensors(network, path: str | Path, **metadata) -> Path:
    """Write `network` to `path` as safetensors (keywords join its metadata, as for
    `digitlab.save`); `digitlab.load(path)` reads it back. Needs the safetensors package."""
    import numpy as np
    from safetensors.numpy import save

    arrays = {name: np.ascontiguousarray(a) for name, a in model_arrays(network).items()}
    inherited = getattr(network, "metadata", {}) or {}
    meta = describe(network, arrays, {**inherited, **metadata, "kind": "model"})
    data = save(arrays, metadata={METADATA_KEY: metadata_json(meta)})
    with atomic_write(path, "wb") as file:
        file.write(data)
    return Path(path)


def read_safetensors(path: str | Path):
    """The network saved at `path` by `to_safetensors`, bit for bit, with its `.metadata`.
    Raises ModelFileError for a file that is not safetensors, holds no digitlab metadata, or
    whose arrays are not those its metadata lists."""
    from safetensors import SafetensorError, safe_open

    path = Path(path)
    try:
        with safe_open(str(path), framework="np") as file:
            text = (file.metadata() or {}).get(METADATA_KEY)
            if text is None or len(text) > MAX_METADATA_BYTES:
                raise ModelFileError(
                    _(
                        "cannot load {name}: it holds no digitlab metadata (the {key!r} entry); "
                        "pass a file written by `digitlab export --format safetensors`."
                    ).format(name=path.name, key=METADATA_KEY)
                )
            try:
                meta = checked_metadata(path, json.loads(text))
            except (json.JSONDecodeError, RecursionError):
                meta = checked_metadata(path, None)  # raises: not digitlab's metadata
            network = built_network(path, meta)
            budget = array_budget(network)
            stored = set(file.keys())
            arrays = {}
            for name, record in meta["arrays"].items():
                if name not in stored:
                    raise missing_array(path, name)
                record = record if isinstance(record, dict) else {}
                shape = file.get_slice(name).get_shape()
                if list(shape) != record.get("shape") or _bytes(shape, record) > budget:
                    raise ModelFileError(
                        _(
                            "cannot load {file}: {name} is stored as {shape}, where its metadata "
                            "says {want}; the file was altered."
                        ).format(file=path.name, name=name, shape=shape, want=record.get("shape"))
                    )
                arrays[name] = checked_array(path, name, file.get_tensor(name), record)
            if stored - set(arrays):
                unlisted = sorted(stored - set(arrays))[0]
                raise ModelFileError(
                    _(
                        "cannot load {file}: it holds the array {name!r}, which its metadata does "
                        "not list; the file was altered."
                    ).format(file=path.name, name=unlisted)
                )
    except (SafetensorError, OSError) as exc:
        raise ModelFileError(
            _(
                "cannot load {name}: it is not a safetensors file digitlab can read ({reason}); "
                "pass a file written by `digitlab export --format safetensors`."
            ).format(name=path.name, reason=exc)
        ) from None
    return filled_network(path, meta, arrays, network)


def _bytes(shape, record: dict) -> int:
    """Bytes of an array of `shape` with the item size its record's dtype has (8 if unknown)."""
    import numpy as np

    try:
        itemsize = np.dtype(record.get("dtype")).itemsize
    except TypeError:
        itemsize = 8
    return int(np.prod(shape, dtype=np.int64)) * itemsize
