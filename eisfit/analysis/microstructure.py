"""Brick-layer analysis of a blocking cell: what the bulk and grain-boundary arcs say about the
grain boundaries themselves.

In the brick-layer model (van Dijk & Burggraaf 1981; Haile, West & Campbell 1998) a ceramic is
a stack of cubic grains of side d separated by thin, uniform boundary layers of thickness δ.
When the ions cross the boundaries in series with the grains, and grain and boundary share one
permittivity, the two arcs' effective capacitances scale with the inverse of the thicknesses
they span, so

* the grain-boundary thickness is δ ≈ d · C_bulk / C_gb;
* the specific (true, local) grain-boundary conductivity is
  σ_gb,sp = (L/A) · (C_bulk / C_gb) / R_gb, beside the apparent one L / (A R_gb);
* the bulk relative permittivity is ε_r = C_bulk · L / (ε0 · A).

Standard errors come from the fit's covariance: the resistances and effective capacitances
are the correlated ufloats of :attr:`eisfit.FitResult.arcs`, so the correlation between, for
example, R_gb and C_gb is kept. The cell's thickness and area are taken as exact.

>>> from uncertainties import ufloat
>>> from eisfit import Geometry
>>> b = brick_layer_from_arcs(ufloat(1e5, 1e3), ufloat(1e-11, 2e-13), ufloat(2e5, 2e3),
...                           ufloat(2e-9, 2e-11), Geometry("1 mm", diameter="10 mm"), "5 um")
>>> print(f"{b.grain_boundary_thickness_m * 1e9:.1f} nm")
25.0 nm
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, replace
from typing import Any

import uncertainties
from uncertainties import ufloat

from eisfit.exceptions import EisfitError
from eisfit.format import NOT_DETERMINED, determined, value_error
from eisfit.output import json_float as _f
from eisfit.units import format_length, parse_length

__all__ = ["BrickLayer", "BrickLayerError", "brick_layer", "brick_layer_from_arcs",
           "brick_layer_entry", "parse_grain_size", "EPSILON_0", "PERMITTIVITY_RANGE"]

#: Vacuum permittivity ε0 in F/m (CODATA 2018).
EPSILON_0 = 8.8541878128e-12
#: Relative permittivities expected of the bulk of oxide and sulfide electrolytes; outside it
#: the bulk arc, or the geometry, is suspect.
PERMITTIVITY_RANGE = (5.0, 200.0)


class BrickLayerError(EisfitError, ValueError):
    """A brick-layer analysis cannot be made: the fit lacks the bulk or grain-boundary arc,
    the geometry lacks a thickness, or the grain size is not a length."""


@dataclass(frozen=True)
class BrickLayer:
    """The brick-layer numbers of one blocking-cell fit, each with its standard error.

    Attributes
    ----------
    geometry
        The cell's :class:`~eisfit.Geometry` (thickness L and electrode area A).
    grain_size_m
        Grain size d in m, or None when not given (then no boundary thickness).
    bulk_resistance_ohm, grain_boundary_resistance_ohm
        R_bulk and R_gb of the fit (Ohm), with ``..._stderr`` attributes.
    bulk_capacitance_F, grain_boundary_capacitance_F
        Effective capacitances C_bulk and C_gb (F) of the two arcs.
    capacitance_ratio
        C_bulk / C_gb: the fraction of the sample the boundaries fill in the series path.
    bulk_conductivity_S_per_cm
        σ_bulk = L / (A R_bulk) in S/cm.
    apparent_grain_boundary_conductivity_S_per_cm
        σ_gb,app = L / (A R_gb) in S/cm (the sample's, as if the boundaries filled it).
    specific_grain_boundary_conductivity_S_per_cm
        σ_gb,sp = σ_gb,app · C_bulk / C_gb in S/cm (the boundary layer's own).
    grain_boundary_thickness_m
        δ = d · C_bulk / C_gb in m; NaN without a grain size.
    bulk_relative_permittivity
        ε_r = C_bulk L / (ε0 A), dimensionless.
    warnings
        One line each where the model's assumptions fail or a number is not determined.

    Every quantity ``q`` has ``q_stderr`` beside it (the unit suffix moves after
    ``_stderr``: ``bulk_conductivity_stderr_S_per_cm``); NaN when the fit gave no covariance.
    """

    geometry: Any
    grain_size_m: float | None
    bulk_resistance_ohm: float
    bulk_resistance_stderr_ohm: float
    grain_boundary_resistance_ohm: float
    grain_boundary_resistance_stderr_ohm: float
    bulk_capacitance_F: float
    bulk_capacitance_stderr_F: float
    grain_boundary_capacitance_F: float
    grain_boundary_capacitance_stderr_F: float
    capacitance_ratio: float
    capacitance_ratio_stderr: float
    bulk_conductivity_S_per_cm: float
    bulk_conductivity_stderr_S_per_cm: float
    apparent_grain_boundary_conductivity_S_per_cm: float
    apparent_grain_boundary_conductivity_stderr_S_per_cm: float
    specific_grain_boundary_conductivity_S_per_cm: float
    specific_grain_boundary_conductivity_stderr_S_per_cm: float
    grain_boundary_thickness_m: float
    grain_boundary_thickness_stderr_m: float
    bulk_relative_permittivity: float
    bulk_relative_permittivity_stderr: float
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly mapping: SI values (m, Ohm, F) and S/cm, each named with its unit,
        ``..._stderr...`` beside it; NaN as None, ``warnings`` a list of one-line strings."""
        d: dict[str, Any] = {"grain_size_m": _f(self.grain_size_m)}
        for name in self.__dataclass_fields__:
            if name in ("geometry", "grain_size_m", "warnings"):
                continue
            d[name] = _f(getattr(self, name))
        d["warnings"] = list(self.warnings)
        return d

    def report(self) -> str:
        """A short plain-text block, ``[[Brick layer]]``, numbers rounded to what is known."""
        def line(label: str, value: float, err: float, unit: str = "") -> str:
            text = value_error(value, err, unit)
            if text != NOT_DETERMINED and not determined(value, err):
                text = f"{NOT_DETERMINED} ({text})"
            return f"    {label:<22} = {text}"

        grain = "not given" if self.grain_size_m is None else format_length(self.grain_size_m)
        lines = ["[[Brick layer]]", f"    {'grain size':<22} = {grain}"]
        lines.append(line("C_bulk/C_gb", self.capacitance_ratio, self.capacitance_ratio_stderr))
        lines.append(line("sigma bulk", self.bulk_conductivity_S_per_cm,
                          self.bulk_conductivity_stderr_S_per_cm, "S/cm"))
        lines.append(line("sigma gb (apparent)",
                          self.apparent_grain_boundary_conductivity_S_per_cm,
                          self.apparent_grain_boundary_conductivity_stderr_S_per_cm, "S/cm"))
        lines.append(line("sigma gb (specific)",
                          self.specific_grain_boundary_conductivity_S_per_cm,
                          self.specific_grain_boundary_conductivity_stderr_S_per_cm, "S/cm"))
        if self.grain_size_m is not None:
            lines.append(line("gb thickness", self.grain_boundary_thickness_m * 1e9,
                              self.grain_boundary_thickness_stderr_m * 1e9, "nm"))
        else:
            lines.append(f"    {'gb thickness':<22} = not computed: it needs the grain size")
        lines.append(line("eps_r (bulk)", self.bulk_relative_permittivity,
                          self.bulk_relative_permittivity_stderr))
        lines.extend(f"    - {w}" for w in self.warnings)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.report()


def parse_grain_size(grain_size: Any) -> float:
    """A grain size in m: a string with a unit (``"5 um"``, ``"0.8um"``) or a number in m.

    Raises
    ------
    BrickLayerError
        No unit on a string, an unknown unit, or a size that is not positive and finite.
    """
    if isinstance(grain_size, numbers.Real) and not isinstance(grain_size, bool):
        d = float(grain_size)
        if not (math.isfinite(d) and d > 0):
            raise BrickLayerError(f"grain size must be a positive length in m, got {d:g}")
        return d
    try:
        return parse_length(grain_size, "grain size")
    except EisfitError as exc:
        raise BrickLayerError(str(exc)) from None


def _arcs_by_role(result: Any) -> dict[str, Any]:
    """Role -> arc of a fit (anything with ``arcs`` of ``role``, ``resistance``,
    ``capacitance``), refusing a fit without both a bulk and a grain-boundary arc."""
    arcs = {a.role: a for a in getattr(result, "arcs", ())}
    missing = [r for r in ("bulk", "grain_boundary") if r not in arcs]
    if missing:
        name = getattr(result, "circuit_name", None) or getattr(result, "circuit", "the fit")
        have = ", ".join(arcs) or "none"
        raise BrickLayerError(
            f"brick-layer analysis needs a bulk and a grain-boundary arc; the fit ({name}) has "
            f"no {' or '.join(m.replace('_', '-') for m in missing)} arc (arcs: {have})"
        )
    return arcs


def brick_layer(result: Any, geometry: Any, grain_size: Any = None) -> BrickLayer:
    """Brick-layer analysis of a blocking-cell fit.

    Parameters
    ----------
    result
        An :class:`eisfit.FitResult` with ``bulk`` and ``grain_boundary`` arcs (the
        ``blocking`` circuit); anything with such ``arcs`` will do.
    geometry
        The cell's :class:`eisfit.Geometry`, with its thickness.
    grain_size
        Grain size d as a length (``"5 um"``) or a number in m; None: no boundary thickness.

    Returns
    -------
    BrickLayer
        Conductivities (S/cm), boundary thickness (m), bulk permittivity and warnings, with
        standard errors from the fit's covariance.

    Raises
    ------
    BrickLayerError
        The fit has no bulk or no grain-boundary arc (a one-arc or spike fit), the geometry
        has no thickness, or the grain size is not a length.
    """
    arcs = _arcs_by_role(result)
    bulk, gb = arcs["bulk"], arcs["grain_boundary"]
    return brick_layer_from_arcs(
        bulk.resistance, bulk.capacitance, gb.resistance, gb.capacitance, geometry, grain_size
    )


def brick_layer_from_arcs(
    bulk_resistance: Any, bulk_capacitance: Any, grain_boundary_resistance: Any,
    grain_boundary_capacitance: Any, geometry: Any, grain_size: Any = None,
) -> BrickLayer:
    """Brick-layer analysis from the two arcs' resistances (Ohm) and effective capacitances
    (F), floats or (correlated) ufloats; see :func:`brick_layer` for the rest."""
    if geometry is None or not getattr(geometry, "has_thickness", False):
        raise BrickLayerError(
            "brick-layer analysis needs the sample thickness and electrode area "
            "(e.g. --thickness 1mm --diameter 10mm)"
        )
    d = None if grain_size is None else parse_grain_size(grain_size)
    r_b, c_b = _u(bulk_resistance), _u(bulk_capacitance)
    r_gb, c_gb = _u(grain_boundary_resistance), _u(grain_boundary_capacitance)
    k = geometry.cell_constant_per_cm  # L/A in 1/cm
    ratio = c_b / c_gb
    q = {
        "bulk_resistance": r_b, "grain_boundary_resistance": r_gb,
        "bulk_capacitance": c_b, "grain_boundary_capacitance": c_gb,
        "capacitance_ratio": ratio,
        "bulk_conductivity": k / r_b,
        "apparent_grain_boundary_conductivity": k / r_gb,
        "specific_grain_boundary_conductivity": k * ratio / r_gb,
        "grain_boundary_thickness": ratio * d if d is not None else ufloat(math.nan, math.nan),
        "bulk_relative_permittivity": c_b * geometry.thickness_m / (EPSILON_0 * geometry.area_m2),
    }
    units = {"bulk_resistance": "_ohm", "grain_boundary_resistance": "_ohm",
             "bulk_capacitance": "_F", "grain_boundary_capacitance": "_F",
             "bulk_conductivity": "_S_per_cm", "apparent_grain_boundary_conductivity": "_S_per_cm",
             "specific_grain_boundary_conductivity": "_S_per_cm",
             "grain_boundary_thickness": "_m"}
    fields: dict[str, Any] = {}
    for name, x in q.items():
        unit = units.get(name, "")
        fields[name + unit] = float(uncertainties.nominal_value(x))
        fields[name + "_stderr" + unit] = float(uncertainties.std_dev(x))
    out = BrickLayer(geometry=geometry, grain_size_m=d, **fields)
    return replace(out, warnings=tuple(_warnings(out)))


def _u(x: Any) -> Any:
    """A ufloat as it is (its correlations kept), anything else as a float (no error)."""
    return x if isinstance(x, uncertainties.UFloat) else float(x)


def _warnings(b: BrickLayer) -> list[str]:
    """Where the brick-layer model's assumptions fail, and numbers not determined."""
    out = []
    c_b, c_gb = b.bulk_capacitance_F, b.grain_boundary_capacitance_F
    if not c_gb > c_b:
        out.append(
            f"C_gb ({c_gb:.3g} F) is not above C_bulk ({c_b:.3g} F): the grain-boundary arc is "
            "not a thin boundary layer, so the brick-layer thickness and specific "
            "conductivity do not apply (check the arc assignment)"
        )
    if b.specific_grain_boundary_conductivity_S_per_cm > b.bulk_conductivity_S_per_cm:
        out.append(
            "the grain boundaries come out more conductive than the grains (specific "
            f"{b.specific_grain_boundary_conductivity_S_per_cm:.3g} S/cm > bulk "
            f"{b.bulk_conductivity_S_per_cm:.3g} S/cm): the series brick-layer model does not "
            "hold; paths along the boundaries (parallel) dominate"
        )
    eps, (lo, hi) = b.bulk_relative_permittivity, PERMITTIVITY_RANGE
    if not lo <= eps <= hi:
        out.append(
            f"the bulk relative permittivity {eps:.3g} is outside {lo:g}-{hi:g} (oxides and "
            "sulfides): the bulk arc's capacitance, or the thickness and area, are suspect"
        )
    checks = {
        "C_bulk/C_gb": (b.capacitance_ratio, b.capacitance_ratio_stderr),
        "the specific grain-boundary conductivity": (
            b.specific_grain_boundary_conductivity_S_per_cm,
            b.specific_grain_boundary_conductivity_stderr_S_per_cm),
        "the bulk conductivity": (b.bulk_conductivity_S_per_cm,
                                  b.bulk_conductivity_stderr_S_per_cm),
        "the bulk relative permittivity": (b.bulk_relative_permittivity,
                                           b.bulk_relative_permittivity_stderr),
    }
    for what, (v, e) in checks.items():
        if math.isfinite(v) and math.isfinite(e) and e > abs(v):
            share = 100 * e / abs(v)
            out.append(f"{what} is not determined by the data (standard error {share:.0f} % "
                       "of its value)")
    return out


def brick_layer_entry(result: Any, geometry: Any, grain_size_m: float | None) -> dict[str, Any]:
    """The ``brick_layer`` object of one spectrum in the batch and fit JSON: :meth:`BrickLayer.
    to_dict`, or ``{"skipped": reason}`` for a fit the analysis does not apply to."""
    try:
        return brick_layer(result, geometry, grain_size_m).to_dict()
    except BrickLayerError as exc:
        return {"skipped": str(exc)}


#: The quantities of a batch table's brick-layer columns: (key of BrickLayer, column stem).
_COLUMNS = (
    ("specific_grain_boundary_conductivity", "S_per_cm", "sigma_gb_specific"),
    ("apparent_grain_boundary_conductivity", "S_per_cm", "sigma_gb_apparent"),
    ("grain_boundary_thickness", "m", "gb_thickness"),
    ("bulk_relative_permittivity", "", "eps_r_bulk"),
    ("capacitance_ratio", "", "C_bulk_over_C_gb"),
)


def brick_layer_columns(
    result: Any, geometry: Any, grain_size_m: float | None
) -> dict[str, Any]:
    """One spectrum's brick-layer columns of the batch table (``results.csv``): values and
    standard errors (NaN when skipped) and ``brick_layer_note`` (the reason when skipped, else
    the warnings joined with ``"; "``)."""
    entry = brick_layer_entry(result, geometry, grain_size_m)
    row: dict[str, Any] = {}
    for key, unit, stem in _COLUMNS:
        suffix = f"_{unit}" if unit else ""
        for tail in ("", "_stderr"):
            value = entry.get(f"{key}{tail}{suffix}")
            row[f"{stem}{tail}{suffix}"] = math.nan if value is None else value
    row["brick_layer_note"] = entry.get("skipped") or "; ".join(entry.get("warnings", []))
    return row

