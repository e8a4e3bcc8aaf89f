"""``--stats`` for a weight whose initializer is known: do the stored values look like it?

Tests, on the fixed sample of ``_tensor`` (thresholds chosen so that a freshly
initialized tensor is flagged with probability below about 1e-6):

- deterministic initializers (Zeros, Ones, Constant, Identity, STFT): the
  sampled values must equal, exactly, the same positions of the initializer's
  output (generated for those positions only);
- Orthogonal: ``QᵀQ`` (or ``QQᵀ``, the smaller side) must be ``gain² I`` to
  float rounding, on the whole matrix or on leading rows when that suffices;
- random initializers: no value outside the support (uniform and truncated
  laws, with a few units in the last place for rounding); the mean within
  6 standard errors; the std within 6 standard errors (plus rounding);
  the Kolmogorov-Smirnov p-value at least 1e-6 (16-bit floats are dithered
  within their rounding step first, so the test does not see the grid).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._laws._stats import ks_test
from .._laws._theory import Discrete, theory_of
from .._orthogonal import Orthogonal
from .._serialization import deserialize
from .._variance_scaling import VarianceScaling
from ._common import SAMPLE_SIZE
from ._record import Check, InitializerInfo
from ._tensor import Index, TensorRef, folded_rows_index, read_sample, sample_plan

__all__ = ["KS_ALPHA", "SIGMAS", "build_initializer", "check_weight"]

KS_ALPHA = 1e-6
SIGMAS = 6.0
#: Orthogonal: the most values read for the QᵀQ check
ORTHO_MAX_VALUES = 1 << 22
_MANTISSA = {"float16": 10, "bfloat16": 7, "float32": 23, "float64": 52}
_EPS = {"float16": 2.0**-10, "bfloat16": 2.0**-7, "float32": 2.0**-23, "float64": 2.0**-52}


def build_initializer(info: InitializerInfo, axes: tuple[tuple[int, ...], tuple[int, ...]] | None) -> Any:
    """The catalog initializer a config names (built from data only), fan axes applied."""
    config = dict(info.config)
    if axes is not None and config.get("input_axes") is None and config.get("output_axes") is None:
        if info.class_name in (
            "VarianceScaling",
            "GlorotUniform",
            "GlorotNormal",
            "HeUniform",
            "HeNormal",
            "LecunUniform",
            "LecunNormal",
        ):
            config["input_axes"], config["output_axes"] = list(axes[0]), list(axes[1])
    config.pop("shared_object_id", None)
    return deserialize({"class_name": info.class_name, "config": config})


def _spacing(values: NDArray[np.float64], dtype: str) -> NDArray[np.float64]:
    bits = _MANTISSA.get(dtype, 52)
    _, exponent = np.frexp(np.where(values == 0, 1.0, values))
    return np.asarray(np.ldexp(1.0, exponent - 1 - bits), dtype=np.float64)


def _summary(values: NDArray[np.float64]) -> dict[str, float]:
    if values.size == 0:
        return {}
    return {
        "mean": float(values.mean()),
        "std": float(values.std()),
        "min": float(values.min()),
        "max": float(values.max()),
    }


def _exact(init: Any, tensor: TensorRef, dtype: str, expected: str) -> Check:
    plan = sample_plan(tensor.shape)
    got = read_sample(tensor, plan)
    want = np.concatenate(
        [
            np.asarray(init(tensor.shape, dtype=dtype, index=index), dtype=np.float64).reshape(-1)
            for index in plan
        ]
    )
    bad = int(np.count_nonzero(got != want))
    reasons = () if bad == 0 else (f"{bad} of {got.size} sampled values differ from the exact {expected}",)
    return Check(
        "mismatch" if bad else "ok", reasons, got.size, tensor.size, expected=expected, **_summary(got)
    )


def _orthogonal(init: Orthogonal, tensor: TensorRef, dtype: str) -> Check:
    shape = tensor.shape
    rows, cols = math.prod(shape[:-1]), shape[-1]
    gain2 = float(init.gain) ** 2
    expected = f"Orthogonal: QᵀQ = {gain2:g} I"
    if rows <= cols or rows * cols <= ORTHO_MAX_VALUES:
        index: Index = (
            folded_rows_index(shape, ORTHO_MAX_VALUES) if rows <= cols else tuple(slice(0, n) for n in shape)
        )
        matrix = read_sample(tensor, [index])
        k = matrix.size // cols
        if k == 0:
            return Check("unchecked", ("matrix too wide to read one row",), 0, tensor.size, expected=expected)
        m = matrix.reshape(k, cols)
        gram = m @ m.T if k <= cols else m.T @ m
        error = float(np.max(np.abs(gram - gain2 * np.eye(gram.shape[0])))) / max(gain2, 1e-300)
        tol = max(1e-5, 200 * _EPS.get(dtype, 2.0**-23) * math.sqrt(max(rows, cols)))
        part = "" if k == rows else f" (first {k} of {rows} rows)"
        reasons = (
            () if error <= tol else (f"not orthogonal{part}: max |QᵀQ - gain² I| = {error:.3g} > {tol:.2g}",)
        )
        return Check(
            "mismatch" if reasons else "ok",
            reasons,
            m.size,
            tensor.size,
            expected=expected + part,
            orthogonality_error=error,
            **_summary(matrix),
        )
    return Check(
        "unchecked",
        (f"{rows} x {cols} matrix with more rows than columns is too large for an exact QᵀQ check",),
        0,
        tensor.size,
        expected=expected,
    )


def _random(dist: Any, values: NDArray[np.float64], dtype: str, size: int, expected: str) -> Check:
    n = values.size
    reasons: list[str] = []
    summary = _summary(values)
    if n == 0:
        return Check("unchecked", ("empty tensor",), 0, size, expected=expected)
    lower, upper = float(dist.lower), float(dist.upper)
    if math.isfinite(lower) or math.isfinite(upper):
        slack = 4.0 * _spacing(np.array([max(abs(lower), abs(upper))]), dtype)[0] + 1e-300
        outside = int(np.count_nonzero((values < lower - slack) | (values > upper + slack)))
        if outside:
            reasons.append(f"{outside} of {n} values outside [{lower:.4g}, {upper:.4g}]")
    mu, sigma = float(dist.mean), float(dist.std)
    rounding = 4.0 * _EPS.get(dtype, 0.0)
    if sigma > 0 and n >= 2:
        z = abs(summary["mean"] - mu) / (sigma / math.sqrt(n))
        if z > SIGMAS + rounding * math.sqrt(n):
            reasons.append(f"mean {summary['mean']:.4g} is {z:.1f} standard errors from {mu:.4g}")
        ratio = summary["std"] / sigma
        if abs(ratio - 1.0) > SIGMAS / math.sqrt(2.0 * n) + rounding + 1.0 / n:
            reasons.append(f"std {summary['std']:.4g} is {ratio:.3f} x the expected {sigma:.4g}")
    p_value: float | None = None
    if n >= 8:
        test = values
        if dtype in ("float16", "bfloat16"):
            rng = np.random.default_rng(0)
            test = values + (rng.random(n) - 0.5) * _spacing(values, dtype)
        fit = ks_test(test, dist.cdf)
        p_value = fit.p_value
        if p_value < KS_ALPHA:
            reasons.append(f"Kolmogorov-Smirnov p = {p_value:.2g} (D = {fit.statistic:.3g})")
    return Check(
        "mismatch" if reasons else "ok",
        tuple(reasons),
        n,
        size,
        expected=expected,
        expected_mean=mu,
        expected_std=sigma,
        lower=lower,
        upper=upper,
        ks_p=p_value,
        **summary,
    )


def _forget_bias(init: Any, theory_init: Any, tensor: TensorRef, dtype: str, expected: str) -> Check | None:
    """LSTM bias with unit_forget_bias: [init(u), ones(u), init(2u)]."""
    if len(tensor.shape) != 1 or tensor.shape[0] % 4 or tensor.size > SAMPLE_SIZE:
        return None
    u = tensor.shape[0] // 4
    values = read_sample(tensor)
    forget = values[u : 2 * u]
    rest = np.concatenate([values[:u], values[2 * u :]])
    reasons = []
    if np.any(forget != 1.0):
        reasons.append("forget-gate quarter is not all ones (unit_forget_bias)")
    theory = theory_of(theory_init, rest.shape, np.dtype("float64"))
    dist = theory.distribution
    if isinstance(dist, Discrete):
        want = np.concatenate(
            [
                np.asarray(init((u,), dtype=dtype), np.float64),
                np.asarray(init((2 * u,), dtype=dtype), np.float64),
            ]
        )
        bad = int(np.count_nonzero(rest != want))
        if bad:
            reasons.append(f"{bad} of {rest.size} non-forget values differ from the exact {expected}")
        return Check(
            "mismatch" if reasons else "ok",
            tuple(reasons),
            values.size,
            tensor.size,
            expected=expected + " (+ forget ones)",
            **_summary(values),
        )
    if dist is None:
        return None
    inner = _random(dist, rest, dtype, tensor.size, expected)
    all_reasons = tuple(reasons) + inner.reasons
    return Check(
        "mismatch" if all_reasons else "ok",
        all_reasons,
        values.size,
        tensor.size,
        expected=expected + " (+ forget ones)",
        ks_p=inner.ks_p,
        expected_mean=inner.expected_mean,
        expected_std=inner.expected_std,
        lower=inner.lower,
        upper=inner.upper,
        **_summary(values),
    )


def check_weight(
    info: InitializerInfo | None,
    tensor: TensorRef | None,
    *,
    axes: tuple[tuple[int, ...], tuple[int, ...]] | None = None,
    forget_bias: bool = False,
) -> Check:
    """Compare the stored ``tensor`` with what ``info`` would produce (see the module docstring)."""
    if info is None:
        return Check("unchecked", ("no initializer known for this weight",))
    if not info.known:
        return Check("unchecked", (f"custom initializer {info.class_name}: no formula",))
    if tensor is None:
        return Check("unchecked", ("no stored values in this file",))
    dtype = tensor.dtype.name
    size = tensor.size
    if tensor.dtype.kind not in "fc":
        return Check("unchecked", (f"{dtype} values: not a floating weight",), 0, size)
    try:
        init = build_initializer(info, axes)
        theory = theory_of(init, tensor.shape, np.dtype("float64"))
    except (ValueError, TypeError) as exc:
        return Check("unchecked", (f"cannot build the initializer: {str(exc)[:160]}",), 0, size)
    expected = theory.formula
    dist = theory.distribution
    gen_dtype = dtype if dtype in ("float16", "bfloat16", "float32", "float64") else "float32"
    if forget_bias:
        result = _forget_bias(init, init, tensor, gen_dtype, info.class_name)
        if result is not None:
            return result
    if isinstance(init, Orthogonal):
        return _orthogonal(init, tensor, dtype)
    if isinstance(dist, Discrete):
        return _exact(init, tensor, gen_dtype, info.class_name)
    if dist is None:
        return Check("unchecked", ("no formula for this shape",), 0, size, expected=expected)
    values = read_sample(tensor)
    label = f"{info.class_name}: {dist.describe()}"
    if isinstance(init, VarianceScaling):
        fan_in, fan_out = init.fans(tensor.shape)
        label += f" (fan_in {fan_in}, fan_out {fan_out})"
    return _random(dist, values, dtype, size, label)
