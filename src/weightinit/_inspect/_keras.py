"""Keras model files and objects: ``.keras``, ``.h5`` (Keras 3 and Keras 2 / tf.keras),
config JSON, TensorFlow SavedModel (``keras_metadata.pb``) and live models."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ._assemble import FileWeight, Pair, assemble
from ._check import check_weight
from ._common import MAX_MEMBER_BYTES, InspectError
from ._config import Slot, walk_model
from ._h5child import H5Child
from ._jsonread import load_json
from ._protobuf import read_saved_metadata
from ._rank import rank_weights
from ._record import Inspection, WeightRecord
from ._tensor import RawTensor, TensorRef
from ._tfbundle import GRAPH_KEY, read_bundle, variable_names
from ._zipread import SafeZip

__all__ = [
    "inspect_config",
    "inspect_h5",
    "inspect_keras_zip",
    "inspect_live",
    "inspect_savedmodel",
    "records_from",
]


def _major(version: Any) -> int:
    if isinstance(version, str) and version[:1].isdigit():
        return int(version.split(".")[0])
    return 3


def _record(pair: Pair, stats: bool, has_config: bool) -> WeightRecord:
    slot, weight = pair.slot, pair.weight
    shape = weight.shape if weight else None
    dtype = weight.dtype if weight else None
    tensor: TensorRef | None = weight.tensor if weight else None
    if slot is None:
        assert weight is not None
        leftover = ("not described by the config",) if has_config else ()
        name = weight.name if weight.name is not None else f"vars/{weight.index}"
        return WeightRecord("/".join(weight.chain), name, None, shape, dtype, notes=leftover)
    check = None
    if stats:
        forget = any("unit_forget_bias" in n for n in slot.notes)
        check = check_weight(slot.initializer, tensor, axes=slot.axes, forget_bias=forget)
    return WeightRecord(
        slot.layer,
        slot.weight,
        slot.layer_class,
        shape,
        dtype,
        slot.initializer,
        slot.default,
        slot.source,  # type: ignore[arg-type]
        tuple(slot.notes),
        check,
    )


def records_from(
    slots: Sequence[Slot] | None, weights: Sequence[FileWeight], stats: bool
) -> list[WeightRecord]:
    """Records from a config's slots and a file's weights; without a config, ``--stats`` ranks."""
    if slots is None:
        records = [_record(Pair(None, w), False, False) for w in weights]
        if stats:
            records = rank_weights(records, [w.tensor for w in weights])
        return records
    pairs = assemble(slots, weights)
    return [_record(p, stats, True) for p in pairs]


def _model_config(document: Any, what: str) -> Any:
    if not isinstance(document, Mapping) or "class_name" not in document:
        raise InspectError(f"{what} is not a Keras model config (no 'class_name' at the top).")
    return document


def inspect_config(document: Any, what: str = "config") -> Inspection:
    """A parsed config.json (Keras 3 ``.keras`` config, ``model.to_json()``, a layer config)."""
    config = _model_config(document, what)
    major = 3 if "module" in config or "registered_name" in config else 2
    slots = walk_model(config, major)
    facts = {"model_class": config.get("class_name"), "keras_version": "3" if major == 3 else "2 (guessed)"}
    return Inspection("keras-config", records_from(slots, [], False), facts)


def inspect_keras_zip(path: str | os.PathLike[str], stats: bool) -> Inspection:
    """A Keras 3 ``.keras`` archive: config.json, metadata.json, model.weights.h5."""
    with SafeZip(path, "the .keras archive") as archive:
        names = archive.names()
        if "config.json" not in names:
            raise InspectError("the zip archive has no config.json: not a .keras model file.")
        config = _model_config(load_json(archive.read("config.json"), "config.json"), "config.json")
        facts: dict[str, Any] = {"model_class": config.get("class_name")}
        if "metadata.json" in names:
            meta = load_json(archive.read("metadata.json", 1 << 20), "metadata.json")
            if isinstance(meta, Mapping):
                facts["keras_version"] = meta.get("keras_version")
                facts["date_saved"] = meta.get("date_saved")
        slots = walk_model(config, _major(facts.get("keras_version")))
        if "model.weights.h5" not in names:
            return Inspection(
                "keras", records_from(slots, [], stats), facts, ["no model.weights.h5 in the archive"]
            )
    # the HDF5 library can hang or exhaust memory on a corrupt file: a limited child reads it
    with H5Child(path, "model.weights.h5", member="model.weights.h5") as h5:
        h5.open()
        records = records_from(slots, h5.weights("keras3")[1], stats)
    return Inspection("keras", records, facts)


def inspect_h5(path: str | os.PathLike[str], stats: bool) -> Inspection:
    """An HDF5 file: legacy full model (``model_config``), legacy or Keras 3 weights only (read
    by a limited child process, :mod:`._h5child`)."""
    with H5Child(path, "the HDF5 file") as h5:
        attrs = h5.open(("keras_version", "backend", "model_config"))
        version = attrs["keras_version"]
        facts: dict[str, Any] = {"keras_version": version, "backend": attrs["backend"]}
        raw = attrs["model_config"]
        config = None if raw is None else load_json(raw, "the HDF5 file: model_config attribute")
        if config is not None:
            config = _model_config(config, "the model_config attribute")
            facts["model_class"] = config.get("class_name")
            slots = walk_model(config, _major(version))
            fmt = "keras3-h5" if _major(version) >= 3 else "keras2-h5"
            return Inspection(fmt, records_from(slots, h5.weights("legacy")[1], stats), facts)
        layout, weights = h5.weights("auto")
        if layout == "legacy":
            return Inspection(
                "keras-h5-weights",
                records_from(None, weights, stats),
                facts,
                ["weights only (no model_config): initializers are unknown"],
            )
        if not weights:
            raise InspectError("the HDF5 file holds no Keras weights (no model_config, no vars groups).")
        return Inspection(
            "keras3-weights-h5",
            records_from(None, weights, stats),
            facts,
            ["weights only (no config): initializers are unknown"],
        )


def inspect_savedmodel(path: str | os.PathLike[str], stats: bool) -> Inspection:
    """A TensorFlow SavedModel written by tf.keras: the configs in ``keras_metadata.pb``, the
    shapes and values in ``variables/variables.index`` + data shards (named through the
    checkpoint's object graph)."""
    meta_path = os.path.join(path, "keras_metadata.pb")
    if not os.path.isfile(meta_path):
        raise InspectError(
            "the directory has no keras_metadata.pb: not a SavedModel written by Keras "
            "(only Keras SavedModels carry layer configs)."
        )
    size = os.path.getsize(meta_path)
    if size > MAX_MEMBER_BYTES:
        raise InspectError(f"keras_metadata.pb is {size} bytes; the limit is {MAX_MEMBER_BYTES}.")
    with open(meta_path, "rb") as handle:
        nodes = read_saved_metadata(handle.read())
    if not nodes:
        raise InspectError("keras_metadata.pb lists no objects.")
    by_path = {n.node_path: n for n in nodes}
    root = by_path.get("root") or nodes[0]
    document = load_json(root.metadata, "the root object's metadata") if root.metadata else {}
    facts: dict[str, Any] = {"identifier": root.identifier}
    if isinstance(document, Mapping):
        facts["keras_version"] = document.get("keras_version")
        facts["model_class"] = document.get("class_name")
    config: Any = None
    if isinstance(document, Mapping) and isinstance(document.get("config"), Mapping):
        config = {"class_name": document.get("class_name", "Model"), "config": document["config"]}
        if not isinstance(document["config"].get("layers"), list):
            config = None
    notes = []
    if config is None:  # subclassed model: rebuild a layer list from the direct children
        layers = []
        for node in nodes:
            if node.node_path.count(".") != 1 or not node.identifier.startswith("_tf_keras"):
                continue
            meta = load_json(node.metadata, f"metadata of {node.node_path}") if node.metadata else None
            if isinstance(meta, Mapping) and isinstance(meta.get("class_name"), str):
                layers.append({"class_name": meta["class_name"], "config": meta.get("config") or {}})
        config = {"class_name": "Model", "config": {"layers": layers}}
        notes.append("no model config (a subclassed model): layers read from their own metadata")
    slots = walk_model(config, _major(facts.get("keras_version") or "2"))
    weights: list[FileWeight] = []
    prefix = os.path.join(path, "variables", "variables")
    if os.path.isfile(prefix + ".index"):
        weights = _savedmodel_weights(prefix)
    else:
        notes.append("no variables/variables.index: shapes and values are not in this SavedModel")
    return Inspection("tf-savedmodel", records_from(slots, weights, stats), facts, notes)


def _savedmodel_weights(prefix: str) -> list[FileWeight]:
    """The variables of a SavedModel's checkpoint, named as the model named them."""
    entries, files = read_bundle(prefix)
    graph = next((e for e in entries if e.key == GRAPH_KEY), None)
    names = variable_names(graph, files) if graph is not None else {}
    out = []
    for i, entry in enumerate(entries):
        name = names.get(entry.key)
        if entry.key == GRAPH_KEY or name is None or "/.OPTIMIZER_SLOT/" in entry.key:
            continue
        if entry.key.startswith(("optimizer/", "save_counter", "keras_api/")):
            continue
        parts = name.split(":")[0].split("/")
        if len(parts) < 2:
            continue
        tensor = RawTensor(files[entry.shard], entry.offset, entry.shape, entry.dtype)
        out.append(FileWeight(tuple(parts[:-1]), parts[-1], i, entry.shape, entry.dtype.name, tensor))
    return out


class _ArrayTensor(TensorRef):
    """A tensor of a live model: a numpy array obtained from the variable."""

    def __init__(self, array: np.ndarray[Any, Any]) -> None:
        self.array = array
        self.shape = tuple(int(n) for n in array.shape)
        self.dtype = array.dtype

    def read(self, index: tuple[slice, ...]) -> np.ndarray[Any, Any]:
        return np.asarray(self.array[index] if index else self.array)


def _jsonable(value: Any, depth: int = 0) -> Any:
    """A live config made JSON-like (objects Keras did not serialize become their repr)."""
    if depth > 200:
        raise InspectError("the model's config is nested too deeply.")
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v, depth + 1) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return repr(value)[:200]


def _variable_chain(variable: Any) -> tuple[tuple[str, ...], str]:
    path = getattr(variable, "path", None)
    if not isinstance(path, str):
        path = str(getattr(variable, "name", "weight"))
    parts = path.split(":")[0].split("/")
    return tuple(parts[:-1]), parts[-1]


def inspect_live(model: Any, stats: bool) -> Inspection:
    """A live ``keras.Model`` / tf_keras model (used duck-typed; nothing is imported here)."""
    try:
        config = {"class_name": type(model).__name__, "config": _jsonable(model.get_config())}
    except NotImplementedError:
        config = None
    except Exception as exc:
        raise InspectError(f"the model's get_config() failed: {str(exc)[:160]}") from None
    weights = []
    for i, variable in enumerate(getattr(model, "weights", [])):
        chain, name = _variable_chain(variable)
        try:
            array = np.asarray(variable.numpy() if hasattr(variable, "numpy") else variable)
        except Exception as exc:
            raise InspectError(f"cannot read variable {name!r}: {str(exc)[:120]}") from None
        weights.append(FileWeight(chain, name, i, tuple(array.shape), array.dtype.name, _ArrayTensor(array)))
    module = type(model).__module__ or ""
    major = 2 if module.startswith(("tf_keras", "keras.src.engine", "tensorflow")) else 3
    facts = {"model_class": type(model).__name__, "keras_version": "2" if major == 2 else "3"}
    if (
        config is None
        or not isinstance(config["config"], Mapping)
        or not isinstance(config["config"].get("layers"), list)
    ):
        layers = [
            {"class_name": type(layer).__name__, "config": _jsonable(layer.get_config())}
            for layer in getattr(model, "layers", [])
        ]
        config = {"class_name": type(model).__name__, "config": {"layers": layers}}
    slots = walk_model(config, major)
    return Inspection("keras-live", records_from(slots, weights, stats), facts)
