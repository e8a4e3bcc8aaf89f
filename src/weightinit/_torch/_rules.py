"""Which Keras weights a torch module holds, and where they land (Keras 3.15 defaults).

Each rule turns one module into :class:`Weight` records: a Keras shape, a
role (whose Keras keyword overrides it: ``kernel_initializer``,
``bias_initializer``, ...), the default initializer of the equivalent Keras
layer, and the parts of torch tensors it fills. The table is in the README
("Initialize a PyTorch model like Keras"); the recurrent layouts follow
keras-initializers.md section 10:

* LSTM: Keras gates i, f, c, o = torch i, f, g, o; the kernel ``(in, 4u)`` is
  one GlorotUniform draw, the recurrent kernel ``(u, 4u)`` one Orthogonal draw,
  the bias (with ``unit_forget_bias``) is ``concat(b((u,)), ones(u), b((2u,)))``
  like Keras's wrapper, into ``bias_ih``; ``bias_hh`` is zeros.
* GRU (Keras ``reset_after=True``, torch's semantics): Keras z, r, h vs torch
  r, z, n: the first two gate blocks swap; bias ``(2, 3u)`` row 0 to
  ``bias_ih``, row 1 to ``bias_hh``.
* RNN (Keras SimpleRNN): kernel, recurrent, bias into ``bias_ih``; ``bias_hh`` zeros.
* Layer ``k`` and direction ``d`` of a multi-layer / bidirectional torch RNN
  is one Keras layer (stacked, or the two halves of ``Bidirectional``): its
  kernel's input size is what torch gives that layer.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from .. import _constant, _orthogonal, _random, _variance_scaling
from ._layouts import keras_shape, torch_to_keras_perm
from ._write import Box, Part

__all__ = ["ROLES", "Weight", "weights_of"]

#: the Keras keyword of each role
ROLES = (
    "kernel",
    "bias",
    "recurrent",
    "embeddings",
    "gamma",
    "beta",
    "moving_mean",
    "moving_variance",
    "alpha",
    "recurrent_bias",
)

Factory = Callable[[], Any]


def _glorot_uniform() -> Any:
    return _variance_scaling.GlorotUniform()


def _glorot(**axes: Any) -> Factory:
    """The factory of a GlorotUniform default (one function when there are no axes, so that
    init_module makes its template once)."""
    if not axes:
        return _glorot_uniform
    return lambda: _variance_scaling.GlorotUniform(**axes)


def _zeros() -> Any:
    return _constant.Zeros()


def _ones() -> Any:
    return _constant.Ones()


def _orth() -> Any:
    return _orthogonal.Orthogonal()


def _embedding() -> Any:
    return _random.RandomUniform(-0.05, 0.05)


@dataclass(slots=True)
class Weight:
    """One Keras weight of a module: what a single Keras initializer call makes."""

    role: str
    shape: tuple[int, ...]
    parts: list[Part]
    seed_name: str  # the qualified name its per-parameter seed derives from
    names: tuple[str, ...]  # qualified names of the torch tensors it fills
    layout: str
    default: Factory
    fixed: bool = False  # Keras's own constant (LSTM forget gate ones): no override
    after: tuple[Callable[[], None], ...] = ()  # actions once every write is done


def _whole(shape: tuple[int, ...]) -> Box:
    return tuple((0, n) for n in shape)


@functools.lru_cache(maxsize=256)
def _geometry(layout: str, torch_shape: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...], Box]:
    """``(perm, Keras shape, its whole box)`` of a tensor of ``torch_shape`` in ``layout``."""
    perm = torch_to_keras_perm(layout, len(torch_shape))
    shape = keras_shape(tuple(torch_shape), perm)
    return perm, shape, _whole(shape)


def _simple(
    role: str, tensor: torch.Tensor, name: str, layout: str, default: Factory, perm_layout: str = "keras"
) -> Weight:
    perm, shape, box = _geometry(perm_layout, tensor.shape)
    return Weight(role, shape, [Part(tensor, box, perm)], name, (name,), layout, default)


def _q(prefix: str, local: str) -> str:
    return f"{prefix}.{local}" if prefix else local


def _dense(m: nn.Linear, p: str) -> list[Weight]:
    out = [_simple("kernel", _own(m, "weight"), _q(p, "weight"), "torch", _glorot(), "torch")]
    bias = _own(m, "bias")
    if bias is not None:
        out.append(_simple("bias", bias, _q(p, "bias"), "keras", _zeros))
    return out


def _bilinear(m: nn.Bilinear, p: str) -> list[Weight]:
    # Keras-style kernel (in1, in2, out) with fans (in1 * in2, out), torch (out, in1, in2)
    perm = (2, 0, 1)
    shape = keras_shape(tuple(m.weight.shape), perm)
    name = _q(p, "weight")
    out = [
        Weight(
            "kernel",
            shape,
            [Part(m.weight, _whole(shape), perm)],
            name,
            (name,),
            "bilinear (in1, in2, out)",
            _glorot(input_axes=[0, 1], output_axes=[2]),
        )
    ]
    if m.bias is not None:
        out.append(_simple("bias", m.bias, _q(p, "bias"), "keras", _zeros))
    return out


def _conv(m: nn.modules.conv._ConvNd, p: str) -> list[Weight]:
    layout = "torch_transposed" if m.transposed else "torch"
    out = [_simple("kernel", m.weight, _q(p, "weight"), layout, _glorot(), layout)]
    if m.bias is not None:
        out.append(_simple("bias", m.bias, _q(p, "bias"), "keras", _zeros))
    return out


def _embed(m: nn.Embedding | nn.EmbeddingBag, p: str) -> list[Weight]:
    w = _simple("embeddings", m.weight, _q(p, "weight"), "keras", _embedding)
    pad = getattr(m, "padding_idx", None)
    if pad is not None:  # torch's contract: the padding row is zeros (Keras has no such row)
        weight = m.weight
        w.after = (lambda: _zero_row(weight, pad),)
    return [w]


def _zero_row(weight: torch.Tensor, row: int) -> None:
    from ._tensors import local_part

    local, offset, _ = local_part(weight)
    r = row - offset[0]
    if 0 <= r < local.shape[0]:
        with torch.no_grad():
            local[r].zero_()


def _own(m: nn.Module, name: str) -> Any:
    """``getattr(m, name, None)``, first from the registered parameters and buffers (which
    ``Module.__getattr__`` reaches only after a failed lookup; a missing name costs getattr an
    exception, and most norms lack two of the four)."""
    found: Any = m._parameters.get(name)
    if found is None:
        found = m._buffers.get(name)
    if found is None and (name in m.__dict__ or hasattr(type(m), name)):
        found = getattr(m, name, None)
    return found


#: a norm's tensors: (attribute, Keras role, default); the running statistics only for
#: BatchNorm / InstanceNorm (LayerNorm, GroupNorm and RMSNorm have none)
_AFFINE = (("weight", "gamma", _ones), ("bias", "beta", _zeros))
_STATISTICS = (*_AFFINE, ("running_mean", "moving_mean", _zeros), ("running_var", "moving_variance", _ones))


def _norm(m: nn.Module, p: str, tensors: tuple[tuple[str, str, Factory], ...] = _STATISTICS) -> list[Weight]:
    out = []
    for local, role, default in tensors:
        t = _own(m, local)
        if isinstance(t, torch.Tensor) and t.is_floating_point():
            out.append(_simple(role, t, _q(p, local), "keras", default))
    return out


def _prelu(m: nn.PReLU, p: str) -> list[Weight]:
    return [_simple("alpha", m.weight, _q(p, "weight"), "keras", _zeros)]


# torch gate row block -> Keras gate column block
_GATES = {"LSTM": (0, 1, 2, 3), "GRU": (1, 0, 2), "RNN": (0,)}


def _gated(
    role: str, tensor: torch.Tensor, name: str, kind: str, units: int, default: Factory, layout: str
) -> Weight:
    """A Keras (in, G*u) kernel stored as torch (G*u, in) with torch's gate order."""
    n_in = tensor.shape[1]
    shape = (n_in, len(_GATES[kind]) * units)
    if kind != "GRU":
        parts = [Part(tensor, _whole(shape), (1, 0))]
    else:
        parts = [
            Part(tensor, ((0, n_in), (k * units, (k + 1) * units)), (1, 0), (t * units, (t + 1) * units))
            for t, k in enumerate(_GATES[kind])
        ]
    return Weight(role, shape, parts, name, (name,), layout, default)


def _rnn_weights(
    kind: str,
    units: int,
    prefix: str,
    tensors: dict[str, torch.Tensor | None],
    suffix: str,
    unit_forget_bias: bool,
) -> list[Weight]:
    """The Keras weights of one layer/direction: ``tensors`` maps weight_ih, ... to tensors."""
    q = {k: _q(prefix, k + suffix) for k in tensors}
    w_ih, w_hh = tensors["weight_ih"], tensors["weight_hh"]
    assert w_ih is not None and w_hh is not None
    out = [
        _gated("kernel", w_ih, q["weight_ih"], kind, units, _glorot(), f"keras {kind} kernel"),
        _gated("recurrent", w_hh, q["weight_hh"], kind, units, _orth, f"keras {kind} recurrent kernel"),
    ]
    b_ih, b_hh = tensors.get("bias_ih"), tensors.get("bias_hh")
    if b_ih is None or b_hh is None:
        return out
    if kind == "GRU":
        g = len(_GATES[kind])
        parts = [
            Part(t, ((row, row + 1), (k * units, (k + 1) * units)), (1,), (j * units, (j + 1) * units))
            for row, t in enumerate((b_ih, b_hh))
            for j, k in enumerate(_GATES[kind])
        ]
        out.append(
            Weight(
                "bias",
                (2, g * units),
                parts,
                q["bias_ih"],
                (q["bias_ih"], q["bias_hh"]),
                "keras GRU bias (2, 3u): row 0 -> bias_ih, row 1 -> bias_hh",
                _zeros,
            )
        )
        return out
    if kind == "LSTM" and unit_forget_bias:
        pieces = (
            (0, units, "bias", False),
            (units, 2 * units, "bias", True),
            (2 * units, 4 * units, "bias", False),
        )
        for lo, hi, role, fixed in pieces:
            out.append(
                Weight(
                    role,
                    (hi - lo,),
                    [Part(b_ih, ((0, hi - lo),), (0,), (lo, hi))],
                    q["bias_ih"],
                    (q["bias_ih"],),
                    "keras LSTM bias, unit_forget_bias",
                    _ones if fixed else _zeros,
                    fixed=fixed,
                )
            )
    else:
        out.append(_simple("bias", b_ih, q["bias_ih"], f"keras {kind} bias", _zeros))
    out.append(_simple("recurrent_bias", b_hh, q["bias_hh"], "zeros (Keras has one bias)", _zeros))
    return out


def _rnn(m: nn.RNNBase, p: str, unit_forget_bias: bool) -> list[Weight]:
    kind = "LSTM" if m.mode == "LSTM" else "GRU" if m.mode == "GRU" else "RNN"
    out = []
    for layer in range(m.num_layers):
        for suffix in ("", "_reverse")[: 2 if m.bidirectional else 1]:
            s = f"_l{layer}{suffix}"
            tensors = {k: getattr(m, k + s, None) for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
            out += _rnn_weights(kind, m.hidden_size, p, tensors, s, unit_forget_bias)
    return out


def _cell(m: nn.RNNCellBase, p: str, unit_forget_bias: bool) -> list[Weight]:
    kind = "LSTM" if isinstance(m, nn.LSTMCell) else "GRU" if isinstance(m, nn.GRUCell) else "RNN"
    tensors = {k: getattr(m, k, None) for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
    return _rnn_weights(kind, m.hidden_size, p, tensors, "", unit_forget_bias)


def _mha(m: nn.MultiheadAttention, p: str) -> list[Weight]:
    out = []
    e = m.embed_dim
    projections = ("query", "key", "value")
    weight = _own(m, "in_proj_weight")
    if weight is not None:
        name = _q(p, "in_proj_weight")
        shape = (weight.shape[1], e)
        box = _whole(shape)
        for i, proj in enumerate(projections):
            out.append(
                Weight(
                    "kernel",
                    shape,
                    [Part(weight, box, (1, 0), (i * e, (i + 1) * e))],
                    f"{name}:{proj}",
                    (name,),
                    f"keras MultiHeadAttention {proj} kernel (in, heads*head_dim)",
                    _glorot(),
                )
            )
    else:
        for local in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
            out.append(_simple("kernel", getattr(m, local), _q(p, local), "torch", _glorot(), "torch"))
    bias = _own(m, "in_proj_bias")
    if bias is not None:
        name = _q(p, "in_proj_bias")
        for i, proj in enumerate(projections):
            out.append(
                Weight(
                    "bias",
                    (e,),
                    [Part(bias, ((0, e),), (0,), (i * e, (i + 1) * e))],
                    f"{name}:{proj}",
                    (name,),
                    f"keras MultiHeadAttention {proj} bias",
                    _zeros,
                )
            )
    return out


Rule = Callable[[Any, str, bool], list[Weight]]

_RULES: list[tuple[type[Any], Rule]] = [
    (nn.MultiheadAttention, lambda m, p, f: _mha(m, p)),
    (nn.RNNBase, _rnn),
    (nn.RNNCellBase, _cell),
    (nn.Bilinear, lambda m, p, f: _bilinear(m, p)),
    (nn.Linear, lambda m, p, f: _dense(m, p)),
    (nn.modules.conv._ConvNd, lambda m, p, f: _conv(m, p)),
    (nn.Embedding, lambda m, p, f: _embed(m, p)),
    (nn.EmbeddingBag, lambda m, p, f: _embed(m, p)),
    (nn.modules.batchnorm._NormBase, lambda m, p, f: _norm(m, p)),
    (nn.LayerNorm, lambda m, p, f: _norm(m, p, _AFFINE)),
    (nn.GroupNorm, lambda m, p, f: _norm(m, p, _AFFINE)),
    (nn.RMSNorm, lambda m, p, f: _norm(m, p, _AFFINE)),
    (nn.PReLU, lambda m, p, f: _prelu(m, p)),
]


# the rule of each module class met so far (the first of _RULES it is a subclass of), or None
_RULE_OF: dict[type[Any], Rule | None] = {}


def _rule_of(cls: type[Any]) -> Rule | None:
    try:
        return _RULE_OF[cls]
    except KeyError:
        found = _RULE_OF[cls] = next((rule for base, rule in _RULES if issubclass(cls, base)), None)
        return found


def weights_of(module: nn.Module, prefix: str, unit_forget_bias: bool) -> list[Weight] | None:
    """The Keras weights of ``module``'s own tensors, or None if no rule knows its type."""
    if isinstance(module, nn.modules.lazy.LazyModuleMixin) and module.has_uninitialized_params():
        return None
    rule = _rule_of(type(module))
    return None if rule is None else rule(module, prefix, unit_forget_bias)
