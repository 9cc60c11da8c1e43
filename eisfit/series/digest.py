"""What a temperature series keeps of each fit besides the fit itself, made where it was fitted.

A streamed batch (``eisfit batch``) keeps its fits on disk (:class:`~eisfit.store.ResultStore`);
reading them back costs the main process about as much as the fits' own bookkeeping. So the
worker process that makes a fit also makes its :class:`FitDigest`: the numbers the physics
checks read (:func:`eisfit.series.checks.fact_numbers`), the χ² and convergence the neighbour
refits look at, the values each role's Arrhenius analysis takes, and the text of the fit's
object in the batch JSON (all but what the series decides: its temperature, and warnings the
series adds). The main process then reads a fit from disk only where it was refitted or the
series adds to its warnings. The text and numbers are those the fit itself gives: the outputs do
not change.
"""

from __future__ import annotations

import math
import pickle
from typing import Any

import uncertainties

from eisfit.series.checks import FactNumbers, fact_numbers
from eisfit.series.json_text import item_texts, object_text

__all__ = ["FitDigest", "digest_fit", "quantity", "from_intercept", "spectrum_text"]

#: Roles whose resistance is reported as an area-specific resistance (per interface).
_INTERFACE_SUFFIX = "interface"
#: How deep a spectrum's object sits in the batch JSON (``{"spectra": [{...}]}``).
_LEVEL = 2


class FitDigest:
    """What a series keeps of one fit besides the fit (:func:`digest_fit`).

    Attributes
    ----------
    chi_square : float
        The fit's χ².
    success : bool
        Whether its solver converged.
    facts : tuple
        The numbers the physics checks read (:func:`eisfit.series.checks.fact_numbers`).
    roles, capacitance_roles : list of str
        Its resistance and capacitance roles, in its order.
    points : list of tuple
        ``(role, nominal, stderr, quantity)`` of each role with a value the Arrhenius analysis
        takes (:func:`quantity`; the units of :meth:`Series.arrhenius`).
    items : bytes or int
        The text of each item of the fit's object in the batch JSON, by key, its
        ``temperature_K`` the fit's own (:func:`spectrum_text` puts the series' in): a dict, as
        its pickle (made where the fit was made); a series keeps the pickle on disk and its
        position there here (:func:`eisfit.series.temperature.fit_series`).
    """

    __slots__ = ("chi_square", "success", "facts", "roles", "capacitance_roles", "points",
                 "items")

    def __init__(self, chi_square: float, success: bool, facts: FactNumbers, roles: list[str],
                 capacitance_roles: list[str], points: list[tuple[str, float, float, str]],
                 items: bytes | int) -> None:
        self.chi_square = chi_square
        self.success = success
        self.facts = facts
        self.roles = roles
        self.capacitance_roles = capacitance_roles
        self.points = points
        self.items = items

    def __getstate__(self) -> tuple[Any, ...]:
        return tuple(getattr(self, k) for k in self.__slots__)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        for k, v in zip(self.__slots__, state, strict=True):
            setattr(self, k, v)


def quantity(result: Any, role: str, geometry: Any) -> tuple[Any, str] | None:
    """The value the Arrhenius analysis takes for ``role`` in one fit: (ufloat, quantity) or
    None: an interface's resistance (an area-specific one with ``geometry``), else the
    conductivity with ``geometry``, else the conductance."""
    r = result.resistance_ufloat(role)
    if r is None:
        return None
    nominal = float(uncertainties.nominal_value(r))
    if not nominal > 0 or not math.isfinite(nominal):
        return None
    if role.endswith(_INTERFACE_SUFFIX):
        if geometry is not None:
            return result.asr(geometry)[role], "resistance"
        return r, "resistance"
    if geometry is not None:
        return geometry.conductivity(r), "conductivity"
    return 1.0 / r, "conductance"


def from_intercept(result: Any) -> list[str]:
    """Roles whose resistance the fit took from the high-frequency intercept."""
    named = result.named
    if named is None or not named.hidden_role:
        return []
    role = named.hidden_role
    return [role] if role in result.resistances and role not in result.apex_hz else []


def _spectrum_object(result: Any, geometry: Any) -> dict[str, Any]:
    """The fit's object in the batch JSON, but for the series' temperature and warnings."""
    d = result.to_dict(geometry)
    d["from_intercept"] = from_intercept(result)
    d["warnings"] = list(result.warnings)
    return d


def digest_fit(result: Any, geometry: Any = None) -> FitDigest:
    """The :class:`FitDigest` of a :class:`~eisfit.fitting.result.FitResult` of a series
    analysed with ``geometry`` (a :class:`~eisfit.Geometry`, or None: conductance)."""
    points = []
    for role in result.resistances:
        q = quantity(result, role, geometry)
        if q is not None:
            value = q[0]
            points.append((role, float(uncertainties.nominal_value(value)),
                           float(uncertainties.std_dev(value)), q[1]))
    items = item_texts(_spectrum_object(result, geometry), True, _LEVEL)
    return FitDigest(float(result.chi_square), bool(result.success), fact_numbers(result),
                     list(result.resistances), list(result.capacitances), points,
                     pickle.dumps(items, protocol=pickle.HIGHEST_PROTOCOL))


def spectrum_text(items: dict[str, str], temperature_K: float) -> str:
    """The text of the fit's object in the batch JSON (``allow_nan``, two levels deep) at the
    series' ``temperature_K`` (K), when the series adds nothing to its warnings, from the
    texts of its items (:attr:`FitDigest.items`, unpickled)."""
    items = dict(items)
    items.update(item_texts({"temperature_K": float(temperature_K)}, True, _LEVEL))
    return object_text(items.values(), _LEVEL)
