"""Mirror of ``keras.initializers`` (the same 39 public names), plus the framework initializers.

Keras's names: 17 classes, 3 compatibility class aliases, 16 snake_case class
aliases (each alias *is* the class), and ``get`` / ``serialize`` /
``deserialize``. Then the 16 classes with torch.nn.init, jax.nn.initializers
and timm semantics (``KaimingUniform``, ``TorchTruncNormal``,
``JaxVarianceScaling``, ...), which configs name ``"weightinit>ClassName"``;
they have no snake_case aliases (see docs/frameworks.md).
"""

from ._base import Initializer as Initializer
from ._constant import Constant as Constant
from ._constant import Ones as Ones
from ._constant import Zeros as Zeros
from ._dirac import Dirac as Dirac
from ._dirac import Eye as Eye
from ._identity import Identity as Identity
from ._jax_init import JaxTruncatedNormal as JaxTruncatedNormal
from ._jax_init import JaxUniform as JaxUniform
from ._jax_init import JaxVarianceScaling as JaxVarianceScaling
from ._jax_orthogonal import DeltaOrthogonal as DeltaOrthogonal
from ._jax_orthogonal import JaxOrthogonal as JaxOrthogonal
from ._kaiming import KaimingNormal as KaimingNormal
from ._kaiming import KaimingUniform as KaimingUniform
from ._orthogonal import Orthogonal as Orthogonal
from ._random import RandomNormal as RandomNormal
from ._random import RandomUniform as RandomUniform
from ._random import TruncatedNormal as TruncatedNormal
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

IdentityInitializer = Identity
OrthogonalInitializer = Orthogonal
STFTInitializer = STFT

constant = Constant
zeros = Zeros
ones = Ones
identity = Identity
random_normal = RandomNormal
random_uniform = RandomUniform
truncated_normal = TruncatedNormal
variance_scaling = VarianceScaling
glorot_normal = GlorotNormal
glorot_uniform = GlorotUniform
he_normal = HeNormal
he_uniform = HeUniform
lecun_normal = LecunNormal
lecun_uniform = LecunUniform
orthogonal = Orthogonal
stft = STFT

__all__ = [
    "STFT",
    "Constant",
    "DeltaOrthogonal",
    "Dirac",
    "Eye",
    "GlorotNormal",
    "GlorotUniform",
    "HeNormal",
    "HeUniform",
    "Identity",
    "IdentityInitializer",
    "Initializer",
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
    "OrthogonalInitializer",
    "RandomNormal",
    "RandomUniform",
    "STFTInitializer",
    "Sparse",
    "TimmTruncNormalTF",
    "TorchDefault",
    "TorchOrthogonal",
    "TorchTruncNormal",
    "TruncatedNormal",
    "VarianceScaling",
    "XavierNormal",
    "XavierUniform",
    "Zeros",
    "constant",
    "deserialize",
    "get",
    "glorot_normal",
    "glorot_uniform",
    "he_normal",
    "he_uniform",
    "identity",
    "lecun_normal",
    "lecun_uniform",
    "ones",
    "orthogonal",
    "random_normal",
    "random_uniform",
    "serialize",
    "stft",
    "truncated_normal",
    "variance_scaling",
    "zeros",
]
