"""The benchmark's rounds: how the timed calls are split, ordered and pooled (bench/_rounds.py)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from _rounds import merge, schedule, split_repeats


def _case(ident: str, dtype: str = "float32", **fields: Any) -> dict[str, Any]:
    return {"id": ident, "shape": [8, 8], "dtype": dtype, "rows": None, **fields}


def _report(*results: dict[str, Any], info: str = "first") -> dict[str, Any]:
    return {"peer": "torch", "threads": 2, "info": {"round": info}, "results": list(results)}


@pytest.mark.parametrize(
    ("repeats", "rounds", "shares"),
    [(7, 3, [3, 2, 2]), (7, 1, [7]), (3, 1, [3]), (6, 3, [2, 2, 2]), (2, 5, [1, 1]), (1, 1, [1])],
)
def test_split_repeats(repeats: int, rounds: int, shares: list[int]) -> None:
    assert split_repeats(repeats, rounds) == shares
    assert sum(shares) == repeats


@pytest.mark.parametrize(("repeats", "rounds"), [(0, 3), (7, 0), (-1, 1)])
def test_split_repeats_rejects_nothing_to_do(repeats: int, rounds: int) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        split_repeats(repeats, rounds)


def test_schedule_alternates_direction() -> None:
    runs = [("weightinit", 1), ("weightinit", 2), ("torch", 1)]
    assert schedule(runs, 3) == [
        (0, ("weightinit", 1)),
        (0, ("weightinit", 2)),
        (0, ("torch", 1)),
        (1, ("torch", 1)),
        (1, ("weightinit", 2)),
        (1, ("weightinit", 1)),
        (2, ("weightinit", 1)),
        (2, ("weightinit", 2)),
        (2, ("torch", 1)),
    ]
    assert schedule(runs, 1) == [(0, run) for run in runs]


def test_merge_pools_times_and_keeps_first_round_memory() -> None:
    first = _report(
        _case("normal", times=[5.0, 1.0, 4.0], seconds=4.0, best=1.0, traced_peak_bytes=64),
        _case("uniform", times=[2.0], seconds=2.0, best=2.0, paired_times=[9.0], paired_seconds=9.0),
    )
    second = _report(
        _case("uniform", times=[3.0, 1.5], seconds=2.25, best=1.5, paired_times=[7.0, 8.0]),
        _case("normal", times=[3.0, 2.0], seconds=2.5, best=2.0),
        info="second",
    )
    got = merge([first, second])
    assert got["info"] == {"round": "first"} and got["threads"] == 2
    normal, uniform = got["results"]
    assert normal["times"] == [5.0, 1.0, 4.0, 3.0, 2.0]
    assert normal["seconds"] == 3.0 and normal["best"] == 1.0
    assert normal["traced_peak_bytes"] == 64
    assert uniform["times"] == [2.0, 3.0, 1.5] and uniform["seconds"] == 2.0 and uniform["best"] == 1.5
    assert uniform["paired_times"] == [9.0, 7.0, 8.0] and uniform["paired_seconds"] == 8.0
    assert first["results"][0]["times"] == [5.0, 1.0, 4.0]  # the rounds' reports are not changed


def test_merge_keys_cases_by_dtype_and_reports_errors() -> None:
    first = _report(
        _case("normal", times=[1.0], seconds=1.0, best=1.0),
        _case("normal", "float64", times=[2.0], seconds=2.0, best=2.0),
        _case("uniform", times=[1.0], seconds=1.0, best=1.0),
    )
    second = _report(
        _case("normal", "float64", times=[4.0], seconds=4.0, best=4.0),
        _case("uniform", error="MemoryError: out of memory"),
    )
    normal, wide, uniform = merge([first, second])["results"]
    assert normal["times"] == [1.0]  # absent from the second round: its own times only
    assert wide["times"] == [2.0, 4.0] and wide["seconds"] == 3.0
    assert uniform == _case("uniform", error="MemoryError: out of memory")


def test_merge_of_one_round_is_that_round() -> None:
    report = _report(_case("normal", times=[3.0, 1.0, 2.0], seconds=2.0, best=1.0))
    assert merge([report]) == report
