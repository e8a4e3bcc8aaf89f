"""The README's JAX/Flax section, run: Flax linen and nnx models hold the Keras model's weights.

One child (jax backend Keras, flax 0.12) runs every block of the section, then
compares each weight of the Keras model with the linen and nnx parameters.
"""

from __future__ import annotations

import pytest

from _support import readme_blocks, run_python

pytest.importorskip("flax")
pytest.importorskip("keras")

COMPARE = r"""
import json
import numpy as np

layers = {type(layer).__name__: layer for layer in keras_model.layers}
def kw(name):
    return [np.asarray(w) for w in layers[name].weights]
(emb,) = kw("Embedding")
lstm_k, lstm_r, lstm_b = kw("LSTM")
conv_k, conv_b = kw("Conv2D")
gamma, beta = kw("LayerNormalization")
dense_k, dense_b = kw("Dense")
keras_w = [emb, lstm_k, lstm_b, conv_k, conv_b, gamma, beta, dense_k, dense_b]
p = linen_params
linen_w = [p["Embed_0"]["embedding"], p["KerasLSTMCell_0"]["kernel"], p["KerasLSTMCell_0"]["bias"],
           p["Conv_0"]["kernel"], p["Conv_0"]["bias"], p["LayerNorm_0"]["scale"], p["LayerNorm_0"]["bias"],
           p["Dense_0"]["kernel"], p["Dense_0"]["bias"]]
m = nnx_model
val = lambda v: np.asarray(v[...])
nnx_w = [val(m.embed.embedding), val(m.lstm.dense_i.kernel), val(m.lstm.dense_h.bias), val(m.conv.kernel),
         val(m.conv.bias), val(m.norm.scale), val(m.norm.bias), val(m.dense.kernel), val(m.dense.bias)]
def same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
forget = lstm_b[16:32]
print(json.dumps({
    "linen": [same(a, b) for a, b in zip(keras_w, linen_w)],
    "nnx": [same(a, b) for a, b in zip(keras_w, nnx_w)],
    "recurrent_linen": float(np.abs(lstm_r - np.asarray(p["KerasLSTMCell_0"]["recurrent_kernel"])).max()),
    "recurrent_nnx": float(np.abs(lstm_r - val(m.lstm.dense_h.kernel)).max()),
    "forget_ones": bool((forget == 1).all()) and bool((lstm_b[:16] == 0).all()),
    "kernel_nonzero": bool(np.abs(lstm_k).max() > 0),
}))
"""


def test_readme_flax_linen_and_nnx_models_hold_the_keras_weights():
    code = "\n".join(readme_blocks("Use with JAX and Flax")) + COMPARE
    out = run_python(code, env={"KERAS_BACKEND": "jax"}, timeout=400)
    assert out["linen"] == [True] * 9
    assert out["nnx"] == [True] * 9
    assert out["recurrent_linen"] < 1e-5 and out["recurrent_nnx"] < 1e-5
    assert out["forget_ones"] and out["kernel_nonzero"]
