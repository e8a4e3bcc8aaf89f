"""HDF5 weight files through h5py (an optional extra): Keras 3 ``.weights.h5`` and legacy ``.h5``.

- Keras 3 ``model.weights.h5`` (inside ``.keras``, or saved alone): groups
  follow the model's attributes (``layers/dense/vars/0``); each ``vars`` group
  carries the layer's ``name``, and variables are numbered in creation order.
- Legacy ``.h5`` (Keras 3 ``model.save("m.h5")``, Keras 2 / tf.keras): the
  root attribute ``model_config`` holds the JSON config; ``model_weights/<layer>``
  lists its weights in the ``weight_names`` attribute (``"dense/kernel:0"``).

Only hard links are followed (never soft or external links, which could point
anywhere), every object is visited once (cyclic links), and walks are bounded.
No dataset is read here: tensors are :class:`H5Tensor` s, sampled on demand.
This module runs only in the limited child process of :mod:`._h5child` (the HDF5
library can hang or exhaust memory on a corrupt file).
"""

from __future__ import annotations

import contextlib
import io
import math
import os
from collections.abc import Iterator
from typing import Any

import numpy as np

from .._errors import WeightinitError
from ._assemble import FileWeight
from ._common import MAX_TENSOR_RANK, MAX_TENSORS, InspectError, MissingDependencyError
from ._tensor import H5Tensor

__all__ = ["H5PY_MISSING", "H5Model", "RangeFile", "is_hdf5", "open_h5"]

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
#: a dataset may declare at most this many bytes (the file cannot hold more anyway)
MAX_DATASET_BYTES = 1 << 40
#: the largest chunk of a chunked dataset (Keras writes contiguous datasets; h5py's own chunks
#: stay under 1 MiB)
MAX_CHUNK_BYTES = 64 << 20
MAX_GROUP_DEPTH = 64
H5PY_MISSING = (
    "reading HDF5 files (.h5, and the weights inside .keras) needs h5py: pip install 'weightinit[h5]'"
)


def is_hdf5(head: bytes) -> bool:
    return head.startswith(HDF5_MAGIC)


def _h5py() -> Any:
    try:
        import h5py
    except ImportError:
        raise MissingDependencyError(H5PY_MISSING) from None
    return h5py


class RangeFile(io.RawIOBase):
    """A read-only, seekable view of ``size`` bytes at ``offset`` of a file (a stored zip member)."""

    def __init__(self, path: str | os.PathLike[str], offset: int, size: int) -> None:
        super().__init__()
        self._handle = open(path, "rb")
        self._offset, self._size, self._pos = offset, size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, pos: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: self._size}[whence]
        self._pos = max(0, base + pos)
        return self._pos

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        want = max(0, min(len(view), self._size - self._pos))
        if want == 0:
            return 0
        self._handle.seek(self._offset + self._pos)
        got = self._handle.readinto(view[:want]) or 0
        self._pos += got
        return got

    def close(self) -> None:
        if not self.closed:
            self._handle.close()
        super().close()


@contextlib.contextmanager
def h5_errors(what: str) -> Iterator[None]:
    """The HDF5 library's errors on a corrupt file (h5py raises RuntimeError, OSError, KeyError or
    ValueError from inside its own code) as one InspectError. An exception raised by any other
    code passes through unchanged: it would be a bug here, not a corrupt file."""
    try:
        yield
    except (RuntimeError, OSError, KeyError, ValueError) as exc:
        if isinstance(exc, WeightinitError) or not _raised_in_h5py(exc):
            raise
        text = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        raise InspectError(f"{what} is corrupt (HDF5: {text}).") from None


def _raised_in_h5py(exc: BaseException) -> bool:
    tb = exc.__traceback__
    last = None
    while tb is not None:
        last = tb.tb_frame.f_code.co_filename
        tb = tb.tb_next
    return last is not None and f"h5py{os.sep}" in last


def open_h5(source: Any, what: str) -> Any:
    """``h5py.File`` for a path or a file-like object, with one-line errors."""
    h5py = _h5py()
    try:
        return h5py.File(source, "r")
    except (OSError, ValueError, RuntimeError, KeyError) as exc:
        raise InspectError(f"{what} is not a readable HDF5 file ({str(exc)[:160]}).") from None


def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return None
    if isinstance(value, np.ndarray) and value.shape == ():
        return _text(value.item())
    return value if isinstance(value, str) else None


def _names(value: Any) -> list[str]:
    if value is None:
        return []
    try:
        items = list(np.asarray(value).reshape(-1))
    except (TypeError, ValueError):
        return []
    return [t for t in (_text(v) for v in items) if t]


class H5Model:
    """An open HDF5 weights file: its config (legacy files) and its weights, read lazily."""

    def __init__(self, handle: Any, what: str) -> None:
        self.h5py = _h5py()
        self.file, self.what = handle, what
        self._seen: set[tuple[int, int]] = set()
        self._visits = 0

    def close(self) -> None:
        try:
            self.file.close()
        except Exception:  # closing a broken file must not hide the real error
            pass

    # ------------------------------------------------------------------ attributes and config
    def attr_text(self, name: str) -> str | None:
        try:
            return _text(self.file.attrs.get(name))
        except (OSError, RuntimeError, TypeError, ValueError):
            return None

    def is_legacy(self) -> bool:
        weights = self._follow(self.file, "model_weights") if "model_weights" in self.file else None
        return (
            "model_config" in self.file.attrs
            or "layer_names" in self.file.attrs
            or (isinstance(weights, self.h5py.Group) and "layer_names" in weights.attrs)
        )

    # ------------------------------------------------------------------ walking
    def _child(self, group: Any, name: str) -> Any:
        """A hard-linked child, visited once (cycles), or None."""
        try:
            link = group.get(name, getlink=True)
            if not isinstance(link, self.h5py.HardLink):
                return None
            obj = group[name]
            info = self.h5py.h5o.get_info(obj.id)
            key = (info.fileno, info.addr)
        except (OSError, KeyError, RuntimeError, ValueError, TypeError):
            return None
        if key in self._seen:
            return None
        self._seen.add(key)
        self._visits += 1
        if self._visits > MAX_TENSORS:
            raise InspectError(f"{self.what} holds more than {MAX_TENSORS} objects.")
        return obj

    def _follow(self, group: Any, path: str) -> Any:
        """The object at a relative ``path``, through hard links only (never soft/external)."""
        obj = group
        for part in path.split("/"):
            if not part:
                continue
            try:
                if not isinstance(obj, self.h5py.Group) or part not in obj:
                    return None
                if not isinstance(obj.get(part, getlink=True), self.h5py.HardLink):
                    return None
                obj = obj[part]
            except (OSError, KeyError, RuntimeError, ValueError, TypeError):
                return None
        return obj

    def _tensor(
        self, dataset: Any, chain: tuple[str, ...], name: str | None, index: int
    ) -> FileWeight | None:
        try:
            shape = tuple(int(n) for n in dataset.shape)
            dtype = np.dtype(dataset.dtype)
        except (TypeError, ValueError, OSError, RuntimeError):
            return None
        if dtype.kind not in "fiub" or len(shape) > MAX_TENSOR_RANK:
            return None
        try:  # HDF5 decompresses a whole chunk to read any part of it: a huge one is refused
            chunks = dataset.chunks
        except (TypeError, ValueError, OSError, RuntimeError):
            return None
        if chunks is not None and math.prod(int(c) for c in chunks) * dtype.itemsize > MAX_CHUNK_BYTES:
            raise InspectError(
                f"{self.what}: dataset {dataset.name!r} declares chunks of {tuple(chunks)}, more than "
                f"{MAX_CHUNK_BYTES} bytes each: refusing a corrupt or hostile file."
            )
        if math.prod(shape) * dtype.itemsize > MAX_DATASET_BYTES:
            raise InspectError(
                f"{self.what}: dataset {dataset.name!r} declares shape {shape}, more than "
                f"{MAX_DATASET_BYTES} bytes: refusing a corrupt or hostile file."
            )
        return FileWeight(chain, name, index, shape, dtype.name, H5Tensor(dataset, shape, dtype))

    def keras3_weights(self) -> list[FileWeight]:
        """Weights of a Keras 3 ``.weights.h5``: layer chains from the ``vars`` groups' names."""
        out: list[FileWeight] = []
        stack: list[tuple[Any, tuple[str, ...], int]] = [(self.file, (), 0)]
        while stack:
            group, chain, depth = stack.pop()
            if depth > MAX_GROUP_DEPTH:
                raise InspectError(f"{self.what} nests groups deeper than {MAX_GROUP_DEPTH} levels.")
            own = chain
            vars_group = self._child(group, "vars") if "vars" in group else None
            if vars_group is not None and isinstance(vars_group, self.h5py.Group):
                name = _text(vars_group.attrs.get("name"))
                if depth > 0:  # the root's vars belong to the model itself
                    own = (*chain, name or group.name.rsplit("/", 1)[-1])
                for key in sorted(vars_group, key=lambda k: (len(k), k)):
                    dataset = self._child(vars_group, key)
                    if isinstance(dataset, self.h5py.Dataset):
                        index = int(key) if key.isdigit() else len(out)
                        weight = self._tensor(dataset, own, None, index)
                        if weight is not None:
                            out.append(weight)
            children = []
            for key in group:
                if key == "vars" or (depth == 0 and key in ("optimizer", "metrics")):
                    continue  # the optimizer's slots and metric state are not model weights
                child = self._child(group, key)
                if isinstance(child, self.h5py.Group):
                    children.append((child, own, depth + 1))
            stack.extend(reversed(children))
        return out

    def legacy_weights(self) -> list[FileWeight]:
        """Weights of a legacy ``.h5`` (``model_weights/<layer>`` and ``weight_names``)."""
        root = self._follow(self.file, "model_weights") if "model_weights" in self.file else self.file
        if not isinstance(root, self.h5py.Group):
            raise InspectError(f"{self.what}: 'model_weights' is not a group reached by a hard link.")
        layer_names = _names(root.attrs.get("layer_names")) or [k for k in root]
        out: list[FileWeight] = []
        for layer in layer_names:
            group = self._child(root, layer) if layer in root else None
            if group is None or not isinstance(group, self.h5py.Group):
                continue
            names = _names(group.attrs.get("weight_names"))
            for i, full in enumerate(names):
                dataset = self._follow(group, full)
                if not isinstance(dataset, self.h5py.Dataset):
                    continue
                parts = full.split(":")[0].split("/")
                chain = tuple(parts[:-1])
                if not chain or chain[0] != layer:
                    chain = (layer, *chain)
                weight = self._tensor(dataset, chain, parts[-1], i)
                if weight is not None:
                    out.append(weight)
        return out
