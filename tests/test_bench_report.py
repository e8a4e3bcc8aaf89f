"""The benchmark report's ratios of calls timed alternately (bench/_report.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from _report import _ratio


def test_paired_ratio_is_the_median_of_the_pairs_ratios() -> None:
    # the host slows down from the fourth pair on, during its first call: every other pair's
    # ratio is 0.9, while the ratio of the two series' medians (9.0 / 20.0) would say 0.45
    record = {
        "times": [9.0, 9.0, 9.0, 9.0, 18.0, 18.0, 18.0],
        "paired_times": [10.0, 10.0, 10.0, 20.0, 20.0, 20.0, 20.0],
        "seconds": 9.0,
    }
    assert _ratio(record, seconds=1.0) == pytest.approx(0.9)


def test_unpaired_ratio_divides_the_median_time() -> None:
    assert _ratio({"times": [1.0, 3.0, 2.0], "seconds": 2.0}, seconds=4.0) == 0.5


def test_paired_ratio_needs_aligned_pairs() -> None:
    with pytest.raises(ValueError):
        _ratio({"times": [1.0, 2.0], "paired_times": [1.0], "seconds": 1.5}, seconds=1.0)
