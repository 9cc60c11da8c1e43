"""The analyses of a series against a variable other than temperature.

>>> import numpy as np
>>> L = np.array([0.5, 1.0, 1.5, 2.0])                  # mm
>>> R = 2 * 50.0 + 1000.0 * (L / 10) / 0.785            # 1000 Ohm cm, 50 Ohm per interface
>>> fit = thickness_regression(L, R, area_cm2=0.785)
>>> round(fit.resistivity_ohm_cm, 6), round(fit.interface_ohm, 6)
(1000.0, 50.0)

* Thickness: R(L) = ρ·L/A + 2·R_interface, a weighted straight line of the resistance of
  cells of one material and electrodes against their thickness (:func:`thickness_regression`):
  the slope gives the bulk resistivity ρ = slope·A (σ = 1/ρ), the intercept the resistance
  of the two electrode interfaces.
* Time: R(t) by three growth laws (:func:`growth_laws`), linear R0 + k·t, parabolic
  R0 + k·√t (diffusion-limited growth of an interphase) and logarithmic R0 + k·ln(1 + t/τ)
  (τ fitted), compared by the small-sample Akaike criterion AICc (Burnham & Anderson, 2002).

Standard errors come from the weighted regression covariance scaled by the reduced χ², as in
:func:`eisfit.analysis.activation.arrhenius`: the fits' standard errors set the relative weights
and the
scatter of the points sets the size of the uncertainty.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from eisfit.analysis.activation import _wls
from eisfit.series.inputs import SeriesError

__all__ = ["ThicknessFit", "LawFit", "GrowthLaw", "thickness_regression", "growth_laws", "LAWS"]

#: The growth laws :func:`growth_laws` compares, and their formulas (t in h).
LAWS = {
    "linear": "R = R0 + k·t",
    "parabolic": "R = R0 + k·√t",
    "logarithmic": "R = R0 + k·ln(1 + t/τ)",
}


def _arrays(
    x: Sequence[float], r: Sequence[float], stderr: Sequence[float] | None, what: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x, R and the relative weights 1/se² (mean 1; all 1 without usable standard errors)."""
    x = np.asarray(x, float)
    r = np.asarray(r, float)
    if x.shape != r.shape or x.ndim != 1:
        raise SeriesError(f"{what}: the values and the resistances must be two lists of one length")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(r))):
        raise SeriesError(f"{what}: values and resistances must be finite")
    w = np.ones(x.size)
    if stderr is not None:
        se = np.asarray(stderr, float)
        if se.shape == x.shape and np.all(np.isfinite(se)) and np.all(se > 0):
            w = 1.0 / se**2
            w = w / np.mean(w)
    return x, r, w


def _line(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, int]:
    """Weighted straight line y = a + b·x: (a, b), their covariance scaled by the reduced χ²
    (NaN with two points), the reduced χ² and the degrees of freedom."""
    design = np.column_stack([np.ones(x.size), x])
    beta, cov_u, rss, dof, rank = _wls(design, y, w)
    if rank < 2:
        raise SeriesError("the values are all equal: a straight line needs at least two")
    red = rss / dof if dof > 0 else math.nan
    cov = cov_u * red if dof > 0 else np.full((2, 2), math.nan)
    return beta, cov, red, dof


# --------------------------------------------------------------------------- thickness
@dataclasses.dataclass(frozen=True)
class ThicknessFit:
    """R(L) = ρ·L/A + 2·R_interface fitted to one role's resistance against thickness.

    Attributes
    ----------
    role : str
        The role whose resistance was regressed (``total``: the cell's).
    n : int
        Number of spectra.
    slope_ohm_per_mm, slope_stderr_ohm_per_mm : float
        dR/dL (Ohm/mm) ± standard error.
    intercept_ohm, intercept_stderr_ohm : float
        R at L = 0 (Ohm) ± standard error: the two interfaces, 2·R_interface.
    area_cm2 : float
        Electrode area (cm²); NaN when not given (ρ then not computed).
    resistivity_ohm_cm, resistivity_stderr_ohm_cm : float
        ρ = slope·A (Ohm cm) ± standard error.
    conductivity_S_per_cm, conductivity_stderr_S_per_cm : float
        σ = 1/ρ (S/cm) ± standard error.
    interface_ohm, interface_stderr_ohm : float
        R_interface = intercept/2, one interface (Ohm).
    interface_asr_ohm_cm2, interface_asr_stderr_ohm_cm2 : float
        R_interface·A (Ohm cm²), one interface.
    reduced_chi2 : float
        Weighted residual sum of squares / (n − 2); NaN with two points.
    thickness_mm, resistance_ohm, stderr_ohm : tuple of float
        The points regressed.
    warnings : tuple of str
    """

    role: str
    n: int
    slope_ohm_per_mm: float
    slope_stderr_ohm_per_mm: float
    intercept_ohm: float
    intercept_stderr_ohm: float
    area_cm2: float
    resistivity_ohm_cm: float
    resistivity_stderr_ohm_cm: float
    conductivity_S_per_cm: float
    conductivity_stderr_S_per_cm: float
    interface_ohm: float
    interface_stderr_ohm: float
    interface_asr_ohm_cm2: float
    interface_asr_stderr_ohm_cm2: float
    reduced_chi2: float
    thickness_mm: tuple[float, ...]
    resistance_ohm: tuple[float, ...]
    stderr_ohm: tuple[float, ...]
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Every attribute, with NaN as None (JSON-ready)."""
        return {k: _json(v) for k, v in dataclasses.asdict(self).items()}

    def text(self) -> str:
        """Two lines: ρ and σ, the interface resistance."""
        from eisfit.format import value_error as ve

        if math.isfinite(self.resistivity_ohm_cm):
            rho = ve(self.resistivity_ohm_cm, self.resistivity_stderr_ohm_cm, "Ohm cm")
            sigma = ve(self.conductivity_S_per_cm, self.conductivity_stderr_S_per_cm, "S/cm")
            bulk = f"rho = {rho}, sigma = {sigma}"
        else:
            slope = ve(self.slope_ohm_per_mm, self.slope_stderr_ohm_per_mm, "Ohm/mm")
            bulk = f"dR/dL = {slope} (no area: give one for rho)"
        one = ve(self.interface_ohm, self.interface_stderr_ohm, "Ohm")
        both = ve(self.intercept_ohm, self.intercept_stderr_ohm, "Ohm")
        face = f"R_interface = {one} per interface (intercept 2R_interface = {both})"
        if math.isfinite(self.interface_asr_ohm_cm2):
            asr = ve(self.interface_asr_ohm_cm2, self.interface_asr_stderr_ohm_cm2, "Ohm cm2")
            face += f", ASR {asr}"
        return f"{bulk}\n{face}"


def _json(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, tuple | list):
        return [_json(x) for x in v]
    if isinstance(v, dict):
        return {k: _json(x) for k, x in v.items()}
    return v


def thickness_regression(
    thickness_mm: Sequence[float],
    resistance_ohm: Sequence[float],
    stderr_ohm: Sequence[float] | None = None,
    area_cm2: float | None = None,
    role: str = "total",
) -> ThicknessFit:
    """Bulk resistivity and interface resistance from the resistance of cells of several
    thicknesses: R(L) = ρ·L/A + 2·R_interface by weighted least squares.

    Parameters
    ----------
    thickness_mm
        Thickness L of each cell (mm).
    resistance_ohm
        Its resistance (Ohm): the total of a cell, or one role's.
    stderr_ohm
        Standard errors of the resistances (Ohm), the relative weights 1/se²; None: equal.
    area_cm2
        Electrode area A (cm²), the same for every cell; None: ρ and σ are not computed.
    role
        The role the resistances are of (a label).

    Returns
    -------
    ThicknessFit

    Raises
    ------
    SeriesError
        Fewer than two different thicknesses, or values that are not finite.
    """
    L, r, w = _arrays(thickness_mm, resistance_ohm, stderr_ohm, "thickness regression")
    if np.unique(L).size < 2:
        raise SeriesError("a thickness regression needs at least two different thicknesses")
    (a, b), cov, red, dof = _line(L, r, w)
    sa, sb = math.sqrt(cov[0, 0]), math.sqrt(cov[1, 1])
    area = float(area_cm2) if area_cm2 is not None else math.nan
    rho = b * 10.0 * area  # Ohm/mm -> Ohm/cm, times cm²: Ohm cm
    srho = sb * 10.0 * area
    warnings = []
    if dof <= 0:
        warnings.append(f"only {L.size} thicknesses: the line is exact and has no errors")
    if b <= 0:
        warnings.append("the resistance does not grow with thickness: no bulk resistivity")
    if a < 0 and not abs(a) < 2 * sa:
        warnings.append("the intercept is negative: the interfaces are not resolved")
    sigma = 1.0 / rho if rho > 0 else math.nan
    return ThicknessFit(
        role=role, n=int(L.size), slope_ohm_per_mm=float(b), slope_stderr_ohm_per_mm=sb,
        intercept_ohm=float(a), intercept_stderr_ohm=sa, area_cm2=area,
        resistivity_ohm_cm=float(rho), resistivity_stderr_ohm_cm=float(srho),
        conductivity_S_per_cm=float(sigma),
        conductivity_stderr_S_per_cm=float(srho / rho**2) if rho > 0 else math.nan,
        interface_ohm=float(a / 2), interface_stderr_ohm=sa / 2,
        interface_asr_ohm_cm2=float(a / 2 * area), interface_asr_stderr_ohm_cm2=sa / 2 * area,
        reduced_chi2=float(red), thickness_mm=tuple(map(float, L)),
        resistance_ohm=tuple(map(float, r)),
        stderr_ohm=tuple(map(float, stderr_ohm)) if stderr_ohm is not None else (),
        warnings=tuple(warnings),
    )


# --------------------------------------------------------------------------- growth laws
@dataclasses.dataclass(frozen=True)
class LawFit:
    """One growth law fitted to R(t).

    Attributes
    ----------
    law : str
        ``linear``, ``parabolic`` or ``logarithmic``.
    formula : str
    params, stderr : dict
        ``R0`` (Ohm), ``k`` (Ohm/h, Ohm/√h or Ohm) and, for the logarithmic law, ``tau``
        (h) ± standard errors.
    n_params : int
        Parameters of the law (the variance of the points is one more in the criterion).
    rss : float
        Weighted residual sum of squares (relative weights).
    aic, aicc : float
        Akaike's criterion n·ln(RSS/n) + 2K and its small-sample form
        AICc = AIC + 2K(K + 1)/(n − K − 1), K = n_params + 1; AICc is NaN when n ≤ K + 1.
    delta : float
        Criterion minus the lowest of the laws compared (0 for the chosen law); NaN when this
        law was not compared.
    weight : float
        Akaike weight exp(−Δ/2) normalised over the laws compared.
    """

    law: str
    formula: str
    params: dict[str, float]
    stderr: dict[str, float]
    n_params: int
    rss: float
    aic: float
    aicc: float
    delta: float = math.nan
    weight: float = math.nan

    def predict(self, t_h: Any) -> np.ndarray:
        """R (Ohm) of this law at times ``t_h`` (h)."""
        t = np.asarray(t_h, float)
        return self.params["R0"] + self.params["k"] * _basis(self.law, t, self.params.get("tau"))

    def to_dict(self) -> dict[str, Any]:
        """Every attribute, with NaN as None."""
        return {k: _json(v) for k, v in dataclasses.asdict(self).items()}


@dataclasses.dataclass(frozen=True)
class GrowthLaw:
    """The growth laws of one role's resistance over time, compared.

    Attributes
    ----------
    role : str
    n : int
        Number of spectra.
    chosen : str
        The law with the lowest criterion.
    criterion : str
        ``AICc`` (or ``AIC`` where too few points leave AICc undefined for every law).
    fits : dict
        Law -> :class:`LawFit`, each law that could be fitted.
    time_h, resistance_ohm, stderr_ohm : tuple of float
        The points fitted.
    warnings : tuple of str
    """

    role: str
    n: int
    chosen: str
    criterion: str
    fits: dict[str, LawFit]
    time_h: tuple[float, ...]
    resistance_ohm: tuple[float, ...]
    stderr_ohm: tuple[float, ...]
    warnings: tuple[str, ...] = ()

    @property
    def best(self) -> LawFit:
        """The chosen law's fit."""
        return self.fits[self.chosen]

    def to_dict(self) -> dict[str, Any]:
        """``role``, ``n``, ``chosen``, ``criterion``, ``laws`` (law -> :meth:`LawFit.to_dict`),
        the points and ``warnings``."""
        return {
            "role": self.role, "n": self.n, "chosen": self.chosen, "criterion": self.criterion,
            "laws": {k: v.to_dict() for k, v in self.fits.items()},
            "time_h": list(self.time_h), "resistance_ohm": list(self.resistance_ohm),
            "stderr_ohm": _json(list(self.stderr_ohm)), "warnings": list(self.warnings),
        }

    def text(self) -> str:
        """One line per law: parameters ± errors and Δ of the criterion, the chosen one first."""
        from eisfit.format import value_error

        units = {"linear": "Ohm/h", "parabolic": "Ohm/h^0.5", "logarithmic": "Ohm"}
        lines = []
        for law in sorted(self.fits, key=lambda k: (k != self.chosen, self.fits[k].delta)):
            f = self.fits[law]
            parts = [f"R0 = {value_error(f.params['R0'], f.stderr['R0'], 'Ohm')}",
                     f"k = {value_error(f.params['k'], f.stderr['k'], units[law])}"]
            if "tau" in f.params:
                parts.append(f"tau = {value_error(f.params['tau'], f.stderr['tau'], 'h')}")
            mark = "chosen" if law == self.chosen else f"d{self.criterion} = {f.delta:.1f}"
            lines.append(f"{law:<12} {f.formula:<24} {', '.join(parts)}  ({mark})")
        return "\n".join(lines)


def _basis(law: str, t: np.ndarray, tau: float | None = None) -> np.ndarray:
    if law == "linear":
        return t
    if law == "parabolic":
        return np.sqrt(t)
    return np.log1p(t / float(tau))


def _criteria(rss: float, n: int, n_params: int, scale: float) -> tuple[float, float]:
    """AIC and AICc of a least-squares fit with the variance estimated (K = n_params + 1)."""
    k = n_params + 1
    rss = max(rss, n * (1e-12 * scale) ** 2)  # an exact fit: rounding, not -inf
    aic = n * math.log(rss / n) + 2 * k
    aicc = aic + 2 * k * (k + 1) / (n - k - 1) if n - k - 1 > 0 else math.nan
    return aic, aicc


def _linear_law(law: str, t: np.ndarray, r: np.ndarray, w: np.ndarray, scale: float) -> LawFit:
    (a, b), cov, _, _ = _line(_basis(law, t), r, w)
    rss = float(np.sum(w * (r - a - b * _basis(law, t)) ** 2))
    aic, aicc = _criteria(rss, t.size, 2, scale)
    return LawFit(law, LAWS[law], {"R0": float(a), "k": float(b)},
                  {"R0": math.sqrt(cov[0, 0]), "k": math.sqrt(cov[1, 1])}, 2, rss, aic, aicc)


def _log_rss(log_tau: float, t: np.ndarray, r: np.ndarray, w: np.ndarray) -> float:
    x = np.log1p(t / math.exp(log_tau))
    design = np.column_stack([np.ones(t.size), x])
    beta, _, rss, _, _ = _wls(design, r, w)
    return float(rss)


def _log_law(t: np.ndarray, r: np.ndarray, w: np.ndarray, scale: float) -> LawFit:
    """R0 + k·ln(1 + t/τ): τ by a profile over ln τ (grid, then bounded refinement), R0 and k
    by weighted least squares at each τ; errors from the Jacobian of all three."""
    from scipy.optimize import minimize_scalar

    positive = t[t > 0]
    lo = math.log(float(positive.min()) / 100.0)
    hi = math.log(float(positive.max()) * 100.0)
    grid = np.linspace(lo, hi, 61)
    rss = [_log_rss(g, t, r, w) for g in grid]
    i = int(np.argmin(rss))
    a, b = grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)]
    best = minimize_scalar(_log_rss, bounds=(a, b), args=(t, r, w), method="bounded",
                           options={"xatol": 1e-6})
    log_tau = float(best.x) if best.fun <= rss[i] else float(grid[i])
    tau = math.exp(log_tau)
    x = np.log1p(t / tau)
    (r0, k), _, _, _ = _line(x, r, w)
    resid = r - r0 - k * x
    rss_min = float(np.sum(w * resid**2))
    # Jacobian in (R0, k, ln tau); covariance scaled by the reduced chi-square
    jac = np.column_stack([np.ones(t.size), x, -k * t / (tau + t)])
    n, dof = t.size, t.size - 3
    errs = {"R0": math.nan, "k": math.nan, "tau": math.nan}
    if dof > 0:
        jw = jac * np.sqrt(w)[:, None]
        cov = np.linalg.pinv(jw.T @ jw) * (rss_min / dof)
        sd = np.sqrt(np.clip(np.diag(cov), 0, None))
        errs = {"R0": float(sd[0]), "k": float(sd[1]), "tau": float(tau * sd[2])}
    aic, aicc = _criteria(rss_min, n, 3, scale)
    return LawFit("logarithmic", LAWS["logarithmic"], {"R0": float(r0), "k": float(k),
                  "tau": tau}, errs, 3, rss_min, aic, aicc)


def growth_laws(
    time_h: Sequence[float],
    resistance_ohm: Sequence[float],
    stderr_ohm: Sequence[float] | None = None,
    role: str = "interface",
) -> GrowthLaw:
    """Fit linear, parabolic and logarithmic growth laws to a resistance over time and choose
    one by Akaike's criterion.

    Parameters
    ----------
    time_h
        Time of each spectrum (h, at least 0): at rest, after assembly, or since the first.
    resistance_ohm
        The resistance of one role at each time (Ohm).
    stderr_ohm
        Standard errors of the resistances (Ohm), the relative weights 1/se²; None: equal.
    role
        The role the resistances are of (a label).

    Returns
    -------
    GrowthLaw
        Each law's parameters ± errors, AIC and AICc; the chosen law has the lowest AICc
        (AIC where every law has too few points for AICc), Δ of the others from it.

    Raises
    ------
    SeriesError
        Fewer than three spectra, fewer than three different times, or a negative time.

    Notes
    -----
    With the variance of the points unknown (estimated from the residuals), a least-squares
    fit of K − 1 parameters has AIC = n·ln(RSS/n) + 2K and AICc = AIC + 2K(K + 1)/(n − K − 1)
    (Burnham & Anderson, *Model Selection and Multimodel Inference*, 2nd ed., Springer 2002,
    sections 2.2 and 2.4), RSS weighted by the relative weights. A law whose AICc is undefined
    (n ≤ K + 1: the logarithmic law with five points or fewer) is not compared when the
    others have one; Δ < 2 means the data hardly tell the laws apart (a warning says so).
    The logarithmic law is written ln(1 + t/τ) rather than ln t so that t = 0 is allowed; τ
    is fitted, so it has one parameter more than the other two, and becomes the linear law
    for τ ≫ t and the ln t law for τ ≪ t.
    """
    t, r, w = _arrays(time_h, resistance_ohm, stderr_ohm, "growth laws")
    if t.size < 3 or np.unique(t).size < 3:
        raise SeriesError(f"growth laws need at least three different times, got {t.size} "
                          f"spectra at {np.unique(t).size}")
    if np.any(t < 0):
        raise SeriesError("growth laws need times of at least 0 h")
    scale = max(1.0, float(np.max(np.abs(r))))
    fits = {law: _linear_law(law, t, r, w, scale) for law in ("linear", "parabolic")}
    if t.size >= 4:
        fits["logarithmic"] = _log_law(t, r, w, scale)
    criterion = "AICc"
    compared = [k for k, f in fits.items() if math.isfinite(f.aicc)]
    if not compared:
        criterion, compared = "AIC", list(fits)
    key = "aicc" if criterion == "AICc" else "aic"
    low = min(getattr(fits[k], key) for k in compared)
    weights = {k: math.exp(-(getattr(fits[k], key) - low) / 2) for k in compared}
    total = sum(weights.values())
    for k in compared:
        fits[k] = dataclasses.replace(fits[k], delta=getattr(fits[k], key) - low,
                                      weight=weights[k] / total)
    chosen = min(compared, key=lambda k: getattr(fits[k], key))
    warnings = [f"{k}: {criterion} not defined with {t.size} points, not compared"
                for k in fits if k not in compared]
    close = [k for k in compared if k != chosen and fits[k].delta < 2]
    if close:
        warnings.append(f"{', '.join(close)} within 2 of {chosen} in {criterion}: the data "
                        "hardly tell these laws apart")
    return GrowthLaw(role, int(t.size), chosen, criterion, fits, tuple(map(float, t)),
                     tuple(map(float, r)),
                     tuple(map(float, stderr_ohm)) if stderr_ohm is not None else (),
                     tuple(warnings))
