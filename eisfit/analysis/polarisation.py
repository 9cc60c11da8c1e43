"""Electronic conductivity and transference numbers from DC polarisation.

Hebb–Wagner (steady state, ion-blocking electrodes, small bias): a cell with electrodes that
block the mobile ion, polarised by a small constant voltage ΔV, first carries the ionic and the
electronic current; the ions pile up at the blocking electrodes until their concentration
gradient cancels the field, after which only electrons and holes move. The steady current then
gives the electronic conductivity, σ_e = I_ss·L / (ΔV·A).

Bruce–Vincent: with non-blocking (Li) electrodes, the initial and steady currents and the
interfacial resistances before and after polarisation give t+ (see
:func:`eisfit.transference_number`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from uncertainties import UFloat, ufloat

from eisfit.analysis.polarisation_steady import (
    PolarisationError,
    SteadyState,
    rest_start,
    steady_state,
    voltage_steps,
)
from eisfit.io.polarisation import Polarisation

__all__ = ["HebbWagner", "BruceVincent", "hebb_wagner", "bruce_vincent"]

#: A step's voltage is held when 90 % of its points lie within the larger of these: 5 mV, or
#: 0.2 % of the voltage.
HELD_V, HELD_REL = 5e-3, 2e-3


@dataclass(frozen=True)
class HebbWagner:
    """The steady-state Hebb–Wagner (DC polarisation) result.

    Attributes
    ----------
    steps
        The steady state of each voltage step analysed.
    voltages_V
        The voltage ΔV of each step (V): the user's, else the record's.
    current_ss
        I_ss (A, ufloat) of a single step; for a staircase, the I_ss of its last step.
    conductance_e
        Electronic conductance G_e (S, ufloat): I_ss/ΔV, or the slope of the I–V line.
    resistance_e
        Electronic resistance R_e = 1/G_e (Ohm, ufloat).
    conductivity_e
        σ_e = G_e·L/A (S/cm, ufloat), None without a geometry with a thickness.
    ionic
        σ_ion (S/cm) or, compared by resistance, G_ion (S) (ufloat), None when not given.
    ionic_source
        Where ``ionic`` came from, in words.
    t_ion, t_e, ratio
        Ionic and electronic transference numbers and σ_ion/σ_e (ufloats), None without an
        ionic conductivity.
    method
        How G_e was obtained, in words.
    geometry
        The :class:`~eisfit.Geometry`, or None.
    source
        The record's file.
    """

    steps: tuple[SteadyState, ...]
    voltages_V: tuple[float, ...]
    current_ss: Any
    conductance_e: Any
    resistance_e: Any
    conductivity_e: Any
    ionic: Any
    ionic_source: str | None
    t_ion: Any
    t_e: Any
    ratio: Any
    method: str
    geometry: Any = None
    source: str = ""
    intercept_A: Any = field(default=None)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary (values and standard errors in SI, σ in S/cm)."""
        return _to_dict(self)

    def report(self) -> str:
        """A plain-text report of the result, numbers rounded to their errors."""
        return _report(self)


@dataclass(frozen=True)
class BruceVincent:
    """The Bruce–Vincent transference number from a polarisation record.

    Attributes
    ----------
    t_plus
        t+ (ufloat when any input has an error).
    initial_A
        I0 (A) and ``initial``: how it was taken (``"first"`` point or ``"extrapolated"``).
    steady
        The steady state of the record (I_ss).
    voltage_V
        ΔV (V).
    r0, rs
        The interfacial resistances before and after polarisation (Ohm).
    """

    t_plus: Any
    initial_A: float
    initial: str
    steady: SteadyState
    voltage_V: float
    r0: Any
    rs: Any

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary."""
        return {"t_plus": _pair(self.t_plus), "I0_A": self.initial_A, "I0_from": self.initial,
                "I_ss_A": _pair(ufloat(self.steady.current_A, self.steady.error_A)),
                "voltage_V": self.voltage_V, "R0_ohm": _pair(self.r0), "Rs_ohm": _pair(self.rs),
                "steady_state": self.steady.to_dict()}


# ----------------------------------------------------------------------------- inputs


def _nominal(x: Any) -> float:
    return float(getattr(x, "nominal_value", x))


def _u(v: float, e: float) -> Any:
    return ufloat(v, e) if e > 0 and math.isfinite(e) else float(v)


def _number(x: Any, name: str) -> Any:
    """A number, a ufloat, or a (value, error) pair as a ufloat; a one-line error otherwise."""
    if isinstance(x, UFloat):
        return x
    if isinstance(x, tuple) and len(x) == 2:
        return _u(_number(x[0], name), abs(_number(x[1], name)))
    if isinstance(x, (int, float, np.floating, np.integer)) and not isinstance(x, bool):
        if math.isfinite(float(x)):
            return float(x)
    raise PolarisationError(f"{name}: expected a finite number (or value, error), got {x!r}")


def _ionic(value: Any, geometry: Any) -> tuple[Any, str, bool]:
    """(σ_ion or G_ion, where from, is_conductance) of the ``ionic_conductivity`` argument."""
    if hasattr(value, "resistance_ufloat"):  # a FitResult (analysis does not import fits)
        for role in ("total", "electrolyte", "bulk"):
            r = value.resistance_ufloat(role)
            if r is not None:
                break
        else:
            raise PolarisationError("ionic_conductivity: the fit has no total, electrolyte or "
                                    "bulk resistance")
        if not _nominal(r) > 0:
            raise PolarisationError(f"ionic_conductivity: the fit's {role} resistance is not "
                                    "determined")
        what = f"the impedance fit's {role} resistance ({value.circuit_name or value.circuit})"
        if geometry is not None and geometry.has_thickness:
            return geometry.conductivity(r), what, False
        return 1.0 / r, what, True
    if geometry is None or not geometry.has_thickness:
        raise PolarisationError(
            "an ionic conductivity in S/cm is compared with sigma_e = I_ss L/(dV A): give the "
            "geometry with a thickness (or pass the impedance FitResult, compared by resistance)")
    sigma = _number(value, "ionic_conductivity")
    if not _nominal(sigma) > 0:
        raise PolarisationError(f"ionic_conductivity must be positive, got {value!r}")
    return sigma, "given", False


# ----------------------------------------------------------------------------- Hebb-Wagner


def _check_voltage(p: Polarisation, voltage: Any, n_steps: int) -> float | None:
    if voltage is None:
        if p.voltage_V is None:
            raise PolarisationError(
                f"{p.source}: the record has no voltage column; give the applied voltage "
                "(voltage=0.5 or --voltage 0.5V)")
        return None
    if n_steps > 1:
        raise PolarisationError(
            f"{p.source}: the record holds {n_steps} voltage steps; one voltage cannot apply "
            "to all of them: leave the voltage out to use the record's")
    v = _nominal(_number(voltage, "voltage"))
    if v == 0:
        raise PolarisationError("voltage must not be zero")
    return v


def _check_held(label: str, t: np.ndarray, v: np.ndarray | None) -> None:
    """Refuse a step whose voltage is not held (a galvanostatic segment, a sweep)."""
    if v is None:
        return
    lo, hi = np.percentile(v, [5, 95])
    limit = max(HELD_V, HELD_REL * float(np.median(np.abs(v))))
    if hi - lo > limit:
        raise PolarisationError(
            f"{label}: the voltage is not held constant between {t[0]:.6g} s and {t[-1]:.6g} s "
            f"(it varies by {(hi - lo) * 1e3:.3g} mV): not a chronoamperometry step; analyse "
            "the constant-voltage part (Polarisation.between, --start/--end)")


def _iv_line(states: list[SteadyState], volts: list[float]) -> tuple[Any, Any, str]:
    """Slope (S) and intercept (A) of I_ss against V, weighted by the I_ss errors."""
    v = np.asarray(volts)
    i = np.asarray([s.current_A for s in states])
    e = np.asarray([s.error_A for s in states])
    floor = 1e-6 * float(np.max(np.abs(i))) + 1e-300
    w = 1.0 / np.maximum(e, floor) ** 2
    a = np.column_stack([v, np.ones_like(v)])
    cov = np.linalg.inv(a.T @ (a * w[:, None]))
    coef = cov @ (a.T @ (w * i))
    if v.size > 2:  # scaled by the scatter when it exceeds the errors
        chi2 = float(w @ (i - a @ coef) ** 2) / (v.size - 2)
        cov = cov * max(chi2, 1.0)
    slope = _u(coef[0], math.sqrt(cov[0, 0]))
    how = (f"slope of the I_ss-V line through {v.size} voltage steps "
           f"({v.min():.4g} V to {v.max():.4g} V)")
    return slope, _u(coef[1], math.sqrt(cov[1, 1])), how


def hebb_wagner(
    polarisation: Polarisation,
    voltage: Any = None,
    geometry: Any = None,
    ionic_conductivity: Any = None,
    *,
    tail: float = 0.1,
    method: str = "mean",
    drift_limit: float = 0.03,
) -> HebbWagner:
    """Electronic conductivity from the steady current of an ion-blocking cell (Hebb–Wagner).

    This is the **steady-state Hebb–Wagner (DC polarisation) estimate**: a cell with
    electrodes that block the mobile ion (Au, Pt, stainless steel on a Li⁺ conductor) is held at
    a small voltage ΔV (linear regime, ΔV well below the decomposition window and small enough
    that I_ss is proportional to ΔV, typically ≤ 0.1–0.5 V); once the ions have polarised, only
    electrons and holes carry the current, and σ_e = I_ss·L / (ΔV·A). Symmetric electrodes are
    assumed (no open-circuit voltage: ΔV is the voltage across the cell).

    The full Hebb–Wagner analysis (with one reversible, one blocking electrode) measures the
    I–V curve over several voltages and differentiates it to obtain σ_e(a_Li) and the separate
    electron and hole contributions as functions of the lithium activity; that is not done
    here. A staircase record (several voltage steps in one file) is analysed as an I–V line:
    I_ss of each step, and the slope of I_ss against V gives G_e (more robust than one point,
    and an offset current is absorbed by the intercept).

    Parameters
    ----------
    polarisation
        The record (:func:`read_polarisation`); crop a longer sequence with
        :meth:`Polarisation.between`.
    voltage
        ΔV in V (a number, a ufloat or (value, error)); None: the record's median voltage over
        each step's tail. Only for a single step.
    geometry
        A :class:`~eisfit.Geometry` with thickness and area: gives σ_e in S/cm.
    ionic_conductivity
        σ_ion in S/cm (number, ufloat or (value, error), needs the geometry), or the
        :class:`~eisfit.FitResult` of the cell's impedance (its ``total`` resistance, i.e.
        bulk + grain boundary; with no geometry the two are compared by resistance, the cell
        constant cancelling).
    tail, method, drift_limit
        How each step's I_ss is taken (see
        :func:`~eisfit.analysis.polarisation_steady.steady_state`): the
        mean of the last ``tail`` of the step (default 10 %) or the asymptote of an
        exponential fitted to its last half (``method="fit"``); a relative change of the
        current above ``drift_limit`` over the tail warns that steady state was not reached.

    Returns
    -------
    HebbWagner
        I_ss, G_e, R_e, σ_e with standard errors; with an ionic conductivity,
        t_ion = σ_ion/(σ_ion + σ_e), t_e = σ_e/(σ_ion + σ_e) and σ_ion/σ_e.

    Warns
    -----
    SteadyStateWarning
        The current still changes by more than ``drift_limit`` over the tail of a step.
    """
    p = polarisation
    steps = voltage_steps(p.voltage_V, p.time_s.size)
    v_user = _check_voltage(p, voltage, len(steps))
    states = []
    for k, s in enumerate(steps):
        label = p.source if len(steps) == 1 else f"{p.source}, voltage step {k + 1}"
        cut = s.start + rest_start(p.current_A[s])
        rest = s.stop - cut
        s = slice(s.start, cut)
        vv = None if p.voltage_V is None else p.voltage_V[s]
        _check_held(label, p.time_s[s], vv)
        st = steady_state(p.time_s[s], p.current_A[s], vv, tail=tail, method=method,
                          drift_limit=drift_limit, label=label)
        if rest:
            st = replace(st, method=f"{st.method}; the last {rest} points, an open-circuit "
                         "rest (current below 1 % of the point before), left out")
        states.append(st)
    volts = [v_user if v_user is not None else float(st.voltage_V) for st in states]
    last = states[-1]
    i_ss = _u(last.current_A, last.error_A)
    intercept = None
    distinct = len({round(v, 4) for v in volts})
    if len(states) > 1 and distinct > 1:
        g, intercept, how = _iv_line(states, volts)
    else:
        if volts[-1] == 0:
            raise PolarisationError(f"{p.source}: the voltage is 0 V; give the applied voltage")
        dv = _number(voltage, "voltage") if voltage is not None else volts[-1]
        g = i_ss / dv
        how = f"I_ss/dV at {volts[-1]:.4g} V ({last.method})"
    if not _nominal(g) > 0:
        raise PolarisationError(
            f"{p.source}: the steady current and the voltage have opposite signs (or no "
            "current): no electronic conductance")
    return _finish(p, tuple(states), tuple(volts), i_ss, g, intercept, how, geometry,
                   ionic_conductivity)


def _finish(p: Polarisation, states: tuple, volts: tuple, i_ss: Any, g: Any, intercept: Any,
            how: str, geometry: Any, ionic_conductivity: Any) -> HebbWagner:
    """The conductivity, transference numbers and the result record."""
    sigma_e = None
    if geometry is not None and geometry.has_thickness:
        sigma_e = g * geometry.cell_constant_per_cm
    ionic, source, by_conductance = (None, None, False)
    t_ion = t_e = ratio = None
    if ionic_conductivity is not None:
        ionic, source, by_conductance = _ionic(ionic_conductivity, geometry)
        electronic = g if by_conductance else sigma_e
        t_ion = ionic / (ionic + electronic)
        t_e = electronic / (ionic + electronic)
        ratio = ionic / electronic
        if by_conductance:
            source += ", compared by conductance (no thickness)"
    return HebbWagner(states, volts, i_ss, g, 1.0 / g, sigma_e, ionic, source, t_ion, t_e,
                      ratio, how, geometry, p.source, intercept)


# ----------------------------------------------------------------------------- Bruce-Vincent


def bruce_vincent(
    polarisation: Polarisation,
    voltage: Any,
    r0: Any,
    rs: Any,
    *,
    initial: str = "first",
    role: str = "interface",
    tail: float = 0.1,
    method: str = "mean",
) -> BruceVincent:
    """Li⁺ transference number by Bruce–Vincent from a chronoamperometry record.

    t+ = I_ss (ΔV − I0 R0) / (I0 (ΔV − I_ss Rs)), by :func:`eisfit.transference_number`.

    Parameters
    ----------
    polarisation
        The record of a Li|electrolyte|Li cell held at ΔV.
    voltage
        ΔV in V; None: the record's median voltage over its tail.
    r0, rs
        Interfacial resistances (Ohm) before and after polarisation, numbers or the
        :class:`~eisfit.FitResult` of each spectrum (its ``role`` resistance).
    initial
        How I0 is taken: ``"first"``, the first point of the record (the current right after
        the step; the usual choice), or ``"extrapolated"``, ``I_ss + A`` of
        ``I_ss + A exp(-t/τ)`` fitted to the whole record, i.e. the decay extrapolated to the
        start of the record (it leaves out a double-layer spike in the first points).
    role
        The resistance role of a FitResult (default ``interface``).
    tail, method
        How I_ss is taken (see :func:`hebb_wagner`).

    Returns
    -------
    BruceVincent
    """
    from eisfit.analysis.activation import _from_fit, transference_number

    p = polarisation
    if initial not in ("first", "extrapolated"):
        raise PolarisationError(f"initial must be 'first' or 'extrapolated', got {initial!r}")
    st = steady_state(p.time_s, p.current_A, p.voltage_V, tail=tail, method=method,
                      label=p.source)
    if voltage is None:
        if st.voltage_V is None:
            raise PolarisationError(f"{p.source}: the record has no voltage column; give it")
        voltage = st.voltage_V
    i0 = float(p.current_A[0])
    if initial == "extrapolated":
        i0 = _extrapolated(p)
    i_s = _u(st.current_A, st.error_A)
    r0, rs = _from_fit(r0, "R0", role), _from_fit(rs, "Rs", role)
    t = transference_number(voltage, i0, i_s, r0, rs, role=role)
    return BruceVincent(t, i0, initial, st, _nominal(_number(voltage, "voltage")), r0, rs)


def _extrapolated(p: Polarisation) -> float:
    """I(t → record start) of ``I_ss + A exp(-t/τ)`` fitted to the whole record."""
    from eisfit.analysis.polarisation_steady import exp_fit

    t = p.time_s
    fit = exp_fit(t, p.current_A, part=1.0)
    if fit is None:
        raise PolarisationError(
            f"{p.source}: the exponential fit of the decay did not converge; use initial='first'")
    return fit["I_ss"] + fit["A"] * math.exp(-(t[0] - fit["t0_s"]) / fit["tau_s"])


# ----------------------------------------------------------------------------- output


def _pair(x: Any) -> dict[str, Any] | None:
    from eisfit.output import json_float

    if x is None:
        return None
    v = float(getattr(x, "nominal_value", x))
    e = float(getattr(x, "std_dev", 0.0))
    return {"value": json_float(v), "stderr": json_float(e)}


def _to_dict(r: HebbWagner) -> dict[str, Any]:
    return {
        "source": r.source,
        "analysis": "steady-state Hebb-Wagner (ion-blocking electrodes, small bias)",
        "method": r.method,
        "voltages_V": list(r.voltages_V),
        "I_ss_A": _pair(r.current_ss),
        "conductance_e_S": _pair(r.conductance_e),
        "resistance_e_ohm": _pair(r.resistance_e),
        "conductivity_e_S_cm": _pair(r.conductivity_e),
        "ionic": None if r.ionic is None else {
            "value": _pair(r.ionic), "unit": "S" if "conductance" in (r.ionic_source or "")
            else "S/cm", "source": r.ionic_source},
        "t_ion": _pair(r.t_ion),
        "t_e": _pair(r.t_e),
        "ratio_ion_e": _pair(r.ratio),
        "intercept_A": _pair(r.intercept_A),
        "steady_reached": all(s.reached for s in r.steps),
        "steps": [s.to_dict() for s in r.steps],
        "geometry": None if r.geometry is None else r.geometry.to_dict(),
    }


def _ve(x: Any, unit: str) -> str:
    from eisfit.format import value_error

    return value_error(float(getattr(x, "nominal_value", x)),
                       float(getattr(x, "std_dev", 0.0)), unit)


def _report(r: HebbWagner) -> str:
    lines = [f"DC polarisation (steady-state Hebb-Wagner): {r.source}"]
    for k, (s, v) in enumerate(zip(r.steps, r.voltages_V, strict=True)):
        tag = f"step {k + 1}: " if len(r.steps) > 1 else ""
        flag = "" if s.reached else f"  NOT steady (drift {s.drift:+.1%})"
        lines.append(f"  {tag}dV {v:.4g} V, I_ss {_ve(ufloat(s.current_A, s.error_A), 'A')}"
                     f"{flag}")
    lines.append(f"  G_e      {_ve(r.conductance_e, 'S')}  ({r.method})")
    lines.append(f"  R_e      {_ve(r.resistance_e, 'Ohm')}")
    if r.conductivity_e is not None:
        lines.append(f"  sigma_e  {_ve(r.conductivity_e, 'S/cm')}  ({r.geometry})")
    else:
        lines.append("  sigma_e  not computed (give the thickness and the diameter or area)")
    if r.ionic is not None:
        unit = "S" if "conductance" in (r.ionic_source or "") else "S/cm"
        lines.append(f"  ionic    {_ve(r.ionic, unit)}  ({r.ionic_source})")
        lines.append(f"  t_ion    {_ve(r.t_ion, '')}")
        lines.append(f"  t_e      {_ve(r.t_e, '')}")
        lines.append(f"  sigma_ion/sigma_e  {_ve(r.ratio, '')}")
    return "\n".join(lines)
