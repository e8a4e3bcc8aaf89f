"""The triangular products and inverse agree with the full numpy operations."""

from __future__ import annotations

import numpy as np
import pytest

from weightinit import _triangular as tri


def _triangles(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    full = rng.standard_normal((n, n))
    upper = np.triu(full) + n * np.eye(n)  # well conditioned, for the inverse
    return np.tril(full), upper


@pytest.mark.parametrize("n", [1, 5, 31, 32, 63, 64, 65, 127, 200, 384])
def test_products_equal_the_full_products(n):
    lower, upper = _triangles(n)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((n, 7))
    y = rng.standard_normal((9, n))
    out = np.empty((n, 7))
    tri.lower_times(lower, x, out)
    np.testing.assert_allclose(out, lower @ x, rtol=1e-13, atol=1e-13)
    tri.upper_times(upper, x, out)
    np.testing.assert_allclose(out, upper @ x, rtol=1e-13, atol=1e-12)
    out_right = np.empty((9, n))
    tri.times_upper(y, upper, out_right)
    np.testing.assert_allclose(out_right, y @ upper, rtol=1e-13, atol=1e-12)


def test_products_write_into_strided_views():
    lower, _ = _triangles(150)
    x = np.asfortranarray(np.random.default_rng(2).standard_normal((150, 40)))
    big = np.zeros((300, 80))
    view = big[::2, 1::2]  # strided destination
    tri.lower_times(lower, x, view)
    np.testing.assert_allclose(view, lower @ x, rtol=1e-13, atol=1e-13)
    assert not big[1::2].any()


@pytest.mark.parametrize("n", [1, 2, 31, 32, 64, 100, 384])
def test_inverse_of_an_upper_triangle(n):
    _, upper = _triangles(n, seed=3)
    inverse = tri.inv_upper(upper)
    assert (np.tril(inverse, -1) == 0).all()
    np.testing.assert_allclose(inverse @ upper, np.eye(n), atol=1e-13)
    np.testing.assert_allclose(inverse, np.linalg.inv(upper), rtol=1e-12, atol=1e-14)
