"""Series against any variable: pressure, thickness, time at rest, cycle, state of charge, bias.

>>> import eisfit
>>> s = eisfit.fit_variable_series("data/pellets", circuit="li-symmetric",
...     variable="thickness", geometry=eisfit.Geometry(diameter="10 mm"))   # doctest: +SKIP
>>> s.thickness_fit().resistivity_ohm_cm                                  # doctest: +SKIP

The spectra are fitted by :func:`eisfit.series.temperature.fit_series` itself (the same reading,
the same
:func:`eisfit.fitting.batch.fit_many` fits, the same failures), with no neighbour refits (those
carry
parameters along an Arrhenius line and judge temperature physics), so each result equals that
of ``eisfit fit`` on its spectrum. Each spectrum's value of the variable is read by the
temperature machinery of :mod:`eisfit.series.inputs`, for the variables of
:mod:`eisfit.series.variable_names`: from the file name, the metadata, a CSV table (a ``file``
column and one named after the variable with its unit, ``pressure_MPa``) or a list.

The analysis belongs to the variable (:mod:`eisfit.series.variable_analysis`):

* ``thickness``: R(L) = ρ·L/A + 2·R_interface (:meth:`VariableSeries.thickness_fit`), each
  spectrum's geometry being its own thickness and the given area;
* ``time``: linear, parabolic and logarithmic growth laws compared by AICc
  (:meth:`VariableSeries.growth_law`); times from the metadata are taken from the earliest
  spectrum;
* any other: each role's resistance, and conductivity with a geometry, against the variable
  (:meth:`VariableSeries.table`).

Temperature stays the Arrhenius series of :mod:`eisfit.series.temperature`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from eisfit.io.spectrum import Spectrum
from eisfit.series.inputs import SeriesError
from eisfit.series.variable_names import variable as _variable
from eisfit.series.variable_result import PLOT_NAMES, VariableSeries

__all__ = ["VariableSeries", "fit_variable_series", "PLOT_NAMES"]


def fit_variable_series(
    paths_or_spectra: str | Path | Spectrum | Iterable[str | Path | Spectrum],
    circuit: Any = "blocking",
    variable: str = "pressure",
    values: str | Path | Sequence[float] = "filename",
    geometry: Any = None,
    external_resistance: float = 0.0,
    weighting: str = "modulus",
    workers: int = 1,
    progress: bool = False,
    client: Any = None,
    kk: bool = False,
    stream: bool = False,
    fixture: Any = None,
    **options: Any,
) -> VariableSeries:
    """Fit a series of spectra measured against ``variable`` and get ready for its analysis.

    Parameters
    ----------
    paths_or_spectra
        Files, folders (every file inside, sorted), or :class:`~eisfit.Spectrum` objects.
    circuit
        Named circuit or circuit string, as for :func:`eisfit.fit` (default ``"blocking"``).
    variable
        ``"pressure"`` (MPa), ``"thickness"`` (mm), ``"time"`` (h), ``"cycle"``, ``"soc"`` (%)
        or ``"bias"`` (V); see :mod:`eisfit.series.variable_names` for how each is written.
    values
        ``"filename"`` (default), ``"metadata"``, a CSV table (a ``file`` column and one named
        after the variable with its unit, e.g. ``pressure_MPa``, ``thickness_um``,
        ``time_min``) or a list of values in the variable's unit, one per input. Times from
        the metadata are made relative to the earliest spectrum.
    geometry
        :class:`~eisfit.Geometry`: conductivity and ASR; for a thickness series its area (or
        diameter) with each spectrum's own thickness.
    external_resistance, weighting, workers, progress, client, kk, stream, fixture
        As for :func:`eisfit.series.temperature.fit_series` (``stream``: files read as they are
        fitted;
        ``fixture``: the open/short correction of every spectrum).
    **options
        The other options of :func:`~eisfit.series.temperature.fit_series` (``sigma``,
        ``constraints``, ``drop_inductive``, ``engine``), passed to it as they are.

    Returns
    -------
    VariableSeries

    Raises
    ------
    SeriesError
        An unknown variable, a spectrum without a value (naming the file and how the value is
        written), an implausible value, a bad table, or no spectrum at all.
    """
    from eisfit.series.temperature import fit_series

    spec = _variable(variable)
    if spec.name == "temperature":
        raise SeriesError("variable 'temperature' is the Arrhenius series: use fit_series")
    return fit_series(
        paths_or_spectra, circuit=circuit, variable=spec.name, values=values, geometry=geometry,
        external_resistance=external_resistance, weighting=weighting, workers=workers,
        progress=progress, client=client, kk=kk, stream=stream, fixture=fixture, **options,
    )
