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
joint=True)`` or :meth:`Series.fit_joint`, see :mod:`eisfit.joint`): every spectrum fitted at
once from the independent fits, each arc's resistance on an Arrhenius law (one Ea and prefactor
per process), the bulk capacitance and CPE exponent shared by all temperatures. Both results are
kept and reported side by side (:meth:`Series.compare`, the ``arrhenius_joint`` key of
:meth:`Series.to_dict`).
"""

from __future__ import annotations

import csv
import dataclasses
import html
import itertools
import math
import re
import sys
from array import array
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np
import uncertainties

from .arrhenius import MIN_TEMPERATURE_K, ArrheniusError, ArrheniusResult, arrhenius
from .batch import STACK, Failure, fit_many, one_line
from .exceptions import EisfitError
from .joint import JointResult, fit_joint
from .output import write_atomic
from .result import FitResult, arc_tau
from .spectrum import Spectrum
from .store import ResultStore, ResultView
from .units import ZERO_CELSIUS_K

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


class SeriesError(EisfitError, ValueError):
    """A temperature series cannot be set up (missing or implausible temperatures, bad table)."""


# --------------------------------------------------------------------------- temperatures
_NUM = r"(?P<num>\d+(?:[.p]\d+)?)"
# a number with a unit: the sign is a minus only after a separator or at the start
# ("LATP_-10C" is -10 °C, "pellet-25C" is 25 °C); "T25C" and "T=25C" are accepted
_WITH_UNIT = re.compile(
    r"(?:(?<=[^A-Za-z0-9.])|^|(?<=[Tt]))"
    r"(?:(?P<neg>(?:(?<=[^A-Za-z0-9.])|^)[-\u2212]))?"
    + _NUM
    + r"\s?(?P<unit>degC|deg\.C|°C|\u2103|C|K)(?![A-Za-z])"
)
_T_EQUALS = re.compile(
    r"(?:(?<=[^A-Za-z0-9])|^)[Tt]\s*=\s*(?P<neg>[-\u2212])?"
    + _NUM
    + r"(?![\d.]|\s?(?:[°\u2103CKdD]))"
)


def _number(text: str) -> float:
    return float(text.replace("p", "."))


def temperature_from_name(name: str) -> float | None:
    """The temperature written in a file name, in K, or None when there is none.

    Parameters
    ----------
    name
        A file name or path; only the final component without its extension is searched.

    Returns
    -------
    float or None
        Temperature in K. ``25C``, ``25degC``, ``25°C`` and ``T=25`` are °C; ``298K`` is K.
        A minus sign counts after a separator (``_-10C``), not after a letter or digit.

    Raises
    ------
    SeriesError
        When the name holds two different temperatures.

    Examples
    --------
    >>> temperature_from_name("LATP_-10C.csv")
    263.15
    >>> temperature_from_name("pellet_298K.mpt")
    298.0
    >>> temperature_from_name("Li6PS5Cl_run3.csv") is None
    True
    """
    stem = Path(str(name)).name
    stem = re.sub(r"\.[A-Za-z][A-Za-z0-9]*$", "", stem)
    found: list[float] = []
    for m in _WITH_UNIT.finditer(stem):
        value = _number(m.group("num")) * (-1 if m.group("neg") else 1)
        found.append(value if m.group("unit") == "K" else value + ZERO_CELSIUS_K)
    for m in _T_EQUALS.finditer(stem):
        value = _number(m.group("num")) * (-1 if m.group("neg") else 1)
        found.append(value + ZERO_CELSIUS_K)
    distinct = sorted(set(round(t, 6) for t in found))
    if len(distinct) > 1:
        shown = ", ".join(f"{t:g} K" for t in distinct)
        raise SeriesError(
            f"{Path(str(name)).name}: the name holds several temperatures ({shown}); "
            "give them in a table (--temperatures TABLE.csv)"
        )
    return distinct[0] if distinct else None


def read_temperature_table(path: str | Path) -> dict[str, float]:
    """Read a CSV table of temperatures.

    Parameters
    ----------
    path
        CSV file with a ``file`` column (a file name or path) and a ``temperature_C`` or
        ``temperature_K`` column (°C or K). A decimal comma is accepted in a ``;``-separated
        table.

    Returns
    -------
    dict
        File entry as written -> temperature in K.

    Raises
    ------
    SeriesError
        Missing columns, a row without a number, or a file listed twice with different
        temperatures.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        text = p.read_text(encoding="latin-1")
    except OSError as exc:
        reason = exc.strerror or exc
        raise SeriesError(f"{p}: cannot read the temperature table ({reason})") from None
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        raise SeriesError(f"{p}: the temperature table is empty")
    delimiter = ";" if lines[0].count(";") > lines[0].count(",") else ","
    reader = csv.DictReader(lines, delimiter=delimiter)
    fields = {(f or "").strip().lower(): f for f in reader.fieldnames or []}
    if "file" not in fields:
        raise SeriesError(f"{p}: the temperature table needs a 'file' column")
    if "temperature_c" in fields:
        col, offset = fields["temperature_c"], ZERO_CELSIUS_K
    elif "temperature_k" in fields:
        col, offset = fields["temperature_k"], 0.0
    else:
        raise SeriesError(
            f"{p}: the temperature table needs a 'temperature_C' or 'temperature_K' column"
        )
    out: dict[str, float] = {}
    for lineno, row in enumerate(reader, start=2):
        name = (row.get(fields["file"]) or "").strip()
        raw = (row.get(col) or "").strip()
        if not name:
            continue
        try:
            value = float(raw.replace(",", ".") if delimiter == ";" else raw) + offset
        except ValueError:
            raise SeriesError(f"{p}, line {lineno}: {col} {raw!r} is not a number") from None
        if not math.isfinite(value):
            raise SeriesError(f"{p}, line {lineno}: {col} {raw!r} is not a finite number")
        if name in out and abs(out[name] - value) > 1e-9:
            raise SeriesError(f"{p}, line {lineno}: {name} is listed twice with different values")
        out[name] = value
    return out


def _lookup(table: dict[str, float], source: str) -> float | None:
    if source in table:
        return table[source]
    p = Path(source)
    try:
        resolved = p.resolve()
    except OSError:  # pragma: no cover
        resolved = p
    for key, value in table.items():
        k = Path(key)
        if k.name == key and key == p.name:
            return value
        try:
            if k.resolve() == resolved:
                return value
        except OSError:  # pragma: no cover
            continue
    return None


def _check_kelvin(value: float, label: str, how: str) -> float:
    if not math.isfinite(value) or value <= 0:
        raise SeriesError(f"{label}: temperature {value:g} K ({how}) is not above 0 K")
    if value < MIN_TEMPERATURE_K:
        raise SeriesError(
            f"{label}: temperature {value:g} K ({how}) is below {MIN_TEMPERATURE_K:g} K; "
            f"if it is in °C, give it as {value:g}C ({value + ZERO_CELSIUS_K:.2f} K)"
        )
    return float(value)


# --------------------------------------------------------------------------- inputs
def expand_paths(paths: Iterable[str | Path], exclude: Iterable[str | Path] = ()) -> list[Path]:
    """Files named, and every file inside named folders (sorted, hidden files left out).

    Parameters
    ----------
    paths
        Files or folders.
    exclude
        Files or folders to leave out (an output folder, a temperature table).

    Raises
    ------
    SeriesError
        A path that does not exist, or nothing to read.
    """
    skip = []
    for e in exclude:
        try:
            skip.append(Path(e).resolve())
        except OSError:  # pragma: no cover
            continue

    def excluded(p: Path) -> bool:
        r = p.resolve()
        return any(r == s or s in r.parents for s in skip)

    out: list[Path] = []
    for item in paths:
        p = Path(item)
        if p.is_dir():
            files = sorted(
                c for c in p.iterdir() if c.is_file() and not c.name.startswith(".")
            )
            out.extend(c for c in files if not excluded(c))
        elif p.exists():
            out.append(p)
        else:
            raise SeriesError(f"{p}: no such file or folder")
    if not out:
        raise SeriesError("no files to read in " + ", ".join(str(p) for p in paths))
    return out


def _label(source: str, index: int, n: int) -> str:
    name = Path(source).name or source
    return f"{name}[{index}]" if n > 1 else name


# --------------------------------------------------------------------------- Series
def _nom(x: Any) -> float:
    return float(uncertainties.nominal_value(x))


def _sd(x: Any) -> float:
    return float(uncertainties.std_dev(x))


def _is_interface(role: str) -> bool:
    return role.endswith(_INTERFACE_SUFFIX)


class _PointsCollector:
    """Builds a :class:`_Points` one result at a time: each role's value as
    :meth:`Series.arrhenius` analyses it (see :meth:`Series._collect_points`)."""

    def __init__(self, series: Series, roles: Sequence[str] | None) -> None:
        self._series = series
        self._key = (series.results, series.geometry)  # what the points are computed from
        self._roles = roles
        self._points: dict[str, _RolePoints] = {}
        self._seen: dict[str, None] = {}
        self._caps: dict[str, None] = {}

    def add(self, index: int, result: FitResult) -> None:
        if self._roles is None:
            self._seen.update(dict.fromkeys(result.resistances))
            self._caps.update(dict.fromkeys(result.capacitances))
        for role in result.resistances if self._roles is None else self._roles:
            q = self._series._quantity(result, role)
            if q is None:
                continue
            pts = self._points.get(role)
            if pts is None:
                pts = self._points[role] = _RolePoints()
            pts.add(index, _nom(q[0]), _sd(q[0]), q[1])

    def points(self) -> _Points:
        return _Points(list(self._seen), list(self._caps), self._points)

    def cache_entry(self) -> tuple[Any, Any, _Points]:
        """(results, geometry, points): what :meth:`Series._cached_points` keeps."""
        return (*self._key, self.points())


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


@dataclasses.dataclass(frozen=True)
class _Points:
    """What one pass over a series' results collects: resistance roles and capacitance roles
    in order of first appearance, and each role's :class:`_RolePoints`."""

    roles: list[str]
    capacitance_roles: list[str]
    points: dict[str, _RolePoints]


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
    """

    def __init__(
        self,
        results: Sequence[FitResult],
        temperatures_K: Sequence[float],
        labels: Sequence[str],
        failures: Sequence[dict[str, str]] = (),
        geometry: Any = None,
        warnings: Sequence[str] = (),
    ) -> None:
        self.joint: JointResult | None = None
        self.joint_error: str | None = None
        if not (len(results) == len(temperatures_K) == len(labels)):
            raise SeriesError("results, temperatures_K and labels must have the same length")
        order = sorted(range(len(results)), key=lambda i: float(temperatures_K[i]))
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
        self._points_cache: tuple[Any, Any, _Points] | None = None

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
            seen = dict.fromkeys(cached.roles)
        else:
            seen = {}
            for r in self.results:
                for k in r.resistances:
                    seen.setdefault(k, None)
        preferred = ("series", "bulk", "grain_boundary", "electrolyte", "interface",
                     "anode_interface", "cathode_interface", "diffusion", "total")
        return [k for k in preferred if k in seen] + [k for k in seen if k not in preferred]

    # ------------------------------------------------------------------ physics
    def _quantity(self, result: FitResult, role: str) -> tuple[Any, str] | None:
        """The value analysed for ``role`` in one fit: (ufloat, quantity) or None."""
        r = result.resistance_ufloat(role)
        if r is None or not _nom(r) > 0 or not math.isfinite(_nom(r)):
            return None
        if _is_interface(role):
            if self.geometry is not None:
                return result.asr(self.geometry)[role], "resistance"
            return r, "resistance"
        if self.geometry is not None:
            return self.geometry.conductivity(r), "conductivity"
        return 1.0 / r, "conductance"

    def _collect_points(self, roles: Sequence[str] | None) -> _PointsCollector:
        """The value :meth:`arrhenius` analyses for each role, from one pass over the results.

        ``roles=None`` collects every role met (and the roles and capacitance roles in order of
        first appearance); otherwise only those named.
        """
        collector = _PointsCollector(self, roles)
        for i, r in enumerate(self.results):
            collector.add(i, r)
        return collector

    def _caches_points(self) -> bool:
        """True for results read from a sealed store (a streamed series, whose every pass over
        the results reads them from disk): every role's points are then collected once. Results
        held in memory may be changed and are cheap to walk."""
        results = self.results
        return isinstance(results, ResultView) and results.store.sealed

    def _cached_points(self) -> _Points | None:
        """Every role's points (collected once, see :meth:`_caches_points`), or None."""
        if not self._caches_points():
            return None
        c = self._points_cache
        if c is None or c[0] is not self.results or c[1] is not self.geometry:
            c = self._points_cache = self._collect_points(None).cache_entry()
        return c[2]

    def _points_to_collect(self) -> _PointsCollector | None:
        """A collector for a pass over the results that can fill the points cache on the way
        (the batch JSON's pass), or None when the cache is not used or already full."""
        if not self._caches_points():
            return None
        c = self._points_cache
        if c is not None and c[0] is self.results and c[1] is self.geometry:
            return None
        return _PointsCollector(self, None)

    def _role_points(self, role: str) -> _RolePoints:
        cached = self._cached_points()
        if cached is not None:
            points = cached.points
        else:
            points = self._collect_points([role]).points().points
        return points.get(role) or _RolePoints()

    def missing(self, role: str) -> list[str]:
        """Labels of the spectra whose fit has no positive resistance for ``role``."""
        have = set(self._role_points(role).index)
        return [lab for i, lab in enumerate(self.labels) if i not in have]

    def arrhenius(
        self, role: str = "bulk", form: str = "ln(sigma*T)", *, min_points: int = 2
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

        Returns
        -------
        ArrheniusResult
            From conductivity σ = L/(R A) in S/cm when the series has a geometry, conductance
            1/R in S otherwise; for interface roles from the area-specific resistance per
            interface (Ohm cm², or R in Ohm without geometry) with ``quantity="resistance"``.
            Points are weighted by the fits' standard errors when every point has one. Spectra
            without the role are skipped and named in the result's warnings.

        Raises
        ------
        ArrheniusError
            Fewer than ``min_points`` usable points.
        """
        pts = self._role_points(role)
        temps = [self.temperatures_K[i] for i in pts.index]
        values, errs, quantity = list(pts.nominal), list(pts.stderr), pts.quantity
        have = set(pts.index)
        skipped = [lab for i, lab in enumerate(self.labels) if i not in have]
        if len(values) < min_points:
            have = ", ".join(self.roles) or "none"
            raise ArrheniusError(
                f"role {role!r}: {len(values)} of {len(self)} spectra have it, at least "
                f"{min_points} needed (roles in this series: {have})"
            )
        notes = []
        e = np.array(errs)
        stderr = e if np.all(np.isfinite(e)) and np.all(e > 0) else None
        if stderr is None:
            notes.append("some fits have no standard error: the regression is unweighted")
        if skipped:
            notes.append(f"skipped (no {role} resistance): {', '.join(skipped)}")
        res = arrhenius(temps, values, stderr, form=form, quantity=quantity, min_points=min_points)
        if notes:
            res = dataclasses.replace(res, warnings=tuple(res.warnings) + tuple(notes))
        return res

    def arrhenius_all(self, form: str = "ln(sigma*T)") -> dict[str, ArrheniusResult]:
        """:meth:`arrhenius` for every thermally activated role with at least two points."""
        out = {}
        for role in self.roles:
            if role in _NOT_ACTIVATED:
                continue
            try:
                out[role] = self.arrhenius(role, form)
            except ArrheniusError:
                continue
        return out

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
            :func:`eisfit.joint.fit_joint`).
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
        named = result.named
        if named is None or not named.hidden_role:
            return []
        role = named.hidden_role
        return [role] if role in result.resistances and role not in result.apex_hz else []

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
            d = r.to_dict(self.geometry)
            d["temperature_K"] = float(self.temperatures_K[i])
            d["from_intercept"] = self._from_intercept(r)
            d["warnings"] = list(r.warnings) + extra.get(i, [])
            yield d
        if collector is not None:
            self._points_cache = collector.cache_entry()

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
        return out

    def json_chunks(self, allow_nan: bool = False) -> Iterator[str]:
        """:meth:`to_dict` as indented JSON text, in pieces: the text of
        ``json.dumps(self.to_dict(), indent=2)``, built and handed over one spectrum at a time
        so that a batch of thousands never holds its whole JSON (a few KB a spectrum) at once.
        """
        import json

        def dump(obj: Any) -> str:
            return json.dumps(obj, indent=2, allow_nan=allow_nan)

        first = True
        for d in self._spectrum_dicts():
            body = dump(d).replace("\n", "\n    ")
            yield ('{\n  "spectra": [\n    ' if first else ",\n    ") + body
            first = False
        yield '{\n  "spectra": []' if first else "\n  ]"
        rest = dump(self._summary_dict())  # "{\n  ...\n}", its keys one level deep already
        yield "," + rest[1:]

    def to_frame(self) -> Any:
        """A :class:`pandas.DataFrame`, one row per spectrum in temperature order.

        Columns: ``file``, ``T_K``, ``T_C``, ``R_<role>_ohm`` and ``R_<role>_stderr_ohm``,
        ``C_<role>_F`` for arcs, ``sigma_<role>_S_per_cm`` and its ``_stderr`` with a geometry
        (else ``G_<role>_S`` conductance and its ``_stderr``), ``from_intercept`` (roles taken
        from the high-frequency intercept, joined with ``"; "``), ``chi_square`` and
        ``warnings`` joined with ``"; "``. With a joint fit, ``R_<role>_joint_ohm`` and
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
            row["from_intercept"] = "; ".join(self._from_intercept(r))
            row["chi_square"] = r.chi_square
            row["warnings"] = "; ".join([*r.warnings, *extra.get(i, [])])
            rows.append(row)
        return pd.DataFrame(rows)

    def to_csv(self, path: str | Path, force: bool = False) -> Path:
        """Write :meth:`to_frame` as CSV atomically; refuse to overwrite unless ``force``."""
        frame = self.to_frame()
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

    def report(self) -> str:
        """A plain-text summary: one line per spectrum, Arrhenius per role (curvature flagged),
        the joint fit beside the independent results when one was made, failures."""
        lines = ["[[Series]]"]
        lines.append(f"    spectra      = {len(self)} fitted, {len(self.failures)} failed")
        if len(self):
            t = self.temperatures_K
            lines.append(f"    temperatures = {t.min():.2f} K to {t.max():.2f} K")
        if self.geometry is not None:
            lines.append(f"    geometry     = {self.geometry}")
        roles = self.roles
        lines.append("[[Resistances]] (Ohm)")
        head = f"    {'file':<24} {'T/K':>8} " + " ".join(f"{r:>16}" for r in roles)
        lines.append(head + f" {'chi2':>9}")
        fit_warnings = []  # collected in the same pass: a streamed series reads from disk
        for lab, t, r in zip(self.labels, self.temperatures_K, self.results, strict=True):
            cells = " ".join(
                f"{r.resistances[k]:>16.5g}" if k in r.resistances else f"{'-':>16}"
                for k in roles
            )
            lines.append(f"    {lab[:24]:<24} {t:>8.2f} {cells} {r.chi_square:>9.2g}")
            fit_warnings.extend(f"{lab}: {w}" for w in r.warnings)
        arr = self.arrhenius_all()
        lines.append("[[Arrhenius]]")
        if not arr:
            lines.append("    none (fewer than two temperatures for every role)")
        for role, a in arr.items():
            err = f" ± {a.Ea_stderr_eV:.3f}" if math.isfinite(a.Ea_stderr_eV) else ""
            curved = ", CURVED (non-Arrhenius)" if a.curvature else ""
            lines.append(
                f"    {role:<18} Ea = {a.Ea_eV:.3f}{err} eV ({a.Ea_kJ_per_mol:.1f} kJ/mol), "
                f"{a.form}, {a.quantity}, n = {a.n}, r2 = {a.r2:.4f}{curved}"
            )
            lines.extend(f"        - {w}" for w in a.warnings)
        if self.joint is not None or self.joint_error is not None:
            lines.append("[[Arrhenius, joint fit]]")
            if self.joint is None:
                lines.append(f"    failed: {self.joint_error}")
            else:
                j = self.joint
                lines.append(
                    f"    all {len(j.labels)} spectra at once, {j.form}, series resistance "
                    f"{j.series_mode}; chi_square {j.chi_square:.3g} (independent fits "
                    f"{j.chi_square_independent:.3g})"
                )
                for role, p in j.processes.items():
                    ind = arr.get(role)
                    versus = ""
                    if ind is not None:
                        ie = f" ± {ind.Ea_stderr_eV:.4f}" if math.isfinite(ind.Ea_stderr_eV) else ""
                        versus = f"; independent {ind.Ea_eV:.4f}{ie} eV"
                    shared = ""
                    if p.shared:
                        shared = (
                            f"; shared C = {p.capacitance_F:.3g} F, n = {p.exponent:.3f}"
                        )
                    lines.append(
                        f"    {role:<18} Ea = {p.Ea_eV:.4f} ± {p.Ea_stderr_eV:.4f} eV "
                        f"({p.Ea_kJ_per_mol:.1f} kJ/mol){versus}{shared}"
                    )
                lines.extend(f"        - {w}" for w in j.warnings)
        lines.append("[[Failures]]")
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
        return "\n".join(lines)

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
                f"<li>{html.escape(role)}: Ea = {a.Ea_eV:.3f} eV"
                + (f" ± {a.Ea_stderr_eV:.3f}" if math.isfinite(a.Ea_stderr_eV) else "")
                + f" ({html.escape(a.form)}, n = {a.n})</li>"
                for role, a in self.arrhenius_all().items()
            )
            if self.joint is not None:
                arr += "".join(
                    f"<li>{html.escape(role)} (joint fit): Ea = {p.Ea_eV:.3f} ± "
                    f"{p.Ea_stderr_eV:.3f} eV</li>"
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


# --------------------------------------------------------------------------- fit_series
def _check_item_type(k: int, item: Any) -> None:
    if not isinstance(item, Spectrum | str | Path):
        raise SeriesError(
            f"item {k}: expected a file path or a Spectrum, got {type(item).__name__}"
        )


def _spectrum_label(k: int, spectrum: Spectrum) -> str:
    """What a series calls input ``k`` given as a Spectrum: its file name, else its source."""
    source = spectrum.source or f"spectrum {k}"
    return Path(source).name or source


def _read_items(
    items: Sequence[Any], failures: list[dict[str, str]]
) -> Iterator[tuple[int, str, Spectrum]]:
    """Read the inputs one at a time: (item index, label, spectrum) for each spectrum; a file
    that does not read goes to ``failures`` (``{"source", "error"}``)."""
    from .io import read_all

    for k, item in enumerate(items):
        if isinstance(item, Spectrum):
            yield k, _spectrum_label(k, item), item
            continue
        _check_item_type(k, item)
        try:
            spectra = read_all(item)
        except Exception as exc:  # a bad file goes to failures; the rest go on
            failures.append({"source": Path(item).name or str(item), "error": one_line(exc)})
            continue
        for i, s in enumerate(spectra):
            yield k, _label(str(item), i, len(spectra)), s


def _load(
    items: Sequence[Any],
) -> tuple[list[tuple[int, str, Spectrum]], list[dict[str, str]]]:
    """Read every input: (item index, label, spectrum) for each spectrum, and failures."""
    failures: list[dict[str, str]] = []
    return list(_read_items(items, failures)), failures


@dataclasses.dataclass(frozen=True)
class _TemperatureSource:
    """Where a series' temperatures come from: ``mode`` is ``"filename"``, ``"metadata"``,
    ``"table"`` (``table``: entry -> K) or ``"list"`` (``values``: K per input)."""

    mode: str
    table: dict[str, float] | None = None
    values: list[float] | None = None

    @classmethod
    def parse(cls, temperatures: Any, n_items: int) -> _TemperatureSource:
        if isinstance(temperatures, str) and temperatures in ("filename", "metadata"):
            return cls(temperatures)
        if isinstance(temperatures, str | Path):
            p = Path(temperatures)
            if not p.is_file():
                raise SeriesError(
                    f"temperatures {str(temperatures)!r}: expected 'filename', 'metadata', a "
                    "CSV table or a list of temperatures in K"
                )
            return cls("table", table=read_temperature_table(p))
        try:
            values = [float(t) for t in temperatures]
        except (TypeError, ValueError):
            raise SeriesError(
                "temperatures must be 'filename', 'metadata', a CSV table or a list of numbers "
                "in K"
            ) from None
        if len(values) != n_items:
            raise SeriesError(
                f"{len(values)} temperatures given for {n_items} inputs: give one per input"
            )
        return cls("list", values=values)

    def of(self, k: int, lab: str, source: str, spectrum: Spectrum | None) -> float:
        """Temperature (K) of spectrum ``lab`` of input ``k`` read from file ``source``.

        ``spectrum`` is needed for ``"metadata"`` only.

        Raises
        ------
        SeriesError
            No temperature, or an implausible one, for this spectrum.
        """
        if self.mode == "list":
            return _check_kelvin((self.values or [])[k], lab, "from the list")
        if self.mode == "filename":
            t = temperature_from_name(source)
            if t is None:
                raise SeriesError(
                    f"{lab}: no temperature in the file name (write it as 25C, 25degC or "
                    "298K), or use temperatures='metadata' or a table"
                )
            how = "from the file name"
        elif self.mode == "metadata":
            t = spectrum.temperature if spectrum is not None else None
            if t is None:
                raise SeriesError(
                    f"{lab}: the file records no temperature; take it from the file name "
                    "or a table"
                )
            how = "from the file's metadata"
        else:
            t = _lookup(self.table or {}, source)
            if t is None:
                raise SeriesError(f"{lab}: not listed in the temperature table")
            how = "from the table"
        return _check_kelvin(t, lab, how)

    def of_spectrum(self, k: int, lab: str, spectrum: Spectrum) -> float:
        """:meth:`of` for a spectrum read (or given): its file is its source, else its label."""
        return self.of(k, lab, spectrum.source or lab, spectrum)


def _resolve_temperatures(
    temperatures: Any, items: Sequence[Any], loaded: list[tuple[int, str, Spectrum]]
) -> list[float]:
    source = _TemperatureSource.parse(temperatures, len(items))
    return [source.of_spectrum(k, lab, s) for k, lab, s in loaded]


def _check_temperatures_ahead(items: Sequence[Any], source: _TemperatureSource) -> int | None:
    """Raise, before any fitting, the :class:`SeriesError` that reading every input and
    resolving its temperatures would raise, without keeping the spectra.

    File names, a table or a list give the temperature from the path alone; a file is read only
    when its temperature is in doubt (to know whether it reads at all, which makes it a failure
    rather than an error, and to name its spectrum). For ``"metadata"`` every file is read once
    here (and again for fitting).

    Returns
    -------
    int or None
        The number of spectra when every input was read here, else None.
    """
    from .io import read_all

    count = 0 if source.mode == "metadata" else None
    for k, item in enumerate(items):
        if isinstance(item, Spectrum):
            source.of_spectrum(k, _spectrum_label(k, item), item)
            count = None if count is None else count + 1
            continue
        if source.mode != "metadata":
            try:
                source.of(k, Path(item).name, str(Path(item)), None)
                continue
            except SeriesError:
                pass  # in doubt: read the file to raise what fitting it would
        try:
            spectra = read_all(item)
        except Exception:  # reported as a failure when the series is fitted
            continue
        for i, s in enumerate(spectra):
            source.of_spectrum(k, _label(str(item), i, len(spectra)), s)
        count = None if count is None else count + len(spectra)
    return count


class _Inputs:
    """The spectra of a series with their labels and temperatures, read up front (in memory)
    or one at a time as fitting consumes them (streamed).

    ``records`` yields (label, temperature in K, spectrum) in input order; ``failures`` (files
    that do not read) and ``warnings`` (duplicate temperatures) fill as it is consumed;
    ``count`` is the number of spectra when known.
    """

    def __init__(self, items: Sequence[Any], temperatures: Any, stream: bool) -> None:
        self.failures: list[dict[str, str]] = []
        self.warnings: list[str] = []
        self._seen: dict[float, str] = {}
        self.count: int | None
        if not stream:
            loaded, self.failures = _load(items)
            temps = _resolve_temperatures(temperatures, items, loaded)
            self.count = len(loaded)
            for (_k, lab, _s), t in zip(loaded, temps, strict=True):
                self._note(lab, t)
            self.records = iter(
                [(lab, t, s) for (_k, lab, s), t in zip(loaded, temps, strict=True)]
            )
            return
        for k, item in enumerate(items):
            _check_item_type(k, item)
        source = _TemperatureSource.parse(temperatures, len(items))
        self.count = _check_temperatures_ahead(items, source)
        self.records = self._stream(items, source)

    def _note(self, lab: str, t: float) -> None:
        key = round(t, 6)
        if key in self._seen:
            self.warnings.append(f"{lab} and {self._seen[key]} have the same temperature "
                                 f"({t:.2f} K)")
        else:
            self._seen[key] = lab

    def _stream(
        self, items: Sequence[Any], source: _TemperatureSource
    ) -> Iterator[tuple[str, float, Spectrum]]:
        for k, lab, s in _read_items(items, self.failures):
            t = source.of_spectrum(k, lab, s)
            self._note(lab, t)
            yield lab, t, s

    def at_least(self, n: int) -> int:
        """The number of spectra if it is below ``n``, else at least ``n``: reads ahead (and
        keeps) up to ``n`` spectra of a streamed series to know."""
        if self.count is not None:
            return self.count
        head = list(itertools.islice(self.records, n))
        self.records = itertools.chain(head, self.records)
        if len(head) < n:
            self.count = len(head)
        return len(head)


def _not_converged(result: FitResult) -> bool:
    return any("did not converge" in w for w in result.warnings)


def _suspicious(result: FitResult, median_chi2: float) -> bool:
    # an undetermined parameter is common and honest (a series resistance of an Ohm under a
    # kOhm arc); only a fit that ends far above its neighbours' misfit, or did not converge,
    # may have missed the optimum
    return result.chi_square > 2.0 * median_chi2 or _not_converged(result)


def _predict(
    circuit: Any, target_t: float, near: list[tuple[float, FitResult]]
) -> np.ndarray | None:
    """Parameters of ``circuit`` carried to ``target_t`` (K) from fits at two other temperatures.

    Positive parameters move log-linearly in 1/T (an Arrhenius line through the two), exponents
    linearly; an R‖CPE arc's Q is rebuilt from its interpolated resistance, effective
    capacitance and exponent, so its time constant follows the resistance.
    """
    from . import guess

    (t1, r1), (t2, r2) = near
    names = circuit.parameter_names
    if [*r1.values] != names or [*r2.values] != names:
        return None
    x1, x2, x = 1.0 / t1, 1.0 / t2, 1.0 / target_t
    if x1 == x2:
        return None
    w = (x - x1) / (x2 - x1)
    v1 = np.array([r1.values[n] for n in names])
    v2 = np.array([r2.values[n] for n in names])
    kinds = np.array(circuit.parameter_kinds)

    def log_lerp(a: Any, b: Any) -> Any:  # linear in log and 1/T
        return np.exp(np.log(a) + w * (np.log(b) - np.log(a)))

    with np.errstate(divide="ignore", invalid="ignore"):
        logged = log_lerp(v1, v2)
    p = np.where(kinds == "positive", logged, v1 + w * (v2 - v1))
    for arc in guess.structure(circuit).arcs:
        if arc.kind != "rq":
            continue
        i_r, i_q, i_n = arc.indices
        (ra, tau_a), (rb, tau_b) = arc_tau(v1, arc.indices), arc_tau(v2, arc.indices)
        c = float(log_lerp(tau_a / ra, tau_b / rb))  # effective capacitances
        n = float(np.clip(p[i_n], 0.3, 1.0))
        p[i_n] = n
        p[i_q] = (p[i_r] * c) ** n / p[i_r]
    return p if np.all(np.isfinite(p)) and np.all(p > 0) else None


#: Series up to this many spectra are walked in full; longer batches refit only poor fits.
WALK_MAX_SPECTRA = 50


def refit_from_neighbours(
    results: Sequence[FitResult],
    temperatures_K: Sequence[float],
    circuit: Any,
    *,
    weighting: str = "modulus",
    external_resistance: float = 0.0,
    kk: bool = False,
    walk: bool | None = None,
) -> list[FitResult]:
    """Warm-start fits of a series from their neighbours (see :func:`fit_series`).

    The series is walked in temperature order. Each spectrum is refitted with one more start:
    the parameters of the two fits just before it in temperature (already final) carried to its
    temperature, resistances on their Arrhenius line and effective capacitances interpolated,
    so every arc's time constant moves with its resistance. The first two spectra take theirs
    from the two after them. The automatic starts still compete, and the refit replaces the
    independent fit only when its χ² is lower, with a warning saying so.

    Parameters
    ----------
    walk
        Refit every spectrum (True) or only those whose fit looks poor (χ² over twice the
        series median, or no convergence). Default: every spectrum for series of up to
        :data:`WALK_MAX_SPECTRA`, poor fits only for longer batches.

    Returns
    -------
    list of FitResult
        In the order given.
    """
    out = list(results)
    refits = _neighbour_refits(
        out, temperatures_K, circuit, weighting=weighting,
        external_resistance=external_resistance, kk=kk, walk=walk,
    )
    for i, r in refits.items():
        out[i] = r
    return out


def _neighbour_refits(
    results: Sequence[FitResult],
    temperatures_K: Sequence[float],
    circuit: Any,
    *,
    weighting: str,
    external_resistance: float,
    kk: bool,
    walk: bool | None,
) -> dict[int, FitResult]:
    """The fits :func:`refit_from_neighbours` replaces, by position in ``results``.

    Reads each result only when it is refitted or a neighbour of one (after one pass for the
    χ² median), so ``results`` may be a :class:`~eisfit.store.ResultStore`.
    """
    from .fitting import fit
    from .named import resolve

    n = len(results)
    if n < 3:
        return {}
    if walk is None:
        walk = n <= WALK_MAX_SPECTRA
    full, _ = resolve(circuit)
    chi2 = np.empty(n)
    not_converged = np.zeros(n, bool)
    for i, r in enumerate(results):
        chi2[i] = r.chi_square
        not_converged[i] = _not_converged(r)
    median = float(np.median(chi2))
    temps = [float(t) for t in temperatures_K]
    order = sorted(range(n), key=lambda i: temps[i])
    refits: dict[int, FitResult] = {}

    def current(j: int) -> FitResult:
        return refits[j] if j in refits else results[j]

    for k, i in enumerate(order):
        # what _suspicious(results[i], median) says, from the numbers of the first pass
        if not walk and not (chi2[i] > 2.0 * median or not_converged[i]):
            continue
        before = [j for j in reversed(order[:k]) if abs(temps[j] - temps[i]) > 1e-6]
        after = [j for j in order[k + 1 :] if abs(temps[j] - temps[i]) > 1e-6]
        near = (before if len(before) >= 2 else after)[:2]
        if len(near) < 2:
            continue
        r = results[i]
        try:
            start = _predict(full, temps[i], [(temps[j], current(j)) for j in near])
            if start is None:
                continue
            refit = fit(
                r.original or r.spectrum, circuit, weighting=weighting,
                external_resistance=external_resistance, kk=kk, starts=[start],
            )
        except EisfitError:
            continue
        if refit.chi_square < 0.99 * r.chi_square:
            note = (
                f"refitted from its neighbours' parameters carried to {temps[i]:.2f} K: "
                f"χ² {r.chi_square:.3g} → {refit.chi_square:.3g}"
            )
            refits[i] = dataclasses.replace(refit, warnings=(*refit.warnings, note))
    return refits


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
) -> Series:
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
        Show a progress bar on stderr (one line, redrawn as spectra are fitted, erased at the
        end).
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
        parallel ones.
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

    Returns
    -------
    Series

    Raises
    ------
    SeriesError
        A spectrum without a temperature (named), a temperature below 150 K given in K
        (probably °C), a bad table, or no spectrum at all. Files that do not read and spectra
        that do not fit go into ``Series.failures`` instead.
    """
    if isinstance(paths_or_spectra, str | Path | Spectrum):
        given: list[Any] = [paths_or_spectra]
    else:
        given = list(paths_or_spectra)
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
    inputs = _Inputs(items, temperatures, bool(stream))
    fitting: deque[tuple[str, float]] = deque()  # label and K of each spectrum sent to fit

    def spectra() -> Iterator[Spectrum]:
        for lab, t, s in inputs.records:
            fitting.append((lab, t))
            yield s.with_meta(temperature=t, label=lab)

    # stacks of up to STACK spectra, but never fewer stacks than workers: a series of ten
    # temperatures still keeps every worker busy
    stack = STACK
    if client is None and isinstance(workers, int) and workers >= 1:
        n = inputs.at_least((STACK - 1) * workers + 1)  # enough to tell whether stack < STACK
        stack = max(1, min(STACK, math.ceil(n / workers)))
    outcomes: Iterable[FitResult | Failure] = fit_many(
        spectra(),
        circuit,
        weighting=weighting,
        external_resistance=external_resistance,
        workers=workers,
        client=client,
        kk=kk,
        stack=stack,
    )
    if progress:
        # a streamed series of many files counts its spectra against the number of inputs
        outcomes = _with_progress(
            outcomes, inputs.count if inputs.count is not None else len(items)
        )
    results: list[FitResult] | ResultStore = ResultStore() if stream else []
    r_temps: list[float] = []
    r_labels: list[str] = []
    fit_failures: list[dict[str, str]] = []
    for out in outcomes:
        lab, t = fitting.popleft()
        if isinstance(out, Failure):
            fit_failures.append({"source": lab, "error": out.error})
            continue
        results.append(out)
        r_temps.append(t)
        r_labels.append(lab)
    if fitting:  # pragma: no cover - fit_many yields one outcome per spectrum
        raise RuntimeError("fewer fit outcomes than spectra")
    if (neighbours and workers == 1 and client is None) or neighbours == "always":
        if isinstance(results, ResultStore):
            refits = _neighbour_refits(
                results, r_temps, circuit, weighting=weighting,
                external_resistance=external_resistance, kk=kk, walk=None,
            )
            for i, r in refits.items():
                results.replace(i, r)
        else:
            results = refit_from_neighbours(
                results, r_temps, circuit, weighting=weighting,
                external_resistance=external_resistance, kk=kk,
            )
    if isinstance(results, ResultStore):
        results.seal()
    failures = inputs.failures + fit_failures  # files that do not read, then fits that fail
    series = Series(results, r_temps, r_labels, failures, geometry, inputs.warnings)
    if joint_options and not joint:
        raise SeriesError("joint_options given without joint=True")
    if joint:
        try:
            series.fit_joint(**(joint_options or {}))
        except TypeError as exc:
            raise SeriesError(f"joint_options: {exc}") from None
        except EisfitError as exc:
            series.warnings.append(f"joint fit not made: {one_line(exc)}")
    return series


def _with_progress(
    outcomes: Iterable[Any], total: int, stream: IO[str] | None = None, width: int = 30
) -> Iterator[Any]:
    """Yield ``outcomes`` while drawing ``fitting  k/total [####....]`` on one line of
    ``stream`` (stderr by default), erased when done."""
    out = stream if stream is not None else sys.stderr

    def draw(k: int) -> None:
        filled = int(round(width * k / total)) if total else width
        bar = "#" * filled + "." * (width - filled)
        out.write(f"\rfitting {k:>{len(str(total))}}/{total} [{bar}]")
        out.flush()

    draw(0)
    k = 0
    try:
        for item in outcomes:
            k += 1
            draw(k)
            yield item
    finally:
        out.write("\r" + " " * (width + 2 * len(str(total)) + 12) + "\r")
        out.flush()
