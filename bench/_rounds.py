"""Rounds: the timed calls of every peer spread over the whole run, so that peers see the same host.

On a shared host the load changes over minutes. Measured one peer after the
other, a busy minute lands on one peer's figures only and skews every ratio to
it. The run is therefore made of rounds: each round runs every peer (at each of
its thread counts) in a fresh process for a share of the timed calls, every
other round in reverse order, and each case's times from all rounds are pooled
before the median is taken. Peak memory and the peer's info come from the
peer's first round that ran, the only one that measures memory.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from _cases import key

__all__ = ["merge", "schedule", "split_repeats"]

T = TypeVar("T")
Report = dict[str, Any]


def split_repeats(repeats: int, rounds: int) -> list[int]:
    """Timed calls per round: ``repeats`` over at most ``rounds`` rounds, the earlier ones larger."""
    if repeats < 1 or rounds < 1:
        raise ValueError(f"repeats and rounds must be at least 1, got {repeats} and {rounds}")
    base, extra = divmod(repeats, min(rounds, repeats))
    return [base + (i < extra) for i in range(min(rounds, repeats))]


def schedule(runs: Sequence[T], rounds: int) -> list[tuple[int, T]]:
    """``(round, run)`` in the order they execute: forward, then backward, alternately."""
    return [(r, run) for r in range(rounds) for run in (runs if r % 2 == 0 else runs[::-1])]


def _pooled(first: Report, later: Iterable[Report]) -> Report:
    """``first`` with the times of ``later`` (the same case's records of later rounds) added."""
    merged = dict(first)
    for name, statistic in (("times", "seconds"), ("paired_times", "paired_seconds")):
        if name not in first:
            continue
        times = list(first[name])
        for record in later:
            times += record[name]
        merged[name] = times
        merged[statistic] = statistics.median(times)
        if name == "times":
            merged["best"] = min(times)
    return merged


def merge(reports: Sequence[Report]) -> Report:
    """One worker report from those of the rounds of one peer at one thread count (first round first).

    A case that failed in any round is reported with its first error; a case
    missing from a later round (it failed to start there) keeps the times it has.
    """
    first = reports[0]
    by_case = [{key(r): r for r in report["results"]} for report in reports]
    results = []
    for record in first["results"]:
        same = [cases[key(record)] for cases in by_case[1:] if key(record) in cases]
        failed = next((r for r in [record, *same] if "error" in r), None)
        results.append(failed if failed is not None else _pooled(record, same))
    return {**first, "results": results}
