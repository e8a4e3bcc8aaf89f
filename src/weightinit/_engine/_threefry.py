"""Threefry-2x32 with 20 rounds, in numpy (the reference implementation).

Threefry (Salmon, Moraes, Dror and Shaw, "Parallel random numbers: as easy as
1, 2, 3", SC 2011) maps a 64-bit key and a 64-bit counter to 64 random bits
using only 32-bit additions, rotations and xors, so every implementation
(numpy, C, jax.numpy, torch) gives the same bits. It is the generator behind
``jax.random``; the tests check these bits against JAX's own threefry.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["ROTATIONS", "threefry2x32", "threefry2x32_scalar"]

U32 = np.uint32
MASK32 = 0xFFFFFFFF
KS_PARITY = 0x1BD11BDA
ROTATIONS = (13, 15, 26, 6, 17, 29, 16, 24)
ROUNDS = 20


def threefry2x32(
    key: tuple[int, int], x0: NDArray[np.uint32], x1: NDArray[np.uint32]
) -> tuple[NDArray[np.uint32], NDArray[np.uint32]]:
    """Encrypt the counters ``(x0[i], x1[i])`` under ``key``; returns two uint32 arrays.

    The input arrays are not modified.
    """
    k0, k1 = key[0] & MASK32, key[1] & MASK32
    ks = (U32(k0), U32(k1), U32(k0 ^ k1 ^ KS_PARITY))
    a = x0 + ks[0]
    b = x1 + ks[1]
    tmp = np.empty_like(b)
    for r in range(ROUNDS):
        rot = ROTATIONS[r % 8]
        a += b
        # b = rotl(b, rot) ^ a, computed in place with one temporary
        np.left_shift(b, U32(rot), out=tmp)
        b >>= U32(32 - rot)
        b |= tmp
        b ^= a
        if r % 4 == 3:
            s = (r + 1) // 4
            a += ks[s % 3]
            b += ks[(s + 1) % 3]
            b += U32(s)
    return a, b


def threefry2x32_scalar(key: tuple[int, int], ctr: tuple[int, int]) -> tuple[int, int]:
    """One Threefry block with Python ints (used for key derivation)."""
    k0, k1 = key[0] & MASK32, key[1] & MASK32
    ks = (k0, k1, k0 ^ k1 ^ KS_PARITY)
    a = (ctr[0] + ks[0]) & MASK32
    b = (ctr[1] + ks[1]) & MASK32
    for r in range(ROUNDS):
        rot = ROTATIONS[r % 8]
        a = (a + b) & MASK32
        b = (((b << rot) | (b >> (32 - rot))) & MASK32) ^ a
        if r % 4 == 3:
            s = (r + 1) // 4
            a = (a + ks[s % 3]) & MASK32
            b = (b + ks[(s + 1) % 3] + s) & MASK32
    return a, b
