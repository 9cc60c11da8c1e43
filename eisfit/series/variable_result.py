"""The result of a series against any variable: its table, plots' data and analysis
(:class:`VariableSeries`), built from the fitted series (:func:`variable_series_of`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import uncertainties

from eisfit.fitting.result import FitResult
from eisfit.model.named import ordered_roles
from eisfit.output import defuse_formula, write_atomic
from eisfit.series.inputs import SeriesError
from eisfit.series.variable_analysis import (
    GrowthLaw,
    ThicknessFit,
    growth_laws,
    thickness_regression,
)
from eisfit.series.variable_names import variable as _variable

__all__ = ["VariableSeries", "variable_series_of", "PLOT_NAMES"]

#: The plot ``eisfit batch --out`` writes for each variable (``<variable>.png`` otherwise).
PLOT_NAMES = {"thickness": "thickness.png", "time": "growth.png"}
#: Roles the analyses leave out (cables and hardware, not the cell).
_NOT_ANALYSED = ("series",)


def _nom(x: Any) -> float:
    return float(uncertainties.nominal_value(x))


def _sd(x: Any) -> float:
    return float(uncertainties.std_dev(x))


def _is_interface(role: str) -> bool:
    return role.endswith("interface")


class VariableSeries:
    """Fits of a series against one variable, in ascending order of its values.

    Made by :func:`fit_variable_series`.

    Attributes
    ----------
    variable : str
        ``pressure``, ``thickness``, ``time``, ``cycle``, ``soc`` or ``bias``.
    unit : str
        Unit of :attr:`values` (MPa, mm, h, none, %, V).
    values : numpy.ndarray
        The variable's value for each result.
    results : sequence of FitResult
        One per spectrum fitted, in ascending value (input order among equal values).
    labels : list of str
        File name of each result (``name[i]`` for the i-th spectrum of a file).
    failures : list of dict
        ``{"source", "error"}`` for each file or spectrum not read or not fitted.
    geometry : Geometry or None
        The cell; for a thickness series its area (each spectrum's thickness is its value).
    warnings : list of str
        Series-level warnings (equal values...).
    source : str
        Where the values came from: ``filename``, ``metadata``, ``table`` or ``list``.
    """

    def __init__(
        self, variable: str, results: Sequence[FitResult], values: Sequence[float],
        labels: Sequence[str], failures: Sequence[dict[str, str]] = (), geometry: Any = None,
        warnings: Sequence[str] = (), source: str = "list",
    ) -> None:
        spec = _variable(variable)
        self.variable = spec.name
        self.unit = spec.unit
        order = sorted(range(len(results)), key=lambda i: float(values[i]))
        self.results: Sequence[FitResult] = [results[i] for i in order]
        self.values = np.array([float(values[i]) for i in order])
        self.labels = [labels[i] for i in order]
        self.failures = [dict(f) for f in failures]
        self.geometry = geometry
        self.warnings = list(warnings)
        self.source = source

    def __len__(self) -> int:
        return len(self.results)

    def __repr__(self) -> str:
        v = self.values
        rng = f", {v.min():g}-{v.max():g} {self.unit}".rstrip() if v.size else ""
        return (f"<VariableSeries {self.variable}: {len(self)} spectra{rng}, "
                f"{len(self.failures)} failed>")

    # ------------------------------------------------------------------ values
    @property
    def roles(self) -> list[str]:
        """Resistance roles of the fits (the Arrhenius series' order), ``total`` last."""

        seen: dict[str, None] = {}
        for r in self.results:
            seen.update(dict.fromkeys(r.resistances))
        return ordered_roles(seen)

    def geometry_of(self, i: int) -> Any:
        """The geometry of spectrum ``i``: for a thickness series its own thickness with the
        given area (None without an area), else the series' geometry."""
        g = self.geometry
        if self.variable != "thickness":
            return g
        if g is None or getattr(g, "area_m2", None) is None:
            return None
        from eisfit.model.geometry import Geometry

        return Geometry.from_si(self.values[i] * 1e-3, g.area_m2)

    def resistances(self, role: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Values, resistances (Ohm) and standard errors (Ohm) of the spectra whose fit has a
        positive, finite resistance for ``role``."""
        x, r, se = [], [], []
        for v, res in zip(self.values, self.results, strict=True):
            value = res.resistances.get(role)
            if value is not None and math.isfinite(value) and value > 0:
                x.append(v)
                r.append(value)
                se.append(res.resistance_stderr.get(role, math.nan))
        return np.array(x), np.array(r), np.array(se)

    def _stderr_or_none(self, se: np.ndarray) -> np.ndarray | None:
        return se if se.size and np.all(np.isfinite(se)) and np.all(se > 0) else None

    # ------------------------------------------------------------------ analyses
    def thickness_fit(self, role: str = "total") -> ThicknessFit:
        """R(L) = ρ·L/A + 2·R_interface for ``role`` (default the cell's total resistance).

        Raises
        ------
        SeriesError
            Not a thickness series, or fewer than two thicknesses with that role.
        """
        if self.variable != "thickness":
            raise SeriesError(f"thickness_fit needs a thickness series, not {self.variable}")
        x, r, se = self.resistances(role)
        area = None
        if self.geometry is not None and getattr(self.geometry, "area_m2", None) is not None:
            area = self.geometry.area_m2 * 1e4
        try:
            return thickness_regression(x, r, self._stderr_or_none(se), area, role)
        except SeriesError as exc:
            raise SeriesError(f"{role}: {exc}") from None

    def growth_law(self, role: str = "total") -> GrowthLaw:
        """Linear, parabolic and logarithmic growth of ``role``'s resistance, compared by AICc.

        Raises
        ------
        SeriesError
            Not a time series, or fewer than three times with that role.
        """
        if self.variable != "time":
            raise SeriesError(f"growth_law needs a time series, not {self.variable}")
        x, r, se = self.resistances(role)
        try:
            return growth_laws(x, r, self._stderr_or_none(se), role)
        except SeriesError as exc:
            raise SeriesError(f"{role}: {exc}") from None

    def analysis(self) -> dict[str, Any]:
        """The variable's analysis for every role it can be made for: role ->
        :class:`ThicknessFit` (thickness) or :class:`GrowthLaw` (time), or a one-line reason
        (str) where it cannot; empty for other variables."""
        method = {"thickness": self.thickness_fit, "time": self.growth_law}.get(self.variable)
        if method is None:
            return {}
        out: dict[str, Any] = {}
        for role in self.roles:
            if role in _NOT_ANALYSED:
                continue
            try:
                out[role] = method(role)
            except SeriesError as exc:
                out[role] = str(exc)
        return out

    # ------------------------------------------------------------------ tables
    def _row(self, i: int) -> dict[str, Any]:
        r = self.results[i]
        g = self.geometry_of(i)
        row: dict[str, Any] = {"file": self.labels[i], self.column: float(self.values[i])}
        for role in self.roles:
            row[f"R_{role}_ohm"] = r.resistances.get(role, math.nan)
            row[f"R_{role}_stderr_ohm"] = r.resistance_stderr.get(role, math.nan)
        if g is not None:
            asr = r.asr(g)
            for role in self.roles:
                q = r.resistance_ufloat(role)
                if _is_interface(role):
                    a = asr.get(role)
                    row[f"ASR_{role}_ohm_cm2"] = _nom(a) if a is not None else math.nan
                    row[f"ASR_{role}_stderr_ohm_cm2"] = _sd(a) if a is not None else math.nan
                elif role not in _NOT_ANALYSED and g.has_thickness and q is not None \
                        and _nom(q) > 0:
                    s = g.conductivity(q)
                    row[f"sigma_{role}_S_per_cm"] = _nom(s)
                    row[f"sigma_{role}_stderr_S_per_cm"] = _sd(s)
        row["chi_square"] = r.chi_square
        row["warnings"] = "; ".join(r.warnings)
        return row

    @property
    def column(self) -> str:
        """The value's column name: the variable and its unit (``pressure_MPa``)."""
        return f"{self.variable}_{self.unit}" if self.unit and self.unit != "%" else (
            f"{self.variable}_percent" if self.unit == "%" else self.variable)

    def table(self) -> Any:
        """A :class:`pandas.DataFrame`, one row per spectrum in ascending value: ``file``,
        the value (:attr:`column`), ``R_<role>_ohm`` and ``R_<role>_stderr_ohm``, with a
        geometry ``sigma_<role>_S_per_cm`` (and ``_stderr``) for the electrolyte roles and
        ``ASR_<role>_ohm_cm2`` for interfaces, ``chi_square``, ``warnings``."""
        import pandas as pd

        return pd.DataFrame([self._row(i) for i in range(len(self))])

    to_frame = table

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of ``eisfit batch --variable ... --json``.

        Keys: ``variable``, ``unit``, ``source``, ``values``, ``spectra`` (each fit's object of
        ``eisfit fit --json`` with ``file`` and ``value``), ``analysis`` (role ->
        :meth:`ThicknessFit.to_dict` or :meth:`GrowthLaw.to_dict`, or ``{"error": reason}``),
        ``failures``, ``warnings``.
        """
        spectra = []
        for i, r in enumerate(self.results):
            d = r.to_dict(self.geometry_of(i))
            d["file"] = self.labels[i]
            d["value"] = float(self.values[i])
            spectra.append(d)
        analysis = {role: (a.to_dict() if not isinstance(a, str) else {"error": a})
                    for role, a in self.analysis().items()}
        return {
            "variable": self.variable, "unit": self.unit, "source": self.source,
            "values": [float(v) for v in self.values], "spectra": spectra,
            "analysis": analysis, "failures": [dict(f) for f in self.failures],
            "warnings": list(self.warnings),
        }

    def to_csv(self, path: str | Path, force: bool = False) -> Path:
        """Write :meth:`table` as CSV atomically; refuse to overwrite unless ``force``."""
        import pandas as pd


        frame = self.table()
        for col in frame.columns:
            if not pd.api.types.is_numeric_dtype(frame[col]):
                frame[col] = frame[col].map(defuse_formula)
        return write_atomic(path, lambda t: frame.to_csv(t, index=False), force=force)

    def to_json(self, path: str | Path, force: bool = False) -> Path:
        """Write :meth:`to_dict` as indented JSON atomically; refuse to overwrite unless
        ``force``."""
        text = json.dumps(self.to_dict(), indent=2, allow_nan=True)
        return write_atomic(path, lambda t: Path(t).write_text(text + "\n", encoding="utf-8"),
                            force=force)

    # ------------------------------------------------------------------ text
    def report(self, width: int | None = None) -> str:
        """The text ``eisfit batch --variable`` prints: the table of each role's resistance
        (and σ with a geometry) against the variable, the analysis, failures and warnings."""
        from eisfit.format import value_error

        roles = [r for r in self.roles if r not in _NOT_ANALYSED] or self.roles
        head = f"{self.variable} / {self.unit}" if self.unit else self.variable
        lines = [f"[[Series against {self.variable}]]",
                 f"    {len(self)} spectra, {len(self.failures)} failed; values from "
                 f"{self.source}"]
        cols = [head] + [f"R_{r} / Ohm" for r in roles]
        sig = [r for r in roles if self.geometry_of(0) is not None and not _is_interface(r)
               and getattr(self.geometry_of(0), "has_thickness", False)] if len(self) else []
        cols += [f"sigma_{r} / S/cm" for r in sig]
        rows = []
        for i, res in enumerate(self.results):
            cells = [f"{self.values[i]:g}"]
            for role in roles:
                v = res.resistances.get(role)
                cells.append(value_error(v, res.resistance_stderr.get(role, math.nan), "")
                             if v is not None else "-")
            g = self.geometry_of(i)
            for role in sig:
                q = res.resistance_ufloat(role)
                ok = q is not None and _nom(q) > 0 and g is not None
                cells.append(value_error(_nom(g.conductivity(q)), _sd(g.conductivity(q)), "")
                             if ok else "-")
            rows.append([self.labels[i], *cells])
        lines.extend(_text_table(["file", *cols], rows))
        analysis = self.analysis()
        if analysis:
            title = {"thickness": "Thickness regression R = rho L/A + 2 R_interface",
                     "time": "Growth laws (AICc, Burnham & Anderson)"}[self.variable]
            lines.append(f"[[{title}]]")
            for role, a in analysis.items():
                if isinstance(a, str):
                    lines.append(f"    {role}: not determined ({a})")
                    continue
                lines.append(f"    {role} (n = {a.n}):")
                lines.extend(f"        {x}" for x in a.text().splitlines())
                lines.extend(f"        - {w}" for w in a.warnings)
        lines.append("[[Failures]]")
        lines.extend([f"    - {f['source']}: {f['error']}" for f in self.failures] or ["    none"])
        warns = list(self.warnings) + [f"{lab}: {w}" for lab, r in zip(
            self.labels, self.results, strict=True) for w in r.warnings]
        lines.append("[[Warnings]]")
        lines.extend([f"    - {w}" for w in warns] or ["    none"])
        if width is not None:
            from eisfit.terminal import wrap_lines

            return "\n".join(wrap_lines(lines, width))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.report()


def _text_table(head: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows, strict=True)]
    out = ["    " + "  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True))]
    out.extend("    " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True))
               for r in rows)
    return out


def variable_series_of(series: Any, variable: Any, values: Any, geometry: Any) -> VariableSeries:
    """The :class:`VariableSeries` of a fitted series whose spectra were placed by ``variable``
    (a :class:`~eisfit.series.variable_names.Variable`) rather than by temperature.

    ``values`` is where the values came from (``"filename"``, ``"metadata"``, a table or a
    list); a time series from metadata is counted in hours since the earliest spectrum.
    """
    spec = variable
    source = values if isinstance(values, str) and values in ("filename", "metadata") else (
        "table" if isinstance(values, str | Path) else "list")
    vals = np.asarray(series.temperatures_K, float)
    if spec.name == "time" and source == "metadata" and vals.size:
        vals = vals - vals.min()  # hours since the earliest spectrum
    return VariableSeries(spec.name, list(series.results), vals, series.labels, series.failures,
                          geometry, series.warnings, source)
