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
#: per target: libFuzzer runs in CI (a few seconds each at this machine's speed)
RUNS = {"config": 20000, "inspect": 3000}


#: what the harness inherits: nothing else of the test process's environment (variables other
#: tests set, or that frameworks imported in it set, must not change what the fuzzer runs)
_KEPT = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT", "WEIGHTINIT_REQUIRE_KERNEL")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in _KEPT}
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
        # a run that must end in CI: HDF5 off (its C library can hang on corrupt variable-length
        # data, fuzz/known/README.md); the saved findings below are replayed with HDF5 on
        # the harness limits its own address space (a preexec_fn would fork this process, which
        # may hold JAX's threads)
        env=_env(
            WEIGHTINIT_FUZZ_NO_HDF5="1" if target == "inspect" else "0",
            WEIGHTINIT_FUZZ_ADDRESS_SPACE=str(4 << 30),
        ),
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
        [sys.executable, str(HARNESS), target, "-runs=0", *map(str, inputs)],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-6000:]
