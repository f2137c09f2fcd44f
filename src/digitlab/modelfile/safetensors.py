"""A network as a safetensors file: the arrays of a digitlab model file, in the format Hugging
Face's libraries read, with digitlab's metadata (the network's config, each array's shape,
dtype and SHA-256) as JSON under the "digitlab" key, so `digitlab.load` rebuilds the network
from it bit for bit. safetensors holds raw tensors and a JSON header: nothing in it is
executed, and every array is checked against the metadata before it is used."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from digitlab.atomic import atomic_write
from digitlab.errors import ModelFileError
from digitlab.i18n import _
from digitlab.modelfile.npz import (
    MAX_METADATA_BYTES,
    array_budget,
    built_network,
    checked_arrays,
    checked_metadata,
    filled_network,
    metadata_json,
    model_contents,
)

#: the key of safetensors' string-to-string metadata that holds digitlab's metadata JSON
METADATA_KEY = "digitlab"
#: safetensors' dtype names, as numpy's
DTYPES = {
    "BOOL": "bool",
    "U8": "uint8",
    "I8": "int8",
    "I16": "int16",
    "I32": "int32",
    "I64": "int64",
    "F16": "float16",
    "F32": "float32",
    "F64": "float64",
}


def to_safetensors(network, path: str | Path, **metadata) -> Path:
    """Write `network` to `path` as safetensors (keywords join its metadata, as for
    `digitlab.save`); `digitlab.load(path)` reads it back. Needs the safetensors package."""
    from safetensors.numpy import save

    arrays, meta = model_contents(network, **metadata)
    data = save(arrays, metadata={METADATA_KEY: metadata_json(meta)})
    with atomic_write(path, "wb") as file:
        file.write(data)
    return Path(path)


def read_safetensors(path: str | Path):
    """The network saved at `path` by `to_safetensors`, bit for bit, with its `.metadata`: the
    checks of a model file (digitlab.modelfile), on safetensors' header and tensors. Raises
    ModelFileError for a file that is not safetensors, holds no digitlab metadata, or whose
    arrays are not those its metadata lists."""
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
                meta = json.loads(text)
            except (json.JSONDecodeError, RecursionError):
                meta = None  # not digitlab's: checked_metadata says so
            meta = checked_metadata(path, meta)
            network = built_network(path, meta)

            def header(name: str):
                stored = file.get_slice(name)
                dtype = stored.get_dtype()
                return stored.get_shape(), np.dtype(DTYPES[dtype]) if dtype in DTYPES else dtype

            arrays = checked_arrays(
                path, meta, array_budget(network), set(file.keys()), header, file.get_tensor
            )
    except (SafetensorError, OSError) as exc:
        raise ModelFileError(
            _(
                "cannot load {name}: it is not a safetensors file digitlab can read ({reason}); "
                "pass a file written by `digitlab export --format safetensors`."
            ).format(name=path.name, reason=exc)
        ) from None
    return filled_network(path, meta, arrays, network)
