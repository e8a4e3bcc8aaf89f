"""Model construction time with ``weightinit.keras.use_weightinit()`` against Keras's own
initializers (Keras 3 on the jax backend), in one run.

The model is the one of ``tests/test_keras_backends.py`` (Dense, Conv2D, DepthwiseConv2D,
SeparableConv2D, Embedding, LSTM, GRU, Bidirectional(LSTM), BatchNormalization,
MultiHeadAttention), built from strings and layer defaults in a fresh interpreter:

- cold: the first build of each kind in the process (the switch's first: it also pays for
  Keras's first layer calls; Keras compiles a random op per new shape);
- warm: the best of 7 builds of each, alternating.

    python bench/keras_switch.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from _support import run_python  # noqa: E402
from test_keras_backends import MAIN_CHILD  # noqa: E402


def main() -> None:
    with tempfile.TemporaryDirectory() as out:
        result = run_python(
            MAIN_CHILD, env={"KERAS_BACKEND": "jax", "WEIGHTINIT_BENCH_BUILD": "1"}, args=(out,), timeout=600
        )
    cold, warm = result["cold"], result["times"]
    print("model build, Keras 3 jax backend: switch (weightinit) vs Keras's own initializers")
    print(f"{'':6} {'switch':>10} {'keras':>10} {'switch/keras':>13}")
    for label, times in (("cold", cold), ("warm", warm)):
        ratio = times["switch"] / times["keras"]
        print(f"{label:6} {times['switch']:9.4f}s {times['keras']:9.4f}s {ratio:13.2f}")


if __name__ == "__main__":
    main()
