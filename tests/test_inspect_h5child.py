"""HDF5 files are read by a child process with a time and an address-space limit
(``weightinit._inspect._h5child``): the samples it sends back are exactly h5py's, a file that
hangs or floods the HDF5 library ends in our error within the limits, and a child that dies or
misbehaves is our error too."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import types
from pathlib import Path

import numpy as np
import pytest

import weightinit as wi
from _support import child_env, run_python
from weightinit._inspect import InspectError, MissingDependencyError
from weightinit._inspect._h5child import ENV_MEMORY, ENV_TIMEOUT, H5Child, _limit_memory, limits
from weightinit._inspect._tensor import sample_plan

h5py = pytest.importorskip("h5py")

REGRESSIONS = Path(__file__).resolve().parents[1] / "fuzz" / "regressions" / "inspect"
#: the limits these tests run under: room for a loaded CI machine to start the child and read,
#: and a small time limit where a hostile file must end within seconds
TIMEOUT, HANG_TIMEOUT, MEMORY = 10.0, 2.0, 1 << 30


@pytest.fixture(autouse=True)
def small_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_TIMEOUT, str(TIMEOUT))
    monkeypatch.setenv(ENV_MEMORY, str(MEMORY))


def _fuzz_input(name: str, tmp_path: Path) -> Path:
    """A saved fuzzer input as the harness writes it: first byte even, a file of the rest."""
    data = (REGRESSIONS / name).read_bytes()
    assert data[0] % 2 == 0
    path = tmp_path / "model.bin"
    path.write_bytes(data[1:])
    return path


def _weights_file(path: Path) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    arrays = {
        "big": rng.standard_normal((300, 700)).astype("f4"),  # sampled in 64 blocks
        "vector": rng.standard_normal(100_000).astype(">f8"),  # big-endian, evenly spaced runs
        "ints": rng.integers(-5, 5, (7, 3, 2)).astype("i2"),
        "flags": rng.random(11) > 0.5,
        "scalar": np.array(3.5, "f4"),
        "empty": np.zeros((0, 4), "f2"),
    }
    with h5py.File(path, "w") as f:
        for name, array in arrays.items():
            group = f.create_group(f"layers/{name}/vars")
            group.attrs["name"] = name
            group.create_dataset("0", data=array, chunks=(50, 70) if name == "big" else None)
    return arrays


def test_the_child_sends_back_exactly_what_h5py_reads(tmp_path: Path) -> None:
    path = tmp_path / "w.weights.h5"
    arrays = _weights_file(path)
    with H5Child(path, "the HDF5 file") as h5:
        assert h5.open(("missing",)) == {"missing": None}
        layout, weights = h5.weights("auto")
        assert layout == "keras3"
        assert {w.chain[-1]: (w.shape, w.dtype) for w in weights} == {
            name: (a.shape, a.dtype.name) for name, a in arrays.items()
        }
        for weight in weights:
            expected = arrays[weight.chain[-1]]
            assert weight.tensor is not None and weight.tensor.dtype == expected.dtype
            plan = sample_plan(expected.shape)
            blocks = weight.tensor.read_blocks(plan)
            assert len(blocks) == len(plan) and (len(plan) > 1) == (weight.chain[-1] in ("big", "vector"))
            for block, index in zip(blocks, plan, strict=True):
                assert block.dtype == expected.dtype
                np.testing.assert_array_equal(block, expected[index])
            np.testing.assert_array_equal(weight.tensor.read(plan[0]), expected[plan[0]])
    assert h5._proc.returncode == 0  # the child ended at the end of its input
    stats = wi.inspect_model(path, stats=True)  # the whole path: the samples reach the ranking
    by_name = {r.name.split("/")[0]: r for r in stats}
    assert by_name["big"].candidates and by_name["empty"].candidates == ()


@pytest.mark.parametrize(
    "name, message, limit",
    [
        # the HDF5 library loops for minutes on a corrupt global heap behind a vlen string
        ("h5-vlen-attribute-hang", r"time limit of 2 s \(WEIGHTINIT_INSPECT_H5_TIMEOUT\)", HANG_TIMEOUT),
        # a corrupt global heap collection size: HDF5 allocates gigabytes before failing
        ("h5-global-heap-allocation", r"memory allocation failed", 0.0),
    ],
)
def test_fuzzer_findings_end_in_our_error_within_the_limits(
    name: str, message: str, limit: float, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_TIMEOUT, str(HANG_TIMEOUT))
    path = _fuzz_input(name, tmp_path)
    start = time.perf_counter()
    with pytest.raises(InspectError, match=message) as info:
        wi.inspect_model(path, stats=True)
    assert time.perf_counter() - start < limit + 5
    assert "model.weights.h5" in str(info.value) and len(str(info.value)) < 400
    if limit:
        assert str(path) in str(info.value)


def test_the_command_reports_a_hanging_file_in_one_line(tmp_path: Path) -> None:
    path = _fuzz_input("h5-vlen-attribute-hang", tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "weightinit._cli", "inspect", str(path), "--stats"],
        env=child_env({ENV_TIMEOUT: "1"}),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("weightinit inspect: error: model.weights.h5: reading ")
    assert "time limit of 1 s (WEIGHTINIT_INSPECT_H5_TIMEOUT)" in result.stderr


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS is enforced on Linux")
def test_the_address_space_limit_holds_and_the_parent_stays_small(tmp_path: Path) -> None:
    path = _fuzz_input("h5-global-heap-allocation", tmp_path)
    result = run_python(
        """
        import json, resource, sys
        import weightinit as wi
        from weightinit._inspect import InspectError
        try:
            wi.inspect_model(sys.argv[1], stats=True)
            error = None
        except InspectError as exc:
            error = str(exc)
        # this process's peak from /proc (its ru_maxrss starts at the forking parent's size)
        status = open("/proc/self/status").read()
        own = int(status.split("VmHWM:")[1].split()[0]) * 1024
        child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
        print(json.dumps([error, own, child]))
        """,
        args=(str(path),),
        env={ENV_MEMORY: str(MEMORY), ENV_TIMEOUT: "20"},
        timeout=120,
    )
    error, parent, child = result
    # without the limit the child's resident memory passes 2 GB before HDF5 gives up
    assert error and "memory allocation failed" in error
    assert child < MEMORY and parent < 400 << 20, result


def test_the_time_limit_kills_the_child_and_names_file_and_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "w.weights.h5"
    _weights_file(path)
    monkeypatch.setenv(ENV_TIMEOUT, "0.001")  # not even enough to start Python
    h5 = H5Child(path, "the HDF5 file")
    expected = r"the HDF5 file: reading .*w\.weights\.h5.* time limit of 0\.001 s"
    with pytest.raises(InspectError, match=expected):
        h5.open()
    with pytest.raises(InspectError, match="time limit"):  # and every later request
        h5.weights("auto")
    h5.close()
    assert h5._proc.returncode is not None


def test_a_child_that_dies_or_fails_is_our_error(tmp_path: Path) -> None:
    path = tmp_path / "w.weights.h5"
    _weights_file(path)
    with H5Child(path, "the HDF5 file") as h5:
        h5.open()
        h5._proc.kill()
        with pytest.raises(InspectError, match=r"reader process ended \(exit status -?\d+\) reading"):
            h5.weights("auto")
    h5 = H5Child(path, "the HDF5 file")  # it dies while a request is being sent
    h5.open()
    h5._proc.kill()
    h5._proc.wait()
    h5._proc.poll = lambda: None  # as if not yet reaped
    with pytest.raises(InspectError, match=r"reader process ended"):
        h5.weights("auto")  # the write fails (broken pipe) with the request left in the buffer
    del h5._proc.poll
    h5.close()  # quiet
    with H5Child(path, "the HDF5 file") as h5:  # a bug in the reader is not reported as a corrupt file
        h5.open()
        with pytest.raises(RuntimeError, match="the HDF5 reader failed on the HDF5 file: IndexError"):
            h5._call({"op": "read", "id": 5, "blocks": []})
    with H5Child(tmp_path, "the HDF5 file") as h5:  # errors of the file: our classes
        with pytest.raises(InspectError, match="not a readable HDF5 file"):
            h5.open()


def test_weights_listed_twice_keep_their_ids_and_garbled_answers_are_named(tmp_path: Path) -> None:
    path = tmp_path / "w.weights.h5"
    arrays = _weights_file(path)
    with H5Child(path, "the HDF5 file") as h5:
        h5.open()
        _, first = h5.weights("auto")
        _, again = h5.weights("auto")  # the same list again, every tensor reading its own data
        checked = 0
        for w in (*first, *again):
            name = next((c for c in (*w.chain, w.name) if c in ("big", "ints")), None)
            if name is not None:
                got = w.tensor.read(tuple(slice(0, 2) for _ in w.shape))
                assert np.array_equal(got, arrays[name][tuple(slice(0, 2) for _ in w.shape)])
                checked += 1
        assert checked == 4
        assert [(w.chain, w.tensor.id) for w in first] == [(w.chain, w.tensor.id) for w in again]
        with pytest.raises(InspectError, match="malformed answer"):
            h5._call({"op": "weights", "layout": "auto"}, payload=7)  # not the payload asked for
        assert h5._proc.poll() is not None  # stopped


def test_the_childs_errors_map_to_ours() -> None:
    from weightinit._inspect._h5child import _error_of

    assert type(_error_of({"error": "x", "class": "InspectError"}, "f")) is InspectError
    other = _error_of({"error": "bad axis", "class": "InvalidArgumentError", "weightinit": True}, "f")
    assert type(other) is InspectError and str(other) == "bad axis"
    bug = _error_of({"error": "boom", "class": "IndexError"}, "the file")
    assert isinstance(bug, RuntimeError) and "the HDF5 reader failed on the file: IndexError" in str(bug)


@pytest.mark.parametrize("variable", [ENV_TIMEOUT, ENV_MEMORY])
@pytest.mark.parametrize("value", ["abc", "0", "-1", "inf", "nan", "1e400"])
def test_bad_limits_are_refused(variable: str, value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(InspectError, match=f"Environment variable {variable} must be a positive"):
        limits()


def test_limits_defaults_and_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_TIMEOUT)
    monkeypatch.delenv(ENV_MEMORY)
    assert limits() == (60.0, 2 << 30)
    monkeypatch.setenv(ENV_TIMEOUT, "2.5")
    monkeypatch.setenv(ENV_MEMORY, "3_000_000_000")
    assert limits() == (2.5, 3_000_000_000)


def test_without_h5py_the_dependency_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "w.weights.h5"
    _weights_file(path)
    monkeypatch.setitem(sys.modules, "h5py", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'weightinit\[h5\]'"):
        wi.inspect_model(path)


def test_where_rlimit_as_cannot_be_set_only_the_time_limit_applies(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def refuse(which: int, value: tuple[int, int]) -> None:
        calls.append(value)
        raise ValueError("not supported")  # what macOS answers for RLIMIT_AS

    fake = types.SimpleNamespace(
        RLIMIT_AS=9, RLIM_INFINITY=-1, getrlimit=lambda which: (-1, -1), setrlimit=refuse
    )
    monkeypatch.setitem(sys.modules, "resource", fake)
    _limit_memory(1 << 30)  # no error
    assert calls == [(1 << 30, -1)]
    monkeypatch.setitem(sys.modules, "resource", None)  # Windows: no resource module
    _limit_memory(1 << 30)


def test_the_child_bounds_its_own_cpu_time_and_ignores_impossible_memory_limits() -> None:
    # a child whose parent died without killing it still ends: RLIMIT_CPU a few seconds past the
    # time limit; an address-space limit past the platform's largest is ignored, not a crash
    got = run_python(
        """
        import json, resource
        from weightinit._inspect._h5child import _limit_cpu, _limit_memory
        before = resource.getrlimit(resource.RLIMIT_AS)
        _limit_memory(2**70)
        _limit_cpu(3)
        same = resource.getrlimit(resource.RLIMIT_AS) == before
        print(json.dumps([resource.getrlimit(resource.RLIMIT_CPU)[0], same]))
        """,
        timeout=60,
    )
    assert got == [8, True]


def test_the_child_never_imports_from_the_current_directory(tmp_path: Path) -> None:
    # an empty or "." PYTHONPATH entry (`PYTHONPATH=$PYTHONPATH:...` with it unset) puts the
    # directory the user runs from on the path, ahead of site-packages, as an absolute path:
    # a stray h5py.py there must not run in the child
    path = tmp_path / "w.weights.h5"
    _weights_file(path)
    (tmp_path / "h5py.py").write_text("raise SystemExit(97)\n")
    src = str(Path(wi.__file__).resolve().parents[1])
    got = run_python(
        f"""
        import json, os, sys
        here = os.getcwd()  # this parent must not import it either (the test is the child's)
        sys.path[:] = [p for p in sys.path if p not in ("", ".", here)]
        import weightinit as wi
        records = wi.inspect_model({str(path)!r}, stats=True)
        print(json.dumps(len(records)))
        """,
        env={"PYTHONPATH": os.pathsep.join(["", ".", src]), ENV_TIMEOUT: str(TIMEOUT)},
        cwd=tmp_path,
        timeout=120,
    )
    assert got == 6
