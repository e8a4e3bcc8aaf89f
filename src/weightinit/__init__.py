"""weightinit: neural-network weight initializers with exact Keras 3 semantics.

Framework-neutral (numpy arrays out; adapters for PyTorch, JAX and Keras), on
a counter-based random engine: element ``i`` of a tensor is a pure function of
(seed, initializer, shape, dtype, i), so any slice can be generated alone and
equals the same slice of the whole.

>>> import weightinit as wi
>>> w = wi.GlorotUniform(seed=42)((784, 256))
>>> w.shape, w.dtype
((784, 256), dtype('float32'))
>>> part = wi.GlorotUniform(seed=42)((784, 256), index=(slice(0, 392),))
>>> bool((part == w[:392]).all())
True
"""

from . import initializers as initializers
from ._base import Initializer as Initializer
from ._constant import Constant as Constant
from ._constant import Ones as Ones
from ._constant import Zeros as Zeros
from ._dirac import Dirac as Dirac
from ._dirac import Eye as Eye
from ._dtypes import floatx as floatx
from ._dtypes import set_floatx as set_floatx
from ._engine import STREAM_VERSION as STREAM_VERSION
from ._errors import ConfigError as ConfigError
from ._errors import InvalidArgumentError as InvalidArgumentError
from ._errors import InvalidTypeError as InvalidTypeError
from ._errors import ResourceLimitError as ResourceLimitError
from ._errors import UnknownInitializerError as UnknownInitializerError
from ._errors import UnsafeConfigError as UnsafeConfigError
from ._errors import WeightinitError as WeightinitError
from ._fans import compute_fans as compute_fans
from ._gain import calculate_gain as calculate_gain
from ._identity import Identity as Identity
from ._info import engine_info as engine_info
from ._inspect import inspect_model as inspect_model
from ._jax_init import JaxTruncatedNormal as JaxTruncatedNormal
from ._jax_init import JaxUniform as JaxUniform
from ._jax_init import JaxVarianceScaling as JaxVarianceScaling
from ._jax_orthogonal import DeltaOrthogonal as DeltaOrthogonal
from ._jax_orthogonal import JaxOrthogonal as JaxOrthogonal
from ._kaiming import KaimingNormal as KaimingNormal
from ._kaiming import KaimingUniform as KaimingUniform
from ._limits import get_max_bytes as get_max_bytes
from ._limits import set_max_bytes as set_max_bytes
from ._orthogonal import Orthogonal as Orthogonal
from ._random import RandomNormal as RandomNormal
from ._random import RandomUniform as RandomUniform
from ._random import TruncatedNormal as TruncatedNormal
from ._random import UnseededReuseWarning as UnseededReuseWarning
from ._registry import register_initializer as register_initializer
from ._seed import SeedGenerator as SeedGenerator
from ._serialization import deserialize as deserialize
from ._serialization import get as get
from ._serialization import serialize as serialize
from ._sparse import Sparse as Sparse
from ._stft import STFT as STFT
from ._timm_init import TimmTruncNormalTF as TimmTruncNormalTF
from ._torch_default import TorchDefault as TorchDefault
from ._torch_orthogonal import TorchOrthogonal as TorchOrthogonal
from ._torch_trunc import TorchTruncNormal as TorchTruncNormal
from ._variance_scaling import GlorotNormal as GlorotNormal
from ._variance_scaling import GlorotUniform as GlorotUniform
from ._variance_scaling import HeNormal as HeNormal
from ._variance_scaling import HeUniform as HeUniform
from ._variance_scaling import LecunNormal as LecunNormal
from ._variance_scaling import LecunUniform as LecunUniform
from ._variance_scaling import VarianceScaling as VarianceScaling
from ._xavier import XavierNormal as XavierNormal
from ._xavier import XavierUniform as XavierUniform

__version__ = "0.1.0"

__all__ = [
    "STFT",
    "STREAM_VERSION",
    "ConfigError",
    "Constant",
    "DeltaOrthogonal",
    "Dirac",
    "Eye",
    "GlorotNormal",
    "GlorotUniform",
    "HeNormal",
    "HeUniform",
    "Identity",
    "Initializer",
    "InvalidArgumentError",
    "InvalidTypeError",
    "JaxOrthogonal",
    "JaxTruncatedNormal",
    "JaxUniform",
    "JaxVarianceScaling",
    "KaimingNormal",
    "KaimingUniform",
    "LecunNormal",
    "LecunUniform",
    "Ones",
    "Orthogonal",
    "RandomNormal",
    "RandomUniform",
    "ResourceLimitError",
    "SeedGenerator",
    "Sparse",
    "TimmTruncNormalTF",
    "TorchDefault",
    "TorchOrthogonal",
    "TorchTruncNormal",
    "TruncatedNormal",
    "UnknownInitializerError",
    "UnsafeConfigError",
    "UnseededReuseWarning",
    "VarianceScaling",
    "WeightinitError",
    "XavierNormal",
    "XavierUniform",
    "Zeros",
    "__version__",
    "calculate_gain",
    "compute_fans",
    "deserialize",
    "engine_info",
    "floatx",
    "get",
    "get_max_bytes",
    "initializers",
    "inspect_model",
    "register_initializer",
    "serialize",
    "set_floatx",
    "set_max_bytes",
]
