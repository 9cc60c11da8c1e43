"""Joint fit of a temperature series: every spectrum at once, arc resistances on Arrhenius laws.

Independent fits determine each spectrum's parameters from that spectrum alone. When the bulk
arc of a ceramic leaves the measured window as the temperature rises, its resistance there comes
from the high-frequency intercept, and nothing ties the temperatures together. The joint fit
adds what is known about the series as a whole:

* every arc (a *process*: ``bulk``, ``grain_boundary``, ``interface``...) has a resistance that
  follows an Arrhenius law, σT = A exp(−Ea / (k_B T)) with σ ∝ 1/R, so

      ln R(T) = ln R(T_ref) + ln(T / T_ref) + (Ea / k_B) (1/T − 1/T_ref)

  with one Ea and one R(T_ref) (the prefactor) per process for the whole series
  (``form="ln(sigma)"`` drops the ln(T/T_ref) term);
* the arc that leaves the window (the circuit's hidden role, the bulk) keeps one effective
  capacitance and one CPE exponent at every temperature. The bulk capacitance is the geometric
  capacitance ε₀ε_r A/L of the pellet; ε_r of a solid electrolyte changes by a few per cent over
  the 50–100 K of a series while R_b changes by decades, so sharing C_b (with Q = C^n R^(n−1))
  turns the cold spectra, where the arc is seen whole, into knowledge of the arc's shape at the
  hot end, where only its tail is. The grain-boundary and electrode elements keep their own
  parameters per temperature (their apparent capacitance and dispersion do drift with T, and
  they are in the window anyway);
* the series resistance (cables, cell hardware) is shared by default: it does not depend on the
  sample's temperature, and sharing it is what lets the intercepts of the hot spectra inform
  the bulk law (``series_resistance="per_temperature"`` frees it).

Each spectrum's residual and analytic Jacobian are its engine
:class:`~eisfit.fitting.engine.Problem`'s (the single fits' bounds and weighting, modulus by
default; an admittance weighting by its Z equivalent), chained with the derivatives of the
Arrhenius laws and the shared capacitances, and the stacked problem is minimised by the
engine's trust-region :func:`~eisfit.fitting.engine.solve` from the independent fits, in
log-scaled coordinates. The uncertainties (Ea ± se, prefactor, shared capacitance, every
resistance) come from the joint covariance (JᵀJ)⁻¹ scaled by the reduced χ², as for a single
fit.

>>> import eisfit                                                    # doctest: +SKIP
>>> s = eisfit.fit_series("pellet/", joint=True)                      # doctest: +SKIP
>>> s.joint.processes["bulk"].Ea_eV, s.arrhenius("bulk").Ea_eV        # doctest: +SKIP
(0.352, 0.349)
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from eisfit.analysis.activation import EV_TO_KJ_PER_MOL, FORMS, K_B_EV, ea_not_determined
from eisfit.blas import single_threaded_blas
from eisfit.exceptions import EisfitError
from eisfit.fitting import guess
from eisfit.fitting.engine import Problem, Solution, covariance, solve
from eisfit.fitting.result import FitResult
from eisfit.fitting.solve import make_problem
from eisfit.fitting.weighting import impedance_weights
from eisfit.model.circuit import Circuit
from eisfit.model.named import NamedCircuit, named_circuits
from eisfit.output import json_float as _jf

__all__ = [
    "JointFitError",
    "JointProcess",
    "JointResult",
    "StackedProblem",
    "fit_joint",
    "SERIES_MODES",
]

#: How the series resistance is treated: one value for the series, or one per temperature.
SERIES_MODES = ("shared", "per_temperature")
#: Bounds of Ea in eV (wide: a process whose resistance rises with T is reported, not hidden).
EA_BOUNDS_EV = (-2.0, 5.0)
#: A joint reduced χ² above this multiple of the independent fits' says the laws do not hold.
CHI2_RATIO_WARN = 1.5


class JointFitError(EisfitError, ValueError):
    """A joint fit cannot be set up (too few temperatures, different circuits, no process)."""


# --------------------------------------------------------------------------- results
@dataclass(frozen=True, eq=False)
class JointProcess:
    """One thermally activated process of a joint fit.

    Attributes
    ----------
    role : str
        ``bulk``, ``grain_boundary``, ``interface``... (the resistor's name for a circuit string).
    Ea_eV, Ea_stderr_eV : float
        Activation energy and its standard error (joint covariance) in eV.
    Ea_kJ_per_mol : float
        Activation energy in kJ/mol.
    Ea_ci95_eV : tuple of float
        Ea ± 1.96 standard errors (the joint fit has hundreds of degrees of freedom).
    ln_prefactor, ln_prefactor_stderr : float
        ln A in the units :meth:`eisfit.series.temperature.Series.arrhenius` uses for the same
        role: σT in
        S cm⁻¹ K (conductivity, with a geometry), G·T in S K (conductance, without), or T/ASR
        (``quantity="resistance"``, interface roles; ASR per interface in Ohm cm² with a
        geometry, else T/R in K/Ohm). Without the T for ``form="ln(sigma)"``.
    form : str
        ``"ln(sigma*T)"`` or ``"ln(sigma)"``.
    quantity : str
        ``"conductivity"``, ``"conductance"`` or ``"resistance"``.
    T_min_K, T_max_K : float
        Temperature range in K.
    n : int
        Number of temperatures.
    T_ref_K : float
        Reference temperature of the internal parametrisation (1/T_ref is the mean of 1/T).
    shared : bool
        True when the arc's effective capacitance and CPE exponent are shared by all
        temperatures.
    capacitance_F, capacitance_stderr_F : float
        Shared effective capacitance (R Q)^(1/n) / R in F and its standard error (NaN when not
        shared).
    exponent, exponent_stderr : float
        Shared CPE exponent n (1 for an R‖C arc; NaN when not shared).
    resistance_ohm, resistance_stderr_ohm : numpy.ndarray
        Resistance of the arc at each temperature (Ohm) from the law, with its standard error.
    apex_hz : numpy.ndarray
        Apex frequency of the arc at each temperature (Hz).
    above_window : numpy.ndarray of bool
        True where the apex lies above the highest measured frequency: there the resistance is
        known through the Arrhenius law and the shared capacitance, not from the arc itself.
    warnings : tuple of str
        Notes on this process.
    reason : str or None
        Why Ea is not reported as a result (negative, or a standard error over half of it):
        then ``Ea_eV``, its errors and the prefactor are NaN (``null`` in JSON); the law's
        resistances at each temperature stay. None when Ea is a result (always with
        ``fit_joint(..., keep_all=True)``).
    """

    role: str
    Ea_eV: float
    Ea_stderr_eV: float
    Ea_kJ_per_mol: float
    Ea_ci95_eV: tuple[float, float]
    ln_prefactor: float
    ln_prefactor_stderr: float
    form: str
    quantity: str
    T_min_K: float
    T_max_K: float
    n: int
    T_ref_K: float
    shared: bool
    capacitance_F: float
    capacitance_stderr_F: float
    exponent: float
    exponent_stderr: float
    resistance_ohm: np.ndarray = field(repr=False)
    resistance_stderr_ohm: np.ndarray = field(repr=False)
    apex_hz: np.ndarray = field(repr=False)
    above_window: np.ndarray = field(repr=False)
    warnings: tuple[str, ...] = ()
    reason: str | None = None

    @property
    def determined(self) -> bool:
        """True when Ea is reported as a result (no :attr:`reason` against it)."""
        return self.reason is None

    def ea_text(self, digits: int = 4) -> str:
        """``Ea = 0.4162 ± 0.0010 eV (40.16 ± 0.10 kJ/mol)`` (:func:`eisfit.format.value_error`;
        ``digits``: significant digits when there is no standard error), or
        ``Ea not determined: reason``."""
        from eisfit.format import value_error

        if self.reason is not None:
            return f"Ea not determined: {self.reason}"
        ea = value_error(self.Ea_eV, self.Ea_stderr_eV, "eV", digits=digits)
        kj = value_error(self.Ea_kJ_per_mol, self.Ea_stderr_kJ_per_mol, "kJ/mol", digits=digits)
        return f"Ea = {ea} ({kj})"

    @property
    def Ea_stderr_kJ_per_mol(self) -> float:
        """Standard error of Ea in kJ/mol."""
        return self.Ea_stderr_eV * EV_TO_KJ_PER_MOL

    @property
    def slope_K(self) -> float:
        """Slope of ln(σT) (or ln σ) against 1/T, −Ea/k_B, in K."""
        return -self.Ea_eV / K_B_EV

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary: the keys of an ``arrhenius`` entry of the batch JSON, plus the
        shared capacitance and the per-temperature resistances of the joint fit."""
        return {
            "Ea_eV": _jf(self.Ea_eV),
            "Ea_stderr_eV": _jf(self.Ea_stderr_eV),
            "Ea_kJ_per_mol": _jf(self.Ea_kJ_per_mol),
            "Ea_ci95_eV": [_jf(self.Ea_ci95_eV[0]), _jf(self.Ea_ci95_eV[1])],
            "ln_prefactor": _jf(self.ln_prefactor),
            "ln_prefactor_stderr": _jf(self.ln_prefactor_stderr),
            "form": self.form,
            "quantity": self.quantity,
            "T_min_K": _jf(self.T_min_K),
            "T_max_K": _jf(self.T_max_K),
            "n": int(self.n),
            "shared_capacitance": bool(self.shared),
            "capacitance_F": _jf(self.capacitance_F),
            "capacitance_stderr_F": _jf(self.capacitance_stderr_F),
            "cpe_exponent": _jf(self.exponent),
            "cpe_exponent_stderr": _jf(self.exponent_stderr),
            "resistance_ohm": [_jf(x) for x in self.resistance_ohm],
            "resistance_stderr_ohm": [_jf(x) for x in self.resistance_stderr_ohm],
            "apex_frequency_Hz": [_jf(x) for x in self.apex_hz],
            "above_window": [bool(x) for x in self.above_window],
            "warnings": list(self.warnings),
            "reason": self.reason,
        }


@dataclass(frozen=True, eq=False)
class JointResult:
    """The outcome of :func:`fit_joint`.

    Attributes
    ----------
    processes : dict
        Role -> :class:`JointProcess` for every Arrhenius-constrained arc.
    temperatures_K : numpy.ndarray
        Temperature of each spectrum in K (the order of the fits given).
    labels : list of str
        Label of each spectrum.
    circuit : Circuit
        The circuit fitted to every spectrum (the full one, even where the independent fit
        dropped an arc above the window).
    circuit_name : str or None
        The named circuit.
    parameter_names : list of str
        Names of the circuit's parameters.
    parameters, parameter_stderr : numpy.ndarray
        Shape (n_spectra, n_params): every circuit parameter at every temperature (natural
        units) and its standard error from the joint covariance.
    resistances, resistance_stderr : dict
        Role -> array over the temperatures (Ohm): every process, ``series`` and ``total``
        (the sum of the named circuit's total roles).
    series_mode : str
        ``"shared"`` or ``"per_temperature"``.
    form : str
        ``"ln(sigma*T)"`` or ``"ln(sigma)"``.
    chisqr : float
        Weighted sum of squared residuals of all spectra.
    chi_square : float
        Reduced χ² of the joint fit, chisqr / (Σ 2N − p).
    chi_square_independent : float
        Reduced χ² of the independent fits together (their summed chisqr over their summed
        degrees of freedom), for comparison: the price of the constraints.
    n_points : int
        Residuals (2 per frequency) of all spectra.
    n_free : int
        Free parameters of the joint fit.
    nfev : int
        Evaluations of the stacked residual.
    success : bool
        True when the solver converged.
    warnings : tuple of str
        What a user should know (arcs known only through the law, a χ² that rose...).
    covariance : numpy.ndarray
        Covariance of the internal coordinates (log for positive quantities, Ea in eV).
    coordinate_names : list of str
        Names of those coordinates (``bulk.lnR_ref``, ``bulk.Ea``, ``bulk.lnC``, ``R0@3``...).
    coordinates : numpy.ndarray
        Their best-fit values.
    problem : StackedProblem
        The stacked problem (residual and Jacobian at any coordinates), for checks.
    """

    processes: dict[str, JointProcess]
    temperatures_K: np.ndarray
    labels: list[str]
    circuit: Circuit
    circuit_name: str | None
    parameter_names: list[str]
    parameters: np.ndarray
    parameter_stderr: np.ndarray
    resistances: dict[str, np.ndarray]
    resistance_stderr: dict[str, np.ndarray]
    series_mode: str
    form: str
    chisqr: float
    chi_square: float
    chi_square_independent: float
    n_points: int
    n_free: int
    nfev: int
    success: bool
    warnings: tuple[str, ...]
    covariance: np.ndarray = field(repr=False)
    coordinate_names: list[str] = field(repr=False, default_factory=list)
    coordinates: np.ndarray | None = field(repr=False, default=None)
    problem: Any = field(repr=False, default=None)

    def __repr__(self) -> str:
        ea = ", ".join(
            f"{k}: Ea={p.Ea_eV:.3f}±{p.Ea_stderr_eV:.3f} eV" if p.determined
            else f"{k}: Ea not determined"
            for k, p in self.processes.items()
        )
        return f"<JointResult {len(self.labels)} spectra; {ea}; chi2={self.chi_square:.2g}>"

    def arrhenius_dict(self) -> dict[str, dict[str, Any]]:
        """Role -> :meth:`JointProcess.to_dict` (the batch JSON's ``arrhenius_joint``)."""
        return {k: p.to_dict() for k, p in self.processes.items()}

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe statistics of the joint fit (the batch JSON's ``joint_fit``)."""
        return {
            "circuit": str(self.circuit),
            "circuit_name": self.circuit_name,
            "form": self.form,
            "series_resistance": self.series_mode,
            "temperature_K": [_jf(t) for t in self.temperatures_K],
            "labels": list(self.labels),
            "chi_square": _jf(self.chi_square),
            "chi_square_independent": _jf(self.chi_square_independent),
            "n_points": int(self.n_points),
            "n_free": int(self.n_free),
            "nfev": int(self.nfev),
            "success": bool(self.success),
            "resistances_ohm": {
                k: [_jf(x) for x in v] for k, v in self.resistances.items()
            },
            "resistance_stderr_ohm": {
                k: [_jf(x) for x in v] for k, v in self.resistance_stderr.items()
            },
            "parameters": {
                n: [_jf(x) for x in self.parameters[:, i]]
                for i, n in enumerate(self.parameter_names)
            },
            "warnings": list(self.warnings),
        }

    def report(self) -> str:
        """A plain-text summary in fixed sections."""
        lines = ["[[Joint fit]]"]
        name = f" ({self.circuit_name})" if self.circuit_name else ""
        lines.append(f"    circuit      = {self.circuit}{name}")
        lines.append(f"    spectra      = {len(self.labels)}, series resistance {self.series_mode}")
        lines.append(
            f"    chi_square   = {self.chi_square:.3g} (independent fits: "
            f"{self.chi_square_independent:.3g})"
        )
        for role, p in self.processes.items():
            cap = ""
            if p.shared:
                cap = (
                    f", C = {p.capacitance_F:.3g} ± {p.capacitance_stderr_F:.2g} F, "
                    f"n = {p.exponent:.3f} (shared)"
                )
            lines.append(f"    {role:<18} {p.ea_text()}, {p.form}{cap}")
        if self.warnings:
            lines.extend(f"    - {w}" for w in self.warnings)
        return "\n".join(lines)


# --------------------------------------------------------------------------- set-up
_LOCAL, _PROC_R, _SHARED_Q, _SHARED_N, _SHARED_C, _SERIES = range(6)


@dataclass
class _Slot:
    """How one circuit parameter of one spectrum follows from the joint coordinates."""

    kind: int
    col: int = -1  # coordinate column (local value, lnC, n, lnR0)
    proc: int = -1  # process index


@dataclass
class _Proc:
    role: str
    r_index: int
    c_index: int  # Q or C parameter
    n_index: int  # CPE exponent, -1 for an R‖C arc
    shared: bool
    col_a: int = -1
    col_ea: int = -1
    col_lnc: int = -1
    col_n: int = -1


@dataclass
class _Coordinates:
    """The joint coordinates in the order they are added: names, starting values, bounds
    (log for positive quantities, Ea in eV)."""

    names: list[str] = field(default_factory=list)
    start: list[float] = field(default_factory=list)
    lower: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)

    def add(self, name: str, value: float, lo: float, hi: float) -> int:
        """Append a coordinate and return its column."""
        self.names.append(name)
        self.start.append(float(value))
        self.lower.append(float(lo))
        self.upper.append(float(hi))
        return len(self.names) - 1


@dataclass
class _Setup:
    """What the steps of a joint fit share: the independent fits, the circuit, each spectrum's
    engine :class:`~eisfit.fitting.engine.Problem`, the processes, the Arrhenius abscissae and
    the joint coordinates as they are added."""

    results: list[FitResult]
    temps: np.ndarray
    form: str
    circuit: Circuit
    named: NamedCircuit | None
    problems: list[Problem]
    arcs: list[Any]
    role_of_arc: dict[str, str]
    procs: list[_Proc]
    series_idx: list[int]
    coords: _Coordinates = field(default_factory=_Coordinates)
    notes: list[str] = field(default_factory=list)
    proc_start: dict[str, tuple[float, float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        inv_t = 1.0 / self.temps
        self.t_ref = 1.0 / float(np.mean(inv_t))
        self.x_t = (inv_t - 1.0 / self.t_ref) / K_B_EV  # d lnR / d Ea, 1/eV
        sigma_t = self.form == "ln(sigma*T)"
        self.s_t = np.log(self.temps / self.t_ref) if sigma_t else np.zeros(self.temps.size)
        # every spectrum's problem has the single fits' bounds of the circuit, in solver units
        self.lower_v, self.upper_v = self.problems[0].internal_bounds()
        self.pnames = self.circuit.parameter_names
        self.kinds = self.circuit.parameter_kinds

    @property
    def hidden_role(self) -> str | None:
        """The named circuit's role of the arc that leaves the window (None without one)."""
        return self.named.hidden_role if self.named is not None else None

    def r_start(self, pr: _Proc, k: int) -> float:
        """The starting law's resistance of process ``pr`` at temperature ``k``."""
        a0, ea0 = self.proc_start[pr.role]
        return math.exp(a0 + self.s_t[k] + ea0 * self.x_t[k])


def _full_named(results: Sequence[FitResult]) -> tuple[Circuit, NamedCircuit | None]:
    """The one full circuit behind every fit (undoing the above-the-window variants)."""
    names = {r.circuit_name for r in results}
    if len(names) != 1:
        raise JointFitError(
            "the spectra were fitted with different circuits "
            f"({', '.join(sorted(str(n) for n in names))}); a joint fit needs one"
        )
    name = names.pop()
    if name is None:
        texts = {str(r.circuit) for r in results}
        if len(texts) != 1:
            raise JointFitError(
                f"the spectra were fitted with different circuits ({', '.join(sorted(texts))}); "
                "a joint fit needs one"
            )
        return results[0].circuit, None
    known = named_circuits()
    named = known.get(name)
    if named is None:  # pragma: no cover - a FitResult's named circuit is always registered
        named = results[0].named
    full = named.parsed if named is not None else results[0].circuit
    for r in results:
        extra = set(r.circuit.parameter_names) - set(full.parameter_names)
        if extra:
            raise JointFitError(
                f"the fit of {r.spectrum.source or 'a spectrum'} has parameters "
                f"({', '.join(sorted(extra))}) that circuit {full.text!r} lacks"
            )
    return full, named


def _check_inputs(
    n_t: int, temps: np.ndarray, form: str, series_resistance: str
) -> None:
    """Refuse too few spectra or temperatures, and unknown options."""
    if temps.size != n_t:
        raise JointFitError(f"{temps.size} temperatures given for {n_t} fits")
    if n_t < 3:
        raise JointFitError(f"a joint fit needs at least 3 spectra, got {n_t}")
    if np.unique(temps).size < 2:
        raise JointFitError("a joint fit needs at least two different temperatures")
    if not np.all(np.isfinite(temps)) or np.any(temps <= 0):
        raise JointFitError("temperatures must be finite and above 0 K")
    if form not in FORMS:
        raise JointFitError(f"form must be one of {list(FORMS)}, got {form!r}")
    if series_resistance not in SERIES_MODES:
        raise JointFitError(
            f"series_resistance must be one of {list(SERIES_MODES)}, got {series_resistance!r}"
        )


def _chosen_roles(
    circuit: Circuit,
    named: NamedCircuit | None,
    available: list[str],
    processes: Sequence[str] | None,
    shared_capacitance: Sequence[str] | None,
) -> tuple[list[str], list[str]]:
    """The roles on Arrhenius laws and those of them whose arc shape is shared."""
    chosen = list(available) if processes is None else list(processes)
    unknown = [p for p in chosen if p not in available]
    if unknown:
        raise JointFitError(
            f"no arc with role {', '.join(map(repr, unknown))} in {circuit.text!r}; "
            f"its arcs: {', '.join(available) or 'none'}"
        )
    if not chosen:
        raise JointFitError(f"circuit {circuit.text!r} has no R-CPE or R-C arc to constrain")
    if shared_capacitance is None:
        hidden_role = named.hidden_role if named is not None else None
        return chosen, [hidden_role] if hidden_role in chosen else []
    shared_roles = list(shared_capacitance)
    bad = [s for s in shared_roles if s not in chosen]
    if bad:
        raise JointFitError(
            f"shared_capacitance {', '.join(map(repr, bad))} is not among the processes "
            f"({', '.join(chosen)})"
        )
    return chosen, shared_roles


def _spectrum_problem(r: FitResult, circuit: Circuit, named: NamedCircuit | None) -> Problem:
    """The engine's problem of one spectrum with the full circuit and the single fits' bounds
    (:func:`eisfit.fitting.solve.make_problem`), its residual in Z: an admittance weighting's
    weights by their first-order Z equivalents."""
    problem = make_problem(r.spectrum, circuit, named, r.weighting)[0]
    w_re, w_im = impedance_weights(r.weighting, problem.z, problem.w_re, problem.w_im)
    return dataclasses.replace(problem, w_re=w_re, w_im=w_im, admittance=False)


def _setup(
    results: list[FitResult],
    temps: np.ndarray,
    form: str,
    processes: Sequence[str] | None,
    shared_capacitance: Sequence[str] | None,
) -> _Setup:
    """The circuit, its processes and every spectrum's problem (no coordinates yet)."""
    circuit, named = _full_named(results)
    roles = named.roles if named is not None else {}
    st = guess.structure(circuit)
    arcs = [a for a in st.arcs if a.kind in ("rq", "rc")]
    role_of_arc = {a.names[0]: roles.get(a.names[0], a.names[0]) for a in arcs}
    chosen, shared_roles = _chosen_roles(
        circuit, named, [role_of_arc[a.names[0]] for a in arcs], processes, shared_capacitance
    )
    procs = [
        _Proc(
            role=role_of_arc[a.names[0]],
            r_index=a.indices[0],
            c_index=a.indices[1],
            n_index=a.indices[2] if a.kind == "rq" else -1,
            shared=role_of_arc[a.names[0]] in shared_roles,
        )
        for a in arcs
        if role_of_arc[a.names[0]] in chosen
    ]
    pnames = circuit.parameter_names
    series_idx = [
        i for i in st.series_r if roles.get(pnames[i], "series") in ("series", "intercept")
    ]
    problems = [_spectrum_problem(r, circuit, named) for r in results]
    return _Setup(
        results, temps, form, circuit, named, problems, arcs, role_of_arc, procs, series_idx
    )


def _arc_in_window(r: FitResult, role: str) -> bool:
    f_lo, f_hi = r.spectrum.frequency_range
    for a in r.arcs:
        if a.role == role:
            f = float(np.real(getattr(a.apex_hz, "nominal_value", a.apex_hz)))
            return bool(f_lo <= f <= f_hi)
    return False


def _resistance(r: FitResult, role: str) -> float:
    """The resistance (Ohm) of ``role`` in a fit: its arc's, else the role's; 0 if none."""
    for a in r.arcs:
        if a.role == role:
            v = float(np.real(getattr(a.resistance, "nominal_value", a.resistance)))
            return v if math.isfinite(v) else 0.0
    v = float(r.resistances.get(role, 0.0))
    return v if math.isfinite(v) else 0.0


def _line(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Least-squares line y = c0 + c1 x (c1 = 0 from a single point)."""
    if x.size >= 2 and np.ptp(x) > 0:
        c1, c0 = np.polyfit(x, y, 1)
        return float(c0), float(c1)
    return float(np.mean(y)), 0.0


# --------------------------------------------------------------------------- starts
def _add_laws(setup: _Setup) -> None:
    """Each process's law coordinates (ln R at T_ref, Ea), started from a line through the
    independent fits' resistances (those whose arc lies in the window, when 2 or more do)."""
    results = setup.results
    for pr in setup.procs:
        good = [k for k, r in enumerate(results) if _arc_in_window(r, pr.role)]
        if len(good) < 2:
            good = [k for k, r in enumerate(results) if _resistance(r, pr.role) > 0]
        if len(good) < 2:
            raise JointFitError(
                f"role {pr.role!r}: a resistance at {len(good)} temperature(s) in the "
                "independent fits; at least 2 are needed to start the joint fit"
            )
        rr = np.array([_resistance(results[k], pr.role) for k in good])
        idx = np.array(good)
        a0, ea0 = _line(setup.x_t[idx], np.log(rr) - setup.s_t[idx])
        ea0 = float(np.clip(ea0, 0.05, 2.0))
        setup.proc_start[pr.role] = (a0, ea0)
        pr.col_a = setup.coords.add(f"{pr.role}.lnR_ref", a0, math.log(1e-9), math.log(1e15))
        pr.col_ea = setup.coords.add(f"{pr.role}.Ea", ea0, *EA_BOUNDS_EV)


def _shape_start(setup: _Setup, pr: _Proc) -> tuple[float, float]:
    """Starting shared capacitance (F) and CPE exponent of process ``pr``: the medians of the
    independent fits' arcs (those in the window, else any), else its role's typical value."""
    caps, exps = [], []
    for r in setup.results:
        for a in r.arcs:
            if a.role == pr.role and _arc_in_window(r, pr.role):
                caps.append(float(np.real(getattr(a.capacitance, "nominal_value",
                                                  a.capacitance))))
                exps.append(a.n)
    if not caps:
        for r in setup.results:
            caps.extend(v for k, v in r.capacitances.items() if k == pr.role)
            exps.extend(a.n for a in r.arcs if a.role == pr.role)
    if caps:
        return float(np.exp(np.median(np.log(np.maximum(caps, 1e-300))))), float(np.median(exps))
    named = setup.named
    rng_c = named.capacitance_F.get(pr.role) if named is not None else None
    c0 = math.sqrt(rng_c[0] * rng_c[1]) if rng_c else 1e-12
    setup.notes.append(
        f"the {pr.role} arc is seen as an arc in no independent fit: its shared "
        f"capacitance starts at {c0:.2g} F"
    )
    return c0, 0.95


def _add_shared_shapes(setup: _Setup) -> None:
    """The shared capacitance (ln C) and CPE exponent of every process that shares them."""
    for pr in setup.procs:
        if not pr.shared:
            continue
        c0, n0 = _shape_start(setup, pr)
        pr.col_lnc = setup.coords.add(
            f"{pr.role}.lnC", math.log(c0), math.log(1e-18), math.log(1.0)
        )
        if pr.n_index >= 0:
            pr.col_n = setup.coords.add(
                f"{pr.role}.n", n0, setup.lower_v[pr.n_index], setup.upper_v[pr.n_index]
            )


def _series_start(setup: _Setup, k: int) -> float:
    """Starting series resistance of spectrum ``k``: its fit's, less the starting law's
    resistance of the hidden arc where the fit counted that arc into the intercept."""
    r = setup.results[k]
    v = r.values
    name0 = setup.pnames[setup.series_idx[0]]
    r0 = v.get(name0, 0.0)
    if r.named is not None and r.named.roles.get(name0) == "intercept":
        # the intercept holds series + the arc above the window
        inter = sum(val for nm, val in v.items() if r.named.roles.get(nm) == "intercept")
        hp = next((p for p in setup.procs if p.role == setup.hidden_role), None)
        r0 = inter - (setup.r_start(hp, k) if hp is not None else 0.0)
    scale = float(np.min(np.abs(r.spectrum.z)))
    return max(r0, 1e-4 * scale)


def _add_series(setup: _Setup, series_resistance: str) -> int | None:
    """The column of the shared series resistance (ln R0), or None when there is none to
    share (no series resistor, or one per temperature)."""
    if not (setup.series_idx and series_resistance == "shared"):
        return None
    i0 = setup.series_idx[0]
    trusted = [
        k
        for k, r in enumerate(setup.results)
        if not (r.named is not None and r.named.roles.get(setup.pnames[i0]) == "intercept")
    ]
    vals = [_series_start(setup, k) for k in (trusted or range(len(setup.results)))]
    return setup.coords.add(
        f"{setup.pnames[i0]}",
        math.log(float(np.median(vals))),
        setup.lower_v[i0],
        setup.upper_v[i0],
    )


def _process_slot(procs: list[_Proc], j: int, what: str) -> _Slot:
    """The slot of a parameter that process ``j`` sets: its resistance (``what`` "R"), its
    shared exponent ("n") or its shared Q or C ("C")."""
    pr = procs[j]
    if what == "R":
        return _Slot(_PROC_R, proc=j)
    if what == "n":
        return _Slot(_SHARED_N, col=pr.col_n, proc=j)
    if pr.n_index >= 0:
        return _Slot(_SHARED_Q, col=pr.col_lnc, proc=j)
    return _Slot(_SHARED_C, col=pr.col_lnc, proc=j)


def _slots(setup: _Setup, series_col: int | None) -> list[list[_Slot]]:
    """How every parameter of every spectrum follows from the joint coordinates (adding a
    local coordinate for each parameter no law or shared value sets)."""
    hidden_params: set[str] = set()
    for a in setup.arcs:
        if setup.hidden_role is not None and setup.role_of_arc[a.names[0]] == setup.hidden_role:
            hidden_params = {setup.pnames[i] for i in a.indices}
    untrusted = [_untrusted(r, hidden_params) for r in setup.results]
    proc_of_index: dict[int, tuple[int, str]] = {}
    for j, pr in enumerate(setup.procs):
        proc_of_index[pr.r_index] = (j, "R")
        if pr.shared:
            proc_of_index[pr.c_index] = (j, "C")
            if pr.n_index >= 0:
                proc_of_index[pr.n_index] = (j, "n")
    slots = []
    for k, r in enumerate(setup.results):
        row: list[_Slot] = []
        for i, name in enumerate(setup.pnames):
            if i in proc_of_index:
                row.append(_process_slot(setup.procs, *proc_of_index[i]))
                continue
            if setup.series_idx and i == setup.series_idx[0]:
                if series_col is not None:
                    row.append(_Slot(_SERIES, col=series_col))
                    continue
                start = _series_start(setup, k)
            elif name in r.values and name not in untrusted[k]:
                start = r.values[name]
            else:
                start = _missing_start(setup, i, k, untrusted)
            if setup.kinds[i] == "positive":
                start = math.log(max(start, 1e-300))
            col = setup.coords.add(f"{name}@{k}", start, setup.lower_v[i], setup.upper_v[i])
            row.append(_Slot(_LOCAL, col=col))
        slots.append(row)
    return slots


def _untrusted(r: FitResult, hidden_params: set[str]) -> set[str]:
    """Parameters of an arc the fit of ``r`` counted into the high-frequency intercept (or
    dropped): their values, if any, describe no arc in the window."""
    if r.named is None:
        return set()
    counted = [e for e, role in r.named.roles.items() if role == "intercept"]
    if len(counted) > 1 or not hidden_params <= set(r.circuit.parameter_names):
        return set(hidden_params)
    return set()


def _missing_start(setup: _Setup, i: int, k: int, untrusted: list[set[str]]) -> float:
    """Start value of a parameter the independent fit of spectrum k does not have."""
    pnames, results = setup.pnames, setup.results
    name = pnames[i]
    others = [x.values[name] for m, x in enumerate(results) if name in x.values
              and name not in untrusted[m]]
    for pr in setup.procs:
        if i in (pr.c_index, pr.n_index):
            n_name = pnames[pr.n_index] if pr.n_index >= 0 else ""
            n_vals = [x.values[n_name] for m, x in enumerate(results)
                      if n_name in x.values and n_name not in untrusted[m]]
            n0 = float(np.median(n_vals)) if n_vals else 0.9
            if i == pr.n_index:
                return n0
            caps = [c for x in results for rl, c in x.capacitances.items() if rl == pr.role]
            c0 = float(np.exp(np.median(np.log(caps)))) if caps else 1e-12
            rk = setup.r_start(pr, k)
            return c0**n0 * rk ** (n0 - 1) if pr.n_index >= 0 else c0
    positive = setup.kinds[i] == "positive"
    if others:
        return float(np.exp(np.median(np.log(np.abs(others))))) if positive \
            else float(np.median(others))
    return 1.0 if positive else 0.9


# --------------------------------------------------------------------------- the problem
class StackedProblem:
    """The joint least-squares problem: stacked weighted residuals of every spectrum and their
    Jacobian with respect to the joint coordinates (log for positive quantities, Ea in eV).

    Each spectrum's block is its engine :class:`~eisfit.fitting.engine.Problem`'s residual and
    analytic Jacobian in that problem's solver coordinates v (log for positive parameters),
    chained with dv/du, the derivatives of those coordinates through the Arrhenius laws and
    the shared capacitances (n_params x n_u, a few non-zero entries per row). The joint
    coordinates are its solver coordinates and its parameters at once, so
    :func:`eisfit.fitting.engine.solve` minimises it as it does a single fit.
    """

    def __init__(
        self,
        problems: list[Problem],
        procs: list[_Proc],
        slots: list[list[_Slot]],
        s_t: np.ndarray,
        x_t: np.ndarray,
        lower: np.ndarray,
        upper: np.ndarray,
    ) -> None:
        self.problems = problems
        self.procs = procs
        self.slots = slots
        self.s_t = s_t
        self.x_t = x_t
        self.lower = lower
        self.upper = upper
        self.n_u = lower.size
        self.free = np.arange(self.n_u)
        self.n_par = problems[0].circuit.n_params
        self._key: bytes | None = None
        self._cache: tuple[np.ndarray, np.ndarray] | None = None

    def internal_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper bounds of the joint coordinates."""
        return self.lower, self.upper

    def to_internal(self, u: np.ndarray) -> np.ndarray:
        """The joint coordinates are the solver's: ``u`` as floats."""
        return np.asarray(u, float)

    def to_params(self, u: np.ndarray) -> np.ndarray:
        """The joint coordinates are the problem's parameters: a copy of ``u``."""
        return np.array(u, float)

    def coordinates_of(self, u: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Solver coordinates of spectrum k's problem (log for positive parameters) and their
        derivatives dv/du (n_par, n_u)."""
        v = np.empty(self.n_par)
        d = np.zeros((self.n_par, self.n_u))
        x = self.x_t[k]
        ln_r = [u[pr.col_a] + self.s_t[k] + u[pr.col_ea] * x for pr in self.procs]
        for i, sl in enumerate(self.slots[k]):
            if sl.kind == _PROC_R:
                pr = self.procs[sl.proc]
                v[i] = ln_r[sl.proc]
                d[i, pr.col_a] = 1.0
                d[i, pr.col_ea] = x
            elif sl.kind == _SHARED_Q:  # shared C: Q = (R C)^n / R = C^n R^(n-1)
                pr = self.procs[sl.proc]
                n, lnc, lnr = u[pr.col_n], u[pr.col_lnc], ln_r[sl.proc]
                v[i] = n * lnc + (n - 1) * lnr
                d[i, pr.col_lnc] = n
                d[i, pr.col_n] = lnc + lnr
                d[i, pr.col_a] = n - 1
                d[i, pr.col_ea] = (n - 1) * x
            else:  # a coordinate of its own: local, series, shared ln C or exponent
                v[i] = u[sl.col]
                d[i, sl.col] = 1.0
        return v, d

    def params_of(self, u: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Circuit parameters of spectrum k (natural units) and their derivatives d p / d u
        (n_par, n_u)."""
        v, d = self.coordinates_of(u, k)
        problem = self.problems[k]
        p = problem.to_params(v)
        return p, np.where(problem.log[:, None], p[:, None] * d, d)

    def evaluate(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Stacked weighted residuals (Σ 2N,) and Jacobian (Σ 2N, n_u) at coordinates u."""
        key = u.tobytes()
        if self._key == key and self._cache is not None:
            return self._cache
        rs, js = [], []
        for k, problem in enumerate(self.problems):
            v, d = self.coordinates_of(u, k)
            r, j = problem.residual_jac_batch(v[None, :])
            rs.append(r[0])
            js.append(j[0] @ d)
        r_all = np.concatenate(rs)
        j_all = np.concatenate(js)
        r_all = np.where(np.isfinite(r_all), r_all, 1e10)
        j_all = np.where(np.isfinite(j_all), j_all, 0.0)
        self._key, self._cache = key, (r_all, j_all)
        return r_all, j_all

    def residual(self, u: np.ndarray) -> np.ndarray:
        """Stacked weighted residuals at u."""
        return self.evaluate(u)[0]

    def jacobian(self, u: np.ndarray) -> np.ndarray:
        """d residual / d u at u."""
        return self.evaluate(u)[1]


def _solve(
    setup: _Setup, slots: list[list[_Slot]], max_nfev: int
) -> tuple[StackedProblem, Solution, np.ndarray | None]:
    """The stacked problem, its solution by the engine's trust-region solve from the starts,
    and the joint covariance (None where it cannot be estimated)."""
    coords = setup.coords
    lower, upper = np.array(coords.lower), np.array(coords.upper)
    n_res = sum(p.z.size * 2 for p in setup.problems)
    if n_res <= lower.size:
        raise JointFitError(f"{n_res} residuals cannot fit {lower.size} joint parameters")
    problem = StackedProblem(
        setup.problems, setup.procs, slots, setup.s_t, setup.x_t, lower, upper
    )
    with single_threaded_blas():  # threaded BLAS is far slower on these sizes
        sol = solve(problem, np.array(coords.start), max_nfev=max_nfev, tol=1e-10)
        cov = covariance(sol, problem.n_u)
    return problem, sol, cov


# --------------------------------------------------------------------------- the fit
def fit_joint(
    results: Sequence[FitResult],
    temperatures_K: Sequence[float],
    *,
    labels: Sequence[str] | None = None,
    geometry: Any = None,
    processes: Sequence[str] | None = None,
    shared_capacitance: Sequence[str] | None = None,
    series_resistance: str = "shared",
    form: str = "ln(sigma*T)",
    max_nfev: int = 300,
    keep_all: bool = False,
) -> JointResult:
    """Fit all spectra of a temperature series at once, arc resistances on Arrhenius laws.

    Parameters
    ----------
    results
        Independent fits of the spectra (:func:`eisfit.fit`, one per temperature), all with the
        same circuit; fits that replaced an arc above the window by the high-frequency intercept
        are accepted (the joint fit puts the arc back, on its Arrhenius law). They are the
        starting point.
    temperatures_K
        Temperature of each spectrum in K.
    labels
        Label of each spectrum (default: the spectra's sources).
    geometry
        :class:`~eisfit.Geometry`, for the prefactors in conductivity units; Ea does not depend
        on it.
    processes
        Roles whose resistance follows an Arrhenius law (default: every R‖CPE and R‖C arc of the
        circuit); other arcs keep a free resistance per temperature.
    shared_capacitance
        Roles whose effective capacitance and CPE exponent are shared by every temperature
        (default: the named circuit's hidden role, the bulk, when it is one of ``processes``;
        none for a circuit string). ``()`` shares nothing.
    series_resistance
        ``"shared"`` (default: cables and hardware do not change with the sample's
        temperature) or ``"per_temperature"``.
    form
        ``"ln(sigma*T)"`` (default; σT = A exp(−Ea/k_B T), R ∝ T exp(Ea/k_B T)) or
        ``"ln(sigma)"`` (R ∝ exp(Ea/k_B T)).
    max_nfev
        Most evaluations of the stacked residual.
    keep_all
        Report every process's Ea. By default an Ea that comes out negative, or with a
        standard error over half of it, is not reported as a result: NaN, with the
        :attr:`JointProcess.reason` (the same rule as
        :meth:`eisfit.series.temperature.Series.arrhenius`).

    Returns
    -------
    JointResult

    Raises
    ------
    JointFitError
        Fewer than 3 spectra or 2 distinct temperatures, fits with different circuits, no arc
        to constrain, an unknown role, or a bad option.

    Examples
    --------
    >>> import numpy as np, eisfit
    >>> from eisfit.model.circuit import Circuit
    >>> from eisfit.model.synthetic import add_noise, arc_q, frequencies
    >>> T = np.array([300.0, 320.0, 340.0, 360.0])
    >>> R = 1e4 * T / 300 * np.exp(0.4 / 8.617333e-5 * (1 / T - 1 / 300))
    >>> f, rng = frequencies(1e6, 1.0, 8), np.random.default_rng(0)
    >>> fits = [eisfit.fit(eisfit.Spectrum(f, add_noise(Circuit("R0-p(R1,CPE1)").impedance(
    ...     f, [5.0, r, arc_q(r, 1e-9, 0.9), 0.9]), 0.005, rng)), "R0-p(R1,CPE1)") for r in R]
    >>> j = fit_joint(fits, T)
    >>> bool(abs(j.processes["R1"].Ea_eV - 0.4) < 0.01)
    True
    """
    results = list(results)
    temps = np.asarray([float(t) for t in temperatures_K], float)
    _check_inputs(len(results), temps, form, series_resistance)
    if labels is None:
        labels = [r.spectrum.source or f"spectrum {i}" for i, r in enumerate(results)]
    setup = _setup(results, temps, form, processes, shared_capacitance)
    _add_laws(setup)
    _add_shared_shapes(setup)
    series_col = _add_series(setup, series_resistance)
    slots = _slots(setup, series_col)
    problem, sol, cov = _solve(setup, slots, max_nfev)
    return _joint_result(
        setup, problem, sol, cov, list(labels), geometry, keep_all, series_resistance
    )


# --------------------------------------------------------------------------- results out
def _parameters(
    problem: StackedProblem, u: np.ndarray, cov: np.ndarray
) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Every circuit parameter at every temperature (n_t, n_par), its standard error, and each
    spectrum's d p / d u."""
    n_t = len(problem.problems)
    params = np.empty((n_t, problem.n_par))
    params_se = np.empty((n_t, problem.n_par))
    derivs = []
    for k in range(n_t):
        p, d = problem.params_of(u, k)
        params[k] = p
        params_se[k] = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", d, cov, d), 0.0))
        derivs.append(d)
    return params, params_se, derivs


def _prefactor(
    setup: _Setup, pr: _Proc, u: np.ndarray, cov: np.ndarray, geometry: Any
) -> tuple[float, float, str]:
    """ln A of process ``pr`` and its standard error, in the units
    :meth:`eisfit.series.temperature.Series.arrhenius` uses for its role, and the quantity."""
    t_ref = setup.t_ref
    a, ea = float(u[pr.col_a]), float(u[pr.col_ea])
    # ln(G T) = ln T_ref − a + Ea/(k T_ref) − Ea/(k T)   (σT form), G = 1/R
    ln_g0 = (math.log(t_ref) if setup.form == "ln(sigma*T)" else 0.0) - a + ea / (K_B_EV * t_ref)
    g = np.array([-1.0, 1.0 / (K_B_EV * t_ref)])
    sub = cov[np.ix_([pr.col_a, pr.col_ea], [pr.col_a, pr.col_ea])]
    ln_g0_se = math.sqrt(max(float(g @ sub @ g), 0.0))
    if pr.role.endswith("interface"):
        if geometry is not None:
            n_if = setup.named.interfaces if setup.named is not None else 1
            ln_g0 -= math.log(float(geometry.area_cm2) / n_if)
        return ln_g0, ln_g0_se, "resistance"
    if geometry is not None:
        ln_g0 += math.log(float(geometry.thickness_cm) / float(geometry.area_cm2))
        return ln_g0, ln_g0_se, "conductivity"
    return ln_g0, ln_g0_se, "conductance"


def _apex(params: np.ndarray, pr: _Proc) -> np.ndarray:
    """Apex frequency (Hz) of the arc of ``pr`` at every temperature."""
    rk = params[:, pr.r_index]
    if pr.n_index >= 0:
        tau = (rk * params[:, pr.c_index]) ** (1.0 / params[:, pr.n_index])
    else:
        tau = rk * params[:, pr.c_index]
    return 1.0 / (2 * math.pi * tau)


def _shared_shape(
    pr: _Proc, u: np.ndarray, var_u: np.ndarray
) -> tuple[float, float, float, float]:
    """Shared capacitance (F), its standard error, the shared exponent and its standard error
    (NaN when ``pr`` shares none)."""
    if not pr.shared:
        return math.nan, math.nan, math.nan, math.nan
    cap = math.exp(u[pr.col_lnc])
    cap_se = cap * math.sqrt(max(var_u[pr.col_lnc], 0.0))
    if pr.n_index >= 0:
        return cap, cap_se, float(u[pr.col_n]), math.sqrt(max(var_u[pr.col_n], 0.0))
    return cap, cap_se, 1.0, 0.0


def _process_notes(
    pr: _Proc, above: np.ndarray, labels: list[str], ea: float, ea_se: float
) -> list[str]:
    """What a user should know about one process: arcs above the window, an Ea the data do
    not determine, a negative Ea."""
    notes = []
    if above.all():
        notes.append(
            f"the {pr.role} arc relaxes above the highest measured frequency in every "
            f"spectrum: its resistance rests on the Arrhenius law and the high-frequency "
            "intercepts alone"
            + (", and its shared capacitance is not determined" if pr.shared else "")
        )
    elif above.any():
        hot = _names([labels[k] for k in np.flatnonzero(above)])
        notes.append(
            f"the {pr.role} arc relaxes above the highest measured frequency in "
            f"{int(above.sum())} of {above.size} spectra ({hot}): its resistance there follows "
            "from the Arrhenius law fitted to the whole series"
            + (" and the shared capacitance" if pr.shared else "")
        )
    if math.isfinite(ea_se) and ea_se > 0.5 * abs(ea):
        notes.append(
            f"the {pr.role} Ea is not determined by the data (standard error "
            f"{ea_se:.2g} eV, over half of Ea)"
        )
    if ea < 0:
        notes.append(f"Ea is negative ({ea:.3g} eV): the {pr.role} resistance rises with T")
    if not math.isfinite(ea_se):
        notes.append("Ea has no standard error")
    return notes


def _process(
    setup: _Setup,
    pr: _Proc,
    u: np.ndarray,
    cov: np.ndarray,
    fitted: tuple[np.ndarray, np.ndarray],
    labels: list[str],
    geometry: Any,
    keep_all: bool,
) -> JointProcess:
    """The :class:`JointProcess` of ``pr`` at the joint optimum ``u`` (``fitted``: every
    parameter at every temperature and its standard error)."""
    params, params_se = fitted
    var_u = np.diag(cov)
    ea = float(u[pr.col_ea])
    ea_se = math.sqrt(var_u[pr.col_ea]) if var_u[pr.col_ea] >= 0 else math.nan
    ln_g0, ln_g0_se, quantity = _prefactor(setup, pr, u, cov, geometry)
    apex = _apex(params, pr)
    above = apex > np.array([float(np.max(p.frequency)) for p in setup.problems])
    cap, cap_se, expo, expo_se = _shared_shape(pr, u, var_u)
    notes = _process_notes(pr, above, labels, ea, ea_se)
    why = None if keep_all else ea_not_determined(ea, ea_se, pr.role)
    if why is not None:  # withdrawn: the law's resistances stay, its Ea is no result
        notes.append(f"the {pr.role} Ea is not reported: {why}")
        ea = ea_se = ln_g0 = ln_g0_se = math.nan
    return JointProcess(
        role=pr.role,
        Ea_eV=ea,
        Ea_stderr_eV=ea_se,
        Ea_kJ_per_mol=ea * EV_TO_KJ_PER_MOL,
        Ea_ci95_eV=(ea - 1.959964 * ea_se, ea + 1.959964 * ea_se),
        ln_prefactor=float(ln_g0),
        ln_prefactor_stderr=float(ln_g0_se),
        form=setup.form,
        quantity=quantity,
        T_min_K=float(setup.temps.min()),
        T_max_K=float(setup.temps.max()),
        n=len(setup.results),
        T_ref_K=float(setup.t_ref),
        shared=pr.shared,
        capacitance_F=float(cap),
        capacitance_stderr_F=float(cap_se),
        exponent=float(expo),
        exponent_stderr=float(expo_se),
        resistance_ohm=_frozen(params[:, pr.r_index]),
        resistance_stderr_ohm=_frozen(params_se[:, pr.r_index]),
        apex_hz=_frozen(apex),
        above_window=_frozen(above),
        warnings=tuple(notes),
        reason=why,
    )


def _resistances(
    setup: _Setup,
    fitted: tuple[np.ndarray, np.ndarray],
    derivs: list[np.ndarray],
    cov: np.ndarray,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Role -> resistance at every temperature and its standard error: the processes, the free
    arcs, ``series`` and ``total`` (the named circuit's total roles)."""
    params, params_se = fitted
    res_out: dict[str, np.ndarray] = {}
    res_se_out: dict[str, np.ndarray] = {}
    for pr in setup.procs:
        res_out[pr.role] = _frozen(params[:, pr.r_index])
        res_se_out[pr.role] = _frozen(params_se[:, pr.r_index])
    for a in setup.arcs:  # free arcs (not constrained)
        role = setup.role_of_arc[a.names[0]]
        if role not in res_out:
            res_out[role] = _frozen(params[:, a.indices[0]])
            res_se_out[role] = _frozen(params_se[:, a.indices[0]])
    if setup.series_idx:
        i0 = setup.series_idx[0]
        res_out["series"] = _frozen(params[:, i0])
        res_se_out["series"] = _frozen(params_se[:, i0])
    named = setup.named
    total_roles = list(named.total) if named is not None and named.total else []
    if total_roles and all(t in res_out for t in total_roles):
        idx = [next(a.indices[0] for a in setup.arcs if setup.role_of_arc[a.names[0]] == t)
               for t in total_roles]
        d_tot = [np.sum(d[idx], axis=0) for d in derivs]  # d total / d u per spectrum
        res_out["total"] = _frozen(params[:, idx].sum(axis=1))
        res_se_out["total"] = _frozen(
            np.array([math.sqrt(max(float(g @ cov @ g), 0.0)) for g in d_tot])
        )
    return res_out, res_se_out


def _solver_notes(
    sol: Solution, problem: StackedProblem, names: list[str], redchi: float, indep_red: float
) -> list[str]:
    """Notes on the joint solve: no convergence, shared quantities at a bound, a reduced χ²
    well above the independent fits'."""
    notes = []
    if not sol.success:
        notes.append(f"the joint solver did not converge: {sol.message}")
    u, lower, upper = sol.u, problem.lower, problem.upper
    for c in range(problem.n_u):
        span = upper[c] - lower[c]
        if u[c] - lower[c] <= 1e-6 * span or upper[c] - u[c] <= 1e-6 * span:
            if "." in names[c]:  # a shared quantity at its bound matters; locals say less
                notes.append(f"{names[c]} = {u[c]:.4g} sits at a bound of the joint fit")
    if redchi > CHI2_RATIO_WARN * indep_red:
        notes.append(
            f"the joint fit's reduced chi-square ({redchi:.3g}) is {redchi / indep_red:.2g} times "
            f"that of the independent fits ({indep_red:.3g}): the Arrhenius laws (or the shared "
            "capacitance) do not describe every temperature; compare with the independent "
            "results"
        )
    return notes


def _independent_chi_square(results: list[FitResult]) -> float:
    """Reduced χ² of the independent fits together: summed chisqr over summed dof."""
    chisqr, dof = 0.0, 0
    for r in results:
        chisqr += float(r.chisqr)
        dof += max(2 * len(r.spectrum) - int(r.n_free), 1)
    return chisqr / max(dof, 1)


def _joint_result(
    setup: _Setup,
    problem: StackedProblem,
    sol: Solution,
    cov: np.ndarray | None,
    labels: list[str],
    geometry: Any,
    keep_all: bool,
    series_resistance: str,
) -> JointResult:
    """The :class:`JointResult` of the solution ``sol``."""
    u, r_fin, n_u = sol.u, sol.residual, problem.n_u
    chisqr = float(r_fin @ r_fin)
    redchi = chisqr / (r_fin.size - n_u)
    indep_red = _independent_chi_square(setup.results)
    notes = setup.notes
    if cov is None:
        cov = np.full((n_u, n_u), np.nan)
        notes.append("the joint covariance could not be estimated: no standard errors")
    params, params_se, derivs = _parameters(problem, u, cov)
    proc_out = {
        pr.role: _process(setup, pr, u, cov, (params, params_se), labels, geometry, keep_all)
        for pr in setup.procs
    }
    for p in proc_out.values():
        notes.extend(p.warnings)
    res_out, res_se_out = _resistances(setup, (params, params_se), derivs, cov)
    notes.extend(_solver_notes(sol, problem, setup.coords.names, redchi, indep_red))
    named = setup.named
    return JointResult(
        processes=proc_out,
        temperatures_K=_frozen(setup.temps),
        labels=labels,
        circuit=setup.circuit,
        circuit_name=named.name if named is not None else None,
        parameter_names=list(setup.pnames),
        parameters=_frozen(params),
        parameter_stderr=_frozen(params_se),
        resistances=res_out,
        resistance_stderr=res_se_out,
        series_mode=series_resistance if setup.series_idx else "none",
        form=setup.form,
        chisqr=chisqr,
        chi_square=redchi,
        chi_square_independent=indep_red,
        n_points=int(r_fin.size),
        n_free=n_u,
        nfev=int(sol.nfev),
        success=bool(sol.success),
        warnings=tuple(dict.fromkeys(notes)),
        covariance=_frozen(cov),
        coordinate_names=setup.coords.names,
        coordinates=_frozen(u),
        problem=problem,
    )


def _names(labels: list[str], most: int = 4) -> str:
    """Labels joined with commas, the middle ones elided when there are many."""
    if len(labels) <= most:
        return ", ".join(labels)
    return f"{', '.join(labels[:2])}, ... {labels[-1]}"


def _frozen(a: Any) -> np.ndarray:
    out = np.array(a)
    out.setflags(write=False)
    return out
