"""Worker of tests/test_torch_distributed.py: DTensor and FSDP2 init on CPU with gloo.

``python -c "import _torch_dist_worker as w; w.main(world, outdir)"`` spawns
``world`` processes on 127.0.0.1; each builds its meshes, initializes
DTensors and an FSDP2-sharded meta-device model with weightinit, gathers the
full tensors (every rank calls the collectives) and rank 0 saves them for the
parent test to compare with the single-process result.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import tracemalloc
from typing import Any

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

#: (name, global shape, layout, initializer, dtype) of the DTensor checks
TENSORS = [
    ("linear", (10, 7), "torch", "glorot_uniform", torch.float32),
    ("conv", (5, 3, 3, 2), "torch", "he_normal", torch.float32),
    ("convt", (3, 5, 2, 3), "torch_transposed", "lecun_uniform", torch.float64),
    ("emb", (11, 6), "keras", {"class_name": "RandomNormal", "config": {"seed": 4}}, torch.bfloat16),
    ("bias", (13,), "torch", {"class_name": "RandomUniform", "config": {"seed": 9}}, torch.float16),
    ("orth", (6, 9), "torch", {"class_name": "Orthogonal", "config": {"seed": 2}}, torch.float32),
]
BIG = (4096, 512)  # shard-local memory check


def seeded(init: Any, i: int) -> Any:
    """String aliases get a fixed seed so that every rank and the parent agree."""
    import weightinit as wi

    obj = wi.get(init)
    config = obj.get_config()
    if "seed" in config and config["seed"] is None:
        config["seed"] = 100 + i
        obj = type(obj).from_config(config)
    return obj


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(11, 8)
        self.attn = nn.MultiheadAttention(8, 2, batch_first=True)
        self.norm = nn.LayerNorm(8)
        self.ff = nn.Linear(8, 13)
        self.gru = nn.GRU(8, 5)
        self.lstm = nn.LSTM(5, 3, bidirectional=True)
        self.conv = nn.Conv1d(8, 7, 3)


def model() -> nn.Module:
    return nn.Sequential(Block(), nn.Linear(13, 5))


def _placements(world: int) -> list[tuple[tuple[int, ...], list[Any]]]:
    from torch.distributed.tensor import Replicate, Shard

    meshes: list[tuple[tuple[int, ...], list[Any]]] = [
        ((world,), [Shard(0)]),
        ((world,), [Shard(1)]),
        ((world,), [Replicate()]),
    ]
    if world == 4:
        meshes += [
            ((2, 2), [Shard(0), Shard(1)]),
            ((2, 2), [Shard(1), Shard(0)]),
            ((2, 2), [Replicate(), Shard(0)]),
        ]
    return meshes


def dtensor_cases(world: int) -> list[tuple[int, int]]:
    """(placement index, tensor index) pairs checked at this world size (Shard(d) needs rank > d)."""
    from torch.distributed.tensor import Shard

    return [
        (m, i)
        for m, (_, placements) in enumerate(_placements(world))
        for i, (_, shape, *_) in enumerate(TENSORS)
        if all(not isinstance(p, Shard) or p.dim < len(shape) for p in placements)
    ]


def _worker(rank: int, world: int, port: int, outdir: str) -> None:
    os.environ["OMP_NUM_THREADS"] = "1"
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    try:
        _checks(rank, world, outdir)
        dist.barrier()  # every rank is past its last collective and has written its files
    except BaseException:
        dist.destroy_process_group()
        raise
    # then leave without gloo's teardown, which aborted a rank now and then on this 2-core
    # machine ("terminate called without an active exception", SIGABRT), after every check
    os._exit(0)


def _checks(rank: int, world: int, outdir: str) -> None:
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import fully_shard
    from torch.distributed.tensor import Shard, distribute_tensor

    from weightinit import torch as wtorch

    results: dict[str, torch.Tensor] = {}
    meta: dict[str, Any] = {}
    meshes: dict[tuple[int, ...], Any] = {}
    for m, i in dtensor_cases(world):
        mesh_shape, placements = _placements(world)[m]
        if mesh_shape not in meshes:
            meshes[mesh_shape] = init_device_mesh("cpu", mesh_shape)
        mesh = meshes[mesh_shape]
        name, shape, layout, init, dtype = TENSORS[i]
        dt = distribute_tensor(torch.full(shape, 7.0, dtype=dtype), mesh, placements)
        wtorch.init_(dt, seeded(init, i), layout=layout)
        results[f"{m}/{name}"] = dt.full_tensor()
    # the local shard is made without the whole tensor: numpy's peak stays near the shard
    mesh = meshes[(world,)]
    big = distribute_tensor(torch.zeros(BIG), mesh, [Shard(0)])
    tracemalloc.start()
    wtorch.init_(big, "glorot_uniform")
    meta["big_peak"] = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    meta["big_local"] = big.to_local().numel() * 4
    # FSDP2: meta-device model, fully_shard, to_empty, init_module
    with torch.device("meta"):
        net = model()
    for sub in net[0].children():
        fully_shard(sub, mesh=mesh)
    fully_shard(net, mesh=mesh)
    net.to_empty(device="cpu")
    report = wtorch.init_module(net, seed=3)
    meta["skipped"] = list(report.skipped)
    meta["records"] = {n: repr(wtorch.initializer_of(p)) for n, p in net.named_parameters()}
    meta["placements"] = {n: repr(p.placements) for n, p in net.named_parameters()}
    for n, p in net.named_parameters():
        results[f"fsdp/{n}"] = p.full_tensor()
    if rank == 0:
        torch.save(results, os.path.join(outdir, "results.pt"))
    with open(os.path.join(outdir, f"meta{rank}.json"), "w") as f:
        json.dump(meta, f)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main(world: int, outdir: str) -> None:
    mp.start_processes(
        _worker, args=(world, _free_port(), outdir), nprocs=world, join=True, start_method="spawn"
    )
    print(json.dumps({"ok": True, "world": world}))


if __name__ == "__main__":  # pragma: no cover
    main(int(sys.argv[1]), sys.argv[2])
