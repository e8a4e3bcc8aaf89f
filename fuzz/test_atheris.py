"""The coverage-guided harnesses in CI: a short deterministic run of each target over the seed
corpus, and a replay of every input a longer run ever found (``fuzz/regressions/TARGET/``).

A run must end without a finding (libFuzzer exits 0); the replay must pass every saved input
through the target (success or a weightinit error). The long runs are the commands in
``atheris_harness.py``'s docstring.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("atheris")
pytestmark = pytest.mark.timeout(600)

HERE = Path(__file__).resolve().parent
HARNESS = HERE / "atheris_harness.py"
#: per target: libFuzzer runs in CI (about 15 s and 30 s at this machine's speed: an HDF5 input
#: starts the reader's child process, about 0.4 s)
RUNS = {"config": 20000, "inspect": 600}
#: the HDF5 reader's limits in these runs (well under libFuzzer's -timeout): a saved input that
#: hangs the HDF5 library ends at the time limit, one that allocates gigabytes at the memory limit
H5_LIMITS = {"WEIGHTINIT_INSPECT_H5_TIMEOUT": "3", "WEIGHTINIT_INSPECT_H5_MEMORY": str(1 << 30)}


#: what the harness inherits: nothing else of the test process's environment (variables other
#: tests set, or that frameworks imported in it set, must not change what the fuzzer runs)
_KEPT = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT", "WEIGHTINIT_REQUIRE_KERNEL")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in _KEPT}
    env.update(H5_LIMITS)
    env.update(extra)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(HERE.parent / "src"), env.get("PYTHONPATH", "")) if p)
    return env


@pytest.mark.parametrize("target", sorted(RUNS))
def test_a_short_fuzz_run_finds_nothing(target: str, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(HERE / "corpus" / target, corpus)  # libFuzzer adds to its first corpus folder
    proc = subprocess.run(
        [
            sys.executable,
            str(HARNESS),
            target,
            f"-runs={RUNS[target]}",
            "-seed=1",
            "-timeout=20",
            # libFuzzer's RSS check reads getrusage's peak, which a child inherits from its parent
            # on Linux (this pytest process, gigabytes after the whole suite): off, and the
            # address space is limited for real instead
            "-rss_limit_mb=0",
            f"-artifact_prefix={tmp_path}/",
            str(corpus),
        ],
        cwd=tmp_path,
        # the harness limits its own address space (a preexec_fn would fork this process, which
        # may hold JAX's threads)
        env=_env(WEIGHTINIT_FUZZ_ADDRESS_SPACE=str(4 << 30)),
        capture_output=True,
        text=True,
        timeout=540,
        check=False,
    )
    found = sorted(p.name for p in tmp_path.glob("crash-*")) + sorted(
        p.name for p in tmp_path.glob("timeout-*")
    )
    assert proc.returncode == 0 and not found, (found, proc.stderr[-6000:])
    done = re.search(r"Done (\d+) runs", proc.stderr)
    assert done and int(done.group(1)) >= RUNS[target], proc.stderr[-2000:]
    cov = re.findall(r"cov: (\d+)", proc.stderr)
    assert cov and int(cov[-1]) > 100, proc.stderr[-2000:]  # the instrumentation reached the code


def _saved(target: str) -> list[Path]:
    folder = HERE / "regressions" / target
    return (
        sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
        if folder.is_dir()
        else []
    )


@pytest.mark.parametrize("target", sorted(RUNS))
def test_every_saved_finding_passes_through_the_target(target: str) -> None:
    inputs = _saved(target)
    if not inputs:
        pytest.skip(f"no saved findings for {target}")
    proc = subprocess.run(
        # -rss_limit_mb=0 and RLIMIT_AS as above (the RSS check would read this process's peak)
        [
            sys.executable,
            str(HARNESS),
            target,
            "-runs=0",
            "-timeout=20",
            "-rss_limit_mb=0",
            *map(str, inputs),
        ],
        env=_env(WEIGHTINIT_FUZZ_ADDRESS_SPACE=str(4 << 30)),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-6000:]
    # each input ran, and ended within a few seconds of the HDF5 reader's time limit
    times = [int(ms) for ms in re.findall(r"Executed \S+ in (\d+) ms", proc.stderr)]
    limit = float(H5_LIMITS["WEIGHTINIT_INSPECT_H5_TIMEOUT"])
    assert len(times) == len(inputs) and max(times) < (limit + 5) * 1000, proc.stderr[-6000:]
