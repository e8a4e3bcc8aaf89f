"""One module per peer; each runs inside its own process (see ``_worker.py``).

A peer module defines:

- ``REQUIRES``: the module it needs (a peer whose module is missing is skipped);
- ``THREADS``: the thread counts it can be pinned to, or ``()`` for its default only;
- ``TRACED``: whether its arrays are visible to tracemalloc (numpy-allocated);
- ``env(threads)``: environment variables for its process, set before any import;
- ``setup(threads)``: pin the threads, import the library;
- ``build(case)``: a zero-argument function producing the case's tensor, or None
  when the peer has no equivalent of that distribution;
- ``sync(result)``: wait for the result (jax dispatches asynchronously);
- ``info()``: versions and kernels, for the report.
"""

from __future__ import annotations

PEERS = ("weightinit", "numpy", "torch", "jax", "keras", "tensorflow")
#: module name of each peer inside this package
MODULES = {name: f"peers.{name}_peer" for name in PEERS}
