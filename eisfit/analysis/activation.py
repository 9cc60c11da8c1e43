"""Arrhenius analysis (activation energy from a temperature series) and the Li⁺ transference
number (Bruce–Vincent).

Thermally activated conduction follows σT = A exp(−Ea / (k_B T)), so ln(σT) against 1/T is a
straight line with slope −Ea/k_B; that is the default form here, as in most papers. Some papers
fit ln σ against 1/T instead, which gives a smaller Ea: :func:`arrhenius` does either and records
which in the result's ``form``.
"""

from __future__ import annotations

import html
import math
import numbers
import warnings as _warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from scipy import special
from scipy.constants import N_A, physical_constants
from scipy.constants import e as ELEMENTARY_CHARGE
from uncertainties import UFloat, ufloat

from eisfit.exceptions import EisfitError, GeometryError
from eisfit.findings import Finding, as_finding
from eisfit.output import json_float as _json_float
from eisfit.units import MIN_TEMPERATURE_K, parse_temperature

__all__ = [
    "ArrheniusError",
    "ArrheniusTemperatureError",
    "ArrheniusResult",
    "arrhenius",
    "ea_not_determined",
    "not_determined",
    "transference_number",
    "K_B_EV",
    "EV_TO_KJ_PER_MOL",
    "FORMS",
    "QUANTITIES",
]

#: Boltzmann constant in eV/K (CODATA, from scipy.constants).
K_B_EV: float = physical_constants["Boltzmann constant in eV/K"][0]
#: 1 eV per particle in kJ/mol (e · N_A / 1000).
EV_TO_KJ_PER_MOL: float = ELEMENTARY_CHARGE * N_A / 1000.0
#: The regression forms :func:`arrhenius` knows.
FORMS = ("ln(sigma*T)", "ln(sigma)")
#: What the values passed to :func:`arrhenius` may be.
QUANTITIES = ("conductivity", "conductance", "resistance")
#: Significance level of the curvature (quadratic term) test.
CURVATURE_P = 0.01
#: Fewest points for the curvature test.
CURVATURE_MIN_POINTS = 5
#: An activation energy whose standard error is over this fraction of it is not determined.
EA_UNDETERMINED_FRACTION = 0.5


class ArrheniusError(EisfitError, ValueError):
    """The data given to :func:`arrhenius` or :func:`transference_number` cannot be used."""


class ArrheniusTemperatureError(ArrheniusError, GeometryError):
    """A temperature given to :func:`arrhenius` is not physical or looks like °C given as K."""


# --------------------------------------------------------------------------- result
@dataclass(frozen=True, eq=False)
class ArrheniusResult:
    """An activation energy with its statistics, from :func:`arrhenius`.

    Attributes
    ----------
    Ea_eV : float
        Activation energy in eV.
    Ea_stderr_eV : float
        Its standard error in eV (NaN with only two points).
    Ea_kJ_per_mol : float
        Activation energy in kJ/mol.
    Ea_ci95_eV : tuple of float
        95 % confidence interval of Ea in eV (Student t, n − 2 degrees of freedom).
    ln_prefactor : float
        Intercept of the regression, ln A, with A in (unit of the values) · K for the
        ``ln(sigma*T)`` form and in the unit of the values for ``ln(sigma)`` (reciprocal for
        ``quantity="resistance"``).
    ln_prefactor_stderr : float
        Standard error of ``ln_prefactor``.
    r2 : float
        Coefficient of determination (weighted when standard errors were given).
    form : str
        ``"ln(sigma*T)"`` or ``"ln(sigma)"``.
    T_min_K, T_max_K : float
        Temperature range in K.
    n : int
        Number of points.
    quantity : str
        ``"conductivity"``, ``"conductance"`` or ``"resistance"``.
    weighted : bool
        True when per-point standard errors weighted the regression.
    reduced_chi2 : float
        Σ((y − fit)/se_y)² / (n − 2) with the standard errors as given (about 1 when they
        describe the scatter); the residual variance of y when unweighted. The covariance is
        scaled by it. NaN with two points.
    curvature : bool
        True when a quadratic in 1/T fits significantly better (p < 0.01, n >= 5).
    curvature_p : float
        p-value of the quadratic term (NaN when not tested).
    warnings : tuple of str
        Anything suspicious about the data or the fit; empty when nothing is.
    covariance : numpy.ndarray
        2×2 covariance of (ln_prefactor, slope), slope = −Ea/k_B in K.
    temperature_K, values, stderr : numpy.ndarray
        The data fitted (``stderr`` is None when unweighted).
    reason : str or None
        Why Ea is not reported as a result (negative, not determined by the data, too few
        points left): then ``Ea_eV``, its errors and the prefactor are NaN (``null`` in JSON).
        None when Ea is a result.
    used, excluded : tuple of dict or None
        For a series (:meth:`eisfit.series.temperature.Series.arrhenius`): the points regressed
        (``{"source", "temperature_K"}``) and those left out (``{"source", "temperature_K",
        "value", "reason"}``, ``value`` in the units of ``values``), in temperature order.
        None for values given directly.
    """

    Ea_eV: float
    Ea_stderr_eV: float
    Ea_kJ_per_mol: float
    Ea_ci95_eV: tuple[float, float]
    ln_prefactor: float
    ln_prefactor_stderr: float
    r2: float
    form: str
    T_min_K: float
    T_max_K: float
    n: int
    quantity: str = "conductivity"
    weighted: bool = False
    reduced_chi2: float = math.nan
    curvature: bool = False
    curvature_p: float = math.nan
    warnings: tuple[str, ...] = ()
    covariance: np.ndarray = field(default_factory=lambda: np.full((2, 2), np.nan), repr=False)
    temperature_K: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)
    values: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)
    stderr: np.ndarray | None = field(default=None, repr=False)
    reason: str | None = None
    used: tuple[dict[str, Any], ...] | None = field(default=None, repr=False)
    excluded: tuple[dict[str, Any], ...] | None = field(default=None, repr=False)

    @property
    def determined(self) -> bool:
        """True when Ea is reported as a result (no :attr:`reason` against it)."""
        return self.reason is None

    # ------------------------------------------------------------------ derived
    @property
    def slope_K(self) -> float:
        """Slope of the regression against 1/T, −Ea/k_B, in K."""
        return -self.Ea_eV / K_B_EV

    @property
    def Ea_stderr_kJ_per_mol(self) -> float:
        """Standard error of Ea in kJ/mol."""
        return self.Ea_stderr_eV * EV_TO_KJ_PER_MOL

    @property
    def Ea_ufloat(self) -> UFloat:
        """Ea in eV as an ``uncertainties`` value (std. dev. 0 when no stderr is available)."""
        s = self.Ea_stderr_eV
        return ufloat(self.Ea_eV, s if math.isfinite(s) else 0.0)

    def predict(self, temperature_K: Any) -> Any:
        """The fitted quantity at temperatures in K, in the unit of the values fitted.

        Parameters
        ----------
        temperature_K
            Temperature(s) in K, > 0.

        Returns
        -------
        float or numpy.ndarray
            Fitted conductivity (or conductance, or resistance) at each temperature.

        Examples
        --------
        >>> r = arrhenius([300.0, 350.0, 400.0], [1e-4, 1e-3, 5e-3])
        >>> float(r.predict(350.0)) > 1e-4
        True
        """
        t = np.asarray(temperature_K, dtype=float)
        if np.any(~np.isfinite(t)) or np.any(t <= 0):
            raise ArrheniusTemperatureError("predict needs finite temperatures > 0 K")
        y = self.ln_prefactor + self.slope_K / t
        if self.form == "ln(sigma*T)":
            y = y - np.log(t)
        out = np.exp(-y) if self.quantity == "resistance" else np.exp(y)
        return float(out) if out.ndim == 0 else out

    # ------------------------------------------------------------------ output
    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary (the ``arrhenius`` object of the batch ``--json`` output).

        Keys: ``Ea_eV``, ``Ea_stderr_eV``, ``Ea_kJ_per_mol``, ``ln_prefactor``, ``r2``,
        ``form``, ``T_min_K``, ``T_max_K``, ``n``, ``Ea_ci95_eV`` (2-list),
        ``ln_prefactor_stderr``, ``warnings`` (list), ``findings`` (the same warnings as
        records: ``code``, ``role``, ``numbers``..., see :mod:`eisfit.findings`); for a series
        also ``reason`` (why Ea is not reported, with ``Ea_eV`` null; else null), ``used`` and
        ``excluded`` (the points regressed and those left out, with their reasons). Values that
        are not finite (the standard errors of a two-point fit) become None, so ``json.dumps``
        writes ``null``.

        Examples
        --------
        >>> r = arrhenius([300.0, 350.0, 400.0], [1e-4, 1e-3, 5e-3])
        >>> r.to_dict()["form"], r.to_dict()["n"]
        ('ln(sigma*T)', 3)
        """
        return {
            "Ea_eV": _json_float(self.Ea_eV),
            "Ea_stderr_eV": _json_float(self.Ea_stderr_eV),
            "Ea_kJ_per_mol": _json_float(self.Ea_kJ_per_mol),
            "ln_prefactor": _json_float(self.ln_prefactor),
            "r2": _json_float(self.r2),
            "form": self.form,
            "T_min_K": _json_float(self.T_min_K),
            "T_max_K": _json_float(self.T_max_K),
            "n": int(self.n),
            "Ea_ci95_eV": [_json_float(self.Ea_ci95_eV[0]), _json_float(self.Ea_ci95_eV[1])],
            "ln_prefactor_stderr": _json_float(self.ln_prefactor_stderr),
            "warnings": list(self.warnings),
            "findings": [as_finding(w).to_dict() for w in self.warnings],
            **(
                {"reason": self.reason}
                if self.reason is not None or self.used is not None
                else {}
            ),
            **({"used": [dict(u) for u in self.used]} if self.used is not None else {}),
            **(
                {"excluded": [dict(e) for e in self.excluded]}
                if self.excluded is not None
                else {}
            ),
        }

    def to_frame(self) -> Any:
        """One-row :class:`pandas.DataFrame` of the summary.

        The columns are those of :meth:`to_dict`, with the confidence interval split into
        ``Ea_ci95_low_eV`` and ``Ea_ci95_high_eV``, ``warnings`` joined with ``"; "``, and
        ``quantity`` added; missing values are NaN.
        """
        import pandas as pd

        row: dict[str, Any] = {
            "Ea_eV": self.Ea_eV,
            "Ea_stderr_eV": self.Ea_stderr_eV,
            "Ea_kJ_per_mol": self.Ea_kJ_per_mol,
            "Ea_ci95_low_eV": self.Ea_ci95_eV[0],
            "Ea_ci95_high_eV": self.Ea_ci95_eV[1],
            "ln_prefactor": self.ln_prefactor,
            "ln_prefactor_stderr": self.ln_prefactor_stderr,
            "r2": self.r2,
            "form": self.form,
            "quantity": self.quantity,
            "T_min_K": self.T_min_K,
            "T_max_K": self.T_max_K,
            "n": self.n,
            "warnings": "; ".join(self.warnings),
        }
        return pd.DataFrame([row])

    def _rows(self) -> list[tuple[str, str]]:
        def pm(x: float, s: float, fmt: str, unit: str = "") -> str:
            unit = f" {unit}" if unit else ""
            if math.isfinite(s):
                return f"{x:{fmt}} ± {s:{fmt}}{unit}"
            return f"{x:{fmt}}{unit} (no stderr)"

        lo, hi = self.Ea_ci95_eV
        ci = f"[{lo:.4f}, {hi:.4f}] eV" if math.isfinite(lo) else "n/a (fewer than 3 points)"
        if self.weighted:
            weighting = f"1/se², covariance scaled by reduced χ² = {self.reduced_chi2:.3g}"
        else:
            weighting = "none (equal weights)"
        curv = "not tested (fewer than 5 points)"
        if math.isfinite(self.curvature_p):
            verdict = "yes" if self.curvature else "no"
            curv = f"{verdict} (quadratic term p = {self.curvature_p:.2g})"
        if self.reason is not None:
            head = [("Ea", f"not determined: {self.reason}")]
        else:
            head = [
                ("Ea", pm(self.Ea_eV, self.Ea_stderr_eV, ".4f", "eV")),
                ("Ea", pm(self.Ea_kJ_per_mol, self.Ea_stderr_kJ_per_mol, ".2f", "kJ/mol")),
                ("Ea 95 % CI", ci),
            ]
        if self.excluded:
            head.append(("left out", "; ".join(
                f"{e['source']} ({e['temperature_K']:.2f} K): {e['reason']}"
                for e in self.excluded
            )))
        if self.reason is None:
            head.append(("ln A", pm(self.ln_prefactor, self.ln_prefactor_stderr, ".4g")))
        return head + [
            ("r²", f"{self.r2:.5f}"),
            ("form", f"{self.form} against 1/T ({self.quantity})"),
            ("T range", f"{self.T_min_K:.2f}–{self.T_max_K:.2f} K ({self.n} points)"),
            ("weighting", weighting),
            ("curvature", curv),
        ]

    def report(self) -> str:
        """A short plain-text report.

        Examples
        --------
        >>> print(arrhenius([300.0, 350.0, 400.0], [1e-4, 1e-3, 5e-3]).report().splitlines()[0])
        [[Arrhenius]]
        """
        width = max(len(k) for k, _ in self._rows())
        lines = ["[[Arrhenius]]"]
        lines += [f"    {k:<{width}} = {v}" for k, v in self._rows()]
        if self.warnings:
            lines.append("[[Warnings]]")
            lines += [f"    {w}" for w in self.warnings]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.report()

    def _repr_html_(self) -> str:
        esc = html.escape
        body = "".join(
            f"<tr><th style='text-align:left'>{esc(k)}</th><td style='text-align:left'>"
            f"{esc(v)}</td></tr>"
            for k, v in self._rows()
        )
        if self.warnings:
            items = "".join(f"<li>{esc(w)}</li>" for w in self.warnings)
            body += f"<tr><th style='text-align:left'>warnings</th><td><ul>{items}</ul></td></tr>"
        # As xarray does: the table shows when the <style> is allowed (trusted notebooks); the
        # <pre> plain text shows where styles are stripped.
        return (
            "<div><style>.eisfit-arr-fallback{display:none}"
            ".eisfit-arr-table{display:block !important}</style>"
            f"<pre class='eisfit-arr-fallback'>{esc(self.report())}</pre>"
            "<div class='eisfit-arr-table' style='display:none'>"
            f"<table><caption>Arrhenius fit</caption>{body}</table></div></div>"
        )


# --------------------------------------------------------------------------- not determined
def ea_not_determined(Ea_eV: float, Ea_stderr_eV: float, role: str = "") -> str | None:
    """Why an activation energy from a regression is not a result, or None when it is.

    Parameters
    ----------
    Ea_eV, Ea_stderr_eV
        The activation energy and its standard error in eV (NaN: none).
    role
        The process, for the reason (``"bulk"``...).

    Returns
    -------
    str or None
        A reason when Ea is not finite, negative (a resistance that rises with T: no thermally
        activated process does that), or has a standard error over
        :data:`EA_UNDETERMINED_FRACTION` of itself; else None.

    Examples
    --------
    >>> ea_not_determined(0.35, 0.01) is None
    True
    >>> ea_not_determined(-1.9, 1.0).startswith("Ea = -1.9")
    True
    """
    what = f"the {role} resistance" if role else "the resistance"
    se = f" ± {Ea_stderr_eV:.2g}" if math.isfinite(Ea_stderr_eV) else ""
    if not math.isfinite(Ea_eV):
        return "no activation energy could be computed"
    if Ea_eV < 0:
        return (
            f"Ea = {Ea_eV:.3g}{se} eV is negative: {what} rises with T, which no thermally "
            "activated process does (a fit in a local minimum, or another process in the role)"
        )
    if math.isfinite(Ea_stderr_eV) and Ea_stderr_eV > EA_UNDETERMINED_FRACTION * Ea_eV:
        return (
            f"Ea = {Ea_eV:.3g}{se} eV: its standard error is over "
            f"{100 * EA_UNDETERMINED_FRACTION:.0f} % of it, so the data do not determine it"
        )
    return None


def not_determined(result: ArrheniusResult, reason: str) -> ArrheniusResult:
    """``result`` with its activation energy withdrawn: Ea, its errors and the prefactor NaN
    (``null`` in JSON), ``reason`` saying why; the points, r² and warnings are kept."""
    nan = math.nan
    cov = np.full((2, 2), np.nan)
    cov.setflags(write=False)
    return replace(
        result,
        Ea_eV=nan,
        Ea_stderr_eV=nan,
        Ea_kJ_per_mol=nan,
        Ea_ci95_eV=(nan, nan),
        ln_prefactor=nan,
        ln_prefactor_stderr=nan,
        curvature=False,
        curvature_p=nan,
        covariance=cov,
        reason=reason,
    )


# --------------------------------------------------------------------------- helpers
def _temperatures(temperature_K: Any) -> np.ndarray:
    if isinstance(temperature_K, str | numbers.Number):
        raise ArrheniusError("temperature_K must be a sequence of temperatures, one per value")
    items = list(temperature_K)
    out = np.empty(len(items))
    for i, t in enumerate(items):
        if isinstance(t, str):
            out[i] = parse_temperature(t, f"temperature[{i}]")
        else:
            try:
                out[i] = float(t)
            except (TypeError, ValueError):
                raise ArrheniusTemperatureError(
                    f"temperature[{i}] must be a number in K, got {t!r}"
                ) from None
    bad = ~np.isfinite(out)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ArrheniusTemperatureError(f"temperature[{i}] is {out[i]}: expected a finite number")
    if (out <= 0).any():
        i = int(np.flatnonzero(out <= 0)[0])
        raise ArrheniusTemperatureError(
            f"temperature[{i}] is {out[i]:g} K: temperatures must be in K (> 0); "
            f"for °C add 273.15"
        )
    low = out < MIN_TEMPERATURE_K
    if low.any():
        i = int(np.flatnonzero(low)[0])
        raise ArrheniusTemperatureError(
            f"temperature[{i}] is {out[i]:g} K, below {MIN_TEMPERATURE_K:g} K: these look like °C "
            f"given as K; pass kelvin (T_K = T_C + 273.15, e.g. {out[i] + 273.15:g} K)"
        )
    return out


def _values_and_stderr(values: Any, stderr: Any, n: int) -> tuple[np.ndarray, np.ndarray | None]:
    if isinstance(values, str | numbers.Number):
        raise ArrheniusError("values must be a sequence, one per temperature")
    items = list(values)
    if len(items) != n:
        raise ArrheniusError(
            f"temperature_K and values must have the same length, got {n} and {len(items)}"
        )
    has_u = any(isinstance(v, UFloat) for v in items)
    if has_u:
        if stderr is not None:
            raise ArrheniusError(
                "values carry uncertainties (ufloats) and stderr was given too: give one of them"
            )
        v = np.array([x.nominal_value if isinstance(x, UFloat) else float(x) for x in items])
        s = np.array([x.std_dev if isinstance(x, UFloat) else 0.0 for x in items])
        se: np.ndarray | None = None if np.all(s == 0) else s
    else:
        try:
            v = np.array(items, dtype=float)
        except (TypeError, ValueError):
            raise ArrheniusError(f"values must be numbers, got {values!r}") from None
        if stderr is None:
            se = None
        else:
            if isinstance(stderr, str | numbers.Number):
                raise ArrheniusError("stderr must be a sequence, one per value")
            try:
                se = np.array(list(stderr), dtype=float)
            except (TypeError, ValueError):
                raise ArrheniusError(f"stderr must be numbers, got {stderr!r}") from None
            if se.size != n:
                raise ArrheniusError(
                    f"stderr must have one entry per value: got {se.size} for {n} values"
                )
    bad = ~(np.isfinite(v) & (v > 0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ArrheniusError(
            f"values[{i}] is {v[i]:g}: Arrhenius analysis needs positive finite values "
            "(a log is taken)"
        )
    if se is not None:
        bad = ~(np.isfinite(se) & (se > 0))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ArrheniusError(
                f"stderr[{i}] is {se[i]:g}: standard errors must be positive and finite "
                "(or pass stderr=None for an unweighted fit)"
            )
    return v, se


def _wls(
    design: np.ndarray, y: np.ndarray, w: np.ndarray
) -> tuple[np.ndarray, np.ndarray, float, int, int]:
    """Weighted least squares. Returns (beta, unscaled covariance, weighted RSS, dof, rank)."""
    sw = np.sqrt(w)
    a = design * sw[:, None]
    b = y * sw
    beta, _, rank, _ = np.linalg.lstsq(a, b, rcond=None)
    resid = y - design @ beta
    rss = float(np.sum(w * resid**2))
    dof = design.shape[0] - design.shape[1]
    cov = np.linalg.pinv(a.T @ a) if rank == design.shape[1] else np.full((rank, rank), np.nan)
    return beta, cov, rss, dof, int(rank)


def _curvature_p(x: np.ndarray, y: np.ndarray, w: np.ndarray, rss_lin: float) -> float:
    """p-value of the quadratic term of a weighted quadratic fit in x (NaN if not testable)."""
    n = x.size
    if n < CURVATURE_MIN_POINTS or np.unique(x).size < 3:
        return math.nan
    # Exact data: nothing but rounding left to test.
    scale = max(1.0, float(np.max(np.abs(y))))
    if rss_lin <= float(np.sum(w)) * (1e-11 * scale) ** 2:
        return 1.0
    u = (x - np.average(x, weights=w)) / np.std(x)
    design = np.column_stack([np.ones(n), u, u**2])
    beta, cov, rss, dof, rank = _wls(design, y, w)
    if rank < 3 or dof < 1:
        return math.nan
    var = cov[2, 2] * rss / dof
    if not var > 0:
        return 1.0 if beta[2] == 0 else 0.0
    t = beta[2] / math.sqrt(var)
    return float(2 * special.stdtr(dof, -abs(t)))


# --------------------------------------------------------------------------- arrhenius
def arrhenius(
    temperature_K: Sequence[float] | np.ndarray,
    values: Sequence[Any] | np.ndarray,
    stderr: Sequence[float] | np.ndarray | None = None,
    form: str = "ln(sigma*T)",
    quantity: str = "conductivity",
    *,
    min_points: int = 3,
) -> ArrheniusResult:
    """Activation energy from values measured at several temperatures.

    The regression is a straight line in x = 1/T:

    ============================  ============================  ============================
    ``form``                      ``quantity="conductivity"``   ``quantity="resistance"``
    ============================  ============================  ============================
    ``"ln(sigma*T)"`` (default)   y = ln(σ·T)                   y = ln(T / R)
    ``"ln(sigma)"``               y = ln σ                      y = ln(1 / R) = −ln R
    ============================  ============================  ============================

    and Ea = −slope · k_B. A resistance (bulk R, interfacial R or ASR) is proportional to 1/σ at
    fixed geometry, so fitting ln(T/R) is the ln(σT) analysis of the matching conductance and Ea
    is positive for a thermally activated process (R falling as T rises).
    ``quantity="conductance"`` is treated like conductivity: for a fixed geometry G ∝ σ, so the
    slope, and Ea, are the same; only the prefactor differs.

    Parameters
    ----------
    temperature_K
        Temperatures in K (>= 150 K), one per value. Strings with units (``"25C"``) are parsed.
    values
        Conductivities (any unit, e.g. S/cm), conductances, or resistances (Ohm, Ohm cm²),
        all > 0. ``uncertainties`` values (ufloats) supply their standard deviations as
        ``stderr``.
    stderr
        Standard error of each value, in the unit of the values. They enter the regression as
        weights 1/se_y² with se_y = stderr/value (the standard error of the log). None (default)
        gives an unweighted fit.
    form
        ``"ln(sigma*T)"`` or ``"ln(sigma)"``.
    quantity
        ``"conductivity"``, ``"conductance"`` or ``"resistance"``.
    min_points
        Fewest points accepted (>= 2). With two points the line is exact and there is no
        standard error (reported as NaN, ``null`` in JSON).

    Returns
    -------
    ArrheniusResult
        Ea in eV and kJ/mol with its standard error and 95 % confidence interval, ln prefactor,
        r², temperature range, and warnings.

    Raises
    ------
    ArrheniusError
        Fewer than ``min_points`` values, mismatched lengths, or a value or standard error that is
        not positive (the message gives the index).
    ArrheniusTemperatureError
        A temperature that is not finite, not positive, or below 150 K (probably °C given as K).
        It is also a :class:`~eisfit.exceptions.GeometryError`.

    Notes
    -----
    Standard errors come from the regression covariance (X^T W X)^-1 scaled by the reduced χ²
    (weighted residual sum of squares / (n − 2)), with W = 1 for an unweighted fit. Scaling is
    done whether or not ``stderr`` is given (as ``scipy.optimize.curve_fit`` does with
    ``absolute_sigma=False``): the standard errors then set only the relative weights, and
    points that scatter more (or less) than their standard errors say widen (or narrow) the
    uncertainty of Ea. A warning says when the scatter is much larger than the standard errors
    allow. The 95 % interval uses Student's t with n − 2 degrees of freedom, which is exact for
    Gaussian errors in the log values.

    r² is the weighted coefficient of determination, 1 − Σw r² / Σw (y − ȳ_w)².

    Curvature: with n >= 5 a quadratic in 1/T is fitted with the same weights; when its
    quadratic term is significant (p < 0.01) ``curvature`` is True and a warning says so (two
    processes, a change of mechanism, or a phase transition in the range).

    Repeated temperatures are kept (the regression stays valid) with a warning.

    Examples
    --------
    >>> import numpy as np
    >>> T = np.array([298.15, 318.15, 338.15, 358.15, 378.15])
    >>> sigma = 1e3 / T * np.exp(-0.35 / (K_B_EV * T))      # S/cm, Ea = 0.35 eV
    >>> r = arrhenius(T, sigma)
    >>> round(r.Ea_eV, 6), round(r.Ea_kJ_per_mol, 2)
    (0.35, 33.77)
    """
    _check_options(form, quantity, min_points)
    T = _temperatures(temperature_K)
    n = T.size
    if n < min_points:
        hint = " (pass min_points=2 to fit two points without a standard error)" if n == 2 else ""
        raise ArrheniusError(
            f"an Arrhenius fit needs at least {min_points} temperatures, got {n}{hint}"
        )
    v, se = _values_and_stderr(values, stderr, n)
    notes = _repeated_temperatures(T)

    x = 1.0 / T
    sign = -1.0 if quantity == "resistance" else 1.0
    y = sign * np.log(v)
    if form == "ln(sigma*T)":
        y = y + np.log(T)
    if se is None:
        w = np.ones(n)
    else:
        w = 1.0 / (se / v) ** 2
        w = w / np.mean(w)  # relative weights; the covariance is scaled by reduced χ² anyway

    beta, cov, rss, dof, red_chi2, tq = _fit_line(x, y, w, v, se, notes)
    intercept, slope = float(beta[0]), float(beta[1])
    Ea = -slope * K_B_EV
    Ea_se = math.sqrt(cov[1, 1]) * K_B_EV if dof > 0 else math.nan
    ci = (Ea - tq * Ea_se, Ea + tq * Ea_se)
    ybar = float(np.average(y, weights=w))
    ss_tot = float(np.sum(w * (y - ybar) ** 2))
    r2 = 1.0 - rss / ss_tot if ss_tot > 0 else math.nan

    p_curv = _curvature_p(x, y, w, rss)
    curved = bool(math.isfinite(p_curv) and p_curv < CURVATURE_P)
    if curved:
        label = form
        if quantity == "resistance":
            label = "ln(T/R)" if form == "ln(sigma*T)" else "-ln(R)"
        notes.append(Finding(
            f"{label} against 1/T is curved (quadratic term p = {p_curv:.2g}): more than one "
            f"process or a change of mechanism; Ea is an average over "
            f"{T.min():.1f}-{T.max():.1f} K", "curved",
            numbers={"p": p_curv, "T_min_K": float(T.min()), "T_max_K": float(T.max())},
        ))
    if Ea < 0:
        notes.append(_negative_ea_note(Ea, quantity))

    temps, vals, se = _read_only(T, v, se, cov)
    return ArrheniusResult(
        Ea_eV=float(Ea),
        Ea_stderr_eV=float(Ea_se),
        Ea_kJ_per_mol=float(Ea * EV_TO_KJ_PER_MOL),
        Ea_ci95_eV=(float(ci[0]), float(ci[1])),
        ln_prefactor=intercept,
        ln_prefactor_stderr=float(math.sqrt(cov[0, 0])) if dof > 0 else math.nan,
        r2=float(r2),
        form=form,
        T_min_K=float(T.min()),
        T_max_K=float(T.max()),
        n=int(n),
        quantity=quantity,
        weighted=se is not None,
        reduced_chi2=float(red_chi2),
        curvature=curved,
        curvature_p=float(p_curv),
        warnings=tuple(notes),
        covariance=cov,
        temperature_K=temps,
        values=vals,
        stderr=se,
    )


def _check_options(form: str, quantity: str, min_points: Any) -> None:
    """Raise :class:`ArrheniusError` for an unknown form or quantity or a bad ``min_points``."""
    if form not in FORMS:
        raise ArrheniusError(f"form must be one of {list(FORMS)}, got {form!r}")
    if quantity not in QUANTITIES:
        raise ArrheniusError(f"quantity must be one of {list(QUANTITIES)}, got {quantity!r}")
    if isinstance(min_points, bool) or not isinstance(min_points, numbers.Integral):
        raise ArrheniusError(f"min_points must be an integer >= 2, got {min_points!r}")
    if min_points < 2:
        raise ArrheniusError(f"min_points must be >= 2 (a line needs two points), got {min_points}")


def _repeated_temperatures(T: np.ndarray) -> list[str]:
    """A note for each temperature measured more than once; at least two must differ."""
    notes: list[str] = []
    uniq, counts = np.unique(T, return_counts=True)
    if uniq.size < 2:
        raise ArrheniusError(
            f"all {T.size} values are at the same temperature ({uniq[0]:g} K): "
            "an Arrhenius fit needs at least two different temperatures"
        )
    for t, c in zip(uniq, counts, strict=True):
        if c > 1:
            idx = ", ".join(str(i) for i in np.flatnonzero(T == t))
            notes.append(Finding(
                f"temperature {t:g} K appears {c} times (indices {idx}): "
                "kept as repeated measurements", "repeated_temperature", severity="note",
                numbers={"temperature_K": float(t), "count": int(c)},
            ))
    return notes


def _fit_line(
    x: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    v: np.ndarray,
    se: np.ndarray | None,
    notes: list[str],
) -> tuple[np.ndarray, np.ndarray, float, int, float, float]:
    """The weighted line y = b0 + b1 x and its statistics.

    Returns the coefficients, their covariance scaled by the reduced χ², the weighted residual
    sum of squares, the degrees of freedom, the reduced χ² (against the standard errors as given
    when there are some) and Student's 97.5 % quantile. Notes an exact line and a scatter larger
    than the standard errors allow.
    """
    n = x.size
    design = np.column_stack([np.ones(n), x])
    beta, cov_u, rss, dof, _ = _wls(design, y, w)
    if dof > 0:
        red_chi2 = rss / dof
        cov = cov_u * red_chi2
        tq = float(special.stdtrit(dof, 0.975))
    else:
        red_chi2 = math.nan
        cov = np.full((2, 2), np.nan)
        tq = math.nan
        notes.append(Finding(
            f"only {n} temperatures: the line is exact and Ea has no standard error",
            "exact_line", numbers={"n": n},
        ))
    if se is not None and dof > 0:
        chi2_abs = _abs_chi2(y, x, beta, se, v)
        red_chi2 = chi2_abs / dof  # report against the standard errors as given
        if float(special.chdtrc(dof, chi2_abs)) < 0.001:
            notes.append(Finding(
                f"the points scatter more than their standard errors allow (reduced chi-square "
                f"{red_chi2:.3g}); Ea_stderr includes that scatter", "scatter",
                numbers={"reduced_chi_square": red_chi2},
            ))
    return beta, cov, rss, dof, red_chi2, tq


def _negative_ea_note(Ea: float, quantity: str) -> Finding:
    """The warning for a negative activation energy (values the wrong way round?)."""
    what = "resistance rises" if quantity == "resistance" else f"{quantity} falls"
    other = "conductivity" if quantity == "resistance" else "resistance"
    return Finding(
        f"Ea is negative ({Ea:.3g} eV): the {what} as the temperature rises; "
        f"check the data, or pass quantity={other!r} if that is what the values are",
        "negative_ea", numbers={"Ea_eV": Ea},
    )


def _read_only(
    T: np.ndarray, v: np.ndarray, se: np.ndarray | None, cov: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Read-only copies of the temperatures, values and standard errors; ``cov`` frozen in place."""
    temps = T.copy()
    vals = v.copy()
    temps.setflags(write=False)
    vals.setflags(write=False)
    if se is not None:
        se = se.copy()
        se.setflags(write=False)
    cov.setflags(write=False)
    return temps, vals, se


def _abs_chi2(
    y: np.ndarray, x: np.ndarray, beta: np.ndarray, se: np.ndarray, v: np.ndarray
) -> float:
    """χ² of the line with the standard errors taken as absolute (log units)."""
    resid = y - (beta[0] + beta[1] * x)
    return float(np.sum((resid / (se / v)) ** 2))


# --------------------------------------------------------------------------- transference
def _from_fit(value: Any, name: str, role: str) -> Any:
    """The resistance of ``role`` (Ohm, a ufloat when it has a standard error) in a fit."""
    if not hasattr(value, "resistance_uvars"):  # a FitResult (analysis does not import fits)
        return value
    r = value.resistance_uvars.get(role)
    if r is None:
        have = ", ".join(k for k in value.resistance_uvars if k not in ("total",)) or "none"
        source = value.spectrum.source or "the spectrum"
        raise ArrheniusError(
            f"{name}: the fit of {source} has no {role!r} resistance (its roles: {have}); "
            "fit a circuit with that role (e.g. 'li-symmetric') or pass role="
        )
    if isinstance(r, UFloat) and not math.isfinite(r.std_dev):
        r = r.nominal_value
    return r


def _scalar(value: Any, name: str, unit: str) -> Any:
    if isinstance(value, UFloat):
        nominal = value.nominal_value
    elif isinstance(value, numbers.Real) and not isinstance(value, bool):
        nominal = float(value)
        value = nominal
    else:
        extra = " (a FitResult is accepted too)" if name in ("R0", "Rs") else ""
        raise ArrheniusError(
            f"{name} must be a number or a ufloat in {unit}, got {type(value).__name__}{extra}"
        )
    if not math.isfinite(nominal):
        raise ArrheniusError(f"{name} must be finite, got {nominal}")
    return value


def transference_number(
    delta_V: Any, I0: Any, Is: Any, R0: Any, Rs: Any, *, role: str = "interface"
) -> Any:
    """Li⁺ transference number by the Bruce–Vincent method.

    t+ = Is (ΔV − I0 R0) / (I0 (ΔV − Is Rs))

    Parameters
    ----------
    delta_V
        DC polarisation voltage ΔV in V across the whole cell (e.g. 0.05 for 50 mV).
    I0
        Initial current in A (right after the step).
    Is
        Steady-state current in A.
    R0
        Interfacial resistance of the cell in Ohm from impedance before polarisation, or the
        :class:`~eisfit.FitResult` of that spectrum.
    Rs
        Interfacial resistance of the cell in Ohm from impedance at steady state, or the
        :class:`~eisfit.FitResult` of that spectrum.
    role
        The resistance role taken from a FitResult (default ``"interface"``, the
        charge-transfer arc of the ``li-symmetric`` circuit).

    Numbers may be floats or ``uncertainties`` ufloats; uncertainties (and correlations between
    ufloats, e.g. R0 and Rs from one covariance) propagate. A FitResult gives its ``role``
    resistance with its standard error; two separate fits are independent.

    R0 and Rs are the **whole cell's** interfacial resistances, in Ohm, not area-specific and
    not per interface: ΔV falls across the cell, so I0·R0 is the drop over every interface the
    current crosses. In a Li|SSE|Li symmetric cell that is both Li|SSE interfaces in series,
    which is what the ``interface`` resistance of a ``li-symmetric`` fit is (the ASR of *one*
    interface, R_int·A/2, is what :meth:`FitResult.asr` reports; do not pass that here).

    Returns
    -------
    float or uncertainties value
        t+ (dimensionless); a ufloat when any input is one.

    Raises
    ------
    ArrheniusError
        An input that is not a number, not finite, zero where it divides (I0, ΔV − Is·Rs),
        or currents of opposite sign.

    Warns
    -----
    RuntimeWarning
        When t+ falls outside [0, 1], which usually means ΔV was given in mV instead of V, or
        ΔV − I0·R0 is negative.

    Examples
    --------
    >>> round(transference_number(0.05, 100e-6, 80e-6, 150.0, 160.0), 4)
    0.7527

    From the fits of the spectra before and after polarisation (their interface resistances)::

        t = transference_number(0.05, 100e-6, 80e-6, R0=fit_before, Rs=fit_after)
    """
    if not isinstance(role, str):
        raise ArrheniusError(f"role must be a resistance role name, got {type(role).__name__}")
    dv = _scalar(delta_V, "delta_V", "V")
    i0 = _scalar(I0, "I0", "A")
    i_s = _scalar(Is, "Is", "A")
    r0 = _scalar(_from_fit(R0, "R0", role), "R0", "Ohm")
    rs = _scalar(_from_fit(Rs, "Rs", role), "Rs", "Ohm")

    def nom(q: Any) -> float:
        return q.nominal_value if isinstance(q, UFloat) else float(q)

    if nom(i0) == 0:
        raise ArrheniusError("I0 must not be zero")
    if nom(dv) == 0:
        raise ArrheniusError("delta_V must not be zero")
    if nom(i0) * nom(i_s) < 0:
        raise ArrheniusError(
            f"I0 ({nom(i0):g} A) and Is ({nom(i_s):g} A) have opposite signs"
        )
    if nom(r0) < 0 or nom(rs) < 0:
        raise ArrheniusError("R0 and Rs must not be negative (Ohm)")
    denominator = i0 * (dv - i_s * rs)
    if nom(denominator) == 0:
        raise ArrheniusError("delta_V - Is*Rs is zero: t+ is undefined")
    t = i_s * (dv - i0 * r0) / denominator
    tv = nom(t)
    if not 0.0 <= tv <= 1.0:
        hint = ""
        if abs(nom(dv)) > 1:
            hint = " (delta_V is over 1 V: was it given in mV? pass volts)"
        elif (nom(dv) - nom(i0) * nom(r0)) * nom(dv) < 0:
            hint = " (delta_V - I0*R0 has the wrong sign: check units of I0 and R0)"
        _warnings.warn(
            f"transference number {tv:.3g} is outside [0, 1]{hint}", RuntimeWarning, stacklevel=2
        )
    return t
