"""IDX files written from the format's definition (not digitlab's reader or writer), for the
tests that hand digitlab a folder of them."""

from pathlib import Path

import numpy as np

#: IDX's names of the four files of a data set, in the order images, labels (train), then test
NAMES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


def idx_bytes(values: np.ndarray, type_code: int = 0x08) -> bytes:
    """An IDX file of `values`: two zero bytes, the type code (0x08: uint8), the number of
    dimensions, each size as a big-endian uint32, then the values in C order."""
    header = bytes([0, 0, type_code, values.ndim])
    header += b"".join(int(n).to_bytes(4, "big") for n in values.shape)
    return header + values.tobytes()


def write_idx_folder(
    folder: Path, x_train: np.ndarray, t_train: np.ndarray, x_test: np.ndarray, t_test: np.ndarray
) -> Path:
    """The four files of a data set in `folder` (created): images (N, H, W) and labels (N,),
    both uint8."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, values in zip(NAMES, (x_train, t_train, x_test, t_test), strict=True):
        (folder / name).write_bytes(idx_bytes(np.asarray(values, dtype=np.uint8)))
    return folder
