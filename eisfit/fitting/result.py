"""``FitResult``: parameters with uncertainties, physical quantities by role, checks, reports."""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import uncertainties
from uncertainties import ufloat

from eisfit.display import shown
from eisfit.findings import Finding, as_finding
from eisfit.fitting import guess
from eisfit.fitting.engine import Problem, Solution, covariance
from eisfit.format import NOT_DETERMINED, determined, unit_text, value_error
from eisfit.io.spectrum import Spectrum
from eisfit.model.circuit import Circuit
from eisfit.model.named import NamedCircuit
from eisfit.output import json_float as _f

if TYPE_CHECKING:  # lmfit takes most of a second to import: only when it is used
    import lmfit

#: Correlation above which a pair of parameters is reported as not separately determined.
CORRELATION_LIMIT = 0.98

#: An unmodelled series inductance L is reported when ωL at the highest fitted frequency is at
#: least this fraction of |Z| there (and the data determine L: :data:`INDUCTANCE_SIGNIFICANCE`).
INDUCTANCE_FRACTION = 0.02
#: ... and when L is at least this many standard errors above zero.
INDUCTANCE_SIGNIFICANCE = 5.0


@dataclass(eq=False, slots=True)
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
    #: (free parameter names, their correlation matrix, this parameter's row), shared by the
    #: records of one fit: one small matrix instead of a dictionary per parameter
    correlation: tuple[tuple[str, ...], np.ndarray, int] | None = None

    @property
    def correl(self) -> dict[str, float] | None:
        """Correlation with every other free parameter (None when not estimated)."""
        if self.correlation is None:
            return None
        names, corr, row = self.correlation
        return {n: float(corr[row, k]) for k, n in enumerate(names) if k != row}


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
        NaN for a role that is not determined (:attr:`undetermined`: the high-frequency
        intercept less an external resistance that is not below it), with a warning.
    capacitances, apex_hz
        Role -> effective capacitance (F) and apex frequency (Hz) of each arc.
    arcs
        The arcs with ufloats.
    warnings
        Human-readable warnings; empty when nothing is suspicious. Each is a
        :class:`~eisfit.findings.Finding` (a ``str`` with a ``code``, ``role``, ``severity`` and
        ``numbers``); :attr:`findings` gives them as findings whatever they were made from.
    flags
        Parameter name -> list of flags (``at_bound``, ``relative_error_over_100%``).
    search
        What the search beyond the automatic starts did (:class:`eisfit.fitting.search.Search`: the
        data's floor, the first and final reduced χ², the rounds); None for a fit from the
        user's starting values.
    """

    spectrum: Spectrum
    circuit: Circuit
    named: NamedCircuit | None
    weighting: str
    records: dict[str, ParameterRecord]
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
    warnings: tuple[str, ...]
    flags: dict[str, list[str]] = field(default_factory=dict)
    original: Spectrum | None = None
    covariance: np.ndarray | None = None
    role_terms: dict[str, tuple[tuple[int, ...], float]] = field(default_factory=dict)
    arc_terms: tuple[tuple[str, str, tuple[int, ...]], ...] = ()
    search: Any = None
    #: How the fit was made (:class:`eisfit.fitting.spec.FitSpec`); None for a result built by hand.
    spec: Any = field(default=None, compare=False)

    # ------------------------------------------------------------------ uncertainties
    # The ufloats of the ``uncertainties`` package are built on first use and kept with the
    # result (so quantities derived from one result stay correlated), but not pickled: a batch
    # of thousands of results carries numbers, not tens of thousands of linked objects.
    def _cached(self, key: str, make: Any) -> Any:
        value = self.__dict__.get(key)
        if value is None:
            value = make()
            object.__setattr__(self, key, value)
        return value

    @property
    def uvars(self) -> dict[str, Any]:
        """Parameter name -> correlated ufloat (fixed parameters: plain floats)."""
        return self._cached("_uvars", self._make_uvars)

    def _make_uvars(self) -> dict[str, Any]:
        names = list(self.records)
        p = np.array([r.value for r in self.records.values()])
        free = [i for i, r in enumerate(self.records.values()) if r.vary]
        return correlated_uvars(names, p, free, self.covariance)

    @property
    def resistance_uvars(self) -> dict[str, Any]:
        """Role -> resistance (Ohm) as a ufloat correlated with :attr:`uvars`."""
        return self._cached("_resistance_uvars", self._make_resistance_uvars)

    def _make_resistance_uvars(self) -> dict[str, Any]:
        u = list(self.uvars.values())
        out: dict[str, Any] = {}
        for role, (idx, const) in self.role_terms.items():
            if not self._determined(role):
                out[role] = ufloat(math.nan, math.nan)
                continue
            terms = [u[i] for i in idx]
            out[role] = (sum(terms[1:], terms[0]) + const) if terms else float(const)
        return out

    @property
    def arcs(self) -> tuple[Arc, ...]:
        """The R‖CPE and R‖C arcs, with ufloats."""
        return self._cached("_arcs", self._make_arcs)

    def _make_arcs(self) -> tuple[Arc, ...]:
        u = list(self.uvars.values())
        values = [r.value for r in self.records.values()]
        out = []
        for name, role, idx in self.arc_terms:
            ru, tau = u[idx[0]], _tau(u, idx)
            out.append(Arc(name, role, ru, tau / ru, 1 / (2 * math.pi * tau), arc_n(values, idx)))
        return tuple(out)

    # ------------------------------------------------------------------ derived views
    @property
    def params(self) -> lmfit.Parameters:
        """The parameters as lmfit ``Parameters`` (value, stderr, correl, bounds, vary).

        Built on first use: an lmfit ``Parameters`` carries an expression interpreter that
        costs more to make and to pickle than the fit itself, and batches rarely need it.
        """
        cached = self.__dict__.get("_params")
        if cached is None:
            import lmfit

            cached = lmfit.Parameters()
            for r in self.records.values():
                cached.add(r.name, value=r.value, min=r.min, max=r.max, vary=r.vary)
                cached[r.name].stderr = r.stderr
                cached[r.name].correl = dict(r.correl) if r.correl is not None else None
            object.__setattr__(self, "_params", cached)
        return cached

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        for key in ("_params", "_uvars", "_resistance_uvars", "_arcs"):
            state.pop(key, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    @property
    def findings(self) -> tuple[Finding, ...]:
        """:attr:`warnings` as :class:`~eisfit.findings.Finding` objects (a plain string, as in
        a fit saved by an older eisfit, as code ``other``)."""
        return tuple(as_finding(w) for w in self.warnings)

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

    def _arc_taus(self) -> dict[str, tuple[float, float]]:
        values = [r.value for r in self.records.values()]
        return {role: arc_tau(values, idx) for _, role, idx in self.arc_terms}

    @property
    def capacitances(self) -> dict[str, float]:
        """Role -> effective capacitance of each arc in F."""
        return {role: tau / r for role, (r, tau) in self._arc_taus().items()}

    @property
    def apex_hz(self) -> dict[str, float]:
        """Role -> apex frequency of each arc in Hz."""
        return {role: 1 / (2 * math.pi * tau) for role, (_, tau) in self._arc_taus().items()}

    @property
    def n_points(self) -> int:
        """Number of frequencies fitted."""
        return len(self.spectrum)

    def impedance(self, frequency: Any = None) -> np.ndarray:
        """The fitted circuit's impedance (Ohm) at ``frequency`` (Hz; the data's by default)."""
        f = self.spectrum.frequency if frequency is None else np.asarray(frequency, float)
        return self.circuit.impedance(f, [p.value for p in self.records.values()])

    def to_impedance(self) -> Any:
        """The fit as an impedance.py ``CustomCircuit``: the circuit string, the fitted values
        as ``initial_guess`` and ``parameters_``, fixed ones as ``constants``; its
        ``predict(f)`` equals :meth:`impedance` (see
        :func:`eisfit.fitting.interop.to_impedance`)."""
        from eisfit.fitting.export import to_impedance

        return to_impedance(self)

    def residuals(self) -> np.ndarray:
        """Relative complex residuals (Z_data − Z_fit)/|Z_data|."""
        z = self.spectrum.z
        return (z - self.impedance()) / np.abs(z)

    # ------------------------------------------------------------------ physics
    def _determined(self, role: str) -> bool:
        """False for a role whose resistance is not determined (NaN in :attr:`resistances`:
        e.g. the high-frequency intercept less an external resistance that exceeds it)."""
        return math.isfinite(self.resistances.get(role, math.nan))

    @property
    def undetermined(self) -> list[str]:
        """Roles whose resistance is not determined (reported as NaN, ``null`` in JSON).

        A role taken from the high-frequency intercept less the external resistance is not
        determined when the external resistance is not below the intercept (the fit's warnings
        say so); ``total`` too when it includes that role.
        """
        return [role for role in self.resistances if not self._determined(role)]

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
            (apparent), ``total`` and ``electrolyte`` where the fit has them; a role whose
            resistance is not determined (not a positive number, see :attr:`undetermined`)
            gets NaN ± NaN.
        """
        out = {}
        for role in ("bulk", "grain_boundary", "electrolyte", "total"):
            r = self.resistance_ufloat(role)
            if r is None:
                continue
            if uncertainties.nominal_value(r) > 0:
                out[role] = geometry.conductivity(r)
            else:
                out[role] = ufloat(math.nan, math.nan)
        return out

    def resistance_ufloat(self, role: str) -> Any:
        """The resistance of ``role`` (Ohm) as an independent ufloat, or None.

        Value and standard error as in :attr:`resistances` and :attr:`resistance_stderr`,
        without building the correlated ufloats of :attr:`resistance_uvars`: enough for a
        quantity of one role (σ, ASR), and light for a batch.
        """
        if role not in self.resistances:
            return None
        err = self.resistance_stderr.get(role, 0.0)
        if err == 0.0:
            return float(self.resistances[role])
        return ufloat(self.resistances[role], err)

    def brick_layer(self, geometry: Any, grain_size: Any = None) -> Any:
        """Brick-layer analysis of this blocking-cell fit (:func:`eisfit.brick_layer`): the
        specific grain-boundary conductivity (S/cm), boundary thickness (m, with
        ``grain_size``, e.g. ``"5 um"``) and bulk permittivity, with standard errors."""
        from eisfit.analysis.microstructure import brick_layer

        return brick_layer(self, geometry, grain_size)

    def asr(self, geometry: Any) -> dict[str, Any]:
        """Area-specific resistance R·A (Ohm cm²) per role; per interface for symmetric cells.

        A role whose resistance is not determined (not a positive number, see
        :attr:`undetermined`) gets NaN ± NaN.
        """
        out: dict[str, Any] = {}
        n_if = self.named.interfaces if self.named is not None else 1
        for role in self.resistances:
            r = self.resistance_ufloat(role)
            if not uncertainties.nominal_value(r) > 0:
                out[role] = ufloat(math.nan, math.nan)
                continue
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
        from eisfit.labels import spectrum_keys

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
            **spectrum_keys(meta),  # n_spectra, cycle, loop, time_s: which one of the file
            "circuit": str(self.circuit),
            "circuit_name": self.circuit_name,
            "n_points": self.n_points,
            "weighting": self.weighting,
            "chi_square": _f(self.chi_square),
            "floor_chi_square": None if self.search is None else _f(self.search.floor),
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
            # an area alone gives the ASR; the conductivity needs the thickness too
            sig = self.conductivity(geometry) if getattr(geometry, "has_thickness", True) else {}
            if sig:
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
        if "fixture_correction" in meta:  # corrected by eisfit.correct_fixture
            d["fixture_correction"] = dict(meta["fixture_correction"])
        if self.spec is not None:
            d["spec"] = self.spec.to_dict()
        d["warnings"] = [str(w) for w in self.warnings]
        d["findings"] = [f.to_dict() for f in self.findings]
        return d

    def to_json(self, path: Any = None, *, force: bool = False) -> str:
        """The fit as JSON that :func:`eisfit.load_result` reads back exactly.

        :meth:`to_dict` with ``format`` and ``saved`` (the spectrum, bounds, covariance,
        search, versions...; see :mod:`eisfit.fitting.saved`); every float ``repr``-exact.

        Parameters
        ----------
        path
            A file to write it to as well (atomically); refused when it exists.
        force
            Replace an existing file.

        Returns
        -------
        str
            The JSON text.
        """
        from eisfit.fitting.save import to_json

        return to_json(self, path, force=force)

    def report(self, geometry: Any = None) -> str:
        """A plain-text report in fixed sections."""
        lines = ["[[Fit]]"]
        lines.append(f"    source       = {self.spectrum.source or '-'}")
        from eisfit.labels import spectrum_label

        which = spectrum_label(self.spectrum.meta)  # one of several spectra in the file
        if which is not None:
            lines.append(f"    spectrum     = {which.removeprefix('spectrum ')}")
        name = f" ({self.circuit_name})" if self.circuit_name else ""
        lines.append(f"    circuit      = {self.circuit}{name}")
        lo, hi = self.spectrum.frequency_range
        lines.append(f"    points       = {self.n_points}, {lo:.3g} Hz to {hi:.3g} Hz")
        lines.append(f"    weighting    = {self.weighting}")
        fixture = self.spectrum.meta.get("fixture_correction")
        if fixture is not None:  # corrected by eisfit.correct_fixture
            from eisfit.analysis.fixture import describe

            lines.append(f"    fixture      = {describe(fixture)}")
        lines.append(f"    chi_square   = {value_error(self.chi_square, digits=3)}  (reduced)")
        lines.append(f"    AIC, BIC     = {self.aic:.1f}, {self.bic:.1f}")
        if self.spectrum.temperature is not None:
            lines.append(f"    temperature  = {self.spectrum.temperature:.2f} K")
        lines.append("[[Parameters]]")
        units = dict(zip(self.circuit.parameter_names, self.circuit.parameter_units, strict=True))
        for k, p in self.records.items():
            err = _fmt_err(p.value, p.stderr, units[k])
            flag = f"  [{', '.join(self.flags[k])}]" if self.flags.get(k) else ""
            fixed = "  (fixed)" if not p.vary else ""
            lines.append(f"    {k:<8} = {err}{fixed}{flag}")
        if self.resistances:
            lines.append("[[Resistances]]")
            for role, v in self.resistances.items():
                if not math.isfinite(v):
                    lines.append(f"    {role:<18} = not determined")
                    continue
                err = self.resistance_stderr.get(role)
                given = ""
                if err == 0.0:  # no free parameter in it: given, not fitted
                    external = role == "series" and v == self.external_resistance
                    given = "  (external, not fitted)" if external else "  (fixed)"
                lines.append(f"    {role:<18} = {_fmt_err(v, err, 'Ohm')}{given}")
        if self.arc_terms:
            lines.append("[[Arcs]]")
            records = list(self.records.values())
            for arc, (_, role, idx) in zip(self.arcs, self.arc_terms, strict=True):
                c, f = arc.capacitance, arc.apex_hz
                n = (_fmt_err(records[idx[2]].value, records[idx[2]].stderr) if len(idx) == 3
                     else "1")
                lines.append(
                    f"    {role:<18} C_eff = {_fmt_err(_nominal(c), _std(c), 'F')}, "
                    f"apex = {_fmt_err(_nominal(f), _std(f), 'Hz')}, n = {n}"
                )
        if geometry is not None:
            # without a thickness only the area-specific resistance, else the conductivity
            area_only = not getattr(geometry, "has_thickness", True)
            title, unit, quantities = (
                ("Area-specific resistance", "Ohm cm2", self.asr(geometry)) if area_only
                else ("Conductivity", "S/cm", self.conductivity(geometry))
            )
            lines.append(f"[[{title}]]")
            lines.append(f"    geometry     = {geometry}")
            if getattr(geometry, "note", None):
                lines.append(f"    note         = {geometry.note}")
            for role, q in quantities.items():
                value = _nominal(q)
                text = f"{_fmt_err(value, _std(q))} {unit}" if math.isfinite(value) else None
                lines.append(f"    {role:<18} = {text or NOT_DETERMINED}")
            if area_only:
                lines.append("    conductivity = not computed: it needs the thickness "
                             "(--thickness)")
        lines.append("[[Warnings]]")
        if self.warnings:
            lines.extend(f"    - {w}" for w in self.warnings)
        else:
            lines.append("    none")
        return "\n".join(lines)

    def to_markdown(self, geometry: Any = None) -> str:
        """Parameter and derived-quantity tables in Markdown
        (:func:`eisfit.show.paper_tables.to_markdown`)."""
        return shown("to_markdown")(self, geometry)

    def to_latex(self, geometry: Any = None, **kw: Any) -> str:
        """Parameter and derived-quantity tables in LaTeX, booktabs and siunitx
        (:func:`eisfit.show.paper_tables.to_latex`: ``label=``, ``document=True``)."""
        return shown("to_latex")(self, geometry, **kw)

    def diagram(self) -> Any:
        """The fitted circuit drawn with its values (:func:`eisfit.draw_circuit`; SVG)."""
        return shown("draw_circuit")(self.circuit, self.values)

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
                f"<td>{html.escape(unit_text(units[k]))}</td><td>{html.escape(flags)}</td></tr>"
            )
        res_rows = "".join(
            f"<tr><td>{html.escape(r)}</td><td>"
            f"{html.escape(_fmt_err(v, self.resistance_stderr.get(r), 'Ohm'))}</td></tr>"
            for r, v in self.resistances.items()
        )
        warn = "".join(f"<li>{html.escape(w)}</li>" for w in self.warnings)
        title = html.escape(f"{self.circuit_name or ''} {self.circuit}".strip())
        return (
            f"<div><strong>FitResult</strong> {title}, "
            f"χ² = {html.escape(value_error(self.chi_square, digits=3))}, "
            f"{self.n_points} points"
            "<table><tr><th>parameter</th><th>value</th><th>unit</th><th>flags</th></tr>"
            + "".join(rows)
            + "</table><table><tr><th>role</th><th>resistance</th></tr>"
            + res_rows
            + "</table>"
            + (f"<ul>{warn}</ul>" if warn else "")
            + _figure_html(self)
            + _diagram_html(self)
            + f"<details><summary>text</summary><pre>{html.escape(self.report())}</pre></details>"
            + "</div>"
        )


def _nominal(x: Any) -> float:
    return float(uncertainties.nominal_value(x))


def _std(x: Any) -> float:
    return float(uncertainties.std_dev(x))


def _figure_html(result: FitResult) -> str:
    """The fit's Nyquist and residual plot as an embedded image; nothing if it cannot be drawn."""
    try:
        return shown("fit_figure_html")(result)
    except Exception:  # a display nicety: the table above stands without it
        return ""


def _diagram_html(result: FitResult) -> str:
    """The fitted circuit as inline SVG where schemdraw is installed; nothing otherwise."""
    try:
        return f'<div style="max-width:100%;overflow-x:auto">{result.diagram().svg}</div>'
    except Exception:  # a display nicety, as the figure above
        return ""


def _fmt_err(value: float, err: float | None, unit: str = "") -> str:
    """``value ± err unit`` by :func:`eisfit.format.value_error` (the PDG rule), and
    ``not determined (value ± err unit)`` when the error is larger than the value."""
    text = value_error(value, err, unit)
    if text != NOT_DETERMINED and not determined(value, err):
        text = f"{NOT_DETERMINED} ({text})"
    return text


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
    search: Any = None,
    fitted: tuple[int, np.ndarray | None] | None = None,
) -> FitResult:
    """Turn a solver solution into a :class:`FitResult` (statistics, roles, checks).

    The parameter vectors hold a handful of numbers, so they are read as Python floats once
    and the checks run on those; the matrices (covariance, correlation) stay numpy arrays.
    ``fitted``: for a constrained fit (:mod:`eisfit.fitting.constraints`), the number of coordinates
    the solver fitted and the covariance of the reported free parameters in solver units
    (None: not estimated), in place of those of ``problem``'s free parameters.
    """
    p = sol.params
    values = p.tolist()
    if problem.admittance:
        notes = [*notes, *admittance_notes(circuit)]
    free_idx = problem.free.tolist()
    n_fit = len(free_idx) if fitted is None else fitted[0]  # tied parameters are not free
    chisqr, redchi, aic, bic = _statistics(sol.residual, n_fit)
    params, stderr, corr, cov_p = _parameter_records(
        circuit.parameter_names, values, problem, _natural_covariance(problem, sol, fitted)
    )
    if cov_p is None:
        notes = [*notes, Finding(
            "the covariance matrix could not be estimated: no standard errors", "no_covariance"
        )]
    flags = _flags(circuit.parameter_names, problem, sol, values, stderr)

    roles = named.roles if named is not None else {}
    warnings_: list[str] = list(notes)
    warnings_.extend(_solver_warnings(spectrum, circuit, problem, sol))
    warnings_.extend(_flag_warnings(circuit, roles, problem, values, params, flags))
    terms, res, res_err, role_findings = _resistances_by_role(
        circuit, named, roles, values, external_resistance, free_idx, stderr, cov_p
    )
    warnings_.extend(role_findings)
    arc_terms, arc_findings = _arcs(spectrum, circuit, named, roles, p)
    warnings_.extend(arc_findings)
    # Q and n of one CPE are correlated near ±1 whenever the arc's apex is far from 1 rad/s
    # (Q carries the unit S s^n, so a change of n moves Q at fixed apex): a property of the
    # parametrisation, not of the data. Their standard errors and the arc's C_eff and apex say
    # whether the arc is determined; the pair is left out of the warnings (kept in correl).
    if corr is not None:
        warnings_.extend(_correlation_warnings(corr, free_idx, circuit))

    return FitResult(
        spectrum=spectrum,
        circuit=circuit,
        named=named,
        weighting=weighting,
        records=params,
        chisqr=chisqr,
        chi_square=redchi,
        aic=aic,
        bic=bic,
        n_free=n_fit,
        nfev=int(sol.nfev),
        success=bool(sol.success),
        external_resistance=float(external_resistance),
        resistances=res,
        resistance_stderr=res_err,
        warnings=tuple(dict.fromkeys(warnings_)),
        flags=flags,
        original=original,
        covariance=cov_p,
        role_terms=terms,
        arc_terms=tuple(arc_terms),
        search=search,
    )


def _statistics(r: np.ndarray, n_fit: int) -> tuple[float, float, float, float]:
    """χ² (the weighted sum of squared residuals ``r``), reduced χ² (over 2N − p degrees of
    freedom, at least 1), AIC and BIC of a fit of ``n_fit`` coordinates."""
    n_res = r.size
    chisqr = float(r @ r)
    dof = max(n_res - n_fit, 1)
    redchi = chisqr / dof
    neg2ll = n_res * np.log(max(chisqr, 1e-300) / n_res)
    aic = float(neg2ll + 2 * n_fit)
    bic = float(neg2ll + np.log(n_res) * n_fit)
    return chisqr, redchi, aic, bic


def _natural_covariance(
    problem: Problem, sol: Solution, fitted: tuple[int, np.ndarray | None] | None
) -> np.ndarray | None:
    """The covariance of the free parameters in natural units (None: not estimated): the
    solver's (``fitted``'s for a constrained fit) with dp = p du for log-scaled parameters."""
    if fitted is None:
        cov_u = covariance(sol, len(problem.free), problem.absolute_sigma)  # 1/σ: not rescaled
    else:
        cov_u = fitted[1]
    if cov_u is None:
        return None
    p, free = sol.params, problem.free
    scale = np.where(problem.log[free], p[free], 1.0)
    return cov_u * (scale[:, None] * scale)


def _parameter_records(
    names: list[str], values: list[float], problem: Problem, cov_p: np.ndarray | None
) -> tuple[
    dict[str, ParameterRecord], list[float | None], np.ndarray | None, np.ndarray | None
]:
    """The records of every parameter, with the free ones' standard errors and correlations.

    Returns the records, the standard errors of the free parameters, their correlation matrix
    and ``cov_p`` (natural units); when ``cov_p`` is missing, not finite or has a negative
    variance, the standard errors are None and the correlation and covariance None.
    """
    lower, upper, vary = problem.lower.tolist(), problem.upper.tolist(), problem.vary.tolist()
    params = {
        n: ParameterRecord(n, float(values[i]), float(lower[i]), float(upper[i]), bool(vary[i]))
        for i, n in enumerate(names)
    }
    free_idx = problem.free.tolist()
    stderr: list[float | None] = [None] * len(free_idx)
    if cov_p is None or not np.isfinite(cov_p).all() or not (cov_p.diagonal() >= 0).all():
        return params, stderr, None, None
    sd = np.sqrt(cov_p.diagonal())
    stderr = sd.tolist()
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = cov_p / (sd[:, None] * sd)
    corr.setflags(write=False)
    free_names = tuple(names[i] for i in free_idx)
    for a, i in enumerate(free_idx):
        record = params[names[i]]
        record.stderr = stderr[a]
        record.correlation = (free_names, corr, a)
    return params, stderr, corr, cov_p


def _flags(
    names: list[str],
    problem: Problem,
    sol: Solution,
    values: list[float],
    stderr: list[float | None],
) -> dict[str, list[str]]:
    """Parameter name -> flags of the free parameters: ``at_bound`` (within 1e-4 of the span
    from a bound, in solver coordinates), ``relative_error_over_100%``."""
    flags: dict[str, list[str]] = {}
    lo_u, hi_u = (b.tolist() for b in problem.internal_bounds())
    u = sol.u.tolist()
    for k, i in enumerate(problem.free.tolist()):
        span = hi_u[k] - lo_u[k]
        tol = 1e-4 * (span if math.isfinite(span) else 1.0)
        if u[k] - lo_u[k] <= tol or hi_u[k] - u[k] <= tol:
            flags.setdefault(names[i], []).append("at_bound")
        se = stderr[k]
        if se is not None and math.isfinite(se) and abs(values[i]) > 0 and se > abs(values[i]):
            flags.setdefault(names[i], []).append("relative_error_over_100%")
    return flags


def _solver_warnings(
    spectrum: Spectrum, circuit: Circuit, problem: Problem, sol: Solution
) -> list[Finding]:
    """The findings of the solve itself: not converged; an unmodelled series inductance."""
    out = []
    if not sol.success:
        out.append(Finding(f"the solver did not converge: {sol.message}", "not_converged"))
    inductance = unmodelled_inductance(spectrum, circuit, problem, sol)
    if inductance is not None:
        out.append(_inductance_warning(inductance))
    return out


def _flag_warnings(
    circuit: Circuit,
    roles: dict[str, str],
    problem: Problem,
    values: list[float],
    records: dict[str, ParameterRecord],
    flags: dict[str, list[str]],
) -> list[Finding]:
    """The findings of the ``flags``, parameter by parameter: ``at_bound`` (a CPE exponent
    pinned at 1, a resistance out of range, or a parameter at a bound) and ``not_determined``."""
    names = circuit.parameter_names
    lower, upper = problem.lower.tolist(), problem.upper.tolist()
    resistors = {names[e.start] for e in circuit.elements if e.element.name == "R"}
    default_upper = [hi for _, hi in circuit.default_bounds]
    out = []
    for n, fl in flags.items():
        i = names.index(n)
        role = roles.get(n, roles.get(n.split("_")[0]))
        if "at_bound" in fl:
            side = "lower" if abs(values[i] - lower[i]) <= abs(upper[i] - values[i]) else "upper"
            bound = lower[i] if side == "lower" else upper[i]
            if circuit.parameter_kinds[i] == "exponent" and bound == 1.0:
                what = f"the {role} CPE" if role else "the CPE"
                text = (
                    f"{n} = {values[i]:.3g} sits at its upper bound 1: {what} exponent is pinned "
                    "at an ideal capacitor, so its bound, not the data, sets it"
                )
            elif side == "upper" and n in resistors:
                text = _resistance_bound_warning(
                    n, values[i], bound, roles.get(n), bound >= default_upper[i]
                )
            else:
                text = f"{n} = {values[i]:.3g} sits at its {side} bound {bound:.3g}"
            out.append(Finding(text, "at_bound", role=role, parameters=(n,),
                               numbers={"value": values[i], "bound": bound}))
        if "relative_error_over_100%" in fl:
            out.append(Finding(
                f"{n} is not determined by the data (standard error above 100 %)",
                "not_determined", role=role, parameters=(n,),
                numbers={"value": values[i], "stderr": records[n].stderr or math.nan},
            ))
    return out


def _resistances_by_role(
    circuit: Circuit,
    named: NamedCircuit | None,
    roles: dict[str, str],
    values: list[float],
    external_resistance: float,
    free_idx: list[int],
    stderr: list[float | None],
    cov_p: np.ndarray | None,
) -> tuple[
    dict[str, tuple[tuple[int, ...], float]], dict[str, float], dict[str, float], list[Finding]
]:
    """The terms of each role's resistance (:func:`_role_terms`), role -> resistance (Ohm),
    role -> its standard error, and the finding of the roles that the intercept less the
    external resistance does not determine."""
    terms, intercept_role, intercept_value = _role_terms(
        circuit, named, roles, values, external_resistance
    )
    undetermined, findings = _intercept_check(
        named, intercept_role, intercept_value, external_resistance
    )
    res, res_err = _resistances(terms, values, free_idx, stderr, cov_p, undetermined)
    return terms, res, res_err, findings


def _role_terms(
    circuit: Circuit,
    named: NamedCircuit | None,
    roles: dict[str, str],
    values: list[float],
    external_resistance: float,
) -> tuple[dict[str, tuple[tuple[int, ...], float]], str | None, float]:
    """Each role's resistance as a sum of parameters plus a constant, ``(indices, constant)``;
    the role taken from the high-frequency intercept less the external resistance (None when
    the circuit has no intercept) and the intercept (Ohm; NaN without one)."""
    terms: dict[str, tuple[tuple[int, ...], float]] = {}
    intercept_parts: list[int] = []
    for e in circuit.elements:
        role = roles.get(e.name)
        if role is None:
            continue
        if e.element.name == "R" and role != "intercept":
            terms[role] = ((e.start,), 0.0)
        elif e.element.name in ("Wo", "Ws", "W", "G", "Gs") and role == "diffusion":
            terms[role] = ((e.start,), 0.0)
        elif role == "intercept" and e.element.name == "R":
            intercept_parts.append(e.start)
    intercept_role: str | None = None
    intercept_value = math.nan
    if intercept_parts:
        intercept = (tuple(intercept_parts), -float(external_resistance))
        if named is not None and named.hidden_role:
            if external_resistance > 0:
                terms["series"] = ((), float(external_resistance))
            intercept_role = named.hidden_role
        else:
            intercept_role = "total"
        terms[intercept_role] = intercept
        intercept_value = float(sum(values[i] for i in intercept_parts))
    if named is not None and named.total and "total" not in terms:
        parts = [terms[r] for r in named.total if r in terms]
        if parts:
            terms["total"] = (
                tuple(i for idx, _ in parts for i in idx),
                float(sum(c for _, c in parts)),
            )
    return terms, intercept_role, intercept_value


def _intercept_check(
    named: NamedCircuit | None,
    intercept_role: str | None,
    intercept_value: float,
    external_resistance: float,
) -> tuple[list[str], list[Finding]]:
    """The roles taken from the high-frequency intercept less the external resistance that are
    not determined (the external resistance is not below the intercept), with their finding."""
    if intercept_role is None or intercept_value - external_resistance > 0:
        return [], []
    undetermined = [intercept_role]
    if intercept_role != "total" and named is not None and intercept_role in named.total:
        undetermined.append("total")  # a sum that holds the role (NaN + x is NaN)
    finding = _intercept_warning(intercept_value, float(external_resistance), undetermined)
    return undetermined, [finding]


def _resistances(
    terms: dict[str, tuple[tuple[int, ...], float]],
    values: list[float],
    free_idx: list[int],
    stderr: list[float | None],
    cov_p: np.ndarray | None,
    undetermined: list[str],
) -> tuple[dict[str, float], dict[str, float]]:
    """Role -> resistance (Ohm) and role -> its standard error from the ``terms``: 0 for a sum
    of fixed parameters, NaN without a covariance, and NaN for both of an undetermined role."""
    res: dict[str, float] = {}
    res_err: dict[str, float] = {}
    slot = {i: k for k, i in enumerate(free_idx)}
    for role, (idx, const) in terms.items():
        res[role] = float(sum(values[i] for i in idx) + const)
        slots = [slot[i] for i in idx if i in slot]
        if not slots:
            res_err[role] = 0.0
        elif cov_p is None:
            res_err[role] = math.nan
        elif len(slots) == 1:
            # one free parameter (fixed ones add no error): the sum below reduces to its own
            # standard error, sqrt(cov[k, k]), with a zero variance giving +0.0
            se = stderr[slots[0]]
            res_err[role] = se if se > 0 else 0.0
        else:
            coef = np.zeros(len(free_idx))
            for k in slots:
                coef[k] += 1.0
            res_err[role] = float(math.sqrt(max(coef @ cov_p @ coef, 0.0)))
    for role in dict.fromkeys(undetermined):
        res[role] = math.nan
        res_err[role] = math.nan
    return res, res_err


def _arcs(
    spectrum: Spectrum,
    circuit: Circuit,
    named: NamedCircuit | None,
    roles: dict[str, str],
    p: np.ndarray,
) -> tuple[list[tuple[str, str, tuple[int, ...]]], list[str]]:
    """The R‖CPE and R‖C arcs as ``(name, role, parameter indices)`` (an arc above the window,
    reported as part of the intercept, left out), and the findings of their checks."""
    arc_terms = []
    out: list[str] = []
    window = spectrum.frequency_range
    for a in guess.structure(circuit).arcs:
        if a.kind not in ("rq", "rc"):
            continue
        role = roles.get(a.names[0], a.names[0])
        if role == "intercept":
            continue  # an arc above the window, reported as part of the intercept
        arc_terms.append((f"{a.names[0]}‖{a.names[1]}", role, a.indices))
        out.extend(_arc_checks(named, role, a.kind, p, a.indices, window))
    return arc_terms, out


def _arc_checks(
    named: NamedCircuit | None,
    role: str,
    kind: str,
    p: np.ndarray,
    idx: tuple[int, ...],
    window: tuple[float, float],
) -> list[str]:
    """The findings of one arc: its apex outside the measured ``window`` (Hz), a CPE exponent
    below 0.5, and a capacitance outside its role's range."""
    f_lo, f_hi = window
    r_val, tau = arc_tau(p, idx)
    f_apex = 1 / (2 * math.pi * tau)
    n_val = arc_n(p, idx)
    out: list[str] = []
    if f_apex > f_hi:
        out.append(Finding(
            f"the {role} arc's apex ({f_apex:.3g} Hz) lies above the highest measured "
            f"frequency ({f_hi:.3g} Hz): its resistance and capacitance are extrapolated",
            "apex_above", role=role, numbers={"apex_Hz": f_apex, "limit_Hz": f_hi},
        ))
    elif f_apex < f_lo:
        out.append(Finding(
            f"the {role} arc's apex ({f_apex:.3g} Hz) lies below the lowest measured "
            f"frequency ({f_lo:.3g} Hz): its resistance is extrapolated",
            "apex_below", role=role, numbers={"apex_Hz": f_apex, "limit_Hz": f_lo},
        ))
    if kind == "rq" and n_val < 0.5:
        out.append(Finding(
            f"the {role} arc's CPE exponent n = {n_val:.2f} is below 0.5: the arc is "
            "strongly depressed and may stand for more than one process",
            "depressed", role=role, numbers={"n": n_val},
        ))
    if named is not None:
        # in the circuit's reference cell; with_geometry judges it in the user's cell
        from eisfit.model.capacitance import verdicts, warning_text

        out.extend(warning_text(named, v) for v in verdicts(named, {role: tau / r_val}))
    return out


def admittance_notes(circuit: Circuit) -> list[Finding]:
    """With the compiled engine on, the note of an admittance fit: it ran with numpy (the
    compiled engine forms residuals in Z only); nothing when numpy ran it anyway."""
    from eisfit.kernels import compiled

    if not compiled.enabled() or compiled.program(circuit) is None:
        return []
    return [Finding(
        "fitted in admittance with the numpy engine (the compiled engine fits Z only)",
        "numpy_only", severity="note",
    )]


def unmodelled_inductance(
    spectrum: Spectrum, circuit: Circuit, problem: Problem, sol: Solution
) -> float | None:
    """The series inductance (H) that the fit's residuals hold and its circuit cannot model.

    A lead inductance that leaves Im(Z) < 0 in the window still pulls the high-frequency
    points up, and a circuit without an inductor answers with a larger series resistance and
    a distorted first arc. The residual is projected on a series inductance alongside the fit's
    own Jacobian (one Gauss–Newton step for an added ``L``, the score test of that element):
    the estimate is returned when it is positive, at least :data:`INDUCTANCE_SIGNIFICANCE`
    standard errors, and ωL at the highest fitted frequency is at least
    :data:`INDUCTANCE_FRACTION` of |Z| there; None otherwise, or when the circuit has an
    inductor.
    """
    if problem.admittance or any(e.element.name in ("L", "La") for e in circuit.elements):
        return None  # (an admittance residual is not projected on a series L)
    r = np.asarray(sol.residual, float)
    f = np.asarray(spectrum.frequency, float)
    n = f.size
    if r.size != 2 * n or np.ndim(problem.w_im) != 1:
        return None
    w = 2 * np.pi * f
    top = int(np.argmax(f))
    scale = float(np.abs(spectrum.z[top]) / w[top])  # L in units of |Z(f_max)|/ω_max
    col = np.zeros(2 * n)
    col[n:] = np.asarray(problem.w_im, float) * w * scale
    jac = np.asarray(sol.jac, float)
    a = np.column_stack([jac, col]) if jac.size else col[:, None]
    if not np.all(np.isfinite(a)) or not np.all(np.isfinite(r)):
        return None
    step, _, rank, _ = np.linalg.lstsq(a, -r, rcond=None)
    if rank < a.shape[1]:
        return None
    fraction = float(step[-1])  # ωL/|Z| at the highest fitted frequency
    resid = r + a @ step
    dof = r.size - a.shape[1]
    if dof <= 0 or not fraction >= INDUCTANCE_FRACTION:
        return None
    try:
        var = float(np.linalg.inv(a.T @ a)[-1, -1]) * float(resid @ resid) / dof
    except np.linalg.LinAlgError:
        return None
    if var > 0 and fraction < INDUCTANCE_SIGNIFICANCE * math.sqrt(var):
        return None
    return fraction * scale


def _resistance_bound_warning(
    name: str, value: float, bound: float, role: str | None, default: bool
) -> str:
    """The warning of a resistance (Ohm) at its upper bound: out of range, not a result.

    ``default``: the bound is the element's default (1e15 Ohm), not one the user set.
    """
    what = f"the {role} resistance" if role else "the resistance"
    if default:
        why = (
            f"{what} is out of range: larger than the data can measure (its arc does not "
            "close within the measured window); read it as a lower limit, or fit a circuit "
            "without this resistor (a CPE alone for a blocking interface)"
        )
    else:
        why = f"{what} is out of range: the data ask for more than the bound allows"
    return f"{name} = {value:.3g} sits at its upper bound {bound:.3g}: {why}"


def _inductance_warning(inductance_h: float) -> Finding:
    """The warning of a fit whose data hold an unmodelled series inductance (H)."""
    if inductance_h >= 1e-3:
        size = f"{inductance_h * 1e3:.3g} mH"
    elif inductance_h >= 1e-6:
        size = f"{inductance_h * 1e6:.3g} µH"
    else:
        size = f"{inductance_h * 1e9:.3g} nH"
    return Finding(
        f"an inductance of ~{size} is present and not modelled (leads, cell holder): it pulls "
        "the high-frequency points up and inflates the series resistance; add an L element "
        "(L0-... in front of the circuit)",
        "inductance", numbers={"inductance_H": inductance_h},
    )


def _intercept_warning(intercept_ohm: float, external_ohm: float, roles: list[str]) -> Finding:
    """The warning of a fit whose high-frequency intercept (Ohm) is not above the external
    resistance (Ohm): the ``roles`` taken from their difference are not determined."""
    roles = list(dict.fromkeys(roles))
    what = " and ".join(roles) + (" resistances are" if len(roles) > 1 else " resistance is")
    if external_ohm > 0:
        cause = (
            f"the external resistance {external_ohm:g} Ohm exceeds the high-frequency "
            f"intercept {intercept_ohm:.4g} Ohm"
        )
        hint = "; check --external-resistance"
    else:
        cause = f"the high-frequency intercept {intercept_ohm:.4g} Ohm is not positive"
        hint = ""
    return Finding(
        f"{cause}: the {what} not determined{hint}", "intercept", role=roles[0],
        numbers={"intercept_ohm": intercept_ohm, "external_ohm": external_ohm},
    )


def _correlation_warnings(
    corr: np.ndarray, free_idx: list[int], circuit: Circuit
) -> list[Finding]:
    """Warnings for the pairs of free parameters correlated beyond :data:`CORRELATION_LIMIT`.

    Each pair is judged once, at its first finite entry in row order (``corr[a, b]`` above the
    diagonal, else ``corr[b, a]``), and the warnings come in that order; the {Q, n} pair of
    one CPE is left out. Code ``correlated``, the pair (sorted) as its parameters.
    """
    rows = corr.tolist()
    names = circuit.parameter_names
    cpe_pairs = {frozenset(e.indices) for e in circuit.elements if e.element.name == "CPE"}
    out = []
    hit_rows, hit_cols = np.nonzero(np.abs(corr) > CORRELATION_LIMIT)
    for a, b in zip(hit_rows.tolist(), hit_cols.tolist(), strict=True):
        c = rows[a][b]
        if a == b or not math.isfinite(c):
            continue
        if b < a and math.isfinite(rows[b][a]):
            continue  # judged at its entry above the diagonal
        i, j = free_idx[a], free_idx[b]
        if frozenset((i, j)) in cpe_pairs:
            continue
        first, second = sorted((names[i], names[j]))
        out.append(Finding(
            f"{first} and {second} are correlated ({c:+.3f}): the data do not "
            "determine them separately",
            "correlated", parameters=(first, second), numbers={"correlation": c},
        ))
    return out


def _tau(values: Any, idx: tuple[int, ...]) -> Any:
    """Time constant (s) of an arc from its parameter indices, for floats or ufloats:
    ``(R, Q, n)`` for R‖CPE: τ = (R Q)^(1/n); ``(R, C)`` for R‖C: τ = R C."""
    r = values[idx[0]]
    if len(idx) == 3:
        return (r * values[idx[1]]) ** (1 / values[idx[2]])
    return r * values[idx[1]]


def arc_tau(values: Any, idx: tuple[int, ...]) -> tuple[float, float]:
    """Resistance (Ohm) and time constant (s) of an arc from its parameter indices."""
    return float(values[idx[0]]), float(_tau(values, idx))


def arc_n(values: Any, idx: tuple[int, ...]) -> float:
    """The CPE exponent of an R‖CPE arc; 1 for R‖C."""
    return float(values[idx[2]]) if len(idx) == 3 else 1.0


def correlated_uvars(
    names: list[str], p: np.ndarray, free: list[int], cov: np.ndarray | None
) -> dict[str, Any]:
    """Parameter name -> ufloat, correlated through ``cov`` (free parameters, natural units).

    Fixed parameters are plain floats; without a covariance the free ones carry NaN errors.
    """
    out: dict[str, Any] = {}
    if cov is not None:
        try:
            values = uncertainties.correlated_values(p[free], cov)
        except (ValueError, np.linalg.LinAlgError):
            values = [ufloat(p[i], math.sqrt(max(cov[k, k], 0))) for k, i in enumerate(free)]
    else:
        values = [ufloat(p[i], math.nan) for i in free]
    by_index = dict(zip(free, values, strict=True))
    for i, n in enumerate(names):
        out[n] = by_index.get(i, float(p[i]))
    return out
