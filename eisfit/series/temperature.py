"""Temperature series: many spectra, one fit each, and the Arrhenius analysis of every role.

>>> import eisfit
>>> series = eisfit.fit_series("data/latp_pellet", geometry=eisfit.Geometry(
...     thickness="1 mm", diameter="10 mm"))                       # doctest: +SKIP
>>> series.arrhenius("bulk").Ea_eV                                  # doctest: +SKIP
0.30

Temperatures come from the file names (``LATP_-10C.csv``, ``pellet_25degC.mpt``, ``cell_298K``,
``run_T=25`` meaning 25 °C), from each spectrum's metadata, from a CSV table (a ``file`` column
and ``temperature_C`` or ``temperature_K``), or from a list in K.

Every spectrum is first fitted independently (:func:`eisfit.fit` finds its own starting values),
which parallelises. Then the series is walked in temperature order and each spectrum is refitted
with one more start, its two preceding neighbours' parameters carried to its temperature
(resistances on their Arrhenius line, effective capacitances and exponents interpolated, so each
arc's time constant moves with its resistance); the automatic starts still compete and the refit
is kept only when its χ² is lower (:func:`refit_from_neighbours`). A warm start used as the
*only* start was measured worse: it skips ``fit``'s own search and its treatment of an arc above
the window (bulk and grain-boundary R within 2 % in 33/40 warm-started fits against 39/40
independent ones, bulk arc leaving the window).

The series-level knowledge also enters through the joint fit (``fit_series(...,
joint=True)`` or :meth:`Series.fit_joint`, see :mod:`eisfit.series.joint`): every spectrum fitted at
once from the independent fits, each arc's resistance on an Arrhenius law (one Ea and prefactor
per process), the bulk capacitance and CPE exponent shared by all temperatures. Both results are
kept and reported side by side (:meth:`Series.compare`, the ``arrhenius_joint`` key of
:meth:`Series.to_dict`).

Reading the inputs and their temperatures is :mod:`eisfit.series.inputs`; the neighbour refits
are :mod:`eisfit.series.neighbours`. This module holds :class:`Series` (the fits in temperature
order
and their Arrhenius analysis) and :func:`fit_series`, which ties them together.
"""

from __future__ import annotations

import dataclasses
import functools
import html
import math
import pickle
from array import array
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np
import uncertainties

from eisfit.analysis.activation import (
    ArrheniusError,
    ArrheniusResult,
    arrhenius,
    ea_not_determined,
    not_determined,
)
from eisfit.analysis.fixture import correct_fixture
from eisfit.exceptions import ArgumentError, EisfitError
from eisfit.findings import Finding, as_finding
from eisfit.fitting.batch import STACK, fit_many, read_and_fit
from eisfit.fitting.failures import Failure, one_line
from eisfit.fitting.result import FitResult
from eisfit.fitting.solve import check_arguments
from eisfit.fitting.spec import FitSpec
from eisfit.format import value_error
from eisfit.io.spectrum import Spectrum
from eisfit.model.named import ordered_roles, resolve
from eisfit.output import defuse_formula, write_atomic
from eisfit.series.checks import KK_FAR, Facts, Violation, violations
from eisfit.series.digest import FitDigest, digest_fit, from_intercept, quantity, spectrum_text
from eisfit.series.inputs import (
    TEMPERATURE,
    SeriesError,
    Variable,
    _Inputs,
    expand_paths,
    read_temperature_table,
    temperature_from_name,
)
from eisfit.series.joint import JointResult, fit_joint
from eisfit.series.json_text import json_text as _json_text
from eisfit.series.neighbours import WALK_MAX_SPECTRA as WALK_MAX_SPECTRA
from eisfit.series.neighbours import _neighbour_refits
from eisfit.series.neighbours import _predict as _predict
from eisfit.series.neighbours import refit_from_neighbours as refit_from_neighbours
from eisfit.series.variable_names import variable as variable_spec
from eisfit.series.variable_result import variable_series_of
from eisfit.store import ResultStore, ResultView
from eisfit.units import ZERO_CELSIUS_K

__all__ = [
    "Series",
    "fit_series",
    "temperature_from_name",
    "read_temperature_table",
    "expand_paths",
    "SeriesError",
]

#: Roles whose resistance is reported as an area-specific resistance (per interface).
_INTERFACE_SUFFIX = "interface"
#: Roles the Arrhenius summary of :meth:`Series.to_dict` leaves out (not thermally activated).
_NOT_ACTIVATED = ("series",)


# --------------------------------------------------------------------------- Series
def _nom(x: Any) -> float:
    return float(uncertainties.nominal_value(x))


def _sd(x: Any) -> float:
    return float(uncertainties.std_dev(x))


def _is_interface(role: str) -> bool:
    return role.endswith(_INTERFACE_SUFFIX)


class _Points:
    """What one pass over a series' results collects, one result at a time (:meth:`add`):
    each role's values as :meth:`Series.arrhenius` analyses them, and the resistance and
    capacitance roles in order of first appearance.

    ``key`` is what the values were computed from (the series' results and geometry), so that
    :meth:`Series._cached_points` knows when they no longer hold. ``facts`` are the numbers
    the physics checks of the series read (:mod:`eisfit.series.checks`), for every role.
    """

    def __init__(self, series: Series, roles: Sequence[str] | None = None) -> None:
        self.key = (series.results, series.geometry)
        self._quantity = series._quantity
        self._only = roles  # None: every role met
        self.points: dict[str, _RolePoints] = {}
        self.roles: dict[str, None] = {}
        self.capacitance_roles: dict[str, None] = {}
        self.facts = Facts(series.temperatures_K)
        self._violations: list[Violation] | None = None

    def violations(self) -> list[Violation]:
        """The physics checks' verdict on the series (computed once)."""
        if self._violations is None:
            self._violations = violations(self.facts)
        return self._violations

    def add(self, index: int, result: FitResult) -> None:
        self.facts.set(index, result)
        if self._only is None:
            self.roles.update(dict.fromkeys(result.resistances))
            self.capacitance_roles.update(dict.fromkeys(result.capacitances))
        for role in result.resistances if self._only is None else self._only:
            q = self._quantity(result, role)
            if q is not None:
                pts = self.points.setdefault(role, _RolePoints())
                pts.add(index, _nom(q[0]), _sd(q[0]), q[1])

    def add_digest(self, index: int, digest: FitDigest) -> None:
        """:meth:`add` from the fit's :class:`~eisfit.series.digest.FitDigest` (every role
        collected), the fit not read."""
        self.facts.set_numbers(index, digest.facts)
        self.roles.update(dict.fromkeys(digest.roles))
        self.capacitance_roles.update(dict.fromkeys(digest.capacitance_roles))
        for role, nominal, stderr, kind in digest.points:
            self.points.setdefault(role, _RolePoints()).add(index, nominal, stderr, kind)


class _RolePoints:
    """One role's analysed values over a series: spectrum index, nominal value and standard
    error (the units of :meth:`Series.arrhenius`), and the quantity of the last one."""

    __slots__ = ("index", "nominal", "stderr", "quantity")

    def __init__(self) -> None:
        self.index = array("q")
        self.nominal = array("d")
        self.stderr = array("d")
        self.quantity = "conductivity"

    def add(self, index: int, nominal: float, stderr: float, quantity: str) -> None:
        self.index.append(index)
        self.nominal.append(nominal)
        self.stderr.append(stderr)
        self.quantity = quantity


class Series:
    """Fits of a temperature series, ordered by temperature, and their Arrhenius analysis.

    Made by :func:`fit_series`.

    Attributes
    ----------
    results : list of FitResult, or ResultView
        One per spectrum fitted, in ascending temperature (input order among equal
        temperatures). A series fitted with ``fit_series(..., stream=True)`` keeps its results
        in a temporary file and reads them when asked for (a :class:`~eisfit.store.ResultView`
        of a sealed :class:`~eisfit.store.ResultStore`, a read-only sequence).
    temperatures_K : numpy.ndarray
        Temperature of each result in K.
    labels : list of str
        File name of each result (``name[i]`` for the i-th spectrum of a file holding several).
    failures : list of dict
        ``{"source", "error"}`` for each file or spectrum that could not be read or fitted.
    geometry : Geometry or None
        Used for conductivity; without it conductance 1/R (S) is analysed.
    warnings : list of str
        Series-level warnings (duplicate temperatures...).
    joint : JointResult or None
        The joint fit (:meth:`fit_joint`), or None when none was made.
    joint_error : str or None
        Why the joint fit asked for could not be made (one line), else None.
    keep_all : bool
        False (default): a point that breaks a physics check of the series
        (:meth:`violations`) is left out of that role's Arrhenius regression, and an Ea that
        comes out negative or not determined is reported as not determined, with the reason.
        True: every point is regressed and every Ea reported.
    """

    def __init__(
        self,
        results: Sequence[FitResult],
        temperatures_K: Sequence[float],
        labels: Sequence[str],
        failures: Sequence[dict[str, str]] = (),
        geometry: Any = None,
        warnings: Sequence[str] = (),
        keep_all: bool = False,
    ) -> None:
        self.keep_all = bool(keep_all)
        self.joint: JointResult | None = None
        self.joint_error: str | None = None
        if not (len(results) == len(temperatures_K) == len(labels)):
            raise SeriesError("results, temperatures_K and labels must have the same length")
        order = sorted(range(len(results)), key=lambda i: float(temperatures_K[i]))
        self._order = order  # position in the results given of each result kept
        #: Each result's FitDigest (None where it has none), in the order of ``results``,
        #: and what they were made from (results, geometry): see :meth:`_usable_digests`.
        self._digests: list[FitDigest | None] | None = None
        self._digests_key: tuple[Any, Any] = (None, None)
        self._texts: ResultStore | None = None
        self.results: Sequence[FitResult]
        if isinstance(results, ResultStore | ResultView):
            self.results = results.view(order)  # reordered, nothing read
        else:
            self.results = [results[i] for i in order]
        self.temperatures_K = np.array([float(temperatures_K[i]) for i in order])
        self.labels: list[str] = [labels[i] for i in order]
        self.failures: list[dict[str, str]] = [dict(f) for f in failures]
        self.geometry = geometry
        self.warnings: list[str] = list(warnings)
        #: One line for worker processes that died during the fits, and what became of their
        #: spectra (also in ``warnings``; :func:`eisfit.fitting.batch.fit_many`); empty when none
        #: did.
        self.worker_notes: list[str] = []
        self._points_cache: _Points | None = None
        #: Grain size (m) for the brick-layer analysis (``eisfit batch --grain-size``): each
        #: spectrum gets a ``brick_layer`` object in the JSON and brick-layer columns in the
        #: table (:mod:`eisfit.analysis.microstructure`); None (default): no brick-layer analysis.
        self.grain_size_m: float | None = None
        #: The DRT tracks kept for the batch outputs (``eisfit batch --drt-tracks``: the
        #: ``drt_tracks`` object of :meth:`to_dict`), from :meth:`drt_arrhenius`; None: none.
        self.drt_tracks: Any = None

    # ------------------------------------------------------------------ basics
    def __len__(self) -> int:
        return len(self.results)

    def __iter__(self) -> Any:
        return iter(self.results)

    def __repr__(self) -> str:
        t = self.temperatures_K
        rng = f", {t.min():.2f}-{t.max():.2f} K" if t.size else ""
        return f"<Series {len(self)} spectra{rng}, {len(self.failures)} failed>"

    @property
    def roles(self) -> list[str]:
        """Resistance roles present in at least one fit, in order of first appearance."""
        cached = self._cached_points()
        if cached is not None:
            seen = cached.roles
        else:
            seen = {}
            for r in self.results:
                for k in r.resistances:
                    seen.setdefault(k, None)
        return ordered_roles(seen)

    # ------------------------------------------------------------------ physics
    def _quantity(self, result: FitResult, role: str) -> tuple[Any, str] | None:
        """The value analysed for ``role`` in one fit: (ufloat, quantity) or None."""
        return quantity(result, role, self.geometry)

    def _keep_digests(self, digests: Sequence[FitDigest | None], texts: ResultStore) -> None:
        """Keep the :class:`~eisfit.series.digest.FitDigest` of each result as given to
        :class:`Series` (None where there is none), for the present results and geometry;
        ``texts`` holds their JSON texts (each digest's ``items`` is its position there)."""
        self._digests = [digests[i] for i in self._order]
        self._texts = texts
        self._digests_key = (self.results, self.geometry)

    def _usable_digests(self) -> list[FitDigest | None] | None:
        """The digests of the results (in their order), when they hold for the present
        results (a sealed store's, which cannot change) and geometry; else None."""
        if self._digests is None or not self._caches_points():
            return None
        results, geometry = self._digests_key
        return self._digests if results is self.results and geometry is self.geometry else None

    def _collect_points(self, roles: Sequence[str] | None) -> _Points:
        """The value :meth:`arrhenius` analyses for each role, from one pass over the results.

        ``roles=None`` collects every role met (and the roles and capacitance roles in order of
        first appearance); otherwise only those named.
        """
        points = _Points(self, roles)
        digests = self._usable_digests() if roles is None else None
        if digests is not None:  # the results read only where they have none
            for i, dg in enumerate(digests):
                if dg is None:
                    points.add(i, self.results[i])
                else:
                    points.add_digest(i, dg)
            return points
        for i, r in enumerate(self.results):
            points.add(i, r)
        return points

    def _caches_points(self) -> bool:
        """True for results read from a sealed store (a streamed series, whose every pass over
        the results reads them from disk): every role's points are then collected once. Results
        held in memory may be changed and are cheap to walk."""
        results = self.results
        return isinstance(results, ResultView) and results.store.sealed

    def _fresh_points(self) -> _Points | None:
        """The points cache when it holds for the present results and geometry, else None."""
        c = self._points_cache
        if c is None or c.key[0] is not self.results or c.key[1] is not self.geometry:
            return None
        return c

    def _cached_points(self) -> _Points | None:
        """Every role's points (collected once, see :meth:`_caches_points`), or None."""
        if not self._caches_points():
            return None
        c = self._fresh_points()
        if c is None:
            c = self._points_cache = self._collect_points(None)
        return c

    def _points_to_collect(self) -> _Points | None:
        """Points to fill in a pass over the results, made for the points cache on the way
        (the batch JSON's pass), or None when the cache is not used or already full."""
        if not self._caches_points() or self._fresh_points() is not None:
            return None
        return _Points(self)

    def _role_points(self, role: str) -> _RolePoints:
        points = self._cached_points() or self._collect_points([role])
        return points.points.get(role) or _RolePoints()

    def missing(self, role: str) -> list[str]:
        """Labels of the spectra whose fit has no positive resistance for ``role``."""
        have = set(self._role_points(role).index)
        return [lab for i, lab in enumerate(self.labels) if i not in have]

    def arrhenius(
        self,
        role: str = "bulk",
        form: str = "ln(sigma*T)",
        *,
        min_points: int = 2,
        keep_all: bool | None = None,
    ) -> ArrheniusResult:
        """Activation energy of one resistance role over the series.

        Parameters
        ----------
        role
            ``"bulk"``, ``"grain_boundary"``, ``"total"``, ``"electrolyte"``, ``"interface"``...
        form
            ``"ln(sigma*T)"`` (default) or ``"ln(sigma)"``.
        min_points
            Fewest usable points (>= 2; two points give Ea without a standard error).
        keep_all
            Regress every point and report any Ea (default: the series' :attr:`keep_all`).

        Returns
        -------
        ArrheniusResult
            From conductivity σ = L/(R A) in S/cm when the series has a geometry, conductance
            1/R in S otherwise; for interface roles from the area-specific resistance per
            interface (Ohm cm², or R in Ohm without geometry) with ``quantity="resistance"``.
            Points are weighted by the fits' standard errors when every point has one. Spectra
            without the role are skipped and named in the result's warnings. Unless
            ``keep_all``, points that break a physics check of the series (:meth:`violations`)
            are left out (``excluded``, with the reason; ``used`` lists the rest), and an Ea
            that comes out negative or not determined (standard error over half of it, too few
            points left) is withdrawn: NaN, with the ``reason``.

        Raises
        ------
        ArrheniusError
            Fewer than ``min_points`` usable points.
        """
        points = self._cached_points() or self._collect_points([role])
        return self._arrhenius(points, role, form, min_points, keep_all)

    def _arrhenius(
        self, points: _Points, role: str, form: str, min_points: int, keep_all: bool | None
    ) -> ArrheniusResult:
        """:meth:`arrhenius` from points already collected (with their physics checks)."""
        keep = self.keep_all if keep_all is None else bool(keep_all)
        pts = points.points.get(role) or _RolePoints()
        have = set(pts.index)
        skipped = [lab for i, lab in enumerate(self.labels) if i not in have]
        if len(pts.index) < min_points:
            have_roles = ", ".join(self.roles) or "none"
            raise ArrheniusError(
                f"role {role!r}: {len(pts.index)} of {len(self)} spectra have it, at least "
                f"{min_points} needed (roles in this series: {have_roles})"
            )
        left_out = {} if keep else self._left_out(points).get(role, {})
        rows = [k for k, i in enumerate(pts.index) if i not in left_out]
        index = [pts.index[k] for k in rows]
        temps = [float(self.temperatures_K[i]) for i in index]
        values = [pts.nominal[k] for k in rows]
        errs = [pts.stderr[k] for k in rows]
        quantity = pts.quantity
        used = tuple(
            {"source": self.labels[i], "temperature_K": float(self.temperatures_K[i])}
            for i in index
        )
        excluded = tuple(
            {"source": self.labels[i], "temperature_K": float(self.temperatures_K[i]),
             "value": float(pts.nominal[k]), "reason": left_out[i]}
            for k, i in enumerate(pts.index) if i in left_out
        )
        notes = []
        kk = points.facts.kk
        notes.extend(
            Finding(f"{self.labels[i]} fails the Kramers-Kronig check; used: its {role} "
                    "resistance obeys the series' physics checks" if not keep else
                    f"{self.labels[i]} fails the Kramers-Kronig check",
                    "series_kk_fails", role=role, severity="note")
            for i in index if kk[i]
        )
        if skipped:
            notes.append(Finding(f"skipped (no {role} resistance): {', '.join(skipped)}",
                                 "no_resistance", role=role, numbers={"count": len(skipped)}))
        if excluded:
            notes.append(Finding(
                f"left out ({len(excluded)} of {len(pts.index)}, physics checks of the series; "
                "keep_all=True keeps them): " + ", ".join(e["source"] for e in excluded),
                "left_out", role=role, numbers={"count": len(excluded), "of": len(pts.index)},
            ))
        if len(values) < min_points:
            return self._too_few(role, temps, values, quantity, form, min_points, notes,
                                 used, excluded)
        e = np.array(errs)
        stderr = e if np.all(np.isfinite(e)) and np.all(e > 0) else None
        if stderr is None:
            notes.insert(0, Finding("some fits have no standard error: the regression is "
                                    "unweighted", "unweighted", role=role))
        res = arrhenius(temps, values, stderr, form=form, quantity=quantity,
                        min_points=min_points)
        res = dataclasses.replace(
            res, warnings=tuple(res.warnings) + tuple(notes), used=used, excluded=excluded
        )
        if not keep:
            why = ea_not_determined(res.Ea_eV, res.Ea_stderr_eV, role)
            if why is not None:
                res = not_determined(res, why)
        return res

    def _too_few(
        self, role: str, temps: list[float], values: list[float], quantity: str, form: str,
        min_points: int, notes: list[str], used: tuple[dict[str, Any], ...],
        excluded: tuple[dict[str, Any], ...],
    ) -> ArrheniusResult:
        """The result of a role with too few points left after the physics checks: no Ea."""
        nan = math.nan
        t = np.array(temps, float)
        v = np.array(values, float)
        t.setflags(write=False)
        v.setflags(write=False)
        return ArrheniusResult(
            Ea_eV=nan, Ea_stderr_eV=nan, Ea_kJ_per_mol=nan, Ea_ci95_eV=(nan, nan),
            ln_prefactor=nan, ln_prefactor_stderr=nan, r2=nan, form=form,
            T_min_K=float(t.min()) if t.size else nan,
            T_max_K=float(t.max()) if t.size else nan,
            n=len(values), quantity=quantity, warnings=tuple(notes),
            temperature_K=t, values=v, stderr=None,
            reason=(
                f"{len(values)} point(s) left after leaving out {len(excluded)} that break the "
                f"physics checks of the series, {min_points} needed (keep_all=True keeps them)"
            ),
            used=used, excluded=excluded,
        )

    def _left_out(self, points: _Points) -> dict[str, dict[int, str]]:
        """Role -> {spectrum index: reason} of the points that break a physics check."""
        out: dict[str, dict[int, str]] = {}
        for v in points.violations():
            if v.role == "*" and v.check != KK_FAR:
                continue  # a spectrum far from lin-KK leaves every role; a mere failure none
            for name in list(points.points) if v.role == "*" else [v.role]:
                role = out.setdefault(name, {})
                role[v.index] = f"{role[v.index]}; {v.reason}" if v.index in role else v.reason
        return out

    def violations(self) -> list[dict[str, Any]]:
        """What breaks the physics checks of the series (:mod:`eisfit.series.checks`).

        Returns
        -------
        list of dict
            ``{"source", "temperature_K", "role", "check", "reason"}`` in temperature order:
            resistances that rise with T, a bulk capacitance that moves, arcs whose
            capacitance jumps to another role's (role ``"*"`` and check ``"kk"``: a spectrum
            that fails the Kramers–Kronig check). Points of a role listed here are left out
            of its Arrhenius regression unless :attr:`keep_all`.
        """
        points = self._cached_points() or self._collect_points(None)
        found = sorted(points.violations(), key=lambda v: (v.index, v.role, v.check))
        return [
            {"source": self.labels[v.index], "temperature_K": float(self.temperatures_K[v.index]),
             "role": v.role, "check": v.check, "reason": v.reason}
            for v in found
        ]

    def arrhenius_all(self, form: str = "ln(sigma*T)") -> dict[str, ArrheniusResult]:
        """:meth:`arrhenius` for every thermally activated role with at least two points."""
        points = self._cached_points() or self._collect_points(None)  # one pass, checks once
        out = {}
        for role in ordered_roles(points.roles):
            if role in _NOT_ACTIVATED:
                continue
            try:
                out[role] = self._arrhenius(points, role, form, 2, None)
            except ArrheniusError:
                continue
        return out

    def drt_arrhenius(self, **options: Any) -> Any:
        """Circuit-free activation energies: each DRT peak tracked through the series.

        Delegates to :func:`eisfit.analysis.drt_tracks.drt_arrhenius` (``options`` are its
        keywords):
        Ea from ``ln(T/R)`` and ``ln(T/τ)`` of each track, the slope-change test, and each
        track matched by time constant to a fitted role with the circuit's Ea beside it.

        Returns
        -------
        eisfit.analysis.drt_tracks.DrtTracks
        """
        from eisfit.analysis.drt_tracks import drt_arrhenius

        return drt_arrhenius(self, **options)

    # ------------------------------------------------------------------ joint fit
    def fit_joint(
        self,
        processes: Sequence[str] | None = None,
        shared_capacitance: Sequence[str] | None = None,
        series_resistance: str = "shared",
        form: str = "ln(sigma*T)",
    ) -> JointResult:
        """Fit every spectrum at once with Arrhenius-constrained arc resistances.

        Starts from the independent fits of this series and keeps them: the result is stored
        in :attr:`joint` beside them, and :meth:`compare`, :meth:`report`, :meth:`to_dict`
        (``arrhenius_joint``, ``joint_fit``) and :meth:`to_frame` (``*_joint_*`` columns) show
        both.

        Parameters
        ----------
        processes
            Roles whose resistance follows an Arrhenius law, one Ea and prefactor each for the
            whole series (default: every arc of the circuit).
        shared_capacitance
            Roles whose effective capacitance (F) and CPE exponent are the same at every
            temperature (default: the circuit's hidden role, the bulk, whose geometric
            capacitance ε₀ε_r A/L barely changes with T).
        series_resistance
            ``"shared"`` (default; cables and hardware, Ohm) or ``"per_temperature"``.
        form
            ``"ln(sigma*T)"`` (default) or ``"ln(sigma)"``.

        Returns
        -------
        JointResult
            Ea ± standard error (eV) per process from the joint covariance, prefactors in the
            units :meth:`arrhenius` uses, and every resistance (Ohm) at every temperature.

        Raises
        ------
        JointFitError
            Fewer than 3 spectra, fits with different circuits, or a bad option (see
            :func:`eisfit.series.joint.fit_joint`).
        """
        self.joint = None
        self.joint_error = None
        try:
            self.joint = fit_joint(
                self.results,
                self.temperatures_K,
                labels=self.labels,
                geometry=self.geometry,
                processes=processes,
                shared_capacitance=shared_capacitance,
                series_resistance=series_resistance,
                form=form,
                keep_all=self.keep_all,
            )
        except EisfitError as exc:
            self.joint_error = one_line(exc)
            raise
        return self.joint

    def compare(self, form: str = "ln(sigma*T)") -> Any:
        """Independent against joint activation energies, one row per role.

        Returns
        -------
        pandas.DataFrame
            Columns ``role``, ``Ea_independent_eV``, ``Ea_independent_stderr_eV``, ``n``,
            ``Ea_joint_eV``, ``Ea_joint_stderr_eV`` (NaN without a joint fit or for a role it
            does not constrain) and ``difference_eV`` (joint − independent).
        """
        import pandas as pd

        rows = []
        joint = self.joint.processes if self.joint is not None else {}
        for role, a in self.arrhenius_all(form).items():
            j = joint.get(role) if (self.joint is None or self.joint.form == form) else None
            rows.append(
                {
                    "role": role,
                    "Ea_independent_eV": a.Ea_eV,
                    "Ea_independent_stderr_eV": a.Ea_stderr_eV,
                    "n": a.n,
                    "Ea_joint_eV": j.Ea_eV if j else math.nan,
                    "Ea_joint_stderr_eV": j.Ea_stderr_eV if j else math.nan,
                    "difference_eV": (j.Ea_eV - a.Ea_eV) if j else math.nan,
                }
            )
        return pd.DataFrame(rows)

    def _from_intercept(self, result: FitResult) -> list[str]:
        """Roles whose resistance this fit took from the high-frequency intercept."""
        return from_intercept(result)

    # ------------------------------------------------------------------ output
    def _spectrum_warnings(self) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {}
        t = self.temperatures_K
        groups: dict[float, list[int]] = {}
        for i, ti in enumerate(t):
            groups.setdefault(round(float(ti), 6), []).append(i)
        for members in groups.values():
            if len(members) < 2:
                continue
            for i in members:
                others = [self.labels[j] for j in members[:6] if j != i][:5]
                extra = len(members) - 1 - len(others)
                shown = ", ".join(others) + (f" and {extra} more" if extra > 0 else "")
                out[i] = [f"same temperature ({t[i]:.2f} K) as {shown}"]
        return out

    def _all_spectrum_warnings(self) -> list[list[str]]:
        """Each spectrum's warnings: its fit's, then the series' own about it (a temperature
        shared with other spectra); what :meth:`to_dict` and :meth:`to_frame` show."""
        extra = self._spectrum_warnings()
        return [list(r.warnings) + extra.get(i, []) for i, r in enumerate(self.results)]

    def to_dict(self) -> dict[str, Any]:
        """The batch JSON object.

        Keys: ``spectra`` (one fit object each, with ``temperature_K`` and ``from_intercept``,
        the roles whose resistance is the high-frequency intercept), ``arrhenius`` (per role
        present, with ``curvature`` and ``curvature_p``), ``failures``, and, when a joint fit
        was asked for, ``arrhenius_joint`` (role -> Ea ± stderr, prefactor, shared capacitance
        and per-temperature resistances of the joint fit; empty when it failed) and
        ``joint_fit`` (its statistics and warnings, or ``{"error": ...}``).
        """
        return {"spectra": list(self._spectrum_dicts()), **self._summary_dict()}

    def _spectrum_dicts(self) -> Iterator[dict[str, Any]]:
        """The ``spectra`` entries of :meth:`to_dict`, built one at a time."""
        extra = self._spectrum_warnings()
        collector = self._points_to_collect()  # the Arrhenius summary's pass, done on the way
        for i, r in enumerate(self.results):
            if collector is not None:
                collector.add(i, r)
            yield self._spectrum_dict(i, r, extra)
        if collector is not None:
            self._points_cache = collector

    def _spectrum_dict(self, i: int, r: FitResult, extra: dict[int, list[str]]) -> dict[str, Any]:
        """The ``spectra`` entry of :meth:`to_dict` of result ``r`` at position ``i``
        (``extra``: the series' own warnings by position, :meth:`_spectrum_warnings`)."""
        d = r.to_dict(self.geometry)
        d["temperature_K"] = float(self.temperatures_K[i])
        d["from_intercept"] = self._from_intercept(r)
        d["warnings"] = list(r.warnings) + extra.get(i, [])
        if self.grain_size_m is not None:
            from eisfit.analysis.microstructure import brick_layer_entry

            d["brick_layer"] = brick_layer_entry(r, self.geometry, self.grain_size_m)
        return d

    def _spectrum_texts(self, allow_nan: bool) -> Iterator[str]:
        """The text of each ``spectra`` entry of :meth:`to_dict` (two levels deep), from the
        results' digests where they have one (NaN allowed, no brick-layer analysis, no warning
        the series adds), else from the results."""
        digests = self._usable_digests() if allow_nan and self.grain_size_m is None else None
        if digests is None:
            for d in self._spectrum_dicts():
                yield _json_text(d, allow_nan, level=2)
            return
        extra = self._spectrum_warnings()
        collector = self._points_to_collect()  # the Arrhenius summary's pass, done on the way
        t = self.temperatures_K.tolist()
        texts = self._texts
        for i, dg in enumerate(digests):
            if dg is None or i in extra:
                r = self.results[i]
                if collector is not None:
                    collector.add(i, r)
                yield _json_text(self._spectrum_dict(i, r, extra), allow_nan, level=2)
            else:
                if collector is not None:
                    collector.add_digest(i, dg)
                yield spectrum_text(texts[dg.items], t[i])
        if collector is not None:
            self._points_cache = collector

    def _summary_dict(self) -> dict[str, Any]:
        """Every key of :meth:`to_dict` after ``spectra``."""
        arr = {}
        for k, v in self.arrhenius_all().items():
            entry = v.to_dict()
            entry["curvature"] = bool(v.curvature)
            entry["curvature_p"] = v.curvature_p if math.isfinite(v.curvature_p) else None
            arr[k] = entry
        out: dict[str, Any] = {
            "arrhenius": arr,
            "failures": [dict(f) for f in self.failures],
        }
        if self.joint is not None:
            out["arrhenius_joint"] = self.joint.arrhenius_dict()
            out["joint_fit"] = self.joint.to_dict()
        elif self.joint_error is not None:
            out["arrhenius_joint"] = {}
            out["joint_fit"] = {"error": self.joint_error}
        if self.drt_tracks is not None:
            out["drt_tracks"] = self.drt_tracks.to_dict()
        return out

    def json_chunks(self, allow_nan: bool = False) -> Iterator[str]:
        """:meth:`to_dict` as indented JSON text, in pieces: the text of
        ``json.dumps(self.to_dict(), indent=2)``, built and handed over one spectrum at a time
        so that a batch of thousands never holds its whole JSON (a few KB a spectrum) at once.
        """
        first = True
        for body in self._spectrum_texts(allow_nan):  # each spectrum one piece, whole
            yield ('{\n  "spectra": [\n    ' if first else ",\n    ") + body
            first = False
        yield '{\n  "spectra": []' if first else "\n  ]"
        # "{\n  ...\n}", its keys one level deep already
        rest = _json_text(self._summary_dict(), allow_nan)
        yield "," + rest[1:]

    def to_frame(self) -> Any:
        """A :class:`pandas.DataFrame`, one row per spectrum in temperature order.

        Columns: ``file``, ``T_K``, ``T_C``, ``R_<role>_ohm`` and ``R_<role>_stderr_ohm``,
        ``C_<role>_F`` for arcs, ``sigma_<role>_S_per_cm`` and its ``_stderr`` with a geometry
        (else ``G_<role>_S`` conductance and its ``_stderr``), ``from_intercept`` (roles taken
        from the high-frequency intercept, joined with ``"; "``), ``chi_square``,
        ``fixture_correction`` (the open/short method the spectrum was corrected by, empty when
        none) and ``warnings`` joined with ``"; "``. With a joint fit, ``R_<role>_joint_ohm`` and
        ``R_<role>_joint_stderr_ohm`` for each of its roles (and ``sigma_<role>_joint_S_per_cm``
        with a geometry). Missing values are NaN.
        """
        import pandas as pd

        roles = self.roles
        cached = self._cached_points()
        if cached is not None:
            cap_roles = list(cached.capacitance_roles)
        else:
            cap_roles = []
            for r in self.results:
                for k in r.capacitances:
                    if k not in cap_roles:
                        cap_roles.append(k)
        extra = self._spectrum_warnings()
        rows = []
        for i, (lab, t, r) in enumerate(
            zip(self.labels, self.temperatures_K, self.results, strict=True)
        ):
            row: dict[str, Any] = {"file": lab, "T_K": t, "T_C": t - ZERO_CELSIUS_K}
            for role in roles:
                row[f"R_{role}_ohm"] = r.resistances.get(role, math.nan)
                row[f"R_{role}_stderr_ohm"] = r.resistance_stderr.get(role, math.nan)
            for role in cap_roles:
                row[f"C_{role}_F"] = r.capacitances.get(role, math.nan)
            for role in roles:
                if role in _NOT_ACTIVATED or _is_interface(role):
                    continue
                q = self._quantity(r, role)
                key = f"sigma_{role}_S_per_cm" if self.geometry is not None else f"G_{role}_S"
                row[key] = _nom(q[0]) if q else math.nan
                row[key.replace("_S", "_stderr_S", 1)] = _sd(q[0]) if q else math.nan
            if self.geometry is not None:
                asr = r.asr(self.geometry)
                for role in roles:
                    if _is_interface(role):
                        row[f"ASR_{role}_ohm_cm2"] = _nom(asr[role]) if role in asr else math.nan
            if self.joint is not None:
                for role, values in self.joint.resistances.items():
                    rj = float(values[i])
                    row[f"R_{role}_joint_ohm"] = rj
                    row[f"R_{role}_joint_stderr_ohm"] = float(self.joint.resistance_stderr[role][i])
                    if (
                        self.geometry is not None
                        and role not in _NOT_ACTIVATED
                        and not _is_interface(role)
                        and rj > 0
                    ):
                        row[f"sigma_{role}_joint_S_per_cm"] = _nom(self.geometry.conductivity(rj))
            if self.grain_size_m is not None:  # sigma_gb_specific_S_per_cm, gb_thickness_m...
                from eisfit.analysis.microstructure import brick_layer_columns

                row.update(brick_layer_columns(r, self.geometry, self.grain_size_m))
            row["from_intercept"] = "; ".join(self._from_intercept(r))
            row["chi_square"] = r.chi_square
            fixture = r.spectrum.meta.get("fixture_correction")  # eisfit.correct_fixture's
            row["fixture_correction"] = "" if fixture is None else str(fixture.get("method", ""))
            row["warnings"] = "; ".join([*r.warnings, *extra.get(i, [])])
            rows.append(row)
        return pd.DataFrame(rows)

    def to_csv(self, path: str | Path, force: bool = False) -> Path:
        """Write :meth:`to_frame` as CSV atomically; refuse to overwrite unless ``force``.

        A text cell that a spreadsheet would run as a formula (one starting with ``=``, ``+``,
        ``-``, ``@``, a tab or a carriage return, e.g. a file named ``=cmd|...``) is written
        with a ``'`` in front, as OWASP advises against CSV injection; numbers are written as
        numbers. Temperatures (``T_K``, ``T_C``) are rounded to 0.01 (no ``-39.99999999999997``
        from the kelvin-to-celsius subtraction); :meth:`to_json` keeps full precision.
        """
        import pandas as pd

        frame = self.to_frame()
        for col in ("T_K", "T_C"):
            if col in frame.columns:
                frame[col] = frame[col].astype(float).round(2) + 0.0  # no -0.0
        for col in frame.columns:
            if not pd.api.types.is_numeric_dtype(frame[col]):
                frame[col] = frame[col].map(defuse_formula)
        return write_atomic(path, lambda t: frame.to_csv(t, index=False), force=force)

    def to_json(self, path: str | Path, force: bool = False, allow_nan: bool = False) -> Path:
        """Write :meth:`to_dict` as JSON (indented; no NaN unless ``allow_nan``) atomically,
        one spectrum at a time; refuse to overwrite unless ``force``."""
        def writer(tmp: Path) -> None:
            with open(tmp, "w", encoding="utf-8") as f:
                self.write_json(f, allow_nan=allow_nan)

        return write_atomic(path, writer, force=force)

    def write_json(self, stream: IO[str], allow_nan: bool = False) -> None:
        """Write :meth:`to_dict` as indented JSON and a newline to ``stream``, one spectrum at
        a time (:meth:`json_chunks`)."""
        for chunk in self.json_chunks(allow_nan=allow_nan):
            stream.write(chunk)
        stream.write("\n")

    def report(self, width: int | None = None) -> str:
        """A plain-text summary: a table of the spectra (resistances ± standard errors, and
        conductivities with a geometry), Arrhenius per role (curvature flagged), the joint fit
        beside the independent results when one was made, failures.

        The table names each spectrum by what sets its file name apart from the others
        (:func:`eisfit.labels.short_labels`); warnings and failures name the whole file.

        Parameters
        ----------
        width
            Characters per line (the command line passes the terminal's): the tables fit it
            and longer lines are wrapped. None: tables as wide as their cells, lines whole.
        """
        from eisfit.terminal import wrap_lines

        lines = self._report_head()
        tables, fit_warnings = self._report_tables(width)
        lines.extend(tables)
        arr = self.arrhenius_all()
        lines.extend(_arrhenius_lines(arr))
        if self.joint is not None or self.joint_error is not None:
            lines.extend(self._joint_lines(arr))
        lines.extend(self._notes_lines(fit_warnings))
        return "\n".join(lines if width is None else wrap_lines(lines, width))

    def _report_head(self) -> list[str]:
        """The ``[[Series]]`` block of :meth:`report`."""
        lines = ["[[Series]]"]
        lines.append(f"    spectra      = {len(self)} fitted, {len(self.failures)} failed")
        if len(self):
            t = self.temperatures_K
            lines.append(f"    temperatures = {t.min():.2f} K to {t.max():.2f} K")
        if self.geometry is not None:
            lines.append(f"    geometry     = {self.geometry}")
        return lines

    def _report_tables(self, width: int | None) -> tuple[list[str], list[str]]:
        """The resistance (and conductivity) tables of :meth:`report`, and every fit's
        warnings, collected in the same pass (a streamed series reads from disk)."""
        from eisfit.labels import short_labels
        from eisfit.terminal import cell, table_lines

        roles = self.roles
        sigma_roles = [] if self.geometry is None else [
            k for k in roles if k not in _NOT_ACTIVATED and not _is_interface(k)]
        shown, shortened = short_labels(self.labels)
        r_rows, s_rows = [], []
        fit_warnings = []
        for lab, short, t, r in zip(
            self.labels, shown, self.temperatures_K, self.results, strict=True
        ):
            r_rows.append([short, f"{t:.2f}"] + [
                cell(r.resistances[k], r.resistance_stderr.get(k)) if k in r.resistances
                else "-" for k in roles
            ] + [f"{r.chi_square:.2g}"])
            if sigma_roles:
                row = [short, f"{t:.2f}"]
                for k in sigma_roles:
                    q = self._quantity(r, k)
                    row.append("-" if q is None else cell(_nom(q[0]), _sd(q[0])))
                s_rows.append(row)
            fit_warnings.extend(f"{lab}: {w}" for w in r.warnings)
        lines = ["[[Resistances]] (Ohm)"]
        if shortened:
            lines.append(f"    {shortened}")
        heads = [k.replace("_", " ") for k in roles]  # "grain boundary" wraps at its space
        lines.extend(table_lines(["file", "T/K", *heads, "chi2"], r_rows, width))
        if sigma_roles:
            lines.append("[[Conductivity]] (S/cm)")
            heads = [k.replace("_", " ") for k in sigma_roles]
            lines.extend(table_lines(["file", "T/K", *heads], s_rows, width))
        return lines, fit_warnings

    def _joint_lines(self, arr: dict[str, ArrheniusResult]) -> list[str]:
        """The ``[[Arrhenius, joint fit]]`` block of :meth:`report`, beside the independent
        results ``arr``."""
        lines = ["[[Arrhenius, joint fit]]"]
        if self.joint is None:
            lines.append(f"    failed: {self.joint_error}")
            return lines
        j = self.joint
        lines.append(
            f"    all {len(j.labels)} spectra at once, {j.form}, series resistance "
            f"{j.series_mode}; chi_square {j.chi_square:.3g} (independent fits "
            f"{j.chi_square_independent:.3g})"
        )
        for role, p in j.processes.items():
            ind = arr.get(role)
            versus = ""
            if ind is not None and not ind.determined:
                versus = "; independent: not determined"
            elif ind is not None:
                versus = f"; independent {value_error(ind.Ea_eV, ind.Ea_stderr_eV, 'eV')}"
            shared = ""
            if p.shared:
                shared = f"; shared C = {p.capacitance_F:.3g} F, n = {p.exponent:.3f}"
            lines.append(f"    {role:<18} {p.ea_text()}{versus}{shared}")
        lines.extend(f"        - {w}" for w in j.warnings)
        return lines

    def _notes_lines(self, fit_warnings: list[str]) -> list[str]:
        """The ``[[Failures]]`` and ``[[Warnings]]`` blocks of :meth:`report`."""
        lines = ["[[Failures]]"]
        if self.failures:
            lines.extend(f"    - {f['source']}: {f['error']}" for f in self.failures)
        else:
            lines.append("    none")
        warns = list(self.warnings)
        for i, w in self._spectrum_warnings().items():
            warns.extend(f"{self.labels[i]}: {x}" for x in w)
        warns.extend(fit_warnings)
        lines.append("[[Warnings]]")
        if warns:
            lines.extend(f"    - {w}" for w in warns)
        else:
            lines.append("    none")
        return lines

    def __str__(self) -> str:
        return self.report()

    def _repr_html_(self) -> str:
        try:
            frame = self.to_frame()
            cols = [c for c in frame.columns if c != "warnings"]
            head = "".join(f"<th>{html.escape(str(c))}</th>" for c in cols)
            body = []
            for _, row in frame.iterrows():
                cells = []
                for c in cols:
                    v = row[c]
                    text = f"{v:.4g}" if isinstance(v, float) else str(v)
                    cells.append(f"<td>{html.escape(text)}</td>")
                body.append("<tr>" + "".join(cells) + "</tr>")
            arr = "".join(
                (
                    f"<li>{html.escape(role)}: Ea = "
                    + html.escape(value_error(a.Ea_eV, a.Ea_stderr_eV, "eV"))
                    if a.determined
                    else f"<li>{html.escape(role)}: Ea not determined "
                    f"({html.escape(a.reason or '')})"
                )
                + f" ({html.escape(a.form)}, n = {a.n})</li>"
                for role, a in self.arrhenius_all().items()
            )
            if self.joint is not None:
                arr += "".join(
                    f"<li>{html.escape(role)} (joint fit): {html.escape(p.ea_text(3))}</li>"
                    for role, p in self.joint.processes.items()
                )
            fails = "".join(
                f"<li>{html.escape(f['source'])}: {html.escape(f['error'])}</li>"
                for f in self.failures
            )
            return (
                f"<div><strong>Series</strong> {len(self)} spectra, {len(self.failures)} failed"
                f"<table><tr>{head}</tr>{''.join(body)}</table>"
                + (f"<ul>{arr}</ul>" if arr else "")
                + (f"<p>failures</p><ul>{fails}</ul>" if fails else "")
                + f"<details><summary>text</summary><pre>{html.escape(self.report())}</pre>"
                "</details></div>"
            )
        except Exception:  # a display hook must never raise
            return f"<pre>{html.escape(repr(self))}</pre>"


def _arrhenius_lines(arr: dict[str, ArrheniusResult]) -> list[str]:
    """The ``[[Arrhenius]]`` block of :meth:`Series.report`: Ea per role (curvature flagged),
    the points left out and the warnings."""
    lines = ["[[Arrhenius]]"]
    if not arr:
        lines.append("    none (fewer than two temperatures for every role)")
    for role, a in arr.items():
        if not a.determined:
            lines.append(
                f"    {role:<18} Ea not determined, {a.form}, {a.quantity}, n = {a.n}: "
                f"{a.reason}"
            )
        else:
            curved = ", CURVED (non-Arrhenius)" if a.curvature else ""
            ea = value_error(a.Ea_eV, a.Ea_stderr_eV, "eV")
            kj = value_error(a.Ea_kJ_per_mol, a.Ea_stderr_kJ_per_mol, "kJ/mol")
            lines.append(
                f"    {role:<18} Ea = {ea} ({kj}), {a.form}, {a.quantity}, n = {a.n}, "
                f"r2 = {a.r2:.5f}{curved}"
            )
        lines.extend(
            f"        - left out {e['source']} ({e['temperature_K']:.2f} K): {e['reason']}"
            for e in a.excluded or ()
        )
        # the points left out are listed one by one just above
        lines.extend(f"        - {w}" for w in a.warnings if as_finding(w).code != "left_out")
    return lines


# --------------------------------------------------------------------------- fit_series
def fit_series(
    paths_or_spectra: str | Path | Spectrum | Iterable[str | Path | Spectrum],
    circuit: Any = "blocking",
    geometry: Any = None,
    temperatures: str | Path | Sequence[float] = "filename",
    external_resistance: float = 0.0,
    weighting: str = "modulus",
    workers: int = 1,
    progress: bool = False,
    joint: bool = False,
    joint_options: dict[str, Any] | None = None,
    client: Any = None,
    kk: bool = False,
    neighbours: bool | str = True,
    stream: bool = False,
    keep_all: bool = False,
    fixture: Any = None,
    sigma: Any = None,
    variable: Any = "temperature",
    values: Any = None,
    constraints: Any = None,
    drop_inductive: bool = True,
    engine: str = "auto",
) -> Any:
    """Fit a temperature series and get ready for the Arrhenius analysis.

    Parameters
    ----------
    paths_or_spectra
        Files, folders (every file inside, sorted), or :class:`~eisfit.Spectrum` objects.
    circuit
        Named circuit or circuit string, as for :func:`eisfit.fit` (default ``"blocking"``).
    geometry
        :class:`~eisfit.Geometry` for conductivity (S/cm); None analyses conductance (S).
    temperatures
        ``"filename"`` (``25C``, ``25degC``, ``298K``, ``T=25`` as °C), ``"metadata"``
        (``meta["temperature"]`` in K), a path to a CSV table (``file`` column with a name or
        path, and ``temperature_C`` or ``temperature_K``), or a list of temperatures in K, one per
        input.
    external_resistance
        Cables and cell hardware in Ohm, subtracted from high-frequency intercepts.
    weighting
        ``"modulus"`` (default), ``"proportional"`` or ``"unit"``.
    workers
        Processes fitting in parallel (1: in this process). Results do not depend on it.
    progress
        Show a progress bar on stderr (rich: one line, redrawn as spectra are fitted, erased at
        the end; drawn only where stderr is a terminal).
    client
        A ``dask.distributed.Client`` or scheduler address: the fits run on that cluster
        (``workers`` is then ignored). Needs ``eisfit[dask]``.
    kk
        Run the Kramers–Kronig check on every spectrum and warn on those that fail it.
    neighbours
        After the independent fits, walk the series in temperature order and refit each
        spectrum with one more start predicted from its neighbours (:func:`refit_from_neighbours`:
        resistances on their Arrhenius line, effective capacitances interpolated); a refit is
        kept only when its χ² is lower. Series of more than :data:`WALK_MAX_SPECTRA` spectra
        refit only their poor fits. On by default for in-process fits; ``"always"`` also after
        parallel ones. Whatever the workers, a spectrum that breaks a physics check of the
        series (:meth:`Series.violations`: a resistance that rises with T, a bulk capacitance
        that moves, an arc whose capacitance jumps to another role's, a Kramers–Kronig
        failure) is refitted with starts from its neighbours that obey them; that refit is kept
        when it no longer breaks the check and its χ² is at most 5 % higher, or when its χ² is
        lower without breaking anything new (False: no refits at all).
    keep_all
        Regress every point and report every Ea (:attr:`Series.keep_all`). By default points
        that still break a physics check after the refits are left out of that role's
        Arrhenius regression (listed with the reason), and an Ea that comes out negative or
        not determined is reported as not determined, in the independent Arrhenius analysis
        and in the joint fit.
    joint
        Also fit all spectra at once with Arrhenius-constrained resistances
        (:meth:`Series.fit_joint`), after the independent fits. A joint fit that cannot be made
        does not fail the series: its reason goes to ``Series.joint_error`` and the warnings.
    joint_options
        Keyword arguments for :meth:`Series.fit_joint` (``processes``, ``shared_capacitance``,
        ``series_resistance``, ``form``).
    stream
        Keep memory flat however many spectra there are (what ``eisfit batch`` does): files
        are read one at a time as the fits consume them, and each result is written to a
        temporary file (:class:`~eisfit.store.ResultStore`, about 5 KB on disk per spectrum)
        instead of being kept, so the series holds a few hundred bytes per spectrum in memory
        (label, temperature, the numbers of its Arrhenius analysis) rather than about 15 KB.
        ``Series.results`` is then a read-only sequence that unpickles each result when read
        (tens of µs each). Results, errors, failures and warnings are those of the default
        (False, everything in memory). Temperatures from file names, a table or a list are
        checked from the paths before fitting; with ``"metadata"`` every file is read twice
        (once to check the temperatures, once to fit).
    fixture
        A :class:`~eisfit.analysis.fixture.Fixture` (open/short measurement): every spectrum is
        corrected with :func:`~eisfit.analysis.fixture.correct_fixture` before it is fitted, as
        ``eisfit fit --open/--short`` does; one it cannot correct goes to the failures.
    sigma
        A :class:`~eisfit.analysis.sigma.SigmaTable` (``--sigma FILE``): every spectrum carries the
        σ
        of its frequencies, for ``weighting="sigma"``; one it does not cover goes to the
        failures. (Spectra given with :meth:`Spectrum.with_sigma` need none.)
    variable
        ``"temperature"`` (default: this Arrhenius series), or another variable the series is
        measured against (``"pressure"``, ``"thickness"``, ``"time"``, ``"cycle"``, ``"soc"``,
        ``"bias"``): the series is then :func:`eisfit.series.variable.fit_variable_series`
        with ``values`` (else ``temperatures``) saying where its values come from, and a
        :class:`~eisfit.series.variable.VariableSeries` is returned.
    values
        Where the values of a ``variable`` other than temperature come from (as
        ``temperatures``).
    constraints
        Expressions between parameters, as for :func:`eisfit.fit` (``["CPE2_1 = CPE1_1"]``):
        every spectrum is fitted under them, alone (not stacked), with no neighbour refits.
    drop_inductive
        As for :func:`eisfit.fit`. With ``geometry``, ``weighting``, ``external_resistance``
        and ``kk`` it makes the :class:`~eisfit.fitting.spec.FitSpec` every fit of the series
        records
        (the geometry also judges each arc's capacitance, as ``eisfit.fit`` does with it).
    engine
        ``"auto"``, ``"compiled"`` or ``"numpy"``, as for :func:`eisfit.fit`; the worker
        processes and the neighbour refits fit with it too.

    Returns
    -------
    Series or VariableSeries

    Raises
    ------
    SeriesError
        A spectrum without a temperature (named), a temperature below 150 K given in K
        (probably °C), a bad table, or no spectrum at all. Files that do not read and spectra
        that do not fit go into ``Series.failures`` instead.
    """
    other = isinstance(variable, str) and variable.strip().lower() != "temperature"
    quantity = _quantity_of(variable)
    if other:  # a series against another variable: fitted alike, without neighbour refits
        temperatures = temperatures if values is None else values
        neighbours, joint, joint_options, keep_all = False, False, None, False
    spec = _series_spec(circuit, weighting, external_resistance, drop_inductive, kk, geometry,
                        constraints, engine)
    if spec.constraints:
        neighbours = False  # an unconstrained refit would replace a constrained fit
    items = _series_items(paths_or_spectra, temperatures)
    inputs = _Inputs(items, temperatures, bool(stream), quantity)
    prepare = functools.partial(_prepare, fixture=fixture, sigma=sigma,
                                tag=quantity is TEMPERATURE)
    digest = functools.partial(digest_fit, geometry=geometry) if stream else None
    fitted = _fit_inputs(inputs, len(items), spec, prepare, workers, client, progress, digest)
    if stream:
        fitted.results = ResultStore()
        fitted.texts = ResultStore() if digest is not None else None
    results = _collect(fitted)
    digests = fitted.digests if len(fitted.digests) == len(results) else None
    if neighbours:
        _refit_neighbours(results, fitted.temperatures, spec, neighbours=neighbours,
                          in_process=workers == 1 and client is None, digests=digests)
    if isinstance(results, ResultStore):
        results.seal()
    failures = inputs.failures + fitted.failures  # files that do not read, then fits that fail
    series = Series(results, fitted.temperatures, fitted.labels, failures, geometry,
                    inputs.warnings + fitted.notes, keep_all=keep_all)
    series.worker_notes = fitted.notes
    if digests is not None and fitted.texts is not None:  # read instead of the results
        series._keep_digests(digests, fitted.texts.seal())
    _fit_joint(series, joint, joint_options)
    if other:
        return variable_series_of(series, quantity, temperatures, geometry)
    return series


def _quantity_of(variable: Any) -> Variable:
    """The variable of a series (``fit_series(variable=)``): temperature, or another one.

    Raises
    ------
    SeriesError
        An unknown variable, or ``"temperature"`` named another way.
    """
    if isinstance(variable, Variable):
        return variable
    if isinstance(variable, str) and variable.strip().lower() != "temperature":
        quantity = variable_spec(variable)
        if quantity.name == "temperature":
            raise SeriesError("variable 'temperature' is the Arrhenius series: use fit_series")
        return quantity
    return TEMPERATURE


def _series_spec(circuit: Any, weighting: str, external_resistance: float,
                 drop_inductive: bool, kk: bool, geometry: Any, constraints: Any,
                 engine: str = "auto") -> FitSpec:
    """The one :class:`~eisfit.fitting.spec.FitSpec` every fit of a series is made with,
    checked before any file is read.

    Raises
    ------
    SeriesError
        ``circuit="auto"`` (a series fits one circuit).
    EisfitError
        A circuit or a constraint that does not parse, a bad option.
    """
    check_arguments(circuit, weighting, external_resistance)
    if isinstance(circuit, str) and circuit == "auto":
        raise SeriesError(
            "circuit 'auto' chooses a model for one spectrum (eisfit fit); a series fits one "
            "circuit: give its name, e.g. 'blocking'"
        )
    resolve(circuit)  # a circuit that does not parse fails the series, not each spectrum
    if constraints:  # a constraint that does not parse fails the series too
        from eisfit.fitting.constraints import parse

        parse(resolve(circuit)[0], constraints)
    return FitSpec(circuit, weighting, external_resistance, drop_inductive, kk, geometry,
                   constraints or None, engine=engine)


def _series_items(paths_or_spectra: Any, temperatures: Any) -> list[Any]:
    """The inputs of a series: the files and spectra given, folders replaced by their files.

    Raises
    ------
    ArgumentError
        Neither a file, a folder, a Spectrum nor a list of them.
    SeriesError
        Nothing given, or a list of temperatures given with folders.
    """
    if isinstance(paths_or_spectra, str | Path | Spectrum):
        given: list[Any] = [paths_or_spectra]
    elif isinstance(paths_or_spectra, Iterable) and not isinstance(paths_or_spectra, bytes):
        given = list(paths_or_spectra)
    else:
        raise ArgumentError(
            "paths_or_spectra must be a file, a folder, a Spectrum or a list of them, got "
            f"{type(paths_or_spectra).__name__}"
        )
    items: list[Any] = []
    for it in given:
        if isinstance(it, str | Path) and Path(it).is_dir():
            items.extend(expand_paths([it]))
        else:
            items.append(it)
    if not items:
        raise SeriesError("no spectra given")
    if not isinstance(temperatures, str | Path) and len(given) != len(items):
        raise SeriesError("a list of temperatures needs files, not folders")
    return items


def _prepare(spectrum: Spectrum, label: str, value: float, fixture: Any, sigma: Any,
             tag: bool) -> Spectrum:
    """A spectrum of a series as it is fitted: corrected with the fixture, given the σ of its
    points (``sigma``), labelled, and its temperature recorded (``tag``).

    Raises
    ------
    EisfitError
        Outside the fixture's or the σ table's range (the spectrum then fails).
    """
    s = spectrum
    if fixture is not None:
        s = correct_fixture(s, fixture)
    if sigma is not None:  # --sigma FILE: the σ of each point
        s = sigma.apply(s)
    return s.with_meta(label=label, **({"temperature": value} if tag else {}))


@dataclasses.dataclass
class _Fitted:
    """The outcomes of a series' fits: (label, value, outcome) in input order, the failures
    and worker notes filled as they are consumed (:func:`_collect`). An outcome may be a
    result with its :class:`~eisfit.series.digest.FitDigest` (a tuple; the digest None when it
    could not be made): the digests are kept in ``digests``, one per result (when any)."""

    outcomes: Iterable[tuple[str, float, Any]]
    notes: list[str]
    results: list[FitResult] | ResultStore = dataclasses.field(default_factory=list)
    digests: list[FitDigest | None] = dataclasses.field(default_factory=list)
    #: Where the digests' JSON texts are kept (each digest's ``items`` then its position in
    #: it); None: digests are not kept.
    texts: ResultStore | None = None
    temperatures: list[float] = dataclasses.field(default_factory=list)
    labels: list[str] = dataclasses.field(default_factory=list)
    failures: list[dict[str, str]] = dataclasses.field(default_factory=list)


def _collect(fitted: _Fitted) -> list[FitResult] | ResultStore:
    """Consume the outcomes: each result kept (with its label and value), each failed fit
    listed; the results returned."""
    results = fitted.results
    for lab, t, out in fitted.outcomes:
        if isinstance(out, Failure):
            fitted.failures.append({"source": lab, "error": out.error})
            continue
        if isinstance(out, tuple):  # a result with its digest, made where it was fitted
            out, digest = out
            if digest is not None and fitted.texts is not None:  # its JSON texts on disk
                fitted.texts.append_pickled(digest.items)
                digest.items = len(fitted.texts) - 1
            fitted.digests.append(digest if fitted.texts is not None else None)
        if isinstance(out, bytes):  # a result pickled where it was fitted: kept as it is
            if isinstance(results, ResultStore):
                results.append_pickled(out)
            else:
                results.append(pickle.loads(out))
        else:
            results.append(out)
        fitted.temperatures.append(t)
        fitted.labels.append(lab)
    return results


def _stack_size(n: int, workers: Any, client: Any) -> int:
    """Stacks of up to STACK spectra, but never fewer stacks than workers: a series of ten
    temperatures still keeps every worker busy (``n``: the spectra, when below
    ``(STACK - 1) * workers + 1``)."""
    if client is None and isinstance(workers, int) and workers >= 1:
        return max(1, min(STACK, math.ceil(n / workers)))
    return STACK


def _fit_inputs(inputs: _Inputs, n_items: int, spec: FitSpec, prepare: Any, workers: Any,
                client: Any, progress: bool, digest: Any = None) -> _Fitted:
    """The fits of a series' inputs, as they are made: files read and fitted in the worker
    processes when they can be (a streamed series of files), else read here. ``digest``:
    made of each result where it is fitted, when the files are read there (see
    :class:`_Fitted`)."""
    notes: list[str] = []  # a worker process that died: what became of its spectra
    reader = inputs.reader(prepare) if client is None else None
    if reader is not None:
        n = inputs.count if inputs.count is not None else n_items
        outcomes = _read_in_workers(inputs, reader, spec, workers, _stack_size(n, workers, None),
                                    notes, digest)
    else:
        # enough read ahead to tell whether the stacks must be smaller than STACK
        here = client is None and isinstance(workers, int) and workers >= 1
        n = inputs.at_least((STACK - 1) * workers + 1) if here else 0
        outcomes = _read_here(inputs, spec, prepare, workers, client,
                              _stack_size(n, workers, client), notes)
    if progress:
        # a streamed series of many files counts its spectra against the number of inputs
        total = inputs.count if inputs.count is not None else n_items
        outcomes = _with_progress(outcomes, total)
    return _Fitted(outcomes, notes)


def _read_here(inputs: _Inputs, spec: FitSpec, prepare: Any, workers: Any, client: Any,
               stack: int, notes: list[str]) -> Iterator[tuple[str, float, FitResult | Failure]]:
    """(label, value, outcome) of each spectrum, read here and fitted by :func:`fit_many`."""
    fitting: deque[tuple[str, float]] = deque()  # label and K of each spectrum sent to fit

    def spectra() -> Iterator[Spectrum]:
        for lab, t, s in inputs.records:
            try:
                s = prepare(s, lab, t)
            except EisfitError as exc:  # outside the fixture's or σ table's range: fails
                inputs.failures.append({"source": lab, "error": str(exc)})
                continue
            fitting.append((lab, t))
            yield s

    for out in fit_many(spectra(), spec=spec, workers=workers, client=client, stack=stack,
                        notes=notes):
        lab, t = fitting.popleft()
        yield lab, t, out
    if fitting:  # pragma: no cover - fit_many yields one outcome per spectrum
        raise RuntimeError("fewer fit outcomes than spectra")


def _read_in_workers(inputs: _Inputs, reader: Any, spec: FitSpec, workers: Any, stack: int,
                     notes: list[str], digest: Any = None) -> Iterator[tuple[str, float, Any]]:
    """(label, value, outcome) of each spectrum, its file read and fitted in the worker
    processes (:func:`~eisfit.fitting.batch.read_and_fit`), a result as its pickle (for the
    series' :class:`~eisfit.store.ResultStore`), with its ``digest`` (a tuple) when one is
    given; a file lost with its worker is a failure of its own."""
    for read in read_and_fit(inputs.jobs(), reader, spec, workers=workers, stack=stack,
                             notes=notes, pickled=True, digest=digest):
        if read.error is not None:
            name = Path(read.job[1]).name
            yield name, math.nan, Failure(name, read.error)
            continue
        for (lab, t), out in zip(inputs.take(read.info), read.outcomes, strict=True):
            yield lab, t, out


def _refit_neighbours(results: list[FitResult] | ResultStore, temperatures: list[float],
                      spec: FitSpec, neighbours: bool | str, in_process: bool,
                      digests: list[FitDigest | None] | None = None) -> None:
    """Replace, in ``results``, the fits :func:`refit_from_neighbours` improves (fitted with
    ``spec``): the walk and the poor fits when the series was fitted in this process (or
    ``neighbours="always"``), the physics checks' violations always. ``digests``: one per
    result (None where there is none), read instead of the results for the first look at the
    series; a replaced result's digest becomes None."""
    full = in_process or neighbours == "always"
    first = None
    if digests is not None and all(dg is not None for dg in digests):
        first = [(dg.chi_square, not dg.success, dg.facts) for dg in digests if dg is not None]
    refits = _neighbour_refits(results, temperatures, spec, walk=None if full else False,
                               poor=full, first_pass=first)
    for i, r in refits.items():
        if digests is not None:
            digests[i] = None
        if isinstance(results, ResultStore):
            results.replace(i, r)
        else:
            results[i] = r


def _fit_joint(series: Series, joint: bool, joint_options: dict[str, Any] | None) -> None:
    """The joint fit of a series, when asked for; one that cannot be made goes to its
    warnings.

    Raises
    ------
    SeriesError
        ``joint_options`` without ``joint``, or options :meth:`Series.fit_joint` does not take.
    """
    if joint_options and not joint:
        raise SeriesError("joint_options given without joint=True")
    if joint:
        try:
            series.fit_joint(**(joint_options or {}))
        except TypeError as exc:
            raise SeriesError(f"joint_options: {exc}") from None
        except EisfitError as exc:
            series.warnings.append(f"joint fit not made: {one_line(exc)}")

def _with_progress(
    outcomes: Iterable[Any], total: int, stream: IO[str] | None = None
) -> Iterator[Any]:
    """Yield ``outcomes`` while rich draws ``fitting ━━━━╺━━━ k/total 0:00:03 0:00:05`` (done,
    elapsed, left) on one line of ``stream`` (stderr by default), erased when done. Nothing is
    drawn where ``stream`` is not a terminal."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    console = Console(file=stream) if stream is not None else Console(stderr=True)
    if not console.is_terminal:  # a log file or a pipe: not even a blank line
        yield from outcomes
        return
    columns = (TextColumn("fitting"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("fitting", total=total)
        for item in outcomes:
            bar.advance(task)
            yield item
