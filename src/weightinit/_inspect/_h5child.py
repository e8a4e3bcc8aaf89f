"""HDF5 files are read in a child process with a time limit and an address-space limit.

The HDF5 C library (through h5py) can loop for minutes, or allocate gigabytes, on a corrupt
file (a damaged global heap behind variable-length data, for instance), and no Python code can
interrupt it. So ``inspect`` never opens an HDF5 file in its own process: a child Python
process opens it, walks it (:class:`~._hdf5.H5Model`) and answers three requests, ``open``,
``weights`` and ``read`` (a tensor's sample blocks), with plain data: JSON headers and the raw
bytes of the blocks, checked against the sizes the parent asked for (never a pickle).

- Time: the child may work :data:`DEFAULT_TIMEOUT` seconds in all per file (the time the
  parent waits for its answers; ``WEIGHTINIT_INSPECT_H5_TIMEOUT``). Past that it is killed and
  :class:`~._common.InspectError` names the file and the limit.
- Memory: the child limits its own address space (``RLIMIT_AS``) to :data:`DEFAULT_MEMORY`
  bytes (``WEIGHTINIT_INSPECT_H5_MEMORY``) before it reads anything, so an allocation a
  file asks for fails in the child. Where ``RLIMIT_AS`` does not exist (Windows) or cannot be
  set (macOS refuses it), only the time limit applies.
- Only ``--stats`` samples travel back (:mod:`._tensor`), never a whole tensor, so the parent's
  peak memory does not grow with the model.

>>> DEFAULT_TIMEOUT, DEFAULT_MEMORY >> 30  # seconds, GiB
(60.0, 2)
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import math
import os
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import IO, Any

import numpy as np
from numpy.typing import NDArray

from .._errors import WeightinitError, short_repr
from ._assemble import FileWeight
from ._common import MAX_MEMBER_BYTES, MAX_TENSOR_RANK, MAX_TENSORS, InspectError, MissingDependencyError
from ._hdf5 import H5PY_MISSING
from ._tensor import Index, TensorRef

__all__ = ["DEFAULT_MEMORY", "DEFAULT_TIMEOUT", "ENV_MEMORY", "ENV_TIMEOUT", "H5Child", "limits", "serve"]

ENV_TIMEOUT = "WEIGHTINIT_INSPECT_H5_TIMEOUT"
ENV_MEMORY = "WEIGHTINIT_INSPECT_H5_MEMORY"
#: seconds the child may work on one file, all requests together
DEFAULT_TIMEOUT = 60.0
#: the child's address space: Python, numpy and h5py take about 150 MB of it; a compressed
#: ``model.weights.h5`` is read into memory (at most MAX_MEMBER_BYTES, about 3 times that at
#: the peak), HDF5 decompresses a chunk at a time (at most 64 MiB); the rest is a margin
DEFAULT_MEMORY = 2 << 30
#: the largest JSON header an answer may have (a model_config attribute, a list of weights)
MAX_ANSWER_BYTES = 4 * MAX_MEMBER_BYTES
_FRAME = struct.Struct(">QQ")  # header bytes, payload bytes
#: the child's own error classes the parent raises again as such
_ERRORS: dict[str, type[InspectError]] = {
    "InspectError": InspectError,
    "MissingDependencyError": MissingDependencyError,
}
#: the child's first line: weightinit from where the parent has it, and not the current directory
#: (an empty or relative PYTHONPATH entry would put it back: only absolute entries other than it)
_BOOT = (
    "import os, sys; here = os.getcwd(); "
    "sys.path[:] = [sys.argv[1], *(p for p in sys.path if os.path.isabs(p) and p != here)]; "
    "from weightinit._inspect._h5child import serve; serve()"
)


def _env_limit(name: str, default: float, cast: type[float] | type[int]) -> Any:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = cast(raw.strip().replace("_", ""))
    except ValueError:
        value = None
    if value is None or not (0 < value < math.inf):
        kind = "a positive number of seconds" if cast is float else "a positive integer number of bytes"
        raise InspectError(f"Environment variable {name} must be {kind}. Received: {short_repr(raw)}")
    return value


def limits() -> tuple[float, int]:
    """``(seconds, address-space bytes)`` for the child reading one HDF5 file (the environment's
    ``WEIGHTINIT_INSPECT_H5_TIMEOUT`` / ``WEIGHTINIT_INSPECT_H5_MEMORY``, else the defaults)."""
    return _env_limit(ENV_TIMEOUT, DEFAULT_TIMEOUT, float), _env_limit(ENV_MEMORY, DEFAULT_MEMORY, int)


def _error_of(header: dict[str, Any], what: str) -> Exception:
    """The parent's exception for the child's error answer: our classes as such, any other error
    of ours (raised reading the file) as InspectError, anything else as a bug of the reader."""
    text = str(header["error"])[:1000]
    kind = _ERRORS.get(str(header.get("class")))
    if kind is None and header.get("weightinit") is True:
        kind = InspectError
    if kind is None:  # a bug in the reader, not a corrupt file: the caller's last resort reports it
        return RuntimeError(f"the HDF5 reader failed on {what}: {header.get('class')}: {text}")
    return kind(text)


def _write(stream: IO[bytes], header: dict[str, Any], payload: Sequence[bytes | memoryview] = ()) -> None:
    data = json.dumps(header).encode()
    stream.write(_FRAME.pack(len(data), sum(len(p) for p in payload)) + data)
    for part in payload:
        stream.write(part)
    stream.flush()


def _read_exact(stream: IO[bytes], n: int) -> bytearray:
    buffer = bytearray(n)
    view, got = memoryview(buffer), 0
    while got < n:
        chunk = stream.readinto(view[got:])  # type: ignore[attr-defined]
        if not chunk:
            raise EOFError
        got += chunk
    return buffer


# ---------------------------------------------------------------------------------- parent side
class H5Child:
    """One HDF5 file (a path, or a zip ``member`` of it), read by a child process.

    ``what`` names the file in messages. Use as a context manager: the child ends on exit.
    """

    def __init__(self, path: str | os.PathLike[str], what: str, member: str | None = None) -> None:
        if importlib.util.find_spec("h5py") is None:
            raise MissingDependencyError(H5PY_MISSING)
        self.path, self.what, self.member = os.path.abspath(os.fspath(path)), what, member
        self.timeout, self.memory = limits()
        self._left = self.timeout
        self._expired = False
        #: the last blocks read, kept for one request: the checks often read a small tensor's
        #: sample and then the same tensor whole
        self._last: tuple[Any, list[NDArray[Any]]] = (None, [])
        self._watchdog = _Watchdog(self._expire)
        if not sys.executable:
            raise InspectError(f"{what}: no Python executable to start the HDF5 reader process with.")
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        env = dict(os.environ)
        for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[name] = "1"  # the child does no arithmetic: no thread pools in its address space
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-c", _BOOT, root, str(self.memory), str(math.ceil(self.timeout))],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=env,
            )
        except OSError as exc:
            raise InspectError(f"{what}: cannot start the HDF5 reader process ({exc}).") from None

    def __enter__(self) -> H5Child:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._watchdog.stop()
        proc = self._proc
        if proc.poll() is None:
            try:
                assert proc.stdin is not None
                proc.stdin.close()  # the child ends at the end of its input
                proc.wait(timeout=2)
            except (OSError, subprocess.TimeoutExpired):
                proc.kill()
        proc.wait()
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):  # a request left unsent to a child that died
                    stream.close()

    def _expire(self) -> None:
        self._expired = True
        self._proc.kill()

    def _garbled(self) -> InspectError:
        """The child answered outside the protocol: it is stopped (its state is unknown)."""
        self._proc.kill()
        self._proc.wait()
        return InspectError(
            f"{self.what}: the HDF5 reader process gave a malformed answer reading {self.path!r}: "
            "stopped; the file is corrupt or hostile."
        )

    def _failed(self) -> InspectError:
        """Why the child gave no answer: the time limit, or it ended (crashed, killed)."""
        if self._expired or self._left <= 0:
            return InspectError(
                f"{self.what}: reading {self.path!r} took longer than the HDF5 time limit of "
                f"{self.timeout:g} s ({ENV_TIMEOUT}): stopped, the file is corrupt or hostile."
            )
        self._proc.kill()
        code = self._proc.wait()
        return InspectError(
            f"{self.what}: the HDF5 reader process ended (exit status {code}) reading {self.path!r}: "
            f"the file is corrupt or hostile, or needs more than {self.memory} bytes ({ENV_MEMORY})."
        )

    def _call(self, request: dict[str, Any], payload: int = 0) -> tuple[dict[str, Any], bytearray]:
        """Send ``request``, wait (at most the time left) for the answer of ``payload`` bytes."""
        if self._expired or self._left <= 0 or self._proc.poll() is not None:
            raise self._failed()
        stdin, stdout = self._proc.stdin, self._proc.stdout
        assert stdin is not None and stdout is not None
        start = time.monotonic()
        self._watchdog.arm(start + self._left)
        broken = garbled = False
        try:
            _write(stdin, request)
            sizes = _FRAME.unpack(_read_exact(stdout, _FRAME.size))
            if sizes[0] > MAX_ANSWER_BYTES:
                garbled = True
            else:
                header = json.loads(_read_exact(stdout, sizes[0]))
                data = _read_exact(stdout, sizes[1]) if sizes[1] == payload else None
        except (OSError, EOFError):
            broken = True
        except ValueError:  # not JSON
            garbled = True
        finally:
            self._watchdog.arm(None)  # disarmed before _failed kills and reaps the child
            self._left -= time.monotonic() - start
        if broken:
            raise self._failed()
        if garbled or not isinstance(header, dict):
            raise self._garbled()
        if "error" in header:
            raise _error_of(header, self.what)
        if data is None:
            raise self._garbled()
        return header, data

    def open(self, attributes: Sequence[str] = ()) -> dict[str, str | None]:
        """Open the file in the child; the text of the root ``attributes`` asked for (or None)."""
        request = {"op": "open", "path": self.path, "member": self.member, "what": self.what}
        answer, _ = self._call({**request, "attrs": list(attributes)})
        values = answer.get("attrs", {})
        return {name: v if isinstance(v := values.get(name), str) else None for name in attributes}

    def weights(self, layout: str) -> tuple[str, list[FileWeight]]:
        """The stored weights: ``layout`` is ``"keras3"``, ``"legacy"`` or ``"auto"`` (the file's)."""
        answer, _ = self._call({"op": "weights", "layout": layout})
        rows, first = answer.get("weights"), answer.get("first")
        if not isinstance(rows, list) or len(rows) > MAX_TENSORS or type(first) is not int or first < 0:
            raise self._garbled()
        out = []
        try:
            for i, (chain, name, index, shape, dtype) in enumerate(rows, first):
                shape = tuple(int(n) for n in shape)
                kind = np.dtype(str(dtype))
                if kind.kind not in "fiub" or len(shape) > MAX_TENSOR_RANK or min(shape, default=0) < 0:
                    raise ValueError(dtype)
                tensor = ChildTensor(self, i, shape, kind)
                label = None if name is None else str(name)
                chain = tuple(str(c) for c in chain)
                out.append(FileWeight(chain, label, int(index), shape, kind.name, tensor))
        except (TypeError, ValueError):
            raise self._garbled() from None
        return str(answer.get("layout")), out

    def read_blocks(self, tensor: ChildTensor, indices: Sequence[Index]) -> list[NDArray[Any]]:
        """Blocks of a tensor (its sample), each one hyperslab read by the child (read-only)."""
        if any(s.step not in (None, 1) for index in indices for s in index):
            raise ValueError("the HDF5 reader reads blocks of step-1 slices")
        bounds = [[s.indices(n)[:2] for s, n in zip(index, tensor.shape, strict=True)] for index in indices]
        if self._last[0] == (tensor.id, bounds):
            return list(self._last[1])
        shapes = [tuple(max(0, b - a) for a, b in block) for block in bounds]
        sizes = [math.prod(shape) * tensor.dtype.itemsize for shape in shapes]
        _, data = self._call({"op": "read", "id": tensor.id, "blocks": bounds}, sum(sizes))
        out, at = [], 0
        for shape, size in zip(shapes, sizes, strict=True):
            count = math.prod(shape)
            block = np.frombuffer(data, tensor.dtype, count, at) if count else np.zeros(0, tensor.dtype)
            block.flags.writeable = False
            out.append(block.reshape(shape))
            at += size
        self._last = ((tensor.id, bounds), out)
        return list(out)


class _Watchdog:
    """Calls ``expire`` once the armed deadline (``time.monotonic()``) passes; one thread for
    all the requests of a file (a timer per request costs a thread start each)."""

    def __init__(self, expire: Callable[[], None]) -> None:
        self._expire = expire
        self._deadline: float | None = None
        self._stopped = False
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def arm(self, deadline: float | None) -> None:
        with self._cond:
            self._deadline = deadline
            if self._thread is None and deadline is not None:
                self._thread = threading.Thread(target=self._run, name="weightinit-h5-watchdog", daemon=True)
                self._thread.start()
            elif deadline is not None:
                self._cond.notify()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        with self._cond:
            while not self._stopped:
                deadline = self._deadline
                if deadline is None:
                    self._cond.wait()
                elif time.monotonic() >= deadline:
                    self._deadline = None
                    self._expire()
                else:
                    self._cond.wait(deadline - time.monotonic())


class ChildTensor(TensorRef):
    """A dataset of the file an :class:`H5Child` reads: blocks come from the child."""

    def __init__(self, child: H5Child, id: int, shape: tuple[int, ...], dtype: np.dtype[Any]) -> None:
        self.child, self.id, self.shape, self.dtype = child, id, shape, dtype

    def read(self, index: Index) -> NDArray[Any]:
        return self.read_blocks([index])[0]

    def read_blocks(self, indices: Sequence[Index]) -> list[NDArray[Any]]:
        return self.child.read_blocks(self, indices)


# ----------------------------------------------------------------------------------- child side
def _lower_soft_limit(name: str, value: int) -> None:
    """Set the soft resource limit ``name`` (``"RLIMIT_AS"``, ...) to ``value``, at most the hard
    one. Where it cannot be had (Windows has no ``resource``; macOS refuses RLIMIT_AS; a value
    past the platform's largest) nothing changes: the parent's time limit alone applies."""
    try:
        import resource

        which = getattr(resource, name)
        _, hard = resource.getrlimit(which)
        resource.setrlimit(which, (value if hard == resource.RLIM_INFINITY else min(value, hard), hard))
    except (ImportError, ValueError, OSError, OverflowError):
        pass


def _limit_memory(limit: int) -> None:
    """The child's address space, ``limit`` bytes."""
    _lower_soft_limit("RLIMIT_AS", limit)


def _limit_cpu(seconds: int) -> None:
    """The child's own CPU-time bound, a few seconds past the parent's time limit: a child whose
    parent died without killing it (SIGKILL, a fuzzer's hard exit) still ends (SIGXCPU)."""
    _lower_soft_limit("RLIMIT_CPU", seconds + 5)


class _Server:
    """The child's state: the open file and the tensors its ``weights`` answers listed."""

    def __init__(self) -> None:
        self.model: Any = None
        self.tensors: list[Any] = []
        self.listed: dict[str, dict[str, Any]] = {}

    def open(self, request: dict[str, Any]) -> dict[str, Any]:
        from ._hdf5 import H5Model, RangeFile, open_h5
        from ._zipread import SafeZip

        path, member, what = request["path"], request["member"], request["what"]
        source: Any = path
        if member is not None:
            with SafeZip(path, "the .keras archive") as archive:
                offset = archive.stored_offset(member)
                size = archive.infos[member].file_size
                source = (
                    RangeFile(path, offset, size)
                    if offset is not None
                    else io.BytesIO(archive.read(member, MAX_MEMBER_BYTES))
                )
        self.model = H5Model(open_h5(source, what), what)
        self.listed = {}  # (tensors listed from an earlier file keep their ids)
        return {"attrs": {name: self.model.attr_text(name) for name in request["attrs"]}}

    def weights(self, request: dict[str, Any]) -> dict[str, Any]:
        layout = request["layout"]
        if layout == "auto":
            layout = "legacy" if self.model.is_legacy() else "keras3"
        if layout not in self.listed:  # the file is walked once per layout (the walk visits each
            # object once); the ids of every list stay valid: tensors are appended
            found = self.model.legacy_weights() if layout == "legacy" else self.model.keras3_weights()
            first = len(self.tensors)
            self.tensors += [w.tensor for w in found]
            rows = [[list(w.chain), w.name, w.index, list(w.shape), w.tensor.dtype.str] for w in found]
            self.listed[layout] = {"layout": layout, "weights": rows, "first": first}
        return self.listed[layout]

    def read(self, request: dict[str, Any]) -> tuple[dict[str, Any], list[memoryview]]:
        tensor = self.tensors[request["id"]]
        indices = [tuple(slice(a, b) for a, b in block) for block in request["blocks"]]
        blocks = tensor.read_blocks(indices)
        flat = [np.ascontiguousarray(b, dtype=tensor.dtype).reshape(-1).view(np.uint8) for b in blocks]
        return {}, [b.data for b in flat]

    def answer(self, request: dict[str, Any]) -> tuple[dict[str, Any], list[memoryview]]:
        from ._hdf5 import h5_errors

        try:
            with h5_errors(str(request.get("what") or (self.model.what if self.model else "the HDF5 file"))):
                if request["op"] == "read":
                    return self.read(request)
                return (self.open if request["op"] == "open" else self.weights)(request), []
        except WeightinitError as exc:
            return {"error": str(exc), "class": type(exc).__name__, "weightinit": True}, []
        except MemoryError:
            what = self.model.what if self.model else "the HDF5 file"
            text = f"{what} needs more memory than the HDF5 reader's limit ({ENV_MEMORY})."
            return {"error": text, "class": "InspectError"}, []
        except Exception as exc:
            return {"error": str(exc)[:1000], "class": type(exc).__name__}, []


def serve() -> None:
    """The child's main loop (``sys.argv[2]``: the address-space limit, ``sys.argv[3]``: the time
    limit in whole seconds, which bounds its CPU time too): answer requests on
    stdin until it closes. The protocol owns the original stdout; anything a library prints
    goes to the null device."""
    _limit_memory(int(sys.argv[2]))
    _limit_cpu(int(sys.argv[3]))
    import warnings

    warnings.simplefilter("ignore")
    requests, answers = sys.stdin.buffer, os.fdopen(os.dup(1), "wb")
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    server = _Server()
    while True:
        try:
            sizes = _FRAME.unpack(_read_exact(requests, _FRAME.size))
            request = json.loads(_read_exact(requests, sizes[0]))
        except EOFError:
            break
        header, payload = server.answer(request)
        _write(answers, header, payload)
    if server.model is not None:
        server.model.close()
