"""Synthetic spectra with known parameters, for tests, benchmarks and the bundled examples.

The generators draw realistic parameters for the cells in ``circuits/`` and add Gaussian noise
proportional to |Z| (a fraction ``noise`` of |Z| on the real and on the imaginary part). Every
function takes a ``numpy.random.Generator`` so results are reproducible from a seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eisfit.io.spectrum import Spectrum
from eisfit.model.circuit import Circuit


@dataclass(frozen=True)
class Synthetic:
    """A synthetic spectrum and the truth it was made from.

    Attributes
    ----------
    spectrum
        The noisy spectrum.
    circuit
        The generating circuit string.
    params
        The true parameters in impedance.py order.
    resistances
        True resistance (Ohm) by role.
    capacitances
        True effective capacitance (F) by role, for arcs.
    apex_hz
        True apex frequency (Hz) by role, for arcs.
    """

    spectrum: Spectrum
    circuit: str
    params: tuple[float, ...]
    resistances: dict[str, float]
    capacitances: dict[str, float]
    apex_hz: dict[str, float]


def frequencies(f_max: float = 1e6, f_min: float = 0.1, per_decade: int = 10) -> np.ndarray:
    """Log-spaced frequencies from ``f_max`` down to ``f_min`` (Hz), ``per_decade`` a decade."""
    n = int(round(np.log10(f_max / f_min) * per_decade)) + 1
    return np.logspace(np.log10(f_max), np.log10(f_min), n)


def add_noise(z: np.ndarray, noise: float, rng: np.random.Generator) -> np.ndarray:
    """Add Gaussian noise of standard deviation ``noise``·|Z| to the real and imaginary parts."""
    scale = noise * np.abs(z)
    return z + scale * rng.standard_normal(z.size) + 1j * scale * rng.standard_normal(z.size)


def arc_q(resistance: float, capacitance: float, n: float) -> float:
    """CPE Q (S s^n) of an R‖CPE arc with effective capacitance C = (RQ)^(1/n)/R."""
    tau = resistance * capacitance
    return tau**n / resistance


def _make(circuit: str, params, f, noise, rng, resistances, arcs, meta) -> Synthetic:
    z = Circuit(circuit).impedance(f, params)
    if noise:
        z = add_noise(z, noise, rng)
    caps = {role: c for role, (r, c) in arcs.items()}
    apex = {role: 1.0 / (2 * np.pi * r * c) for role, (r, c) in arcs.items()}
    return Synthetic(
        Spectrum(f, z, meta), circuit, tuple(float(p) for p in params), resistances, caps, apex
    )


def blocking_cell(
    rng: np.random.Generator,
    *,
    f_max: float | None = None,
    f_min: float = 0.1,
    per_decade: int = 10,
    noise: float = 0.005,
    inside: bool = True,
    hidden_bulk: bool = False,
    series: float | None = None,
    max_tries: int = 10000,
) -> Synthetic:
    """A symmetric blocking cell: series R, bulk arc, grain-boundary arc, electrode CPE.

    Parameters are drawn as the core tests specify: bulk capacitance 1e-12-1e-11 F,
    grain-boundary 1e-10-1e-8 F, resistances 10 Ohm-1e6 Ohm, CPE exponents 0.7-1. With
    ``inside`` both apexes lie inside the window, a decade apart, and a decade above the
    electrode's corner frequency. With ``hidden_bulk`` the bulk apex lies at least 10x above
    ``f_max``, the grain-boundary apex at least 1.5 decades below ``f_max``, and the spectrum
    comes down to the real axis at the top of the window (−Z'' of the grain-boundary arc at
    ``f_max`` below R_b / 10), so the intercept is seen.
    """
    for _ in range(max_tries):
        fmax = f_max if f_max is not None else float(rng.choice([1e6, 7e6]))
        r_b = 10 ** rng.uniform(1, 6)
        r_gb = 10 ** rng.uniform(1, 6)
        c_b = 10 ** rng.uniform(-12, -11)
        c_gb = 10 ** rng.uniform(-10, -8)
        n_b = rng.uniform(0.7, 1.0)
        n_gb = rng.uniform(0.7, 1.0)
        q_el = 10 ** rng.uniform(-7, -5)
        n_el = rng.uniform(0.7, 0.95)
        r0 = series if series is not None else 10 ** rng.uniform(-1, 1)
        f_b = 1 / (2 * np.pi * r_b * c_b)
        f_gb = 1 / (2 * np.pi * r_gb * c_gb)
        # electrode corner: |Z_el| = R_b + R_gb
        f_el = (1 / (q_el * (r_b + r_gb))) ** (1 / n_el) / (2 * np.pi)
        if hidden_bulk:
            # the grain-boundary arc must come down to the real axis at the top of the window,
            # so that the intercept is seen: -Z''_gb(f_max) below a tenth of R_b
            x = (fmax / f_gb) ** n_gb
            s_, c_ = np.sin(n_gb * np.pi / 2), np.cos(n_gb * np.pi / 2)
            im_gb = r_gb * x * s_ / (1 + 2 * x * c_ + x * x)
            ok = (
                f_b > 10 * fmax
                and f_min * 3 < f_gb < fmax / 30
                and f_gb > 10 * f_el
                and im_gb < 0.1 * r_b
            )
        elif inside:
            ok = f_min < f_gb < fmax and f_min < f_b < fmax and f_b > 10 * f_gb and f_gb > 10 * f_el
        else:
            ok = True
        if ok:
            break
    else:  # pragma: no cover - the ranges above always admit a draw
        raise RuntimeError("no parameter draw satisfied the constraints")
    f = frequencies(fmax, f_min, per_decade)
    params = [r0, r_b, arc_q(r_b, c_b, n_b), n_b, r_gb, arc_q(r_gb, c_gb, n_gb), n_gb, q_el, n_el]
    res = {"series": r0, "bulk": r_b, "grain_boundary": r_gb, "total": r_b + r_gb}
    return _make(
        "R0-p(R1,CPE1)-p(R2,CPE2)-CPE3",
        params,
        f,
        noise,
        rng,
        res,
        {"bulk": (r_b, c_b), "grain_boundary": (r_gb, c_gb)},
        {"source": "synthetic blocking cell"},
    )


def full_cell(
    rng: np.random.Generator,
    *,
    f_max: float = 7e6,
    f_min: float = 0.1,
    per_decade: int = 10,
    noise: float = 0.005,
    min_separation_decades: float = 0.6,
    area_cm2: float = 1.0,
    max_tries: int = 10000,
) -> Synthetic:
    """A Li‖cathode full cell shaped like a published Li|SSE|LFP cell.

    Electrolyte ~100 Ohm cm² with apex above 1 MHz, Li|SSE interface ~220 Ohm cm² near
    2.2 kHz, cathode|SSE interface ~255 Ohm cm² near 320 Hz, then finite-space diffusion.
    Interface apexes are at least ``min_separation_decades`` apart.
    """
    for _ in range(max_tries):
        r_el = 100 * 10 ** rng.uniform(-0.2, 0.2) / area_cm2
        f_el = 10 ** rng.uniform(np.log10(1.5e6), np.log10(5e6))
        r_an = 220 * 10 ** rng.uniform(-0.2, 0.2) / area_cm2
        f_an = 2.2e3 * 10 ** rng.uniform(-0.4, 0.4)
        r_ca = 255 * 10 ** rng.uniform(-0.2, 0.2) / area_cm2
        f_ca = 320 * 10 ** rng.uniform(-0.4, 0.4)
        if np.log10(f_an / f_ca) >= min_separation_decades:
            break
    n_el = rng.uniform(0.85, 1.0)
    n_an = rng.uniform(0.75, 0.95)
    n_ca = rng.uniform(0.75, 0.95)
    c_el = 1 / (2 * np.pi * f_el * r_el)
    c_an = 1 / (2 * np.pi * f_an * r_an)
    c_ca = 1 / (2 * np.pi * f_ca * r_ca)
    r0 = 10 ** rng.uniform(-0.5, 0.5)
    r_w = 10 ** rng.uniform(1.5, 2.5)
    tau_w = 10 ** rng.uniform(0, 2)
    f = frequencies(f_max, f_min, per_decade)
    params = [
        r0,
        r_el,
        arc_q(r_el, c_el, n_el),
        n_el,
        r_an,
        arc_q(r_an, c_an, n_an),
        n_an,
        r_ca,
        arc_q(r_ca, c_ca, n_ca),
        n_ca,
        r_w,
        tau_w,
    ]
    res = {
        "series": r0,
        "electrolyte": r_el,
        "anode_interface": r_an,
        "cathode_interface": r_ca,
        "diffusion": r_w,
        "total": r_el + r_an + r_ca,
    }
    return _make(
        "R0-p(R1,CPE1)-p(R2,CPE2)-p(R3,CPE3)-Wo1",
        params,
        f,
        noise,
        rng,
        res,
        {
            "electrolyte": (r_el, c_el),
            "anode_interface": (r_an, c_an),
            "cathode_interface": (r_ca, c_ca),
        },
        {"source": "synthetic full cell", "area_cm2": area_cm2},
    )


#: Boltzmann constant in eV/K, for the synthetic temperature series.
_K_B_EV = 8.617333262e-5


def shoulder_series(
    rng: np.random.Generator,
    *,
    temperatures_c: tuple[float, ...] = (140, 150, 160, 170, 180, 190, 200),
    f_max: float = 1e6,
    f_min: float = 0.03,
    per_decade: int = 7,
    noise: float = 0.004,
) -> tuple[list[Synthetic], dict[str, float]]:
    """A temperature series of a ceramic pellet whose small bulk arc sits on the high-frequency
    flank of a large, depressed grain-boundary arc.

    The bulk arc holds 5–15 % of the electrolyte resistance (at the lowest temperature), the
    grain-boundary arc's CPE exponent is 0.75–0.85 and its apex lies 1.3–2.3 decades below the
    bulk's; the bulk apex is inside the window (0.2–0.6 ``f_max``) at the lowest temperature and
    leaves it as the temperature rises. Both resistances follow σT = A exp(−Ea/k_BT), bulk Ea
    0.50–0.65 eV, grain boundary 0.60–0.80 eV; capacitances do not change with temperature.

    Returns
    -------
    spectra, activation
        One :class:`Synthetic` per temperature (``temperature_K`` in its metadata), and the true
        activation energies (eV) by role.
    """
    ea_b, ea_gb = rng.uniform(0.50, 0.65), rng.uniform(0.60, 0.80)
    frac = rng.uniform(0.05, 0.15)
    n_b, n_gb = rng.uniform(0.88, 0.97), rng.uniform(0.75, 0.85)
    c_b = 10 ** rng.uniform(-11.5, -10.5)
    t0 = temperatures_c[0] + 273.15
    r_b0 = 1 / (2 * np.pi * f_max * rng.uniform(0.2, 0.6) * c_b)
    r_gb0 = r_b0 * (1 - frac) / frac
    c_gb = r_b0 * c_b / r_gb0 * 10 ** rng.uniform(1.3, 2.3)
    q_el, n_el = 10 ** rng.uniform(-6.5, -5.5), rng.uniform(0.75, 0.9)
    f = frequencies(f_max, f_min, per_decade)
    out = []
    for t_c in temperatures_c:
        t = t_c + 273.15
        # R(T) = R(T0) (T/T0) exp(Ea/kB (1/T - 1/T0)), so that sigma*T is Arrhenius
        r_b = r_b0 * (t / t0) * np.exp(ea_b / _K_B_EV * (1 / t - 1 / t0))
        r_gb = r_gb0 * (t / t0) * np.exp(ea_gb / _K_B_EV * (1 / t - 1 / t0))
        params = [10.0, r_b, arc_q(r_b, c_b, n_b), n_b, r_gb, arc_q(r_gb, c_gb, n_gb), n_gb]
        params += [q_el, n_el]
        out.append(
            _make(
                "R0-p(R1,CPE1)-p(R2,CPE2)-CPE3",
                params,
                f,
                noise,
                rng,
                {"series": 10.0, "bulk": r_b, "grain_boundary": r_gb, "total": r_b + r_gb},
                {"bulk": (r_b, c_b), "grain_boundary": (r_gb, c_gb)},
                {"source": f"synthetic shoulder {t_c:g}C", "temperature_K": t},
            )
        )
    return out, {"bulk": float(ea_b), "grain_boundary": float(ea_gb)}
