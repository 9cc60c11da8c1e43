"""``FitResult``: parameters with uncertainties, physical quantities by role, checks, reports."""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from typing import Any

import lmfit
import numpy as np
import uncertainties
from uncertainties import ufloat

from . import guess
from .circuit import Circuit
from .engine import Problem, Solution, covariance
from .named import NamedCircuit
from .output import json_float as _f
from .spectrum import Spectrum

#: Correlation above which a pair of parameters is reported as not separately determined.
CORRELATION_LIMIT = 0.98


@dataclass(eq=False)
class ParameterRecord:
    """One fitted parameter: what lmfit's ``Parameter`` holds, without its expression machinery.

    Attributes
    ----------
    name, value, stderr, min, max, vary
        As in lmfit (``stderr`` None when it could not be estimated).
    correl
        Correlation with every other free parameter.
    """

    name: str
    value: float
    min: float
    max: float
    vary: bool
    stderr: float | None = None
    correl: dict[str, float] | None = None


@dataclass(frozen=True, eq=False)
class Arc:
    """An R‖CPE (or R‖C) arc of a fit.

    Attributes
    ----------
    name
        ``R1`` / ``CPE1`` style element names joined by ``‖``.
    role
        The arc's role (``bulk``...) or the resistor's name when the circuit has no roles.
    resistance
        Ohm, with its standard error as a ufloat.
    capacitance
        Effective capacitance (R Q)^(1/n) / R in F (Brug/Hsu–Mansfeld for a parallel arc).
    apex_hz
        1 / (2π (R Q)^(1/n)) in Hz.
    n
        CPE exponent (1 for a capacitor).
    """

    name: str
    role: str
    resistance: Any
    capacitance: Any
    apex_hz: Any
    n: float


@dataclass(frozen=True, eq=False)
class FitResult:
    """The outcome of :func:`eisfit.fit`. Immutable; every number is computed once.

    Attributes
    ----------
    spectrum
        The spectrum fitted (after any inductive points were dropped).
    circuit
        The circuit fitted (the reduced one when an arc was hidden above the window).
    circuit_name
        The named circuit's name, or None for a circuit string.
    weighting
        ``modulus``, ``proportional`` or ``unit``.
    records
        Parameter name -> :class:`ParameterRecord` (value, stderr, correl, bounds, vary);
        :attr:`params` gives the same as lmfit ``Parameters``.
    uvars
        Parameter name -> correlated ufloat (the ``uncertainties`` package).
    chisqr
        Weighted sum of squared residuals.
    chi_square
        Reduced χ²: chisqr / (2N − p).
    aic, bic
        Akaike and Bayesian information criteria.
    resistances
        Role -> resistance (Ohm) as plain floats; ``resistance_stderr`` holds their errors.
    capacitances, apex_hz
        Role -> effective capacitance (F) and apex frequency (Hz) of each arc.
    arcs
        The arcs with ufloats.
    warnings
        Human-readable warnings; empty when nothing is suspicious.
    flags
        Parameter name -> list of flags (``at_bound``, ``relative_error_over_100%``).
    """

    spectrum: Spectrum
    circuit: Circuit
    named: NamedCircuit | None
    weighting: str
    records: dict[str, ParameterRecord]
    uvars: dict[str, Any]
    chisqr: float
    chi_square: float
    aic: float
    bic: float
    n_free: int
    nfev: int
    success: bool
    external_resistance: float
    resistances: dict[str, float]
    resistance_stderr: dict[str, float]
    resistance_uvars: dict[str, Any]
    arcs: tuple[Arc, ...]
    warnings: tuple[str, ...]
    flags: dict[str, list[str]] = field(default_factory=dict)
    original: Spectrum | None = None

    # ------------------------------------------------------------------ derived views
    @property
    def params(self) -> lmfit.Parameters:
        """The parameters as lmfit ``Parameters`` (value, stderr, correl, bounds, vary).

        Built on first use: an lmfit ``Parameters`` carries an expression interpreter that
        costs more to make and to pickle than the fit itself, and batches rarely need it.
        """
        cached = self.__dict__.get("_params")
        if cached is None:
            cached = lmfit.Parameters()
            for r in self.records.values():
                cached.add(r.name, value=r.value, min=r.min, max=r.max, vary=r.vary)
                cached[r.name].stderr = r.stderr
                cached[r.name].correl = dict(r.correl) if r.correl is not None else None
            object.__setattr__(self, "_params", cached)
        return cached

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_params", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    @property
    def circuit_name(self) -> str | None:
        """The named circuit's name, or None."""
        return self.named.name if self.named is not None else None

    @property
    def values(self) -> dict[str, float]:
        """Parameter name -> best-fit value."""
        return {k: float(p.value) for k, p in self.records.items()}

    @property
    def stderr(self) -> dict[str, float]:
        """Parameter name -> standard error (NaN when it could not be estimated)."""
        return {
            k: float(p.stderr) if p.stderr is not None else math.nan
            for k, p in self.records.items()
        }

    @property
    def capacitances(self) -> dict[str, float]:
        """Role -> effective capacitance of each arc in F."""
        return {a.role: float(uncertainties.nominal_value(a.capacitance)) for a in self.arcs}

    @property
    def apex_hz(self) -> dict[str, float]:
        """Role -> apex frequency of each arc in Hz."""
        return {a.role: float(uncertainties.nominal_value(a.apex_hz)) for a in self.arcs}

    @property
    def n_points(self) -> int:
        """Number of frequencies fitted."""
        return len(self.spectrum)

    def impedance(self, frequency: Any = None) -> np.ndarray:
        """The fitted circuit's impedance (Ohm) at ``frequency`` (Hz; the data's by default)."""
        f = self.spectrum.frequency if frequency is None else np.asarray(frequency, float)
        return self.circuit.impedance(f, [p.value for p in self.records.values()])

    def residuals(self) -> np.ndarray:
        """Relative complex residuals (Z_data − Z_fit)/|Z_data|."""
        z = self.spectrum.z
        return (z - self.impedance()) / np.abs(z)

    # ------------------------------------------------------------------ physics
    def conductivity(self, geometry: Any) -> dict[str, Any]:
        """Conductivity (S/cm) for each resistance role, as ufloats.

        Parameters
        ----------
        geometry
            An :class:`eisfit.Geometry`.

        Returns
        -------
        dict
            Role -> σ = L / (R A) with its standard error, for ``bulk``, ``grain_boundary``
            (apparent), ``total`` and ``electrolyte`` where the fit has them.
        """
        out = {}
        for role in ("bulk", "grain_boundary", "electrolyte", "total"):
            r = self.resistance_uvars.get(role)
            if r is not None and uncertainties.nominal_value(r) > 0:
                out[role] = geometry.conductivity(r)
        return out

    def asr(self, geometry: Any) -> dict[str, Any]:
        """Area-specific resistance R·A (Ohm cm²) per role; per interface for symmetric cells."""
        out = {}
        n_if = self.named.interfaces if self.named is not None else 1
        for role, r in self.resistance_uvars.items():
            value = geometry.asr(r)
            if role.endswith("interface") and n_if > 1:
                value = value / n_if
            out[role] = value
        return out

    # ------------------------------------------------------------------ output
    def to_frame(self) -> Any:
        """The parameter table as a pandas DataFrame: name, value, stderr, unit, vary, flags."""
        import pandas as pd

        units = dict(zip(self.circuit.parameter_names, self.circuit.parameter_units, strict=True))
        rows = [
            {
                "parameter": k,
                "value": float(p.value),
                "stderr": float(p.stderr) if p.stderr is not None else math.nan,
                "unit": units[k],
                "vary": bool(p.vary),
                "flags": ", ".join(self.flags.get(k, [])),
            }
            for k, p in self.records.items()
        ]
        return pd.DataFrame(rows).set_index("parameter")

    def to_dict(self, geometry: Any = None) -> dict[str, Any]:
        """The JSON object of the command line's ``--json`` output (see docs)."""
        meta = self.spectrum.meta
        params = {}
        units = dict(zip(self.circuit.parameter_names, self.circuit.parameter_units, strict=True))
        for k, p in self.records.items():
            params[k] = {
                "value": _f(p.value),
                "stderr": _f(p.stderr) if p.stderr is not None else None,
                "unit": units[k],
                "vary": bool(p.vary),
                "flags": list(self.flags.get(k, [])),
            }
        d: dict[str, Any] = {
            "source": meta.get("source"),
            "spectrum": meta.get("spectrum_index", 0),
            "circuit": str(self.circuit),
            "circuit_name": self.circuit_name,
            "n_points": self.n_points,
            "weighting": self.weighting,
            "chi_square": _f(self.chi_square),
            "aic": _f(self.aic),
            "bic": _f(self.bic),
            "temperature_K": _f(self.spectrum.temperature),
            "frequency_range_Hz": [_f(x) for x in self.spectrum.frequency_range],
            "external_resistance_ohm": _f(self.external_resistance),
            "parameters": params,
            "resistances_ohm": {k: _f(v) for k, v in self.resistances.items()},
            "resistance_stderr_ohm": {k: _f(v) for k, v in self.resistance_stderr.items()},
            "capacitances_F": {k: _f(v) for k, v in self.capacitances.items()},
            "apex_frequency_Hz": {k: _f(v) for k, v in self.apex_hz.items()},
        }
        if geometry is not None:
            sig = self.conductivity(geometry)
            d["conductivity_S_per_cm"] = {
                k: _f(uncertainties.nominal_value(v)) for k, v in sig.items()
            }
            d["conductivity_stderr_S_per_cm"] = {
                k: _f(uncertainties.std_dev(v)) for k, v in sig.items()
            }
            d["asr_ohm_cm2"] = {
                k: _f(uncertainties.nominal_value(v)) for k, v in self.asr(geometry).items()
            }
            d["geometry"] = geometry.to_dict() if hasattr(geometry, "to_dict") else str(geometry)
        d["warnings"] = list(self.warnings)
        return d

    def report(self, geometry: Any = None) -> str:
        """A plain-text report in fixed sections."""
        lines = ["[[Fit]]"]
        lines.append(f"    source       = {self.spectrum.source or '-'}")
        name = f" ({self.circuit_name})" if self.circuit_name else ""
        lines.append(f"    circuit      = {self.circuit}{name}")
        lo, hi = self.spectrum.frequency_range
        lines.append(f"    points       = {self.n_points}, {lo:.3g} Hz to {hi:.3g} Hz")
        lines.append(f"    weighting    = {self.weighting}")
        lines.append(f"    chi_square   = {self.chi_square:.3g}  (reduced)")
        lines.append(f"    AIC, BIC     = {self.aic:.1f}, {self.bic:.1f}")
        if self.spectrum.temperature is not None:
            lines.append(f"    temperature  = {self.spectrum.temperature:.2f} K")
        lines.append("[[Parameters]]")
        units = dict(zip(self.circuit.parameter_names, self.circuit.parameter_units, strict=True))
        for k, p in self.records.items():
            err = _fmt_err(p.value, p.stderr)
            flag = f"  [{', '.join(self.flags[k])}]" if self.flags.get(k) else ""
            fixed = "  (fixed)" if not p.vary else ""
            lines.append(f"    {k:<8} = {err} {units[k]}{fixed}{flag}")
        if self.resistances:
            lines.append("[[Resistances]]")
            for role, v in self.resistances.items():
                lines.append(
                    f"    {role:<18} = {_fmt_err(v, self.resistance_stderr.get(role))} Ohm"
                )
        if self.arcs:
            lines.append("[[Arcs]]")
            for a in self.arcs:
                c = uncertainties.nominal_value(a.capacitance)
                f = uncertainties.nominal_value(a.apex_hz)
                lines.append(
                    f"    {a.role:<18} C_eff = {c:.3g} F, apex = {f:.3g} Hz, n = {a.n:.3f}"
                )
        if geometry is not None:
            lines.append("[[Conductivity]]")
            lines.append(f"    geometry     = {geometry}")
            for role, s in self.conductivity(geometry).items():
                text = _fmt_err(uncertainties.nominal_value(s), uncertainties.std_dev(s))
                lines.append(f"    {role:<18} = {text} S/cm")
        lines.append("[[Warnings]]")
        if self.warnings:
            lines.extend(f"    - {w}" for w in self.warnings)
        else:
            lines.append("    none")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.report()

    def __repr__(self) -> str:
        res = ", ".join(f"{k}={v:.4g}" for k, v in self.resistances.items())
        return f"<FitResult {self.circuit_name or self.circuit}: {res}; chi2={self.chi_square:.2g}>"

    def _repr_html_(self) -> str:
        rows = []
        units = dict(zip(self.circuit.parameter_names, self.circuit.parameter_units, strict=True))
        for k, p in self.records.items():
            flags = ", ".join(self.flags.get(k, []))
            rows.append(
                "<tr>"
                f"<td>{html.escape(k)}</td><td>{html.escape(_fmt_err(p.value, p.stderr))}</td>"
                f"<td>{html.escape(units[k])}</td><td>{html.escape(flags)}</td></tr>"
            )
        res_rows = "".join(
            f"<tr><td>{html.escape(r)}</td><td>"
            f"{html.escape(_fmt_err(v, self.resistance_stderr.get(r)))} Ohm</td></tr>"
            for r, v in self.resistances.items()
        )
        warn = "".join(f"<li>{html.escape(w)}</li>" for w in self.warnings)
        title = html.escape(f"{self.circuit_name or ''} {self.circuit}".strip())
        return (
            f"<div><strong>FitResult</strong> {title}, χ²={self.chi_square:.3g}, "
            f"{self.n_points} points"
            "<table><tr><th>parameter</th><th>value</th><th>unit</th><th>flags</th></tr>"
            + "".join(rows)
            + "</table><table><tr><th>role</th><th>resistance</th></tr>"
            + res_rows
            + "</table>"
            + (f"<ul>{warn}</ul>" if warn else "")
            + _figure_html(self)
            + f"<details><summary>text</summary><pre>{html.escape(self.report())}</pre></details>"
            + "</div>"
        )


def _figure_html(result: FitResult) -> str:
    """The fit's Nyquist and residual plot as an embedded image; nothing if it cannot be drawn."""
    try:
        from .plot import fit_figure
        from .report import figure_img

        return figure_img(fit_figure(result), "fit", dpi=80)
    except Exception:  # a display nicety: the table above stands without it
        return ""


def _fmt_err(value: float, err: float | None) -> str:
    if err is None or not np.isfinite(err) or err <= 0:
        return f"{value:.5g}"
    return f"{value:.5g} ± {err:.2g}"


# --------------------------------------------------------------------------- building
def build_result(
    spectrum: Spectrum,
    circuit: Circuit,
    named: NamedCircuit | None,
    weighting: str,
    problem: Problem,
    sol: Solution,
    external_resistance: float,
    notes: list[str],
    original: Spectrum | None = None,
) -> FitResult:
    """Turn a solver solution into a :class:`FitResult` (statistics, roles, checks)."""
    names = circuit.parameter_names
    p = sol.params
    free = problem.free
    n_free = int(free.size)
    r = sol.residual
    n_res = r.size
    chisqr = float(r @ r)
    dof = max(n_res - n_free, 1)
    redchi = chisqr / dof
    with np.errstate(divide="ignore"):
        neg2ll = n_res * np.log(max(chisqr, 1e-300) / n_res)
    aic = float(neg2ll + 2 * n_free)
    bic = float(neg2ll + np.log(n_res) * n_free)

    cov_u = covariance(sol, n_free)
    # covariance in natural units: dp = p du for log-scaled parameters
    scale = np.where(problem.log[free], p[free], 1.0)
    cov_p = None if cov_u is None else cov_u * np.outer(scale, scale)

    params = {
        n: ParameterRecord(
            n, float(p[i]), float(problem.lower[i]), float(problem.upper[i]), bool(problem.vary[i])
        )
        for i, n in enumerate(names)
    }
    uvars: dict[str, Any] = {}
    if cov_p is not None and np.all(np.isfinite(cov_p)) and np.all(np.diag(cov_p) >= 0):
        try:
            corr_vals = uncertainties.correlated_values(p[free], cov_p)
        except (ValueError, np.linalg.LinAlgError):
            corr_vals = [ufloat(p[i], math.sqrt(max(cov_p[k, k], 0))) for k, i in enumerate(free)]
        sd = np.sqrt(np.diag(cov_p))
        for k, i in enumerate(free):
            params[names[i]].stderr = float(sd[k])
            uvars[names[i]] = corr_vals[k]
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = cov_p / np.outer(sd, sd)
        for a, i in enumerate(free):
            params[names[i]].correl = {
                names[j]: float(corr[a, b]) for b, j in enumerate(free) if j != i
            }
    else:
        notes = [*notes, "the covariance matrix could not be estimated: no standard errors"]
        for i in free:
            uvars[names[i]] = ufloat(p[i], math.nan)
    for i, n in enumerate(names):
        if n not in uvars:
            uvars[n] = float(p[i])  # fixed parameter: an exact number

    # ---------------------------------------------------------------- flags
    flags: dict[str, list[str]] = {}
    lo_u, hi_u = problem.internal_bounds()
    for k, i in enumerate(free):
        span = hi_u[k] - lo_u[k]
        tol = 1e-4 * (span if np.isfinite(span) else 1.0)
        if sol.u[k] - lo_u[k] <= tol or hi_u[k] - sol.u[k] <= tol:
            flags.setdefault(names[i], []).append("at_bound")
        se = params[names[i]].stderr
        if se is not None and np.isfinite(se) and abs(p[i]) > 0 and se > abs(p[i]):
            flags.setdefault(names[i], []).append("relative_error_over_100%")

    warnings_: list[str] = list(notes)
    if not sol.success:
        warnings_.append(f"the solver did not converge: {sol.message}")
    for n, fl in flags.items():
        if "at_bound" in fl:
            i = names.index(n)
            side = (
                "lower" if abs(p[i] - problem.lower[i]) <= abs(problem.upper[i] - p[i]) else "upper"
            )
            bound = problem.lower[i] if side == "lower" else problem.upper[i]
            if circuit.parameter_kinds[i] == "exponent" and bound == 1.0:
                owner = (named.roles if named is not None else {}).get(n.split("_")[0])
                what = f"the {owner} CPE" if owner else "the CPE"
                warnings_.append(
                    f"{n} = {p[i]:.3g} sits at its upper bound 1: {what} exponent is pinned at "
                    "an ideal capacitor, so its bound, not the data, sets it"
                )
            else:
                warnings_.append(f"{n} = {p[i]:.3g} sits at its {side} bound {bound:.3g}")
        if "relative_error_over_100%" in fl:
            warnings_.append(f"{n} is not determined by the data (standard error above 100 %)")

    # ---------------------------------------------------------------- roles
    roles = named.roles if named is not None else {}
    res_u: dict[str, Any] = {}
    st = guess.structure(circuit)
    intercept_parts = []
    for e in circuit.elements:
        role = roles.get(e.name)
        if role is None:
            continue
        if e.element.name == "R" and role != "intercept":
            res_u[role] = uvars[e.name]
        elif e.element.name in ("Wo", "Ws", "W", "G", "Gs") and role == "diffusion":
            res_u[role] = uvars[e.param_names[0]]
        elif role == "intercept" and e.element.name == "R":
            intercept_parts.append(uvars[e.name])
    if intercept_parts:
        intercept = sum(intercept_parts[1:], intercept_parts[0]) - external_resistance
        if named is not None and named.hidden_role:
            if external_resistance > 0:
                res_u["series"] = float(external_resistance)
            res_u[named.hidden_role] = intercept
        else:
            res_u["total"] = intercept
        if uncertainties.nominal_value(intercept) <= 0:
            raw = uncertainties.nominal_value(intercept) + external_resistance
            warnings_.append(
                f"the high-frequency intercept {raw:.4g} "
                f"Ohm is not above the external resistance {external_resistance:g} Ohm"
            )
    if named is not None and named.total:
        parts = [res_u[r] for r in named.total if r in res_u]
        if (
            parts
            and "total" not in res_u
            and len(parts) == sum(1 for r in named.total if r in res_u)
        ):
            res_u["total"] = sum(parts[1:], parts[0])

    # ---------------------------------------------------------------- arcs
    arcs = []
    f_lo, f_hi = spectrum.frequency_range
    for a in st.arcs:
        if a.kind not in ("rq", "rc"):
            continue
        r_name = a.names[0]
        role = roles.get(r_name, r_name)
        if role == "intercept":
            continue  # an arc above the window, reported as part of the intercept
        ru = uvars[r_name]
        if a.kind == "rq":
            qu = uvars[names[a.indices[1]]]
            nu = uvars[names[a.indices[2]]]
            tau = (ru * qu) ** (1 / nu)
            n_val = float(p[a.indices[2]])
        else:
            tau = ru * uvars[names[a.indices[1]]]
            n_val = 1.0
        cap = tau / ru
        apex = 1 / (2 * math.pi * tau)
        arcs.append(Arc(f"{a.names[0]}‖{a.names[1]}", role, ru, cap, apex, n_val))
        f_apex = uncertainties.nominal_value(apex)
        if f_apex > f_hi:
            warnings_.append(
                f"the {role} arc's apex ({f_apex:.3g} Hz) lies above the highest measured "
                f"frequency ({f_hi:.3g} Hz): its resistance and capacitance are extrapolated"
            )
        elif f_apex < f_lo:
            warnings_.append(
                f"the {role} arc's apex ({f_apex:.3g} Hz) lies below the lowest measured "
                f"frequency ({f_lo:.3g} Hz): its resistance is extrapolated"
            )
        if a.kind == "rq" and n_val < 0.5:
            warnings_.append(
                f"the {role} arc's CPE exponent n = {n_val:.2f} is below 0.5: the arc is "
                "strongly depressed and may stand for more than one process"
            )
        if named is not None and role in named.capacitance_F:
            c = uncertainties.nominal_value(cap)
            lo_c, hi_c = named.capacitance_F[role]
            if not lo_c <= c <= hi_c:
                other = [
                    k for k, (a_, b_) in named.capacitance_F.items() if a_ <= c <= b_ and k != role
                ]
                hint = (
                    f" and in the {other[0]} range: the arc may be the {other[0]}" if other else ""
                )
                warnings_.append(
                    f"{role} capacitance {c:.2g} F is outside the range expected for {role} "
                    f"({lo_c:.0e}-{hi_c:.0e} F){hint}"
                )

    # ---------------------------------------------------------------- correlations
    # Q and n of one CPE are correlated near ±1 whenever the arc's apex is far from 1 rad/s
    # (Q carries the unit S s^n, so a change of n moves Q at fixed apex): a property of the
    # parametrisation, not of the data. Their standard errors and the arc's C_eff and apex say
    # whether the arc is determined; the pair is left out of the warnings (kept in correl).
    cpe_pairs = {tuple(sorted(e.param_names)) for e in circuit.elements if e.element.name == "CPE"}
    seen = set()
    for k, par in params.items():
        for other, c in (par.correl or {}).items():
            key = tuple(sorted((k, other)))
            if key in seen or not np.isfinite(c):
                continue
            seen.add(key)
            if key in cpe_pairs:
                continue
            if abs(c) > CORRELATION_LIMIT:
                warnings_.append(
                    f"{key[0]} and {key[1]} are correlated ({c:+.3f}): the data do not "
                    "determine them separately"
                )

    res = {k: float(uncertainties.nominal_value(v)) for k, v in res_u.items()}
    res_err = {k: float(uncertainties.std_dev(v)) for k, v in res_u.items()}
    return FitResult(
        spectrum=spectrum,
        circuit=circuit,
        named=named,
        weighting=weighting,
        records=params,
        uvars=uvars,
        chisqr=chisqr,
        chi_square=redchi,
        aic=aic,
        bic=bic,
        n_free=n_free,
        nfev=int(sol.nfev),
        success=bool(sol.success),
        external_resistance=float(external_resistance),
        resistances=res,
        resistance_stderr=res_err,
        resistance_uvars=res_u,
        arcs=tuple(arcs),
        warnings=tuple(dict.fromkeys(warnings_)),
        flags=flags,
        original=original,
    )
