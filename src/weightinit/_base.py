"""The ``Initializer`` base class and the call protocol of the built-ins."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from ._dtypes import ANY_DTYPES, dtype_name, resolve_dtype
from ._errors import InvalidArgumentError, InvalidTypeError, WeightinitError, short_repr
from ._validation import (
    Index,
    Region,
    Shape,
    check_output_size,
    normalize_index,
    normalize_shape,
    region_of,
    region_shape,
    whole_region,
)

__all__ = ["Initializer"]


class Initializer:
    """Base class of every initializer; subclass it for your own.

    A subclass implements ``__call__(self, shape, dtype=None)`` returning an
    array of that shape, and ``get_config()`` returning the constructor
    arguments as a JSON-able dict, so that ``cls.from_config(config)`` rebuilds
    it. Register it with :func:`weightinit.register_initializer` to load it by
    name from configs.

    Example:
        >>> import numpy as np
        >>> import weightinit as wi
        >>> class Fill(wi.Initializer):
        ...     def __init__(self, value=1.0):
        ...         self.value = value
        ...     def __call__(self, shape, dtype=None):
        ...         return np.full(shape, self.value, dtype=dtype or "float32")
        ...     def get_config(self):
        ...         return {"value": self.value}
        >>> Fill(2.0).clone()((2,))
        array([2., 2.], dtype=float32)
    """

    def __call__(self, shape: Shape, dtype: Any = None) -> Any:
        raise NotImplementedError("Initializer subclasses must implement the `__call__()` method.")

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, as a JSON-able dict."""
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Initializer:
        """Rebuild an instance from ``get_config()``'s output."""
        if not isinstance(config, dict):
            raise InvalidTypeError(
                f"Expected 'config' to be a dict for {cls.__name__}. Received: {short_repr(config)}"
            )
        bad = next((k for k in config if not isinstance(k, str)), None)
        if bad is not None:
            raise InvalidTypeError(
                f"{cls.__name__}: config keys must be str. Received key: {short_repr(bad)}"
            )
        try:
            return cls(**config)
        except TypeError as exc:
            if isinstance(exc, WeightinitError):
                raise
            raise InvalidTypeError(
                f"{cls.__name__} could not be built from its config: {short_repr(str(exc))}"
            ) from None

    def clone(self) -> Initializer:
        """A new instance with the same config."""
        return self.__class__.from_config(self.get_config())

    def __repr__(self) -> str:
        try:
            args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        except Exception:
            args = "..."
        return f"{type(self).__name__}({args})"


#: keywords TensorFlow and tf.keras may pass to an initializer's call
_FRAMEWORK_KWARGS = ("layout", "partition_info")


def _check_framework_kwargs(owner: str, kwargs: dict[str, Any]) -> None:
    unknown = sorted(k for k in kwargs if k not in _FRAMEWORK_KWARGS)
    if unknown:
        raise InvalidTypeError(
            f"{owner}.__call__() got unexpected keyword argument(s) {short_repr(unknown)}. "
            f"Accepted: shape, dtype, index, and (None only) {', '.join(_FRAMEWORK_KWARGS)}."
        )
    given = {k: v for k, v in kwargs.items() if v is not None}
    if given:
        raise InvalidArgumentError(
            f"{owner}: {', '.join(sorted(given))} must be None (weightinit makes whole tensors or, "
            f"with `index=`, any slice of one). Received: {short_repr(given)}"
        )


class BuiltinInitializer(Initializer):
    """Shared ``__call__`` of the catalog: validate, check the size cap, generate."""

    #: dtypes this initializer can produce
    dtypes: ClassVar[tuple[str, ...]] = ANY_DTYPES

    def __call__(
        self, shape: Shape, dtype: Any = None, *, index: Index | None = None, **kwargs: Any
    ) -> NDArray[Any]:
        """Return the tensor of ``shape`` (or its ``index`` slice) as a numpy array.

        Args:
            shape: tuple or list of non-negative ints.
            dtype: dtype name or numpy dtype; None means ``weightinit.floatx()``.
            index: None, or a tuple of ``slice`` objects (step 1, in range): the
                result is then bitwise equal to ``self(shape, dtype)[index]``.
            kwargs: what TensorFlow / tf.keras may pass and weightinit has no use for:
                ``partition_info`` and ``layout`` (None only; for a shard use ``index``).
                Any other keyword is an error.
        """
        owner = type(self).__name__
        if kwargs:
            _check_framework_kwargs(owner, kwargs)
        shape = normalize_shape(shape, owner)
        resolved = resolve_dtype(dtype, self.dtypes, owner)
        self._check_shape(shape)
        region = region_of(shape, normalize_index(index, shape, owner))
        label = f"{owner} of shape " if index is None else f"{owner}: the index= slice of {shape}, of shape "
        check_output_size(region_shape(region), resolved, label, self._work_bytes(shape))
        return self._generate(shape, region, resolved, index is None)

    def _call_region(self, shape: Shape, dtype: np.dtype[Any], region: Region) -> NDArray[Any]:
        """``self(shape, dtype, index=...)`` of ``region`` for adapters that already hold a valid
        shape (a tuple of non-negative ints), a numpy dtype and an in-bounds region: the same
        values through the same checks, less the argument parsing."""
        owner = type(self).__name__
        if dtype_name(dtype) not in self.dtypes:
            resolve_dtype(dtype, self.dtypes, owner)  # raises, naming the choices
        self._check_shape(shape)
        whole = region == whole_region(shape)

        def label() -> str:  # (for an error only)
            return f"{owner} of shape " if whole else f"{owner}: the index= slice of {shape}, of shape "

        check_output_size(region_shape(region), dtype, label, self._work_bytes(shape))
        return self._generate(shape, region, dtype, whole)

    def _check_shape(self, shape: Shape) -> None:
        """Rank rules (Identity, Orthogonal, STFT override this)."""

    def _work_bytes(self, shape: Shape) -> int:
        """Working memory beyond the output (Orthogonal's float64 working matrix)."""
        return 0

    def _generate(self, shape: Shape, region: Region, dtype: np.dtype[Any], whole: bool) -> NDArray[Any]:
        raise NotImplementedError  # pragma: no cover - every built-in overrides it
