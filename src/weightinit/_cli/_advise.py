"""``advise``: the initializer the usual guidance recommends for an activation and a layer kind.

The rules, with their sources:

* ReLU family (relu, elu, gelu, swish/silu): He (Kaiming) normal, ``scale = 2`` on ``fan_in``
  (He et al., 2015). Leaky ReLU with slope ``a``: ``scale = 2 / (1 + a^2)``.
* tanh, sigmoid, linear: Glorot (Xavier) uniform, ``scale = 1`` on ``fan_avg`` (Glorot & Bengio,
  2010), Keras's default kernel initializer.
* SELU: LeCun normal, ``scale = 1`` on ``fan_in`` (Klambauer et al., 2017, self-normalizing nets).
* Recurrent kernels: Orthogonal (all singular values 1; Saxe et al., 2014), Keras's default.
* Embeddings: ``RandomUniform(-0.05, 0.05)``, Keras's default.
* Biases: zeros.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._constant import Zeros
from .._laws._theory import theory_of
from .._orthogonal import Orthogonal
from .._random import RandomUniform
from .._serialization import serialize
from .._variance_scaling import GlorotUniform, HeNormal, LecunNormal, VarianceScaling
from ._activations import second_moment
from ._text import fmt, wrapped_pairs

__all__ = [
    "ADVISE_ACTIVATIONS",
    "LAYERS",
    "Advice",
    "Recommendation",
    "advise",
    "advice_json",
    "advice_lines",
]

ADVISE_ACTIVATIONS = (
    "elu",
    "gelu",
    "leaky_relu",
    "linear",
    "relu",
    "selu",
    "sigmoid",
    "silu",
    "swish",
    "tanh",
)
LAYERS = ("conv", "dense", "embedding", "rnn")
RELU_LIKE = ("elu", "gelu", "silu", "swish")


@dataclass
class Recommendation:
    """One weight of the layer and the initializer for it."""

    argument: str  # the Keras layer argument, e.g. "kernel_initializer"
    identifier: str  # the short form to pass, e.g. "he_normal"
    initializer: Any
    reason: str
    python: str  # how to write it in Keras code

    @property
    def variance_scaling(self) -> VarianceScaling | None:
        return self.initializer if isinstance(self.initializer, VarianceScaling) else None


@dataclass
class Advice:
    activation: str
    layer: str
    recommendations: list[Recommendation]
    alternatives: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    keras: str = ""
    check: str = ""
    shape: tuple[int, ...] | None = None


def _kernel(activation: str, slope: float) -> tuple[Recommendation, list[tuple[str, str]], list[str]]:
    notes: list[str] = []
    if activation == "relu":
        rec = Recommendation(
            "kernel_initializer",
            "he_normal",
            HeNormal(),
            "ReLU zeroes the negative half, so E[relu(z)^2] = Var(z) / 2; scale 2 on fan_in "
            "(gain sqrt(2)) keeps the variance constant from layer to layer (He et al., 2015)",
            '"he_normal"',
        )
        alts = [
            ("he_uniform", "same variance, bounded: U(-L, L), L = sqrt(6 / fan_in)"),
            ("VarianceScaling(scale=2.0, mode='fan_out')", "keeps the backward (gradient) variance instead"),
        ]
        return rec, alts, notes
    if activation == "leaky_relu":
        scale = 2.0 / (1.0 + slope * slope)
        init = VarianceScaling(scale=round(scale, 6), mode="fan_in", distribution="truncated_normal")
        rec = Recommendation(
            "kernel_initializer",
            f"VarianceScaling(scale={round(scale, 6)}, mode='fan_in')",
            init,
            f"leaky ReLU with negative slope a = {slope:g} keeps (1 + a^2) / 2 of the variance, so "
            f"scale = 2 / (1 + a^2) = {scale:.4g} on fan_in (gain {math.sqrt(scale):.4g}) preserves it "
            "(He et al., 2015)",
            f'keras.initializers.VarianceScaling(scale={round(scale, 6)}, mode="fan_in", '
            'distribution="truncated_normal")',
        )
        alts = [("he_normal", f"scale 2 instead of {scale:.4g}: nearly the same for a small slope")]
        notes.append("the negative slope is Keras's leaky_relu default 0.2; change it with --negative-slope")
        return rec, alts, notes
    if activation in RELU_LIKE:
        exact = 1.0 / second_moment(activation)
        rec = Recommendation(
            "kernel_initializer",
            "he_normal",
            HeNormal(),
            f"{activation} is ReLU-like (near zero for negative inputs, identity for large positive "
            "ones), and He's scale 2 on fan_in is the standard choice for the ReLU family",
            '"he_normal"',
        )
        alts = [
            ("he_uniform", "same variance, bounded"),
            (
                f"VarianceScaling(scale={exact:.3g}, mode='fan_in')",
                f"1 / E[{activation}(z)^2] = {exact:.3g} keeps unit pre-activation variance exactly",
            ),
        ]
        if activation == "elu":
            drift = "slope 1 on both sides of 0, so small signals grow"
        else:
            drift = "slope 1/2 at 0, so small signals shrink"
        notes.append(
            f"{activation} has {drift} under He's scale 2 in a deep stack without normalization or "
            "residual connections: see 'check it' below"
        )
        return rec, alts, notes
    if activation == "selu":
        rec = Recommendation(
            "kernel_initializer",
            "lecun_normal",
            LecunNormal(),
            "self-normalizing networks need weights with mean 0 and variance 1 / fan_in; SELU's "
            "fixed point (mean 0, variance 1) then pulls the activations back (Klambauer et al., 2017)",
            '"lecun_normal"',
        )
        notes.append("use AlphaDropout, not Dropout, to keep the self-normalizing property")
        return rec, [("lecun_uniform", "same variance, bounded")], notes
    reasons = {
        "tanh": "tanh has slope 1 at 0, so variance is kept while signals are small; Glorot's scale 1 "
        "on fan_avg balances the forward and backward variance (Glorot & Bengio, 2010)",
        "sigmoid": "Glorot & Bengio's analysis; sigmoid's slope at 0 is 1/4, so signals still shrink "
        "with depth: prefer tanh or ReLU in deep stacks",
        "linear": "a linear layer keeps the variance with scale 1; fan_avg balances the forward and "
        "backward passes (Glorot & Bengio, 2010)",
    }
    rec = Recommendation(
        "kernel_initializer",
        "glorot_uniform",
        GlorotUniform(),
        reasons[activation] + "; it is Keras's default kernel initializer",
        '"glorot_uniform"',
    )
    alts = [("glorot_normal", "same variance, truncated normal")]
    if activation == "tanh":
        alts.append(
            (f"VarianceScaling(scale={25 / 9:.4g}, mode='fan_in')", "PyTorch's tanh gain 5/3 on fan_in")
        )
    if activation == "linear":
        alts.append(
            ("orthogonal", "an exact isometry: deep linear networks train faster (Saxe et al., 2014)")
        )
    return rec, alts, notes


def advise(
    activation: str, layer: str, negative_slope: float = 0.2, shape: tuple[int, ...] | None = None
) -> Advice:
    """The recommendation for ``activation`` in a ``layer`` (dense, conv, rnn, embedding)."""
    if layer == "embedding":
        rec = Recommendation(
            "embeddings_initializer",
            "uniform",
            RandomUniform(-0.05, 0.05),
            "Keras's Embedding default: small values, independent of the vocabulary size; an "
            "embedding is a lookup table, so no activation or fan rule applies",
            '"uniform"',
        )
        alts = [("RandomNormal(stddev=1.0)", "PyTorch's nn.Embedding default; pair it with a normalization")]
        if shape is not None and len(shape) == 2 and shape[1] > 0:
            std = 1.0 / math.sqrt(shape[1])
            alts.append(
                (
                    f"RandomNormal(stddev={std:.4g})",
                    f"1 / sqrt(dim) for dim {shape[1]}: output embeddings tied to a softmax",
                )
            )
        else:
            alts.append(
                ("RandomNormal(stddev=1 / sqrt(dim))", "when the embedding is tied to the output softmax")
            )
        notes = (
            [] if activation == "linear" else [f"the activation ({activation}) does not affect an embedding"]
        )
        return Advice(
            activation,
            layer,
            [rec],
            alts,
            notes,
            'keras.layers.Embedding(input_dim, output_dim, embeddings_initializer="uniform")',
            "",
            shape,
        )
    kernel, alts, notes = _kernel(activation, negative_slope)
    recs = [kernel]
    keras_activation = f'activation="{activation}"'
    if layer == "rnn":
        recs.append(
            Recommendation(
                "recurrent_initializer",
                "orthogonal",
                Orthogonal(),
                "the recurrent matrix multiplies the state at every step; an orthogonal matrix has all "
                "singular values 1, so signals and gradients through time neither vanish nor explode at "
                "the start (Saxe et al., 2014); Keras's default",
                '"orthogonal"',
            )
        )
        if activation == "relu":
            alts.append(("identity", "IRNN: a ReLU RNN with an identity recurrent matrix (Le et al., 2015)"))
        recs.append(
            Recommendation(
                "bias_initializer",
                "zeros",
                Zeros(),
                "zeros; for an LSTM keep unit_forget_bias=True (forget-gate bias 1, Jozefowicz et al., 2015)",
                '"zeros"',
            )
        )
        keras = (
            f"keras.layers.LSTM(units, {keras_activation}, kernel_initializer={kernel.python}, "
            'recurrent_initializer="orthogonal", unit_forget_bias=True)'
        )
        notes.append(
            "the kernel rule applies to the input kernel (each gate block gets its own fans in Keras)"
        )
    else:
        recs.append(
            Recommendation(
                "bias_initializer", "zeros", Zeros(), "zeros: Keras's default for biases", '"zeros"'
            )
        )
        if layer == "conv":
            keras = (
                f"keras.layers.Conv2D(filters, kernel_size, {keras_activation}, "
                f"kernel_initializer={kernel.python})"
            )
            notes.append("conv fans count the receptive field: fan_in = kernel_h * kernel_w * in_channels")
        else:
            keras = f"keras.layers.Dense(units, {keras_activation}, kernel_initializer={kernel.python})"
    slope = f" --negative-slope {negative_slope:g}" if activation == "leaky_relu" else ""
    spec = kernel.identifier
    if isinstance(kernel.initializer, VarianceScaling) and "(" in spec:
        spec = f"'VarianceScaling(scale={kernel.initializer.scale:g}, mode=\"fan_in\")'"
    baseline = "he_normal" if kernel.identifier == "glorot_uniform" else "glorot_uniform"
    check = f"weightinit propagate {spec} {baseline} --activation {activation}{slope}"
    return Advice(activation, layer, recs, alts, notes, keras, check, shape)


def _rule(init: Any) -> list[tuple[str, str]]:
    if not isinstance(init, VarianceScaling):
        return []
    gain = math.sqrt(init.scale)
    return [
        ("fan mode", init.mode),
        ("scale", f"{init.scale:.4g}  (gain sqrt(scale) = {gain:.4g})"),
        ("distribution", init.distribution),
    ]


def _for_shape(init: Any, shape: tuple[int, ...]) -> str:
    try:
        theory = theory_of(init, shape, np.dtype("float32"))
    except (ValueError, TypeError):
        return "n/a for this shape"
    dist = theory.distribution
    if dist is None:
        return "-"
    text = f"{shape}: fan_in {theory.fan_in}, fan_out {theory.fan_out} -> std {fmt(dist.std)}"
    if math.isfinite(dist.upper) and dist.kind != "deterministic":
        text += f", bounds +-{fmt(dist.upper)}"
    return text


def advice_lines(advice: Advice) -> list[str]:
    lines = [f"advise: {advice.activation} activation, {advice.layer} layer", ""]
    for rec in advice.recommendations:
        lines.append(f"  {rec.argument} = {rec.identifier}   ({type(rec.initializer).__name__})")
        rows = list(_rule(rec.initializer))
        rows.append(("why", rec.reason))
        if advice.shape is not None and rec.argument != "bias_initializer":
            rows.append(("for shape", _for_shape(rec.initializer, advice.shape)))
        rows.append(("config", json.dumps(serialize(rec.initializer))))
        lines.extend(wrapped_pairs(rows, keep=("config",)))
        lines.append("")
    if advice.alternatives:
        lines.append("  alternatives")
        lines.extend(wrapped_pairs(advice.alternatives))
        lines.append("")
    if advice.notes:
        lines.extend(f"  note   {n}" for n in advice.notes)
        lines.append("")
    lines.append("  in Keras")
    lines.append(f"    {advice.keras}")
    if advice.check:
        lines.append("  check it")
        lines.append(f"    {advice.check}")
    return lines


def advice_json(advice: Advice) -> dict[str, Any]:
    recs = []
    for rec in advice.recommendations:
        vs = rec.variance_scaling
        entry: dict[str, Any] = {
            "argument": rec.argument,
            "identifier": rec.identifier,
            "class_name": type(rec.initializer).__name__,
            "config": serialize(rec.initializer),
            "fan_mode": vs.mode if vs else None,
            "scale": vs.scale if vs else None,
            "gain": math.sqrt(vs.scale) if vs else None,
            "distribution": vs.distribution if vs else None,
            "reason": rec.reason,
            "python": rec.python,
        }
        if advice.shape is not None:
            try:
                theory = theory_of(rec.initializer, advice.shape, np.dtype("float32"))
                dist = theory.distribution
                entry["for_shape"] = {
                    "shape": list(advice.shape),
                    "fan_in": theory.fan_in,
                    "fan_out": theory.fan_out,
                    "std": dist.std if dist else None,
                }
            except (ValueError, TypeError):
                entry["for_shape"] = None
        recs.append(entry)
    return {
        "activation": advice.activation,
        "layer": advice.layer,
        "recommendations": recs,
        "alternatives": [{"initializer": n, "why": w} for n, w in advice.alternatives],
        "notes": advice.notes,
        "keras": advice.keras,
        "check": advice.check or None,
    }
