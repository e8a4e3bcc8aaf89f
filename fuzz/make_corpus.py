"""Write the seed corpus of ``atheris_harness.py`` from real files (run once; the files are kept).

Needs the dev group (Keras 3 on the jax backend, tf_keras, torch, h5py, safetensors). Each inspect seed is
one byte (0: a file, 1: a SavedModel's ``keras_metadata.pb``) followed by the file's bytes.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))


def main() -> None:
    import keras
    import numpy as np
    import torch
    from safetensors.numpy import save as st_save

    import weightinit as wi

    config_dir, inspect_dir = HERE / "corpus" / "config", HERE / "corpus" / "inspect"
    config_dir.mkdir(parents=True, exist_ok=True)
    inspect_dir.mkdir(parents=True, exist_ok=True)
    for name in ("GlorotUniform", "VarianceScaling", "Orthogonal", "STFT", "Constant", "Identity"):
        cls = getattr(wi, name)
        config = wi.serialize(cls(seed=3) if "seed" in cls.__init__.__code__.co_varnames else cls())
        (config_dir / f"{name}.json").write_text(json.dumps(config))
    (config_dir / "keras2.json").write_text(
        json.dumps(
            {
                "class_name": "VarianceScaling",
                "config": {
                    "scale": 2.0,
                    "mode": "fan_out",
                    "distribution": "untruncated_normal",
                    "seed": None,
                },
            }
        )
    )
    (config_dir / "alias.json").write_text('"he_normal"')

    model = keras.Sequential(
        [
            keras.Input((6,)),
            keras.layers.Dense(4, kernel_initializer=wi.HeNormal(seed=1), name="d1"),
            keras.layers.BatchNormalization(name="bn"),
            keras.layers.Dense(2, name="d2"),
        ]
    )
    with tempfile.TemporaryDirectory() as tmp:
        for suffix in ("keras", "h5"):
            path = Path(tmp) / f"m.{suffix}"
            model.save(path)
            (inspect_dir / f"model-{suffix}").write_bytes(b"\x00" + path.read_bytes())
        (inspect_dir / "config-json").write_bytes(b"\x00" + model.to_json().encode())
        state = {"fc.weight": torch.randn(3, 5), "fc.bias": torch.zeros(3)}
        pt = Path(tmp) / "m.pt"
        torch.save(state, pt)
        (inspect_dir / "torch-pt").write_bytes(b"\x00" + pt.read_bytes())
    arrays = {
        "w": np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32),
        "b": np.zeros(3, np.float32),
    }
    (inspect_dir / "safetensors").write_bytes(b"\x00" + st_save(arrays))
    npz = io.BytesIO()
    np.savez(npz, **arrays)
    (inspect_dir / "npz").write_bytes(b"\x00" + npz.getvalue())
    # a real tf.keras SavedModel's keras_metadata.pb (tf_keras, in its own interpreter)
    with tempfile.TemporaryDirectory() as tmp:
        code = (
            "import sys, tf_keras as k\n"
            "m = k.Sequential([k.layers.Dense(3, input_shape=(4,), name='d1',\n"
            "    kernel_initializer=k.initializers.HeNormal(seed=1)), k.layers.Dense(2, name='d2')])\n"
            "m.save(sys.argv[1], save_format='tf')\n"
        )
        env = {**os.environ, "TF_USE_LEGACY_KERAS": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}
        subprocess.run([sys.executable, "-c", code, tmp + "/sm"], env=env, check=True, capture_output=True)
        (inspect_dir / "savedmodel-pb").write_bytes(
            b"\x01" + Path(tmp, "sm", "keras_metadata.pb").read_bytes()
        )
    with zipfile.ZipFile(buf := io.BytesIO(), "w") as archive:
        archive.writestr("config.json", model.to_json())
    (inspect_dir / "zip-config-only").write_bytes(b"\x00" + buf.getvalue())
    print(sorted(p.name for p in inspect_dir.iterdir()), sorted(p.name for p in config_dir.iterdir()))


if __name__ == "__main__":
    main()
