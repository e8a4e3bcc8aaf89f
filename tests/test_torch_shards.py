"""Where a DTensor's local shard sits: weightinit's own placement arithmetic against torch's."""

from __future__ import annotations

import itertools

import pytest

torch = pytest.importorskip("torch")

from torch.distributed.tensor import Replicate, Shard  # noqa: E402
from torch.distributed.tensor._utils import _compute_local_shape_and_global_offset  # noqa: E402

from weightinit._torch._tensors import shard_box  # noqa: E402

SHAPES = [(1,), (5,), (7, 3), (8, 6), (3, 10, 2), (0, 4)]
MESHES = [(1,), (2,), (3,), (4,), (2, 2), (3, 2), (2, 3), (2, 2, 2)]


def _placements(mesh: tuple[int, ...], rank: int) -> list[tuple[object, ...]]:
    """Every Shard(d) / Replicate choice per mesh dimension (several may shard one dim)."""
    choices: list[object] = [Replicate(), *(Shard(d) for d in range(rank))]
    return list(itertools.product(choices, repeat=len(mesh)))


@pytest.mark.parametrize("mesh", MESHES, ids=str)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_shard_box_is_torchs_local_shape_and_offset(shape: tuple[int, ...], mesh: tuple[int, ...]) -> None:
    cases = 0
    for placements in _placements(mesh, len(shape)):
        for coordinate in itertools.product(*(range(n) for n in mesh)):
            expected = _compute_local_shape_and_global_offset(shape, mesh, list(coordinate), placements)
            got = shard_box(shape, mesh, coordinate, placements)
            assert got == tuple(tuple(int(v) for v in part) for part in expected), (placements, coordinate)
            cases += 1
    assert cases >= len(mesh)


def test_uneven_and_empty_shards_cover_the_dimension_once() -> None:
    # 5 rows over 4 ranks: torch.chunk gives 2, 2, 1 and an empty fourth shard at the end
    boxes = [shard_box((5, 3), (4,), (r,), (Shard(0),)) for r in range(4)]
    assert boxes == [((2, 3), (0, 0)), ((2, 3), (2, 0)), ((1, 3), (4, 0)), ((0, 3), (5, 0))]
    # nested: (2, 2) mesh sharding dim 0 twice, 7 rows: chunks 4 | 3, then 2 | 2 and 2 | 1
    nested = [shard_box((7,), (2, 2), (a, b), (Shard(0), Shard(0))) for a in range(2) for b in range(2)]
    assert nested == [((2,), (0,)), ((2,), (2,)), ((2,), (4,)), ((1,), (6,))]
