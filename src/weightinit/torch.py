"""PyTorch adapter: initialize torch tensors and modules exactly like Keras.

Needs ``torch`` (``pip install weightinit[torch]``). The values always come
from weightinit's engine; this module only lays them out (Keras's
``(*kernel, in, out)`` permuted into torch's ``(out, in, *kernel)``), picks
per-parameter seeds and writes into the tensors' memory.

>>> import torch
>>> import weightinit as wi
>>> from weightinit import torch as wtorch
>>> layer = torch.nn.Linear(3, 2)
>>> _ = wtorch.init_(layer.weight, wi.GlorotUniform(seed=0))
>>> bool((layer.weight.detach().numpy() == wi.GlorotUniform(seed=0)((3, 2)).T).all())
True
>>> wtorch.initializer_of(layer.weight)
GlorotUniform(seed=0, input_axes=None, output_axes=None)
"""

from __future__ import annotations

from typing import Any

import torch as _torch

from . import _serialization
from ._errors import InvalidArgumentError, InvalidTypeError, short_repr
from ._torch._layouts import LAYOUTS, keras_shape, torch_to_keras_perm
from ._torch._module import InitReport, UninitializedParametersWarning
from ._torch._module import init_module as _init_module
from ._torch._records import InitRecord, record, record_of
from ._torch._seeds import param_seed
from ._torch._tensors import numpy_dtype
from ._torch._write import Part, write_weight

__all__ = [
    "LAYOUTS",
    "InitRecord",
    "InitReport",
    "UninitializedParametersWarning",
    "init_",
    "init_module",
    "init_record",
    "initializer_of",
    "param_seed",
]


def init_(tensor: _torch.Tensor, initializer: Any, layout: str = "torch") -> _torch.Tensor:
    """Fill ``tensor`` in place with ``initializer``'s values, laid out as torch stores weights.

    The values are those ``initializer`` gives for the Keras-layout shape,
    permuted into the tensor: ``layout="torch"`` means ``(out, in, *kernel)``
    (``Linear``, ``ConvNd``; a 1-D tensor is a bias), ``"torch_transposed"``
    ``(in, out, *kernel)`` (``ConvTransposeNd``), ``"keras"`` the tensor is
    already in Keras order (``Embedding``, norms, any rank). So a torch layer
    and the equivalent Keras layer get the same numbers for the same seed.

    Works under ``no_grad`` on float16, bfloat16, float32 and float64 tensors.
    On the CPU the engine writes straight into the tensor's memory (a
    transposing layout is handled in bounded scratch, no temporary of the
    tensor's size); on other devices the values are made on the CPU and copied
    once, through a pinned staging buffer when large. A DTensor (FSDP2,
    tensor parallel; Shard(d) / Replicate on any mesh) gets only its local
    shard, generated through ``index=``: the gathered tensor equals the
    single-process one for every mesh and world size.

    Args:
        tensor: a floating torch tensor or parameter (not on the meta device).
        initializer: anything :func:`weightinit.get` accepts (``"he_normal"``,
            a config dict, an instance, a callable ``(shape, dtype)``).
        layout: ``"torch"``, ``"torch_transposed"`` or ``"keras"``.

    Returns:
        ``tensor``.

    Raises:
        InvalidTypeError: integer, bool or complex tensors; not a tensor.
        InvalidArgumentError: unknown layout, a rank the layout cannot map,
            meta tensors, overlapping memory. The tensor is left untouched.

    Example:
        >>> import torch, weightinit as wi
        >>> from weightinit import torch as wtorch
        >>> w = torch.empty(4, 3, 5)                       # Conv1d(3, 4, 5).weight
        >>> _ = wtorch.init_(w, "he_normal")
        >>> keras = wi.HeNormal(seed=1)((5, 3, 4))         # Conv1D kernel (k, in, out)
        >>> _ = wtorch.init_(w, wi.HeNormal(seed=1))
        >>> bool((w.numpy() == keras.transpose(2, 1, 0)).all())
        True
    """
    if not isinstance(tensor, _torch.Tensor):
        raise InvalidTypeError(f"Argument `tensor` must be a torch.Tensor. Received: {short_repr(tensor)}")
    numpy_dtype(tensor)
    perm = torch_to_keras_perm(layout, tensor.dim())
    init = _serialization.get(initializer)
    if init is None or not callable(init):
        raise InvalidArgumentError(
            "Argument `initializer` must name an initializer. "
            f"Received: initializer={short_repr(initializer)}"
        )
    shape = keras_shape(tuple(tensor.shape), perm)
    with _torch.no_grad():
        write_weight(init, shape, [Part(tensor, tuple((0, n) for n in shape), perm)])
    record(tensor, InitRecord(init, layout, None, shape))
    return tensor


def init_module(module: _torch.nn.Module, seed: int = 0, **overrides: Any) -> InitReport:
    """Initialize every known layer of ``module`` as Keras 3 initializes the equivalent layer.

    Defaults (Keras 3.15): Linear, Bilinear, ConvNd, ConvTransposeNd kernels
    GlorotUniform, biases zeros; Embedding / EmbeddingBag RandomUniform(-0.05,
    0.05) (torch's ``padding_idx`` row stays zero); LSTM / GRU / RNN and their
    cells as Keras builds them (kernel GlorotUniform and recurrent kernel
    Orthogonal over all gates at once, gate order translated, LSTM's
    ``unit_forget_bias``, GRU ``reset_after`` biases); BatchNorm / LayerNorm /
    GroupNorm / RMSNorm / InstanceNorm ones and zeros (running statistics too);
    PReLU zeros; MultiheadAttention's in_proj as three Keras Dense kernels;
    Transformer layers through their sub-modules.

    Each weight's seed is :func:`param_seed` of (``seed``, its qualified
    name), so the result depends neither on construction order nor on which
    rank holds what (DTensor / FSDP2 parameters get their local shards only).

    Args:
        module: the model (on any device; after ``to_empty`` for meta models).
        seed: root seed, an int in [0, 2**64).
        kernel_initializer, bias_initializer, recurrent_initializer,
        embeddings_initializer, gamma_initializer, beta_initializer,
        moving_mean_initializer, moving_variance_initializer,
        alpha_initializer, recurrent_bias_initializer: override a role
            everywhere (Keras's keyword names). An unseeded or int-seeded
            random initializer gets per-parameter seeds derived from its own
            seed (or ``seed``).
        per_type: ``{ModuleClass: {"kernel_initializer": ..., ...}}``, for
            modules of that type (first matching class wins).
        per_name: ``{"pattern": initializer}``: fnmatch patterns over the
            qualified parameter names (first match wins; beats per_type,
            which beats the keywords).
        unit_forget_bias: like Keras's LSTM argument (default True).
        warn: warn about parameters left untouched (default True).

    Returns:
        An :class:`InitReport`: the record of every initialized tensor, and the
        names of the parameters left untouched (also warned about).

    Example:
        >>> import torch, weightinit as wi
        >>> from weightinit import torch as wtorch
        >>> model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.LayerNorm(3))
        >>> report = wtorch.init_module(model, seed=0)
        >>> sorted(report.initialized), report.skipped
        (['0.bias', '0.weight', '1.bias', '1.weight'], ())
        >>> expected = wi.GlorotUniform(seed=wtorch.param_seed(0, "0.weight"))((4, 3)).T
        >>> bool((model[0].weight.detach().numpy() == expected).all())
        True
    """
    return _init_module(module, seed, **overrides)


def init_record(tensor: _torch.Tensor) -> InitRecord | None:
    """The :class:`InitRecord` (initializer, layout, name, Keras shape) of ``tensor``'s last
    initialization through weightinit, or None."""
    return record_of(tensor)


def initializer_of(tensor: _torch.Tensor) -> Any:
    """The initializer (with the seed it used) that last initialized ``tensor`` through
    weightinit, or None.

    The record is kept per tensor object: it survives training steps and
    ``load_state_dict`` (both write into the same parameters), but not a
    ``state_dict``'s tensors (no provenance travels with values) nor
    ``to_empty`` / ``fully_shard`` (new parameter objects, values no longer
    those the initializer made). On FSDP2 / DTensor parameters initialized
    after sharding it is the same initializer, with the same seed, on every rank.
    An ``init_module`` call whose writes fail part-way (a custom initializer that
    raises, an interrupt) leaves no record on the tensors it was writing.
    """
    rec = record_of(tensor)
    return None if rec is None else rec.initializer
