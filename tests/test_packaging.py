"""Release artifacts: the sdist and the wheel build, pass ``twine check``, install into fresh
virtual environments and pass the core tests there, against the installed package.

- the wheel (compiled kernel inside) runs the golden, engine, kernel, slicing, serialization
  and adversarial tests from a copy of ``tests/`` outside the checkout, so ``conftest.py``
  cannot put ``src/`` on the path: what is tested is what was installed;
- the sdist installed with no working C compiler (``CC`` and ``LDSHARED`` pointing at
  ``false``) must still install, fall back to the numpy reference with the same bits (golden
  tests) and say so in ``weightinit.engine_info()`` and ``weightinit --version``.

Both use the machine's package index for numpy, ml_dtypes, pytest and hypothesis (pip's cache
makes the second run fast). Skipped when ``build`` is not installed (it is in the dev group).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE_TESTS = (
    "test_golden.py",
    "test_engine.py",
    "test_kernel.py",
    "test_slicing.py",
    "test_serialization.py",
    "test_adversarial.py",
)
TEST_DEPS = ("pytest>=8", "pytest-timeout>=2.3", "hypothesis>=6.100")

pytest.importorskip("build")
pytestmark = pytest.mark.timeout(900)


def _run(cmd: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 600):
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)
    assert proc.returncode == 0, (
        f"{' '.join(cmd[:4])}... exited {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
    )
    return proc


def _clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "VIRTUAL_ENV", "WEIGHTINIT_REQUIRE_KERNEL")
    }
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # build from a copy: the checkout may hold a compiled in-place kernel and caches
    src = tmp_path_factory.mktemp("src") / "weightinit"
    shutil.copytree(
        ROOT,
        src,
        ignore=shutil.ignore_patterns(
            ".git",
            ".ci-venv",
            ".venv",
            "build",
            "dist",
            "*.so",
            "__pycache__",
            "*.egg-info",
            ".*cache",
            ".hypothesis",
            "results",
        ),
    )
    _run(
        [sys.executable, "-m", "build", "--sdist", "--wheel", "--outdir", str(out), str(src)],
        env=_clean_env(),
    )
    return out


def _venv(where: Path) -> Path:
    _run([sys.executable, "-m", "venv", str(where)])
    return where / "bin" / "python"


def _copy_tests(where: Path) -> Path:
    tests = where / "tests"
    shutil.copytree(ROOT / "tests", tests, ignore=shutil.ignore_patterns("__pycache__"))
    return tests


def test_the_artifacts_pass_twine_check_and_hold_the_package(dist: Path) -> None:
    wheels = sorted(dist.glob("*.whl"))
    sdists = sorted(dist.glob("*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, sorted(p.name for p in dist.iterdir())
    twine = shutil.which("twine", path=str(Path(sys.executable).parent)) or shutil.which("twine")
    if twine is None:
        pytest.skip("twine is not installed")
    out = _run([twine, "check", "--strict", str(wheels[0]), str(sdists[0])]).stdout
    assert out.count("PASSED") == 2, out
    names = zipfile.ZipFile(wheels[0]).namelist()
    assert "weightinit/__init__.py" in names
    assert any(n.startswith("weightinit/_engine/_fast") and n.endswith((".so", ".pyd")) for n in names), names
    assert not any(n.startswith(("tests/", "bench/")) for n in names)


def test_the_wheel_installed_in_a_fresh_venv_passes_the_core_tests(dist: Path, tmp_path: Path) -> None:
    python = _venv(tmp_path / "venv")
    wheel = next(dist.glob("*.whl"))
    _run([str(python), "-m", "pip", "install", "--quiet", str(wheel), *TEST_DEPS], env=_clean_env())
    tests = _copy_tests(tmp_path / "elsewhere")
    info = _run(
        [
            str(python),
            "-c",
            "import json, weightinit as wi; print(json.dumps([wi.__file__, wi.engine_info()]))",
        ],
        env=_clean_env(),
        cwd=tmp_path,
    ).stdout
    where, engine = json.loads(info.strip().splitlines()[-1])
    assert str(tmp_path / "venv") in where  # the installed copy, not the checkout
    assert engine["kernel"] is True
    _run(
        [str(python), "-m", "pytest", "-q", "-x", "-W", "error", "-p", "no:cacheprovider", *CORE_TESTS],
        env=_clean_env(WEIGHTINIT_REQUIRE_KERNEL="1"),
        cwd=tests,
        timeout=900,
    )


def test_the_sdist_installs_without_a_compiler_and_keeps_the_bits(dist: Path, tmp_path: Path) -> None:
    python = _venv(tmp_path / "venv")
    sdist = next(dist.glob("*.tar.gz"))
    no_cc = _clean_env(CC="false", CXX="false", LDSHARED="false")
    _run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-cache-dir", str(sdist), *TEST_DEPS], env=no_cc
    )
    probe = (
        "import json, weightinit as wi, weightinit._cli as cli, contextlib, io\n"
        "buf = io.StringIO()\n"
        "with contextlib.redirect_stdout(buf):\n"
        "    cli.main(['--version'])\n"
        "print(json.dumps([wi.engine_info(), buf.getvalue()]))\n"
    )
    engine, version = json.loads(
        _run([str(python), "-c", probe], env=_clean_env(), cwd=tmp_path).stdout.strip().splitlines()[-1]
    )
    assert engine["kernel"] is False and "not built" in engine["reason"]
    assert "numpy reference" in version
    tests = _copy_tests(tmp_path / "elsewhere")
    # the golden digests are the kernel's and the reference's alike: the fallback keeps every bit
    _run(
        [
            str(python),
            "-m",
            "pytest",
            "-q",
            "-x",
            "-p",
            "no:cacheprovider",
            "test_golden.py",
            "test_engine.py",
        ],
        env=_clean_env(),
        cwd=tests,
        timeout=900,
    )
