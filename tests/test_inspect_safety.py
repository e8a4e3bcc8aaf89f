"""Hostile and broken files: refused with one line, quickly, nothing executed, no framework imported."""

from __future__ import annotations

import io
import json
import pickle
import struct
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import weightinit as wi
from _support import child_env, run_python
from weightinit._inspect import InspectError, UnsafeModelError

h5py = pytest.importorskip("h5py")


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "weightinit._cli", "inspect", *args],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _keras_zip(path: Path, config: Any, compress: bool = False) -> Path:
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(path, "w", method) as z:
        z.writestr("metadata.json", json.dumps({"keras_version": "3.15.1"}))
        z.writestr("config.json", config if isinstance(config, (str, bytes)) else json.dumps(config))
    return path


def test_zip_bomb_config_is_refused_quickly(tmp_path: Path) -> None:
    bomb = b"{" + b" " * (300 << 20) + b"}"  # 300 MB of spaces, a few hundred kB compressed
    path = _keras_zip(tmp_path / "bomb.keras", bomb, compress=True)
    assert path.stat().st_size < 2 << 20
    start = time.perf_counter()
    with pytest.raises(InspectError, match=r"limit|zip bomb"):
        wi.inspect_model(path)
    assert time.perf_counter() - start < 10


def test_npz_bomb_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bomb.npz"
    np.savez_compressed(path, w=np.zeros(40_000_000, dtype=np.float32))  # 160 MB of zeros, ~150 kB
    assert path.stat().st_size < 1 << 20
    start = time.perf_counter()
    with pytest.raises(InspectError, match="zip bomb"):
        wi.inspect_model(path, stats=True)
    assert time.perf_counter() - start < 10


def test_lying_zip_header_is_capped(tmp_path: Path) -> None:
    # a member whose data expands far beyond the ratio allowed for what the archive stores
    data = b'{"class_name": "Sequential", "config": {"layers": []}, "pad": "' + b"a" * (5 << 20) + b'"}'
    path = _keras_zip(tmp_path / "ratio.keras", data, compress=True)
    from weightinit._inspect._zipread import SafeZip

    with SafeZip(path) as z:
        info = z.infos["config.json"]
        assert info.file_size > 200 * info.compress_size
        with pytest.raises(InspectError, match="zip bomb"):
            z.read("config.json", limit=64 << 20)


def test_deep_json_is_refused(tmp_path: Path) -> None:
    deep = '{"class_name": "Sequential", "config": ' + '{"a": ' * 100_000 + "1" + "}" * 100_000 + "}"
    with pytest.raises(InspectError, match="deeper"):
        wi.inspect_model(_keras_zip(tmp_path / "deep.keras", deep))
    (tmp_path / "deep.json").write_text(deep)
    result = _cli(str(tmp_path / "deep.json"))
    assert result.returncode == 1 and "deeper" in result.stderr and "Traceback" not in result.stderr


def test_module_injection_is_reported_never_imported(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    config = {
        "class_name": "Sequential",
        "config": {
            "layers": [
                {
                    "module": "subprocess",
                    "class_name": "Popen",
                    "config": {
                        "name": "evil",
                        "args": ["touch", str(marker)],
                        "kernel_initializer": {
                            "module": "os",
                            "class_name": "system",
                            "config": f"touch {marker}",
                        },
                    },
                },
                {
                    "class_name": "Dense",
                    "config": {
                        "name": "d",
                        "units": 2,
                        "kernel_initializer": {
                            "module": "builtins",
                            "class_name": "function",
                            "config": "eval",
                            "registered_name": "function",
                        },
                    },
                },
            ]
        },
    }
    path = _keras_zip(tmp_path / "inject.keras", config)
    records = {r.name: r for r in wi.inspect_model(path, stats=True)}
    assert not marker.exists()
    assert records["evil/kernel"].initializer.module == "os" and not records["evil/kernel"].initializer.known
    assert records["d/kernel"].initializer.class_name.startswith("function eval")
    assert records["d/kernel"].check is not None and records["d/kernel"].check.status == "unchecked"


class _Evil:
    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self) -> Any:
        import os

        return (os.system, (f"touch {self.marker}",))


def _torch_like_zip(path: Path, payload: bytes) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", payload)
        z.writestr("archive/byteorder", "little")
        z.writestr("archive/version", "3\n")
    return path


def test_code_running_pickles_are_refused(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    for name, payload in [
        ("system", pickle.dumps({"w": _Evil(str(marker))}, protocol=2)),
        ("eval", b"cbuiltins\neval\n(S'print(1)'\ntR."),
        ("getattr", pickle.dumps(getattr, protocol=4)),
    ]:
        path = _torch_like_zip(tmp_path / f"{name}.pt", payload)
        with pytest.raises(UnsafeModelError, match="refused"):
            wi.inspect_model(path)
        result = _cli(str(path))
        assert result.returncode == 1 and "refused" in result.stderr and "Traceback" not in result.stderr
    assert not marker.exists()
    bare = tmp_path / "legacy.pt"
    bare.write_bytes(pickle.dumps({"w": _Evil(str(marker))}))
    with pytest.raises(UnsafeModelError, match="pickle"):
        wi.inspect_model(bare)
    assert not marker.exists()


def test_a_pickled_torch_module_is_refused(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    path = tmp_path / "full_model.pt"
    torch.save(torch.nn.Linear(3, 2), path)
    with pytest.raises(UnsafeModelError, match=r"torch\.nn\.modules\.linear\.Linear"):
        wi.inspect_model(path)


def _safetensors(path: Path, header: dict[str, Any], data: bytes = b"") -> Path:
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data)
    return path


def test_huge_declared_shapes_are_refused(tmp_path: Path) -> None:
    huge = {"w": {"dtype": "F32", "shape": [2**40, 2**40], "data_offsets": [0, 16]}}
    with pytest.raises(InspectError, match="needs"):
        wi.inspect_model(_safetensors(tmp_path / "huge.safetensors", huge, b"\0" * 16))
    lying = {"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}
    with pytest.raises(InspectError, match=r"needs|truncated"):
        wi.inspect_model(_safetensors(tmp_path / "short.safetensors", lying, b"\0" * 8))
    header_len = tmp_path / "hdr.safetensors"
    header_len.write_bytes(struct.pack("<Q", 2**62) + b"{}")
    with pytest.raises(InspectError):
        wi.inspect_model(header_len)
    # an HDF5 dataset that declares 2**50 elements (chunked, nothing stored)
    path = tmp_path / "huge.h5"
    with h5py.File(path, "w") as f:
        g = f.create_group("layers/dense/vars")
        g.attrs["name"] = "dense"
        g.create_dataset("0", shape=(2**25, 2**25), dtype="f4", chunks=(1, 1024))
    with pytest.raises(InspectError, match="declares"):
        wi.inspect_model(path, stats=True)


def test_hdf5_cyclic_links_terminate(tmp_path: Path) -> None:
    path = tmp_path / "cycle.h5"
    with h5py.File(path, "w") as f:
        layer = f.create_group("layers/dense")
        vars_group = layer.create_group("vars")
        vars_group.attrs["name"] = "dense"
        vars_group["0"] = np.zeros((3, 2), dtype="f4")
        layer["loop"] = layer  # a hard link back to its own group
        f["layers"]["up"] = f["/"]
        layer["elsewhere"] = h5py.ExternalLink("/etc/passwd", "/")
        layer["soft"] = h5py.SoftLink("/layers")
    start = time.perf_counter()
    records = wi.inspect_model(path, stats=True)
    assert time.perf_counter() - start < 10
    assert [(r.name, r.shape) for r in records] == [("dense/vars/0", (3, 2))]
    assert records[0].candidates[0].name == "Zeros"


def test_hdf5_external_model_weights_link_is_not_followed(tmp_path: Path) -> None:
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f.create_group("g").attrs["layer_names"] = [b"d"]
    path = tmp_path / "linked.h5"
    with h5py.File(path, "w") as f:
        f.attrs["model_config"] = json.dumps({"class_name": "Sequential", "config": {"layers": []}})
        f["model_weights"] = h5py.ExternalLink(str(other), "/g")
    with pytest.raises(InspectError, match="hard link"):
        wi.inspect_model(path)


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("empty.keras", b"", "empty"),
        ("text.txt", b"hello, this is not a model\n", "not a model file"),
        ("truncated.keras", None, "zip|corrupt|truncated"),
        ("random.h5", b"\x89HDF\r\n\x1a\n" + bytes(range(256)) * 4, "HDF5"),
        ("bad.json", b'{"class_name": ', "JSON"),
        ("list.json", b"[1, 2, 3]", "model config"),
        ("noconfig.zip", None, "neither"),
        ("bad.safetensors", struct.pack("<Q", 5) + b"{1: 2", "JSON"),
    ],
)
def test_broken_files_one_line_error_nonzero_exit(
    tmp_path: Path, name: str, content: bytes | None, message: str
) -> None:
    path = tmp_path / name
    if name == "truncated.keras":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as z:
            z.writestr("config.json", json.dumps({"class_name": "Sequential", "config": {"layers": []}}) * 50)
        content = buffer.getvalue()[: len(buffer.getvalue()) // 2]
    if name == "noconfig.zip":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as z:
            z.writestr("readme.txt", "hi")
        content = buffer.getvalue()
    assert content is not None
    path.write_bytes(content)
    with pytest.raises(InspectError):
        wi.inspect_model(path, stats=True)
    result = _cli(str(path), "--stats")
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("weightinit inspect: error:"), result.stderr
    assert __import__("re").search(message, lines[0], flags=__import__("re").I), lines[0]
    assert result.stdout == ""


def test_savedmodel_with_a_broken_checkpoint_index(tmp_path: Path) -> None:
    config = {
        "class_name": "Sequential",
        "config": {"layers": [{"class_name": "Dense", "config": {"name": "d"}}]},
    }
    node = json.dumps({"class_name": "Sequential", "config": config["config"], "keras_version": "2.21.0"})
    payload = node.encode()
    saved_object = b"\x1a\x04root" + b"\x2a" + _varint(len(payload)) + payload
    (tmp_path / "keras_metadata.pb").write_bytes(b"\x0a" + _varint(len(saved_object)) + saved_object)
    (tmp_path / "variables").mkdir()
    records = wi.inspect_model(tmp_path)
    assert [(r.name, r.initializer.class_name) for r in records] == [
        ("d/kernel", "GlorotUniform"),
        ("d/bias", "Zeros"),
    ]
    for garbage in (b"\0" * 10, b"\0" * 100, b"\x01" * 40 + struct.pack("<Q", 0xDB4775248B80FB57)):
        (tmp_path / "variables" / "variables.index").write_bytes(garbage)
        with pytest.raises(InspectError):
            wi.inspect_model(tmp_path, stats=True)
    (tmp_path / "keras_metadata.pb").write_bytes(b"\x0a\xff\xff\xff")
    with pytest.raises(InspectError, match="truncated"):
        wi.inspect_model(tmp_path)


def _varint(n: int) -> bytes:
    out = b""
    while True:
        byte, n = n & 0x7F, n >> 7
        out += bytes([byte | (0x80 if n else 0)])
        if not n:
            return out


def test_missing_path_and_directory_without_metadata(tmp_path: Path) -> None:
    result = _cli(str(tmp_path / "nope.keras"))
    assert result.returncode == 1 and "no such file" in result.stderr
    result = _cli(str(tmp_path))
    assert result.returncode == 1 and "keras_metadata.pb" in result.stderr


def test_no_framework_is_imported(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    st = pytest.importorskip("safetensors.numpy")
    torch.save({"fc.weight": torch.zeros(3, 2)}, tmp_path / "m.pt")
    st.save_file({"w": np.ones((2, 2), np.float32)}, str(tmp_path / "m.safetensors"))
    with h5py.File(tmp_path / "m.h5", "w") as f:
        f.attrs["model_config"] = json.dumps(
            {
                "class_name": "Sequential",
                "config": {"layers": [{"class_name": "Dense", "config": {"name": "d", "units": 2}}]},
            }
        )
        g = f.create_group("model_weights/d")
        g.attrs["weight_names"] = [b"d/kernel:0", b"d/bias:0"]
        g["d/kernel:0"] = np.zeros((3, 2), "f4")
        g["d/bias:0"] = np.zeros(2, "f4")
    np.savez(tmp_path / "m.npz", w=np.zeros(3))
    _keras_zip(tmp_path / "m.keras", {"class_name": "Sequential", "config": {"layers": []}})
    result = run_python(
        """
        import json, sys
        import weightinit as wi
        paths = sys.argv[1:]
        counts = [len(wi.inspect_model(p, stats=True)) for p in paths]
        from weightinit._cli import main
        main(["inspect", paths[0], "--stats", "--json"])
        frameworks = ("keras", "torch", "tensorflow", "jax", "tf_keras")
        banned = [m for m in sys.modules if m.split(".")[0] in frameworks]
        print(json.dumps({"counts": counts, "banned": banned}))
        """,
        args=tuple(str(tmp_path / n) for n in ("m.h5", "m.pt", "m.safetensors", "m.npz", "m.keras")),
    )
    assert result["banned"] == []
    assert result["counts"] == [2, 1, 1, 1, 0]


def test_missing_h5py_says_which_extra(tmp_path: Path) -> None:
    with h5py.File(tmp_path / "m.h5", "w") as f:
        f.attrs["model_config"] = "{}"
    result = run_python(
        """
        import json, sys
        sys.modules["h5py"] = None  # as if it were not installed
        from weightinit._cli import main
        import contextlib, io
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            code = main(["inspect", sys.argv[1]])
        print(json.dumps({"code": code, "err": err.getvalue()}))
        """,
        args=(str(tmp_path / "m.h5"),),
    )
    assert result["code"] == 1 and "pip install 'weightinit[h5]'" in result["err"]
