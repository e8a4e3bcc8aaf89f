"""Which initializer made every weight of a model, read from files as data (nothing executed).

:func:`inspect_model` takes a path (``.keras``, ``.h5``, ``config.json``, a
SavedModel directory, ``.safetensors``, a PyTorch checkpoint, ``.npz``), JSON
text, a parsed config dict, or a live Keras / tf_keras model, and returns one
:class:`WeightRecord` per weight. One module per format; all are bounded
(``_common`` lists the caps) and return the same record type.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Mapping
from typing import Any

from .._errors import WeightinitError
from ._common import MAX_MEMBER_BYTES, SAMPLE_SIZE, InspectError, MissingDependencyError, UnsafeModelError
from ._record import Candidate, Check, InitializerInfo, Inspection, WeightRecord

__all__ = [
    "SAMPLE_SIZE",
    "Candidate",
    "Check",
    "InitializerInfo",
    "InspectError",
    "Inspection",
    "MissingDependencyError",
    "UnsafeModelError",
    "WeightRecord",
    "inspect_model",
    "inspect_source",
]

FORMATS = (
    ".keras, Keras 3 / Keras 2 / tf.keras .h5 (and .weights.h5), config.json or JSON text, a tf.keras "
    "SavedModel directory, .safetensors, PyTorch .pt/.pth/.bin (zip format), .npz"
)


def _is_live_model(obj: Any) -> bool:
    return hasattr(obj, "get_config") and hasattr(obj, "weights") and hasattr(obj, "layers")


def _from_path(path: str, stats: bool) -> Inspection:
    from . import _keras

    if os.path.isdir(path):
        return _keras.inspect_savedmodel(path, stats)
    if not os.path.exists(path):
        raise InspectError(f"no such file or directory: {path!r}")
    if os.path.basename(path) == "keras_metadata.pb":
        return _keras.inspect_savedmodel(os.path.dirname(path) or ".", stats)
    size = os.path.getsize(path)
    if size == 0:
        raise InspectError(f"{path!r} is empty.")
    with open(path, "rb") as handle:
        head = handle.read(16)
    from ._hdf5 import is_hdf5

    if is_hdf5(head):
        return _keras.inspect_h5(path, stats)
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _from_zip(path, stats)
    if len(head) >= 9 and head[8:9] == b"{" and struct.unpack("<Q", head[:8])[0] < size:
        from ._keras import records_from
        from ._safetensors import read_safetensors

        weights, facts = read_safetensors(path)
        return Inspection("safetensors", records_from(None, weights, stats), facts)
    if head.lstrip()[:1] in (b"{", b"["):
        if size > MAX_MEMBER_BYTES:
            raise InspectError(f"the JSON file is {size} bytes; the limit is {MAX_MEMBER_BYTES}.")
        from ._jsonread import load_json

        with open(path, "rb") as handle:
            document = load_json(handle.read(), "the JSON file")
        return _keras.inspect_config(document, "the JSON file")
    if head[:1] == b"\x80":
        raise UnsafeModelError(
            "this looks like a bare pickle (legacy PyTorch format, or a pickled object): it is not read, "
            "because unpickling runs code. Re-save it with torch.save (zip format) or as safetensors."
        )
    raise InspectError(f"{path!r} is not a model file this command reads (formats: {FORMATS}).")


def _from_zip(path: str, stats: bool) -> Inspection:
    from ._keras import inspect_keras_zip, records_from
    from ._zipread import SafeZip

    with SafeZip(path, "the zip archive") as archive:
        names = archive.names()
    if "config.json" in names:
        return inspect_keras_zip(path, stats)
    if any(n == "data.pkl" or n.endswith("/data.pkl") for n in names):
        from ._torchzip import read_torch_zip

        weights, facts = read_torch_zip(path)
        return Inspection("pytorch", records_from(None, weights, stats), facts)
    if any(n.endswith(".npy") for n in names):
        from ._npz import read_npz

        weights, facts = read_npz(path)
        return Inspection("npz", records_from(None, weights, stats), facts)
    raise InspectError("the zip archive is neither a .keras model, a PyTorch checkpoint nor an .npz file.")


def inspect_source(source: Any, *, stats: bool = False) -> Inspection:
    """Like :func:`inspect_model`, with the format and file facts (what the command prints)."""
    from . import _keras

    if _is_live_model(source):
        return _keras.inspect_live(source, stats)
    if isinstance(source, Mapping):
        return _keras.inspect_config(source, "the config")
    if isinstance(source, os.PathLike):
        source = os.fspath(source)
    if not isinstance(source, str):
        raise InspectError(
            "inspect_model() takes a path, JSON text, a config dict or a Keras model; "
            f"got {type(source).__name__}."
        )
    if source.lstrip().startswith("{") and not os.path.exists(source):
        from ._jsonread import load_json

        return _keras.inspect_config(load_json(source, "the JSON text"), "the JSON text")
    try:
        return _from_path(source, stats)
    except WeightinitError:
        raise
    except OSError as exc:
        raise InspectError(f"cannot read {source!r}: {exc.strerror or type(exc).__name__}") from None
    except RecursionError:
        raise InspectError(f"{source!r} nests structures too deeply.") from None
    except MemoryError:
        raise InspectError(f"{source!r} needs more memory than is available.") from None
    except Exception as exc:  # a reader met something malformed it did not anticipate
        text = str(exc).splitlines()[0][:160] if str(exc) else ""
        raise InspectError(
            f"{source!r} is corrupt or not a supported model file ({type(exc).__name__}: {text})."
        ) from None


def inspect_model(source: Any, *, stats: bool = False) -> list[WeightRecord]:
    """One record per weight: layer path, weight name, shape, dtype, initializer, default or not.

    ``source`` is a path (``.keras``, ``.h5``, ``config.json``, a tf.keras
    SavedModel directory, ``.safetensors``, a PyTorch zip checkpoint,
    ``.npz``), JSON text, a config dict, or a live Keras / tf_keras model.
    Files are read as data: nothing in them is imported or executed, and
    frameworks are imported only by the live model you pass.

    ``stats=True`` also reads a fixed-size sample of each tensor
    (:data:`SAMPLE_SIZE` values) and fills ``check`` (does the sample match
    the configured initializer?) or, for files without a config,
    ``candidates`` (the catalog initializers consistent with it, best first).

    >>> import weightinit as wi
    >>> cfg = {"class_name": "Sequential", "config": {"layers": [
    ...     {"class_name": "Dense", "config": {"name": "d", "units": 2,
    ...      "kernel_initializer": {"class_name": "HeNormal", "config": {"seed": 1}}}}]}}
    >>> for r in wi.inspect_model(cfg):
    ...     print(r.name, r.initializer.class_name, r.default, r.source)
    d/kernel HeNormal False config
    d/bias Zeros True layer default
    """
    return inspect_source(source, stats=stats).records
