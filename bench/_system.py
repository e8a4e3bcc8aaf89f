"""What the benchmark ran on: CPU, versions, and which BLAS kernel numpy and torch use."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

__all__ = ["BLAS_ENV", "blas_info", "cpu_name"]

#: set on some machines for old OpenBLAS builds; they slow a current numpy's BLAS
BLAS_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def blas_info() -> dict[str, Any]:
    """numpy's BLAS as loaded in this process (threadpoolctl if installed, else numpy's build config)."""
    env = {name: os.environ[name] for name in BLAS_ENV if name in os.environ}
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        import numpy as np

        blas = np.__config__.CONFIG.get("Build Dependencies", {}).get("blas", {})  # type: ignore[attr-defined]
        return {
            "source": "numpy.show_config (threadpoolctl not installed: the runtime kernel is unknown)",
            "name": blas.get("name"),
            "version": blas.get("version"),
            "configuration": blas.get("openblas configuration"),
            "env": env,
        }
    import numpy  # noqa: F401  (loads numpy's BLAS so threadpoolctl can see it)

    libs = [
        {k: lib.get(k) for k in ("internal_api", "version", "architecture", "num_threads", "filepath")}
        for lib in threadpool_info()
        if lib.get("user_api") == "blas"
    ]
    return {"source": "threadpoolctl", "libraries": libs, "env": env}
