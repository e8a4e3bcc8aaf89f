"""DTensor and FSDP2 initialization on CPU (gloo on 127.0.0.1, spawned processes).

One launch per world size (1, 2, 3, 4; the 4-process run adds (2, 2) meshes)
runs every check of ``_torch_dist_worker``; the parent compares the gathered
tensors with the single-process result, bit for bit: DTensors with Shard(d)
(uneven too) and Replicate placements in every layout and dtype, and an FSDP2
model built on the meta device, sharded, ``to_empty``-ed and initialized with
``init_module``. Each rank also reports the numpy peak memory of a shard-local
init (well under the whole tensor) and the initializer records.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")
if not torch.distributed.is_available():  # pragma: no cover
    pytest.skip("torch.distributed is not available", allow_module_level=True)

from threadpoolctl import threadpool_limits  # noqa: E402

import _torch_dist_worker as worker  # noqa: E402
from _support import ROOT, run_python  # noqa: E402
from weightinit import torch as wtorch  # noqa: E402


def _reference() -> dict[str, torch.Tensor]:
    """The single-process tensors (one BLAS thread, like the workers: Orthogonal is BLAS-exact then)."""
    out: dict[str, torch.Tensor] = {}
    with threadpool_limits(1):
        for i, (name, shape, layout, init, dtype) in enumerate(worker.TENSORS):
            t = torch.full(shape, 7.0, dtype=dtype)
            wtorch.init_(t, worker.seeded(init, i), layout=layout)
            out[name] = t
        net = worker.model()
        wtorch.init_module(net, seed=3)
    for n, p in net.named_parameters():
        out[f"fsdp/{n}"] = p.detach()
    out["records"] = {n: repr(wtorch.initializer_of(p)) for n, p in net.named_parameters()}  # type: ignore[assignment]
    return out


@pytest.fixture(scope="module")
def reference() -> dict[str, Any]:
    return _reference()


@pytest.mark.parametrize("world", [1, 2, 3, 4])
def test_gathered_shards_equal_the_single_process_result(
    world: int, tmp_path: Path, reference: dict[str, Any]
) -> None:
    run_python(
        f"import _torch_dist_worker as w; w.main({world}, {str(tmp_path)!r})",
        env={"OMP_NUM_THREADS": "1", "PYTHONPATH": f"{ROOT / 'tests'}:{ROOT / 'src'}"},
        timeout=280,
    )
    results = torch.load(tmp_path / "results.pt")
    checked = 0
    for key, value in results.items():
        group, name = key.split("/", 1)
        ref = reference[f"fsdp/{name}"] if group == "fsdp" else reference[name]
        assert value.dtype == ref.dtype and value.shape == ref.shape, key
        assert torch.equal(value, ref), key
        checked += 1
    expected_dtensors = len(worker.dtensor_cases(world))
    assert checked == expected_dtensors + sum(1 for k in reference if k.startswith("fsdp/"))
    metas = [json.loads((tmp_path / f"meta{r}.json").read_text()) for r in range(world)]
    for meta in metas:
        assert meta["skipped"] == []
        assert meta["records"] == reference["records"]  # same initializer and seed on every rank
        assert all("Shard(dim=0)" in p for p in meta["placements"].values())
        # the engine's 1 MiB scratch only: the whole tensor (8 MiB) is never made on a rank
        assert meta["big_peak"] < (2 << 20) < np.prod(worker.BIG) * 4
    assert sum(meta["big_local"] for meta in metas) == np.prod(worker.BIG) * 4
