"""The DRT's parts written once (:mod:`eisfit.kernels.drt_parts`): each against independent
truth (the geometry of a Nyquist line, the exponent of an exact CPE, Gaussian peaks of known
area and centre), run both as numpy and as the compiled engine compiles it, and called by
both engines."""

from __future__ import annotations

import numpy as np
import pytest

import eisfit
from eisfit.analysis import drt as numpy_drt
from eisfit.kernels import compiled, drt_parts

ENGINES = ["numpy", pytest.param("compiled", marks=pytest.mark.skipif(
    not compiled.available(), reason="the compiled engine needs the 'fast' extra (numba)"))]


def part(engine: str, name: str):
    """The function ``name`` of drt_parts as ``engine`` runs it."""
    if engine == "numpy":
        return getattr(drt_parts, name)
    from eisfit.kernels import _drt_kernels

    return getattr(_drt_kernels, "_" + name)


def nyquist_line(angle_deg: float, points: int, start: float = 0.0):
    """(re, im) (Ohm) of ``points`` points one Ohm apart on a straight Nyquist line rising at
    ``angle_deg`` degrees from (``start``, 0), ordered from its top (the lowest frequency)
    down."""
    t = np.arange(points, 0, -1, dtype=float)
    return start + t * np.cos(np.radians(angle_deg)), -t * np.sin(np.radians(angle_deg))


def spike_then_arc(spike_angle: float, n_spike: int = 6, n_rest: int = 6):
    """A spike of ``n_spike`` points at ``spike_angle`` degrees at the lowest frequencies, then
    segments at 30 degrees: the spike's run ends at the point ``n_spike - 1``."""
    re_s, im_s = nyquist_line(spike_angle, n_spike, start=50.0)
    # continue from the spike's last point along 30 degrees, -Z'' still falling
    step = np.arange(1, n_rest + 1, dtype=float) * 0.1
    re_r = re_s[-1] - step * np.cos(np.radians(30.0))
    im_r = im_s[-1] + step * np.sin(np.radians(30.0))
    f = np.logspace(-2, 3, n_spike + n_rest)
    return f, np.concatenate([re_s, re_r]), np.concatenate([im_s, im_r])


# --------------------------------------------------------------------------- spike start
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("spike_angle", [65.0, 75.0, 89.0])
def test_spike_start_ends_where_the_steep_line_ends(engine, spike_angle):
    f, re, im = spike_then_arc(spike_angle)
    start = part(engine, "spike_start")(f, re, im, 60.0)
    assert start == f[5]  # the first point above the run of steep segments
    # a threshold above the line's angle: no spike
    assert np.isnan(part(engine, "spike_start")(f, re, im, spike_angle + 1.0))


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("n", "spike"), [(0.6, False), (0.7, True), (0.95, True)])
def test_an_ideal_cpe_is_a_spike_when_steeper_than_the_angle(engine, n, spike):
    # Z = (jω)^-n / Q lies on a line at 90·n degrees: a spike over the whole range when
    # 90·n > 60, none otherwise
    f = np.logspace(-1, 3, 30)
    z = 5.0 + 1e3 * (2j * np.pi * f) ** -n
    start = part(engine, "spike_start")(f, z.real, z.imag, 60.0)
    if spike:
        assert start == f[-1]
    else:
        assert np.isnan(start)


@pytest.mark.parametrize("engine", ENGINES)
def test_no_spike_with_too_few_points_or_a_positive_imaginary_part(engine):
    f, re, im = spike_then_arc(80.0)
    fn = part(engine, "spike_start")
    assert np.isnan(fn(f[:3], re[:3], im[:3], 60.0))
    assert np.isnan(fn(f, re, -im, 60.0))  # inductive at the lowest frequency


# --------------------------------------------------------------------------- tail exponent
def cpe_tail(n: float, f: np.ndarray, r: float = 30.0, q: float = 2e-6) -> np.ndarray:
    """R + (jω)^-n / Q (Ohm): an exact CPE spike of exponent ``n``."""
    return r + (2j * np.pi * f) ** -n / q


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("n_true", [0.3137, 0.55, 0.8137, 0.9991])
def test_tail_exponent_of_an_exact_cpe(engine, n_true):
    f = np.logspace(-2, 1, 25)
    z = cpe_tail(n_true, f)
    n = part(engine, "tail_exponent")(f, z.real, z.imag, np.nan, drt_parts.TAIL_N_GRID,
                                      drt_parts.TAIL_N_FINE)
    # the three lowest points alone determine n; the fine grid's step is 0.0005
    assert abs(n - n_true) <= 0.00025 + 1e-12
    n_all = part(engine, "tail_exponent")(f, z.real, z.imag, 20.0, drt_parts.TAIL_N_GRID,
                                          drt_parts.TAIL_N_FINE)
    assert abs(n_all - n_true) <= 0.00025 + 1e-12


def test_tail_exponent_reads_only_the_points_below():
    # an exact CPE of n = 0.9 below 1 Hz, another exponent above: only the spike counts
    f = np.logspace(-2, 2, 40)
    z = np.where(f <= 1.0, cpe_tail(0.9, f), cpe_tail(0.5, f))
    n = drt_parts.tail_exponent(f[::-1], z.real[::-1], z.imag[::-1], 1.0,
                                drt_parts.TAIL_N_GRID, drt_parts.TAIL_N_FINE)
    assert n == pytest.approx(0.9, abs=1e-9)


def test_tail_costs_are_the_least_squares_residual():
    f = np.logspace(-2, 1, 12)
    rng = np.random.default_rng(3)
    z = cpe_tail(0.8, f) * (1 + 0.01 * rng.standard_normal(f.size))
    log_w = np.log(2 * np.pi * f)
    n = np.array([0.0, 0.5, 0.8, 1.0])
    costs = drt_parts.tail_costs(n, log_w, z.real, z.imag)
    for k, nk in enumerate(n):
        # independent: numpy's least squares on the stacked, 1/|Z|-weighted columns
        cols = np.stack([np.ones(f.size) + 0j, (2j * np.pi * f) ** -nk], axis=1)
        cols = cols / np.abs(z)[:, None]
        a = np.vstack([cols.real, cols.imag])
        b = np.concatenate([z.real, z.imag]) / np.concatenate([np.abs(z), np.abs(z)])
        if nk == 0.0:
            a = a[:, :1]  # the CPE column is R's: the constant alone
        x = np.linalg.lstsq(a, b, rcond=None)[0]
        assert costs[k] == pytest.approx(np.sum((a @ x - b) ** 2), rel=1e-8, abs=1e-14)
    assert np.argmin(costs) == 2


# --------------------------------------------------------------------------- peaks
def gaussian_gamma(tau: np.ndarray, parts: list[tuple[float, float, float]]) -> np.ndarray:
    """γ (Ohm per unit of ln τ) of Gaussians in ln τ, each (resistance Ohm, τ s, width in ln τ):
    each integrates to its resistance."""
    lt = np.log(tau)[:, None]
    r, t, w = (np.array(v, float) for v in zip(*parts, strict=True))
    return np.sum(r / (w * np.sqrt(2 * np.pi)) * np.exp(-0.5 * ((lt - np.log(t)) / w) ** 2),
                  axis=1)


@pytest.mark.parametrize("engine", ENGINES)
def test_peaks_of_separate_gaussians_give_their_resistances_and_time_constants(engine):
    tau = np.logspace(-8, 2, 101)
    dln = float(np.log(tau[1] / tau[0]))
    truth = [(1000.0, 1e-6, 0.7), (2500.0, 1e-3, 0.9), (400.0, 1e-0, 0.6)]
    gamma = gaussian_gamma(tau, truth)
    idx, bounds, r, t = part(engine, "peaks")(tau, gamma, dln, 0.1, 0.05)
    assert idx.tolist() == [int(np.argmin(np.abs(tau - tk))) for _, tk, _ in truth]
    assert np.all(bounds[:, 0] <= idx) and np.all(idx <= bounds[:, 1])
    # all but the tails below 1 % of the apex (0.3 % of a Gaussian's area)
    np.testing.assert_allclose(r, [rk for rk, _, _ in truth], rtol=0.005)
    np.testing.assert_allclose(np.log(t), [np.log(tk) for _, tk, _ in truth], atol=0.05 * dln)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_peak_below_the_fraction_of_the_area_is_dropped(engine):
    tau = np.logspace(-8, 2, 101)
    dln = float(np.log(tau[1] / tau[0]))
    # 300 Ohm of 3300: 9 %, kept with 5 %, dropped with 10 %
    gamma = gaussian_gamma(tau, [(3000.0, 1e-5, 0.8), (300.0, 1e-1, 0.3)])
    assert part(engine, "peaks")(tau, gamma, dln, 0.1, 0.05)[0].size == 2
    idx, bounds, r, _ = part(engine, "peaks")(tau, gamma, dln, 0.1, 0.10)
    assert idx.size == 1 and r[0] == pytest.approx(3000.0, rel=0.005)
    # nothing positive: no peaks
    assert part(engine, "peaks")(tau, np.zeros(tau.size), dln, 0.1, 0.05)[0].size == 0


# --------------------------------------------------------------------------- one definition
@pytest.mark.skipif(not compiled.available(), reason="numba is not installed")
def test_the_compiled_seed_compiles_these_functions():
    from eisfit.kernels import _drt_kernels

    for name in ("spike_start", "tail_exponent", "grid_size", "peaks"):
        assert getattr(_drt_kernels, "_" + name).py_func is getattr(drt_parts, name)
    assert "drt_parts" in compiled.COMPILED_FROM["_drt_kernels"]


def test_the_numpy_drt_calls_these_functions(monkeypatch):
    calls: list[str] = []
    for name in ("spike_start", "tail_exponent", "peaks"):
        fn = getattr(drt_parts, name)

        def recorded(*args, _fn=fn, _name=name):
            calls.append(_name)
            return _fn(*args)

        monkeypatch.setattr(drt_parts, name, recorded)
    f = np.logspace(5, -2, 50)
    z = eisfit.Circuit("R0-p(R1,C1)-CPE1").impedance(f, [20, 1e3, 1e-8, 1e-5, 0.85])
    res = numpy_drt.drt(eisfit.Spectrum(f, z), lam=1e-3)
    assert res.tail == "cpe" and {"spike_start", "tail_exponent", "peaks"} <= set(calls)


@pytest.mark.skipif(not compiled.available(), reason="numba is not installed")
def test_both_engines_give_the_same_spike_and_exponent():
    from eisfit.model.synthetic import blocking_cell

    rng = np.random.default_rng(11)
    for _ in range(10):
        s = blocking_cell(rng).spectrum
        order = np.argsort(s.frequency, kind="stable")
        f = np.ascontiguousarray(s.frequency[order])
        re, im = np.ascontiguousarray(s.z.real[order]), np.ascontiguousarray(s.z.imag[order])
        start = part("compiled", "spike_start")(f, re, im, drt_parts.SPIKE_ANGLE)
        ref = numpy_drt.spike_start(s.frequency, s.z)
        assert (ref is None and np.isnan(start)) or start == ref
        n = part("compiled", "tail_exponent")(f, re, im, start, drt_parts.TAIL_N_GRID,
                                              drt_parts.TAIL_N_FINE)
        assert n == pytest.approx(numpy_drt.tail_exponent(s.frequency, s.z), abs=1e-12)
        res = numpy_drt.drt(s, lam=1e-3)
        found = part("compiled", "peaks")(res.tau, res.gamma, res.dlntau, 0.1, 0.05)
        np.testing.assert_allclose(found[2], [p.resistance for p in res.peaks], rtol=1e-12)
        np.testing.assert_allclose(found[3], [p.tau for p in res.peaks], rtol=1e-12)
