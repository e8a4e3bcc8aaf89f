"""Build the C kernel with sanitizers and run the kernel's tests against it, in one command.

    python tools/sanitize.py                 # address+undefined, then thread; the full test set
    python tools/sanitize.py --quick         # what CI runs: fewer cases, same coverage of paths
    python tools/sanitize.py --mode thread   # one mode (address, portable, thread)

Each mode compiles the kernel's units (``KERNEL_SOURCES`` in ``setup.py``: the files of
``src/weightinit/_engine/_fast_src/``) with the flags ``setup.py`` uses (both read from it, so they
cannot drift) minus ``-O3``, plus ``-O1 -g -fno-omit-frame-pointer
-fsanitize=...``, into a copy of the package under ``build/sanitize/MODE/``; then runs, with the
sanitizer runtime preloaded (``LD_PRELOAD``: CPython itself is not instrumented):

- ``tests/test_kernel.py`` (every instruction-set variant this CPU supports against the numpy
  reference), ``test_engine.py``, ``test_slicing.py``, ``test_golden.py``, ``test_concurrency.py``;
- ``tools/_sanitize_fuzz.py``: random shapes, ``index=`` regions, dtypes, kinds and thread
  counts for every variant, compared with the reference.

The ``portable`` mode builds without sanitizers and without x86 multiversioning
(``-DWI_NO_MULTIVERSION``, ``-O3``): the C path an aarch64 wheel runs, bit for bit against the
reference here. Any sanitizer report fails the run (``halt_on_error``). Needs gcc (or clang) with the
sanitizer runtimes; exits 77 (skipped) when they are missing.
"""

from __future__ import annotations

import argparse
import ast
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODES = {
    "address": (
        ["-fsanitize=address,undefined", "-fno-sanitize-recover=undefined"],
        ["libasan.so", "libubsan.so"],
    ),
    "thread": (["-fsanitize=thread"], ["libtsan.so"]),
    # no sanitizer: the portable C path alone, as on aarch64 and on compilers without GCC's
    # function multiversioning (only the "default" variant is built), checked bit for bit
    "portable": (["-DWI_NO_MULTIVERSION"], []),
}
TESTS = ["test_kernel.py", "test_engine.py", "test_slicing.py", "test_golden.py", "test_concurrency.py"]
#: CI's short run: every kernel path and variant, the golden digests (a few minutes per mode)
QUICK_TESTS = ["test_kernel.py", "test_golden.py"]
SKIPPED = 77


def setup_list(name: str) -> list[str]:
    """The list ``name`` assigned at the top level of setup.py."""
    tree = ast.parse((ROOT / "setup.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == name for t in node.targets):
            return list(ast.literal_eval(node.value))
    raise SystemExit(f"setup.py has no {name}")


def setup_flags() -> list[str]:
    """``GCC_LIKE_FLAGS`` from setup.py, without ``-O3``."""
    return [f for f in setup_list("GCC_LIKE_FLAGS") if not f.startswith("-O")]


def runtime(cc: str, lib: str) -> str | None:
    path = subprocess.run(
        [cc, f"-print-file-name={lib}"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return path if path and os.path.isabs(path) and os.path.exists(path) else None


def build(mode: str, cc: str) -> Path:
    out = ROOT / "build" / "sanitize" / mode
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(
        ROOT / "src" / "weightinit",
        out / "weightinit",
        ignore=shutil.ignore_patterns("*.so", "*.pyd", "__pycache__"),
    )
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    target = out / "weightinit" / "_engine" / f"_fast{suffix}"
    sources = [str(ROOT / p) for p in setup_list("KERNEL_SOURCES")]
    includes = sorted({str((ROOT / p).parent) for p in setup_list("KERNEL_HEADERS")})
    cmd = [
        cc,
        "-shared",
        "-fPIC",
        f"-I{sysconfig.get_paths()['include']}",
        *(f"-I{d}" for d in includes),
        *setup_flags(),
        *(["-O3"] if mode == "portable" else ["-O1", "-g", "-fno-omit-frame-pointer"]),
        *MODES[mode][0],
        *sources,
        "-o",
        str(target),
    ]
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)
    return out


def run(mode: str, quick: bool, cc: str) -> int:
    libs = [runtime(cc, lib) for lib in MODES[mode][1]]
    if not all(libs):  # (the portable mode preloads nothing)
        print(f"sanitize: {mode}: the runtime is missing ({MODES[mode][1]}); skipped", file=sys.stderr)
        return SKIPPED
    tree = build(mode, cc)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    env.update(
        PYTHONPATH=str(tree),
        LD_PRELOAD=" ".join(lib for lib in libs if lib),
        WEIGHTINIT_REQUIRE_KERNEL="1",
        WEIGHTINIT_SANITIZED=mode,
        # CPython's own allocations are not ours to report; every real finding halts the run
        ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=1:detect_stack_use_after_return=1",
        UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1",
        TSAN_OPTIONS=f"halt_on_error=1:second_deadlock_stack=1:suppressions={ROOT / 'tools' / 'tsan.supp'}",
        PYTHONMALLOC="malloc",
    )
    check = [
        sys.executable,
        "-c",
        "import sys, weightinit; from weightinit._info import engine_info; print(weightinit.__file__); "
        "sys.exit(0 if engine_info()['kernel'] else 3)",
    ]
    subprocess.run(check, env=env, check=True)
    tests = [str(ROOT / "tests" / t) for t in (QUICK_TESTS if quick else TESTS)]
    pytest_args = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-x",
        "-p",
        "no:cacheprovider",
        "-W",
        "error",
        *tests,
    ]
    if quick:
        # the sweeps over all 2**24 float32 inputs take minutes when sanitized; the other tests
        # reach the same code paths with fewer inputs
        pytest_args += ["-k", "not every_input and not every_binade"]
    fuzz = [sys.executable, str(ROOT / "tools" / "_sanitize_fuzz.py"), "--cases", "150" if quick else "2000"]
    for cmd in (pytest_args, fuzz):
        print("+", " ".join(cmd[1:]), flush=True)
        code = subprocess.run(cmd, env=env, cwd=ROOT, check=False).returncode
        if code != 0:
            print(f"sanitize: {mode}: failed ({code})", file=sys.stderr)
            return code
    print(f"sanitize: {mode}: clean", flush=True)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=sorted(MODES), action="append", help="default: every mode")
    parser.add_argument("--quick", action="store_true", help="the short run CI does")
    parser.add_argument("--cc", default=os.environ.get("CC", "gcc"))
    args = parser.parse_args()
    if shutil.which(args.cc) is None:
        print(f"sanitize: no compiler {args.cc!r}; skipped", file=sys.stderr)
        return SKIPPED
    codes = [run(mode, args.quick, args.cc) for mode in (args.mode or sorted(MODES))]
    return max(codes, key=lambda c: (c not in (0, SKIPPED), c))


if __name__ == "__main__":
    sys.exit(main())
