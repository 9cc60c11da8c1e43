"""The numpy non-negative least squares (:mod:`eisfit.kernels.nnls`) against known answers and
against :func:`scipy.optimize.nnls` as an oracle, on random and DRT-like systems."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import nnls as scipy_nnls

from eisfit.kernels import compiled
from eisfit.kernels.nnls import nnls, unique_nnls


def _drt_system(n_points: int, per_decade: int, lam: float, seed: int) -> tuple:
    """The stacked real/imaginary DRT least squares of a noisy two-arc spectrum.

    Columns: R_inf, then γ on a τ grid a decade beyond the measured range, each scaled by
    Δlnτ; rows: Z'/|Z| and Z''/|Z|, then √λ times the second differences of γ.
    """
    rng = np.random.default_rng(seed)
    f = np.logspace(6, -1, n_points)
    w = 2 * np.pi * f
    z = 20 + 1e3 / (1 + (1j * w * 1e-5) ** 0.85) + 4e3 / (1 + (1j * w * 1e-2) ** 0.7)
    z = z * (1 + 0.005 * rng.normal(size=f.size)) + 0.005j * np.abs(z) * rng.normal(size=f.size)
    tau = np.logspace(-7, 2, 9 * per_decade + 1)
    dln = np.log(tau[1] / tau[0])
    kern = dln / (1 + 1j * np.outer(w, tau)) * (1e3 / np.abs(z))[:, None]
    cols = np.column_stack([1 / np.abs(z), kern])
    a = np.vstack([cols.real, cols.imag])
    d2 = np.diff(np.eye(tau.size), 2, axis=0)
    pen = np.hstack([np.zeros((d2.shape[0], 1)), np.sqrt(lam) * d2])
    b = np.concatenate([z.real / np.abs(z), z.imag / np.abs(z)])
    return np.vstack([a, pen]), np.concatenate([b, np.zeros(d2.shape[0])])


def _agree(a: np.ndarray, b: np.ndarray) -> None:
    """The same solution as scipy's to rounding: a relative difference of at most 1e-14 times
    the condition number of ``a`` (worst seen: about 1e-15 times it)."""
    x_tol = max(1e-13, 1e-14 * np.linalg.cond(a))
    x, rnorm = nnls(a, b, maxiter=50 * a.shape[1])
    x_ref, rnorm_ref = scipy_nnls(a, b, maxiter=50 * a.shape[1])
    assert np.all(x >= 0)
    assert np.array_equal(x > 0, x_ref > 0)  # the same active set
    assert np.abs(x - x_ref).max() <= x_tol * np.abs(x_ref).max()
    assert rnorm == pytest.approx(rnorm_ref, rel=1e-10, abs=1e-12 * np.linalg.norm(b))
    assert rnorm == pytest.approx(np.linalg.norm(a @ x - b), rel=1e-12)


def test_known_answers():
    # b in the cone of the columns: the exact, positive solution and no residual
    a = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 2.0]])
    x, rnorm = nnls(a, a @ np.array([2.0, 3.0]))
    assert x == pytest.approx([2.0, 3.0], rel=1e-13) and rnorm == pytest.approx(0, abs=1e-13)
    # the unconstrained least squares is negative in x1: x1 = 0, x0 = mean of rows 0-1 of b
    x, rnorm = nnls(np.array([[1.0, 0], [1, 0], [0, 1]]), np.array([2.0, 1, -1]))
    assert x.tolist() == pytest.approx([1.5, 0.0]) and rnorm == pytest.approx(np.sqrt(1.5))
    # every column points away from b: x = 0 and the residual is |b|
    x, rnorm = nnls(-np.eye(3), np.ones(3))
    assert x.tolist() == [0.0, 0.0, 0.0] and rnorm == pytest.approx(np.sqrt(3))


@pytest.mark.parametrize("seed", range(40))
def test_random_systems_match_scipy(seed):
    rng = np.random.default_rng(seed)
    m, n = int(rng.integers(5, 120)), int(rng.integers(1, 60))
    m = max(m, n)  # the solution is unique where the columns are independent
    a = rng.normal(size=(m, n))
    if seed % 2:  # columns over eight decades of size
        a *= 10.0 ** rng.uniform(-4, 4, n)
    _agree(a, rng.normal(size=m))


@pytest.mark.parametrize("lam", [1e-1, 1e-3, 1e-6, 1e-9])
@pytest.mark.parametrize("per_decade", [5, 10, 20])
def test_drt_systems_match_scipy(lam, per_decade):
    a, b = _drt_system(61, per_decade, lam, seed=per_decade)
    assert np.linalg.cond(a) > (1e6 if lam < 1e-6 else 1e3)  # ill-conditioned at small λ
    _agree(a, b)


def test_more_points_than_columns_reduce_to_the_same_solution():
    # 4001 points: the rows are reduced to a triangle first; the solution is unchanged
    a, b = _drt_system(4001, 10, 1e-3, seed=3)
    _agree(a, b)


def test_dependent_columns_reach_the_optimum():
    # a bank of CPE-like columns, one an exact copy and two nearly combinations of others (as
    # the DRT's tail bank): the solution is not unique, but the optimum is: scipy's residual,
    # and the optimality conditions (no zero variable whose gradient would lower the residual)
    rng = np.random.default_rng(7)
    w = np.logspace(-1, 5, 80)
    cols = [w ** (-n) for n in (0.5, 0.6, 0.7, 0.8, 0.9, 1.0)]
    cols += [cols[2], 0.5 * cols[0] + 0.5 * cols[1] + 1e-9 * rng.normal(size=w.size)]
    a = np.column_stack([np.ones_like(w), *cols]) / w[:, None] ** 0.1
    b = a @ np.abs(rng.normal(size=a.shape[1])) + 0.01 * rng.normal(size=w.size)
    x, rnorm = nnls(a, b, maxiter=50 * a.shape[1])
    rnorm_ref = scipy_nnls(a, b, maxiter=50 * a.shape[1])[1]
    assert rnorm == pytest.approx(rnorm_ref, rel=1e-9)
    grad = a.T @ (b - a @ x)
    scale = np.abs(a).max() * np.linalg.norm(b)
    assert np.all(grad[x == 0] <= 1e-12 * scale)
    assert np.all(np.abs(grad[x > 0]) <= 1e-9 * scale)


def test_degenerate_systems():
    # zero right-hand side: x = 0; a zero column never enters; no columns at all
    x, rnorm = nnls(np.eye(3), np.zeros(3))
    assert x.tolist() == [0.0, 0.0, 0.0] and rnorm == 0.0
    x, rnorm = nnls(np.array([[1.0, 0.0], [1.0, 0.0]]), np.array([1.0, 3.0]))
    assert x.tolist() == pytest.approx([2.0, 0.0]) and rnorm == pytest.approx(np.sqrt(2))
    x, rnorm = nnls(np.zeros((2, 0)), np.array([3.0, 4.0]))
    assert x.size == 0 and rnorm == pytest.approx(5.0)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="shapes"):
        nnls(np.ones((3, 2)), np.ones(4))
    with pytest.raises(ValueError, match="finite"):
        nnls(np.array([[1.0, np.nan]]), np.ones(1))


def _unique_agrees(a: np.ndarray, b: np.ndarray) -> None:
    """:func:`unique_nnls` with the numpy engine (block principal pivoting, the active-set loop
    where that does not settle) gives scipy's solution to rounding, as :func:`_agree` asks."""
    with compiled.use(False):
        x = unique_nnls(a, b)
    x_ref = scipy_nnls(a, b, maxiter=50 * a.shape[1])[0]
    assert np.all(x >= 0)
    assert np.array_equal(x > 0, x_ref > 0)
    x_tol = max(1e-13, 1e-14 * np.linalg.cond(a))
    assert np.abs(x - x_ref).max() <= x_tol * np.abs(x_ref).max()


@pytest.mark.parametrize("seed", range(20))
def test_unique_solutions_match_scipy(seed):
    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(1, 60))
    m = int(rng.integers(n, 150))
    a = rng.normal(size=(m, n)) * 10.0 ** rng.uniform(-3, 3, n)
    _unique_agrees(a, rng.normal(size=m))


@pytest.mark.parametrize("lam", [1e-1, 1e-3, 1e-6, 1e-9])
@pytest.mark.parametrize("per_decade", [5, 10, 20])
def test_unique_drt_solutions_match_scipy(lam, per_decade):
    # at λ = 1e-9 block pivoting cycles in rounding and the active-set loop answers
    _unique_agrees(*_drt_system(61, per_decade, lam, seed=per_decade))


def test_unique_solver_settles_dependent_columns_through_the_active_set_loop():
    # an exact copy of a column: the least squares on both is not unique; the answer is the
    # active-set loop's, an optimum with scipy's residual
    rng = np.random.default_rng(5)
    a = rng.normal(size=(40, 6))
    a = np.column_stack([a, a[:, 2]])
    b = a @ np.abs(rng.normal(size=7)) + 0.1 * rng.normal(size=40)
    with compiled.use(False):
        x = unique_nnls(a, b)
    assert np.all(x >= 0)
    assert np.linalg.norm(a @ x - b) == pytest.approx(scipy_nnls(a, b)[1], rel=1e-10)
