"""Walk a Keras model config (Keras 3, Keras 2 / tf.keras) into one slot per weight.

Nested models, wrappers (``Bidirectional``, ``TimeDistributed``, anything with
a ``layer``), recurrent layers and their ``cell``/``cells``, and
``MultiHeadAttention``'s projections are followed. Initializers are read as
data: a ``module`` or ``registered_name`` is reported, never imported, and a
``registered_name`` such as ``"weightinit>GlorotUniform"`` maps to the catalog
class by its ``class_name`` like a plain Keras config.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .._registry import lookup_builtin, snake_case
from ._common import MAX_LAYERS, InspectError
from ._layers import DEFAULTS, LAYERS, MHA_PROJECTIONS, RNN_CELL_NAMES, WeightSpec, einsum_axes, weights_of
from ._record import InitializerInfo

__all__ = ["Slot", "parse_initializer", "walk_model"]

WILDCARD = "*"


@dataclass
class Slot:
    """A weight the config describes: where, which initializer, fan axes (when not the rank rule)."""

    chain: tuple[str, ...]
    layer_class: str
    weight: str
    initializer: InitializerInfo | None
    default: bool | None
    source: str
    aliases: tuple[str, ...] = ()
    axes: tuple[tuple[int, ...], tuple[int, ...]] | None = None
    notes: list[str] = field(default_factory=list)
    layer_config: dict[str, Any] = field(default_factory=dict)

    @property
    def layer(self) -> str:
        return "/".join(c for c in self.chain if c != WILDCARD)


_PRESETS = {
    (1.0, "fan_avg", "uniform"): "GlorotUniform",
    (1.0, "fan_avg", "truncated_normal"): "GlorotNormal",
    (2.0, "fan_in", "uniform"): "HeUniform",
    (2.0, "fan_in", "truncated_normal"): "HeNormal",
    (1.0, "fan_in", "uniform"): "LecunUniform",
    (1.0, "fan_in", "truncated_normal"): "LecunNormal",
}


def parse_initializer(value: Any) -> InitializerInfo | None:
    """An initializer entry of a layer config as :class:`InitializerInfo` (None when absent)."""
    if value is None:
        return None
    if isinstance(value, str):
        cls = lookup_builtin(value)
        return InitializerInfo(cls.__name__ if cls else value, {}, cls is not None)
    if not isinstance(value, Mapping):
        return InitializerInfo(f"<{type(value).__name__}>", {"value": value}, False)
    raw = value.get("class_name")
    name = raw if isinstance(raw, str) else repr(raw)[:60]
    config = value.get("config")
    if config is None:
        config = {}
    elif not isinstance(config, Mapping):
        config = {"config": config}
    module = value.get("module") if isinstance(value.get("module"), str) else None
    registered = value.get("registered_name") if isinstance(value.get("registered_name"), str) else None
    cls = lookup_builtin(name) if name not in ("function", "__lambda__") else None
    if cls is None and registered and ">" in registered:
        cls = lookup_builtin(registered.split(">", 1)[1])
    clean = {str(k): v for k, v in config.items() if k not in ("dtype",)}
    if cls is None:
        label = "lambda (bytecode, not loaded)" if name == "__lambda__" else name
        if name == "function":
            label = f"function {config.get('config', registered)!s:.60}"
        return InitializerInfo(label, clean, False, registered, module)
    return InitializerInfo(cls.__name__, clean, True, registered, module)


def _effective(info: InitializerInfo) -> tuple[str, dict[str, Any]]:
    """Class and config with VarianceScaling forms of the presets folded into the preset."""
    if info.class_name == "VarianceScaling":
        key = (
            float(info.config.get("scale", 1.0))
            if isinstance(info.config.get("scale", 1.0), (int, float))
            else 0,
            info.config.get("mode", "fan_in"),
            {"normal": "truncated_normal"}.get(
                str(info.config.get("distribution")), info.config.get("distribution")
            ),
        )
        preset = _PRESETS.get(key)  # type: ignore[arg-type]
        if preset is not None:
            return preset, {}
    return info.class_name, info.config


def is_default(info: InitializerInfo, default_key: str) -> bool:
    """Whether ``info`` is the layer's default (same class and parameters; the seed does not matter)."""
    if not info.known:
        return False
    name, config = _effective(info)
    want_name, want_config = DEFAULTS[default_key]
    if name != want_name:
        return False
    for key, expected in want_config.items():
        got = config.get(key, expected)
        if not isinstance(got, (int, float)) or float(got) != float(expected):
            return False
    return True


def _layer_name(entry: Mapping[str, Any], config: Mapping[str, Any], fallback: str) -> str:
    for candidate in (config.get("name"), entry.get("name")):
        if isinstance(candidate, str) and candidate:
            return candidate
    return fallback


class _Walker:
    def __init__(self, keras_major: int) -> None:
        self.keras_major = keras_major
        self.slots: list[Slot] = []
        self.count = 0

    def _bump(self) -> None:
        self.count += 1
        if self.count > MAX_LAYERS:
            raise InspectError(f"the config describes more than {MAX_LAYERS} layers.")

    def _init_slot(
        self,
        chain: tuple[str, ...],
        layer_class: str,
        spec: WeightSpec,
        config: Mapping[str, Any],
        axes: tuple[tuple[int, ...], tuple[int, ...]] | None = None,
    ) -> Slot:
        raw = config.get(spec.key) if spec.key else None
        info = parse_initializer(raw)
        source = "config"
        if info is None:
            name, args = DEFAULTS[spec.default]
            info = InitializerInfo(name, dict(args), True)
            source = "layer default"
        slot = Slot(
            chain,
            layer_class,
            spec.name,
            info,
            is_default(info, spec.default),
            source,
            spec.aliases,
            axes,
            layer_config=dict(config),
        )
        if info.module and info.module.split(".")[0] not in ("keras", "tensorflow", "tf_keras", "weightinit"):
            slot.notes.append(f"config names module {info.module!r} (never imported)")
        if (
            layer_class in ("LSTM", "LSTMCell", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D")
            and spec.name == "bias"
        ):
            if config.get("unit_forget_bias", True):
                slot.notes.append("unit_forget_bias: the forget-gate quarter starts at ones")
        return slot

    def walk_layer(self, entry: Any, prefix: tuple[str, ...], index: int) -> None:
        self._bump()
        if not isinstance(entry, Mapping):
            return
        class_name = entry.get("class_name")
        if not isinstance(class_name, str):
            return
        config = entry.get("config")
        if isinstance(config, list):  # very old Sequential configs: a bare list of layers
            config = {"layers": config}
        if not isinstance(config, Mapping):
            config = {}
        name = _layer_name(entry, config, snake_case(class_name))  # Keras's automatic name
        chain = (*prefix, name)
        if isinstance(config.get("layers"), list):  # a nested model
            for i, child in enumerate(config["layers"]):
                self.walk_layer(child, chain, i)
            return
        if class_name == "Bidirectional" and isinstance(config.get("layer"), Mapping):
            inner = config["layer"]
            backward = config.get("backward_layer")
            self._walk_renamed(inner, chain, "forward_")
            if isinstance(backward, Mapping):
                self.walk_layer(backward, chain, 1)
            else:
                self._walk_renamed(inner, chain, "backward_")
            return
        if class_name == "MultiHeadAttention":
            self._walk_mha(chain, config)
            return
        specs = weights_of(class_name, dict(config))
        if specs is not None:
            axes = None
            if class_name == "EinsumDense" and self.keras_major >= 3:
                axes = einsum_axes(config.get("equation"))
            cell = RNN_CELL_NAMES.get(class_name, "") if class_name in RNN_CELL_NAMES else ""
            inner_chain = (*chain, cell or WILDCARD) if class_name in RNN_CELL_NAMES else chain
            used = {spec.key for spec in LAYERS[class_name]}  # absent weights (use_bias=False) included
            for spec in specs:
                self.slots.append(
                    self._init_slot(
                        inner_chain, class_name, spec, config, axes if spec.name == "kernel" else None
                    )
                )
            self._extra_keys(chain, class_name, config, used, "known layer, extra key")
            return
        nested = False
        for key in ("layer", "cell"):
            if isinstance(config.get(key), Mapping):
                self.walk_layer(config[key], chain, 0)
                nested = True
        cells = config.get("cells")
        if isinstance(cells, list):
            for i, child in enumerate(cells):
                self.walk_layer(child, chain, i)
            nested = True
        if not nested:
            self._extra_keys(chain, class_name, config, set(), "unknown layer")

    def _walk_renamed(self, inner: Mapping[str, Any], prefix: tuple[str, ...], tag: str) -> None:
        config = inner.get("config")
        if not isinstance(config, Mapping):
            config = {}
        base = _layer_name(inner, config, "layer")
        if tag == "backward_" and base.startswith("forward_"):
            base = base[len("forward_") :]
        renamed = dict(inner)
        renamed["config"] = {**config, "name": base if base.startswith(tag) else tag + base}
        self.walk_layer(renamed, prefix, 0)

    def _walk_mha(self, chain: tuple[str, ...], config: Mapping[str, Any]) -> None:
        kernel, bias = (
            WeightSpec("kernel", "kernel_initializer", "glorot_uniform"),
            WeightSpec("bias", "bias_initializer", "zeros"),
        )
        for sub, axes in MHA_PROJECTIONS:
            sub_chain = (*chain, sub)
            self.slots.append(
                self._init_slot(
                    sub_chain, "MultiHeadAttention", kernel, config, axes if self.keras_major >= 3 else None
                )
            )
            if config.get("use_bias", True):
                self.slots.append(self._init_slot(sub_chain, "MultiHeadAttention", bias, config))

    def _extra_keys(
        self,
        chain: tuple[str, ...],
        class_name: str,
        config: Mapping[str, Any],
        used: set[str | None],
        why: str,
    ) -> None:
        for key, value in config.items():
            if not (isinstance(key, str) and key.endswith("_initializer")) or key in used:
                continue
            info = parse_initializer(value)
            if info is None:
                continue
            slot = Slot(
                chain,
                class_name,
                key[: -len("_initializer")],
                info,
                None,
                "config key",
                layer_config=dict(config),
            )
            slot.notes.append(f"{why}: weight name guessed from the config key {key!r}")
            self.slots.append(slot)


def walk_model(config: Any, keras_major: int = 3) -> list[Slot]:
    """Slots of every weight a model (or single-layer) config describes, in layer order.

    ``config`` is the ``{"class_name": ..., "config": ...}`` dict of a model.
    The top model's own name is not part of the paths (files do not use it).
    """
    if not isinstance(config, Mapping) or "class_name" not in config:
        raise InspectError("the config is not a Keras model or layer config (no 'class_name').")
    walker = _Walker(keras_major)
    inner = config.get("config")
    if isinstance(inner, list):
        inner = {"layers": inner}
    if isinstance(inner, Mapping) and isinstance(inner.get("layers"), list):
        for i, child in enumerate(inner["layers"]):
            walker.walk_layer(child, (), i)
    else:
        walker.walk_layer(config, (), 0)
    return walker.slots
