"""The README's PyTorch sections run as written (each block in a fresh interpreter)."""

from __future__ import annotations

import socket

import pytest

pytest.importorskip("torch")

from _support import readme_blocks, run_python


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(
    "heading", ["Initialize a PyTorch model like Keras", "Sharded init with FSDP2/DTensor"]
)
def test_readme_torch_examples_run(heading: str) -> None:
    blocks = readme_blocks(heading)
    assert blocks
    for block in blocks:
        code = (
            "import warnings\nwarnings.simplefilter('error')\n"
            + block
            + "\nimport json\nprint(json.dumps('ok'))\n"
        )
        env = {"MASTER_PORT": str(_free_port()), "OMP_NUM_THREADS": "1"}
        assert run_python(code, env=env, timeout=180) == "ok"
