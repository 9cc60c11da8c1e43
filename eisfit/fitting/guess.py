"""Starting values from the spectrum itself: no user guesses needed.

The spectrum is decomposed into a high-frequency intercept, a distribution of relaxation times
(non-negative least squares on a grid of Voigt elements, lightly smoothed) and a low-frequency
constant-phase tail whose exponent is read off the slope of the last points. Peaks of the
distribution give each arc a resistance and a characteristic time; the circuit's structure says
which parameters those numbers start. Several assignments of peaks to arcs are proposed, and the
fit keeps the one that ends best.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from eisfit.blas import single_threaded_blas
from eisfit.fitting.user_elements import start_from_data
from eisfit.kernels import compiled
from eisfit.kernels.nnls import unique_nnls
from eisfit.model.circuit import ArcTerm, Circuit, ElementNode, Structure

#: Exponent given to arcs' CPEs at the start.
START_N = 0.9
#: Regularisation of the DRT that seeds starting values. Starting values need peak positions,
#: not the best-smoothed distribution: a fixed λ near the middle of what generalised
#: cross-validation picks on blocking-cell spectra (1e-3 to 1e-1) seeds as well at half the cost.
SEED_LAMBDA = 0.03
#: τ grid points per decade of that DRT (:func:`eisfit.analysis.drt.drt`'s default): a coarser
#: grid
#: is cheaper but merges a small arc partly above the window into its neighbour.
SEED_PER_DECADE = 10
#: How starting values are seeded: ``"auto"`` (the regularised DRT of
#: :mod:`eisfit.analysis.drt`
#: for circuits with a blocking spike, whose noise it keeps out of the arcs; the light NNLS of
#: :func:`decompose` otherwise, which seeds overlapping full-cell arcs better), ``"drt"`` or
#: ``"light"`` (bench/bench_seeding.py measures the three).
SEEDING = "auto"


@dataclass(frozen=True)
class Peak:
    """A peak of the relaxation-time distribution: resistance (Ohm) and time constant (s)."""

    resistance: float
    tau: float

    @property
    def apex_hz(self) -> float:
        """Apex frequency 1/(2πτ) in Hz."""
        return 1.0 / (2 * np.pi * self.tau)


@dataclass
class Decomposition:
    """The spectrum seen as intercept + relaxations + capacitive tail."""

    r_inf: float
    tau: np.ndarray
    gamma: np.ndarray
    peaks: list[Peak]
    tail_n: float | None
    tail_q: float | None
    f_min: float
    f_max: float
    z_max: float
    r_low: float


def tail_slope_exponent(frequency: np.ndarray, z: np.ndarray, n_points: int = 4) -> float | None:
    """CPE exponent of the low-frequency tail from its slope, or None when the tail is not
    capacitive: a quick estimate for starting values (the DRT's spike exponent, fitted with the
    spike's CPE term, is :func:`eisfit.analysis.drt.tail_exponent`).

    The slope of log(−Z'') against log ω over the ``n_points`` lowest frequencies is −n for a
    constant-phase element.
    """
    order = np.argsort(frequency)[:n_points]
    im = -z.imag[order]
    if np.any(im <= 0):
        return None
    slope = np.polyfit(np.log(frequency[order]), np.log(im), 1)[0]
    n = -slope
    phase = np.degrees(np.arctan2(im, z.real[order]))
    # a capacitive tail rises steeply (n above 0.3) with a phase well above 20 degrees
    if n < 0.3 or np.median(phase) < 20:
        return None
    return float(min(n, 1.0))


def decompose(
    frequency: np.ndarray,
    z: np.ndarray,
    *,
    tail: bool = True,
    per_decade: int = 8,
    smoothing: float = 1e-5,
) -> Decomposition:
    """Split a spectrum into intercept, relaxation-time distribution and capacitive tail.

    Parameters
    ----------
    frequency
        Hz.
    z
        Ohm, Im < 0 capacitive.
    tail
        Look for a capacitive low-frequency tail (blocking electrode or diffusion).
    per_decade
        Grid points per decade of τ.
    smoothing
        Weight of the second-difference penalty, relative to the data norm.
    """
    f = np.asarray(frequency, float)
    w = 2 * np.pi * f
    wt = 1.0 / np.abs(z)
    n_tail = tail_slope_exponent(f, z) if tail else None
    lo = np.log10(1 / (2 * np.pi * f.max())) - 1.0
    hi = np.log10(1 / (2 * np.pi * f.min())) + (0.0 if n_tail else 1.0)
    tau = np.logspace(lo, hi, int((hi - lo) * per_decade) + 1)
    nt = tau.size
    cols = [np.ones(f.size, dtype=complex), *(1.0 / (1.0 + 1j * np.outer(w, tau))).T]
    # a bank of constant-phase tails around the measured exponent: their non-negative sum
    # follows a tail whose exponent the last points give only roughly, which a single tail
    # column would leave to giant, spurious slow relaxations
    bank = []
    if n_tail:
        steps = np.arange(-0.15, 0.151, 0.05)
        bank = sorted({round(min(max(n_tail + d, 0.3), 1.0), 3) for d in steps})
        cols.extend((1j * w) ** (-n) for n in bank)
    a = np.array(cols).T * wt[:, None]
    m = np.vstack([a.real, a.imag])
    b = np.concatenate([z.real * wt, z.imag * wt])
    scale = np.linalg.norm(m, axis=0)
    scale[scale == 0] = 1.0
    reg = np.zeros((nt - 2, m.shape[1]))
    idx = np.arange(nt - 2)
    reg[idx, 1 + idx] = 1.0
    reg[idx, 2 + idx] = -2.0
    reg[idx, 3 + idx] = 1.0
    reg *= np.sqrt(smoothing) * np.linalg.norm(b)
    lhs, rhs = np.vstack([m / scale, reg]), np.concatenate([b, np.zeros(nt - 2)])
    x = unique_nnls(lhs, rhs)  # the penalty gives full rank
    x = x / scale
    gamma = x[1 : 1 + nt]
    tail_q = None
    if bank:
        coef = x[1 + nt :]
        if coef.sum() > 0:
            # the dominant tail term gives the starting exponent and Q
            k = int(np.argmax(coef))
            n_tail = bank[k]
            tail_q = 1.0 / coef.sum()
    window = (tau >= 1 / (2 * np.pi * f.max()) / 10) & (tau <= 1 / (2 * np.pi * f.min()))
    peaks = find_peaks(tau, np.where(window, gamma, 0.0))
    # no arc can be wider than the real-part span of the whole spectrum
    span = float(z.real.max() - z.real.min())
    peaks = [pk for pk in peaks if pk.resistance <= 1.5 * span] or peaks
    return _decomposition(f, z, float(x[0]), tau, gamma, peaks, n_tail, tail_q)


def _decomposition(
    f: np.ndarray,
    z: np.ndarray,
    r_inf: float,
    tau: np.ndarray,
    gamma: np.ndarray,
    peaks: list[Peak],
    tail_n: float | None,
    tail_q: float | None,
) -> Decomposition:
    """A :class:`Decomposition` with the window and scale read off the data."""
    return Decomposition(
        r_inf=r_inf,
        tau=tau,
        gamma=gamma,
        peaks=peaks,
        tail_n=tail_n,
        tail_q=tail_q,
        f_min=float(f.min()),
        f_max=float(f.max()),
        z_max=float(np.abs(z).max()),
        r_low=float(z.real[np.argmin(f)]),
    )


def decompose_drt(frequency: np.ndarray, z: np.ndarray) -> Decomposition:
    """Like :func:`decompose`, from the regularised DRT of :func:`eisfit.analysis.drt.drt`.

    Its handling of a blocking-electrode spike finds small arcs next to a large spike, and an
    arc partly above the window, that the lighter decomposition misses. The DRT is taken at
    :data:`SEED_LAMBDA` on a grid of :data:`SEED_PER_DECADE` points a decade; with the compiled
    engine the whole of it is one compiled call (:func:`eisfit.kernels.compiled.drt_seed`).
    """
    f = np.asarray(frequency, float)
    z = np.asarray(z, complex)
    seed = None
    if compiled.enabled() and f.size >= 5 and np.all(np.abs(z) > 0):
        seed = compiled.drt_seed(f, z, SEED_LAMBDA, SEED_PER_DECADE, min_peak_fraction=0.02)
    if seed is not None:
        r_inf, tau, gamma, tail_n, tail_c, found = seed
        peaks = [Peak(r, t) for r, t in found]
        coef = np.array([] if tail_c is None else [tail_c])
        exponents = np.array([] if tail_n is None else [tail_n])
    else:
        from eisfit.analysis.drt import drt
        from eisfit.io.spectrum import Spectrum

        with single_threaded_blas():
            d = drt(
                Spectrum(f, z, min_points=1),
                lam=SEED_LAMBDA,
                min_peak_fraction=0.02,
                per_decade=SEED_PER_DECADE,
            )
        r_inf, tau, gamma = float(d.r_inf), np.asarray(d.tau), np.asarray(d.gamma)
        peaks = [Peak(float(p.resistance), float(p.tau)) for p in d.peaks]
        coef = np.asarray(d.tail_coefficients, float)
        exponents = np.asarray(d.tail_exponents, float)
    peaks.sort(key=lambda pk: -pk.resistance)
    tail_n = tail_q = None
    if coef.size and coef.sum() > 0:
        k = int(np.argmax(coef))
        tail_n = float(exponents[k])
        tail_q = float(1.0 / coef.sum())
    return _decomposition(f, z, r_inf, tau, gamma, peaks, tail_n, tail_q)


_DRT_CACHE: dict[bytes, Decomposition] = {}


def _cached_drt(frequency: np.ndarray, z: np.ndarray) -> Decomposition:
    """:func:`decompose_drt`, remembered for the last few spectra.

    A fit may seed two circuits from one spectrum (the full circuit, then the variant without
    an arc above the window); the decomposition depends on the spectrum only.
    """
    f = np.ascontiguousarray(frequency, float)
    zz = np.ascontiguousarray(z, complex)
    key = f.tobytes() + zz.tobytes()
    d = _DRT_CACHE.get(key)
    if d is None:
        d = decompose_drt(f, zz)
        if len(_DRT_CACHE) >= 16:
            _DRT_CACHE.pop(next(iter(_DRT_CACHE)))
        _DRT_CACHE[key] = d
    return d


def find_peaks(tau: np.ndarray, gamma: np.ndarray, min_fraction: float = 0.02) -> list[Peak]:
    """Peaks of a distribution on a τ grid, each with its integrated resistance.

    A peak spans from the minimum on its left to the minimum on its right; peaks holding less
    than ``min_fraction`` of the total are dropped. Returned largest first.
    """
    g = np.asarray(gamma, float)
    total = g.sum()
    if total <= 0:
        return []
    peaks = []
    n = g.size
    i = 0
    while i < n:
        if g[i] <= 0:
            i += 1
            continue
        # climb to the local maximum, then descend to the next local minimum
        j = i
        while j + 1 < n and g[j + 1] >= g[j]:
            j += 1
        k = j
        while k + 1 < n and 0 < g[k + 1] <= g[k]:
            k += 1
        seg = slice(i, k + 1)
        r = float(g[seg].sum())
        if r >= min_fraction * total:
            lt = np.log(tau[seg])
            peaks.append(Peak(r, float(np.exp(np.sum(lt * g[seg]) / r))))
        i = k + 1
    peaks.sort(key=lambda p: -p.resistance)
    return peaks


# --------------------------------------------------------------------------- structure
def structure(circuit: Circuit) -> Structure:
    """Classify the top-level series parts of ``circuit``: its :attr:`~Circuit.structure`
    (computed once per Circuit; the Structure returned is shared and cannot be changed)."""
    return circuit.structure


# --------------------------------------------------------------------------- candidates
#: A diffusion element's start: the element, its resistance (Ohm) and its time (s).
_DiffusionStart = tuple[ElementNode, float, float]


def _set_arc(p: np.ndarray, arc: ArcTerm, r: float, tau: float, n: float = START_N) -> None:
    r = max(r, 1e-6)
    tau = max(tau, 1e-15)
    if arc.kind == "rq":
        p[arc.indices[0]] = r
        p[arc.indices[1]] = tau**n / r
        p[arc.indices[2]] = n
    elif arc.kind == "rc":
        p[arc.indices[0]] = r
        p[arc.indices[1]] = tau / r
    elif arc.kind == "k":
        p[arc.indices[0]] = r
        p[arc.indices[1]] = tau
    elif arc.kind == "tlm":
        p[arc.indices[0]] = r
        p[arc.indices[1]] = r
        p[arc.indices[2]] = tau**n / r
        p[arc.indices[3]] = n
    else:  # zarc
        p[arc.indices[0]] = r
        p[arc.indices[1]] = tau
        p[arc.indices[2]] = n


def _base(circuit: Circuit, d: Decomposition, st: Structure) -> np.ndarray:
    """Every parameter set to something of the right scale; arcs are set later."""
    p = np.empty(circuit.n_params)
    tau_mid = np.sqrt(1 / (2 * np.pi * d.f_min) * 1 / (2 * np.pi * d.f_max))
    r_scale = max(d.z_max * 0.1, 1e-3)
    for e in circuit.elements:
        sym = e.element.name
        for k, (idx, kind) in enumerate(zip(e.indices, e.element.kinds, strict=True)):
            user = start_from_data(sym, k, r_scale, tau_mid)
            if user is not None:  # a user element: by its units, else its bounds
                p[idx] = user
            elif kind == "exponent":
                p[idx] = START_N
            elif e.element.units[k] == "Ohm":  # R, and the resistances of other elements
                p[idx] = r_scale
            elif sym == "C":
                p[idx] = tau_mid / r_scale
            elif e.element.units[k] == "S s^n":  # CPE, and the interfaces of TLMQ, TLMr
                p[idx] = tau_mid**START_N / r_scale
            elif sym in ("L", "La"):
                p[idx] = 1e-7
            elif sym == "W":
                p[idx] = r_scale * np.sqrt(2 * np.pi * d.f_min)
            elif e.element.units[k] == "":  # Gs's φ, T's a: dimensionless, positive
                p[idx] = 1.0
            else:  # time constants
                p[idx] = tau_mid
    n_series = max(len(st.series_r), 1)
    for idx in st.series_r:
        p[idx] = max(d.r_inf / n_series, 1e-3 * max(d.z_max, 1e-9), 1e-6)
    for e in st.tails:
        if e.element.name == "CPE":
            n = d.tail_n or 0.8
            q = d.tail_q
            if q is None:
                # a tail only starting at the window's end: |Z_cpe| about |Z| there
                q = 1.0 / (d.z_max * (2 * np.pi * d.f_min) ** n)
            p[e.start] = q
            p[e.start + 1] = n
        else:
            p[e.start] = (
                d.tail_q
                if d.tail_q and d.tail_n and d.tail_n > 0.9
                else 1.0 / (d.z_max * 2 * np.pi * d.f_min)
            )
    return p


def candidates(
    circuit: Circuit,
    frequency: np.ndarray,
    z: np.ndarray,
    *,
    max_candidates: int = 8,
    decomposition: Decomposition | None = None,
) -> list[np.ndarray]:
    """Starting parameter vectors (impedance.py order), the most plausible first.

    Arcs are assumed to appear in the circuit string from high to low frequency (the usual way
    circuits are written: bulk before grain boundary before electrode).
    """
    st = structure(circuit)
    d = _seed(st, frequency, z, decomposition)
    base = _base(circuit, d, st)
    tau_hi = 1 / (2 * np.pi * d.f_max)
    tau_lo = 1 / (2 * np.pi * d.f_min)
    diffusion_options = _diffusion_options(st, d, tau_lo)
    vectors = [
        _start(base, st, assign, dif, tau_hi)
        for assign in _assignments(len(st.arcs), d, tau_hi, tau_lo)
        for dif in diffusion_options
    ]
    return _distinct(vectors, max_candidates)


def _seed(
    st: Structure, frequency: np.ndarray, z: np.ndarray, decomposition: Decomposition | None
) -> Decomposition:
    """The decomposition that seeds the starts: the one given, else as :data:`SEEDING` says."""
    if decomposition is not None:
        return decomposition
    if len(frequency) >= 8 and (SEEDING == "drt" or (SEEDING == "auto" and st.tails)):
        return _cached_drt(frequency, z)
    return decompose(frequency, z, tail=bool(st.tails or st.diffusion))


def _diffusion_options(
    st: Structure, d: Decomposition, tau_lo: float
) -> list[list[_DiffusionStart]]:
    """Starts of the diffusion elements (element, resistance, time): on the window's slow side."""
    diffusion_options: list[list[_DiffusionStart]] = [[]]
    if st.diffusion:
        slow = [pk for pk in d.peaks if pk.tau > tau_lo / 30]
        r_w = sum(pk.resistance for pk in slow) if slow else 0.1 * d.z_max
        diffusion_options = [
            [(e, max(r_w, 1e-3), tau_lo * m) for e in st.diffusion] for m in (0.3, 3.0)
        ]
    return diffusion_options


def _assignments(n_arcs: int, d: Decomposition, tau_hi: float, tau_lo: float) -> list[list[Peak]]:
    """The peaks proposed for the arcs (fastest first), the most plausible assignment first."""
    pool = sorted(d.peaks[: max(n_arcs + 2, 4)], key=lambda pk: pk.tau)
    real: list[list[Peak]] = []
    hidden: list[list[Peak]] = []
    tail: list[list[Peak]] = []
    if n_arcs:
        if len(pool) >= n_arcs:
            real = [list(c) for c in itertools.combinations(pool, n_arcs)]
            # most resistance captured first
            real.sort(key=lambda c: -sum(pk.resistance for pk in c))
        if n_arcs >= 2 and pool:
            hidden = _hidden_assignments(n_arcs, d, tau_hi)
        # too few peaks: split the largest peaks into neighbours
        if len(pool) < n_arcs:
            picked = list(pool)
            while len(picked) < n_arcs:
                picked = _split_largest(picked, tau_hi, tau_lo, d)
            real.insert(0, sorted(picked, key=lambda pk: pk.tau))
        # evenly spread arcs across the window as a last resort
        spread = np.logspace(np.log10(tau_hi), np.log10(tau_lo), n_arcs + 2)[1:-1]
        r_each = max(d.r_low - d.r_inf, d.z_max * 0.1) / n_arcs
        tail.append([Peak(r_each, t) for t in spread])
    assignments: list[list[Peak]] = []
    for i in range(max(len(real), len(hidden))):
        assignments.extend(x[i] for x in (real, hidden) if i < len(x))
    assignments.extend(tail)
    if not assignments:
        assignments.append([])
    return assignments


def _hidden_assignments(n_arcs: int, d: Decomposition, tau_hi: float) -> list[list[Peak]]:
    """The fastest arc above the window, hidden in the intercept, the rest from the largest
    peaks: partly visible (most of the intercept, just above) or wholly hidden."""
    hidden: list[list[Peak]] = []
    biggest = sorted(d.peaks, key=lambda pk: -pk.resistance)[: n_arcs - 1]
    r_inf = max(d.r_inf, 1e-3 * d.z_max)
    for frac, factor in ((0.9, 1 / 5), (0.5, 1 / 30)):
        arcs = [Peak(frac * r_inf, tau_hi * factor), *biggest]
        while len(arcs) < n_arcs:
            arcs.append(_split_last(arcs))
        hidden.append(sorted(arcs, key=lambda pk: pk.tau)[:n_arcs])
    return hidden


def _start(
    base: np.ndarray,
    st: Structure,
    assign: list[Peak],
    dif: list[_DiffusionStart],
    tau_hi: float,
) -> np.ndarray:
    """One starting vector: ``base`` with the arcs set from ``assign``, the diffusion from ``dif``
    and the series resistance less what arcs above the window take of the intercept."""
    p = base.copy()
    r_hidden = 0.0
    for arc, pk in zip(st.arcs, assign, strict=False):
        _set_arc(p, arc, pk.resistance, pk.tau)
        if pk.tau < tau_hi / 3:
            r_hidden += pk.resistance
    if r_hidden and st.series_r:
        for idx in st.series_r:
            p[idx] = max(p[idx] - r_hidden / len(st.series_r), 1e-3 * p[idx], 1e-6)
    for e, r_w, tau_w in dif:
        p[e.start] = r_w
        if e.element.n_params > 1:
            p[e.start + 1] = tau_w
    return p


def _distinct(vectors: list[np.ndarray], max_candidates: int) -> list[np.ndarray]:
    """The first ``max_candidates`` of ``vectors``, dropping those that agree to 0.1 in every
    log-parameter with one before them (such starts are one start)."""
    keys = np.round(np.log(np.abs(np.array(vectors)) + 1e-300), 1)
    out: list[np.ndarray] = []
    seen: set[bytes] = set()
    for p, key in zip(vectors, keys, strict=True):
        k = key.tobytes()
        if k not in seen:
            seen.add(k)
            out.append(p)
            if len(out) >= max_candidates:
                break
    return out


def _split_last(peaks: list[Peak]) -> Peak:
    last = max(peaks, key=lambda pk: pk.tau)
    return Peak(last.resistance / 2, last.tau * 10)


def _split_largest(peaks: list[Peak], tau_hi: float, tau_lo: float, d: Decomposition) -> list[Peak]:
    if not peaks:
        r = max(d.r_low - d.r_inf, 0.1 * d.z_max)
        return [Peak(r, float(np.sqrt(tau_hi * tau_lo)))]
    big = max(peaks, key=lambda pk: pk.resistance)
    rest = [pk for pk in peaks if pk is not big]
    return [*rest, Peak(big.resistance / 2, big.tau / 3), Peak(big.resistance / 2, big.tau * 3)]
