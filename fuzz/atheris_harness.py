"""Coverage-guided fuzzing (atheris, libFuzzer) of the config reader and of every reader of
``weightinit inspect``.

Usage (a documented long run; CI runs each target briefly through ``fuzz/test_atheris.py``)::

    python fuzz/atheris_harness.py config  -max_total_time=3600 fuzz/corpus/config
    WEIGHTINIT_INSPECT_H5_TIMEOUT=10 python fuzz/atheris_harness.py inspect -max_total_time=3600 \
        -rss_limit_mb=1024 -timeout=30 fuzz/corpus/inspect

Targets:

- ``config``: bytes -> ``weightinit._jsonsafe.loads`` -> ``weightinit.deserialize`` and
  ``weightinit.get`` -> a call on a small shape, under a 16 MiB size cap;
- ``inspect``: bytes -> a file (first byte even) or a SavedModel folder's ``keras_metadata.pb``
  (odd) -> the inspection readers with ``stats=True``: the format is sniffed from the
  content, so one target reaches the zip (.keras, torch, npz), HDF5, safetensors, JSON and
  protobuf readers. The readers are called below the public entry point's last-resort
  handler, which turns an unexpected exception into a one-line error for users: here any
  exception but weightinit's own is a finding.

HDF5 files are read by weightinit's limited child process (``_inspect/_h5child.py``), as for
users: set ``WEIGHTINIT_INSPECT_H5_TIMEOUT`` / ``WEIGHTINIT_INSPECT_H5_MEMORY`` well below
libFuzzer's ``-timeout`` (CI uses 3 s and 1 GiB). The child's walk of the file is not
instrumented: coverage counts the parent's side of HDF5. Every input must end in success or a
``WeightinitError``; libFuzzer's ``-timeout`` and ``-rss_limit_mb`` bound time and memory per
input. A finding is saved by libFuzzer as ``crash-*`` and becomes a regression test.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

import atheris

if os.environ.get("WEIGHTINIT_FUZZ_ADDRESS_SPACE"):  # a real memory bound (see fuzz/test_atheris.py)
    import resource

    _limit = int(os.environ["WEIGHTINIT_FUZZ_ADDRESS_SPACE"])
    resource.setrlimit(resource.RLIMIT_AS, (_limit, _limit))

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
if SRC.is_dir():
    sys.path.insert(0, str(SRC))

with atheris.instrument_imports():
    import weightinit as wi
    from weightinit import _inspect
    from weightinit._jsonsafe import loads

warnings.simplefilter("ignore")  # unseeded reuse and the like are not findings
wi.set_max_bytes(1 << 24)
_WORK = Path(tempfile.mkdtemp(prefix="wi-fuzz-"))


def config_target(data: bytes) -> None:
    try:
        value = loads(data)
        for entry in (wi.deserialize, wi.get):
            init = entry(value)
            if isinstance(init, wi.Initializer):
                for shape in ((2, 3), (4, 1, 3), (3, 3)):
                    try:
                        init(shape)
                    except wi.WeightinitError:
                        pass
    except wi.WeightinitError:
        pass


def inspect_target(data: bytes) -> None:
    if not data:
        return
    shutil.rmtree(_WORK / "case", ignore_errors=True)
    case = _WORK / "case"
    case.mkdir()
    if data[0] % 2:
        target = case / "saved_model"
        target.mkdir()
        (target / "keras_metadata.pb").write_bytes(data[1:])
    else:
        target = case / "model.bin"
        target.write_bytes(data[1:])
    try:
        _inspect._from_path(os.fspath(target), True)
    except wi.WeightinitError:
        pass


TARGETS = {"config": config_target, "inspect": inspect_target}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        sys.exit(f"usage: {sys.argv[0]} {{{','.join(TARGETS)}}} [libFuzzer options] [corpus...]")
    target = TARGETS[sys.argv[1]]
    atheris.Setup([sys.argv[0], *sys.argv[2:]], target)
    try:
        atheris.Fuzz()
    finally:
        shutil.rmtree(_WORK, ignore_errors=True)


if __name__ == "__main__":
    main()
