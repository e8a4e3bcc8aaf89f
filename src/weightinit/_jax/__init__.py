"""The engine inside XLA: Threefry, key derivation and the transforms in ``jax.numpy``.

A port of ``weightinit._engine`` (the numpy reference) to traceable JAX
operations, so that initializers run under ``jax.jit`` / ``jax.vmap`` on the
device that holds the output and give the engine's bits. Only
``weightinit.jax`` imports this package (it imports jax).
"""
