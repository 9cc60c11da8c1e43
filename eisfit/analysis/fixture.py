"""Open/short fixture compensation and lead correction of measured spectra.

Above about 1 MHz the cables and the cell fixture add to what the analyser measures: a series
residual impedance (lead resistance and inductance) and a stray admittance across the cell
(capacitance between the leads, leakage). For sulfide electrolytes, whose bulk arc often sits at
or above 10 MHz, they decide the high-frequency intercept that becomes the bulk resistance.
Impedance analysers remove them by measuring the fixture open (no cell) and shorted, and
correcting every measurement with those two spectra; this module does the same on spectra
already measured.

The residual model (*Impedance Measurement Handbook*, Agilent 4th ed. 2009 / Keysight 6th ed.
2016, "Open and short compensations": section 4.3.2 and figure 4-4 of the 4th edition): the
measurement terminals see a series residual impedance ``Z_s = R_s + jωL_s`` followed by a stray
admittance ``Y_o = G_o + jωC_o`` across the cell, so

    Z_m = Z_s + Z_dut / (1 + Y_o Z_dut).

A shorted fixture (``Z_dut = 0``) measures ``Z_short = Z_s``; an open one (``Z_dut → ∞``)
measures ``Z_open = Z_s + 1/Y_o``. The correction inverts the model exactly:

    Z_dut = (Z_m − Z_short) / (1 − (Z_m − Z_short) Y_o),   Y_o = 1 / (Z_open − Z_short).

The handbook's figure 4-4(d) writes the same expression with the measured open admittance
``Y_o = 1/Z_open``, which assumes ``|Z_short| ≪ |Z_open|``; taking ``Y_o = 1/(Z_open − Z_short)``
removes that approximation (the relative difference is of order
``|Z_short/Z_open|·|Z_dut/Z_open|``: 8e-6 at 7 MHz for a 460 Ω sulfide cell behind 0.5 Ω + 50 nH
of leads and 2 pF of stray capacitance). Analysers' built-in compensation (the handbook's
appendix B) models the fixture as a symmetric two-port instead,
``Z_dut = Z_open (Z_m − Z_short) / (Z_open − Z_m)``, which differs from this one by about
``|Z_short/Z_open|`` (2e-4 in the same example). With an open spectrum alone ``Z_short = 0``
(``Z_dut = Z_m / (1 − Z_m/Z_open)``); with a short alone ``Y_o = 0`` (``Z_dut = Z_m − Z_short``).

A noisy short can be replaced by its model, a lead resistance and inductance
``Z_short ≈ R_lead + jωL_lead`` fitted by weighted linear least squares (:func:`fit_leads`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from eisfit.exceptions import EisfitError
from eisfit.io.spectrum import Spectrum

__all__ = ["Fixture", "FixtureError", "LeadModel", "correct_fixture", "fit_leads"]

#: How far (relative, in frequency) a spectrum may reach beyond the fixture's measured range:
#: the fixture's end values are used there. Further out the correction is refused.
RANGE_TOLERANCE = 0.01

#: The meta key of a corrected spectrum, and of the JSON of its fit.
META_KEY = "fixture_correction"

FORMULA = "Z_dut = (Z_m - Z_short) / (1 - (Z_m - Z_short) * Y_o), Y_o = 1/(Z_open - Z_short)"


class FixtureError(EisfitError, ValueError):
    """A fixture spectrum cannot be read or used, or does not cover a spectrum's frequencies."""


def _name(spectrum: Spectrum) -> str:
    return spectrum.source or "(in memory)"


# --------------------------------------------------------------------------- lead model
@dataclass(frozen=True)
class LeadModel:
    """Series lead resistance and inductance fitted to a short-circuit spectrum.

    Attributes
    ----------
    resistance, resistance_stderr
        R_lead and its standard error (Ohm).
    inductance, inductance_stderr
        L_lead and its standard error (H).
    n_points
        Points of the short spectrum fitted.
    """

    resistance: float
    resistance_stderr: float
    inductance: float
    inductance_stderr: float
    n_points: int

    def impedance(self, frequency: Any) -> np.ndarray:
        """Z = R_lead + jωL_lead (Ohm) at ``frequency`` (Hz)."""
        omega = 2 * np.pi * np.asarray(frequency, dtype=float)
        return self.resistance + 1j * omega * self.inductance

    def to_dict(self) -> dict[str, float]:
        """The numbers of the model, for JSON."""
        return {
            "lead_resistance_ohm": self.resistance,
            "lead_resistance_stderr_ohm": self.resistance_stderr,
            "lead_inductance_H": self.inductance,
            "lead_inductance_stderr_H": self.inductance_stderr,
        }

    def __str__(self) -> str:
        from eisfit.format import value_error

        return (f"R_lead = {value_error(self.resistance, self.resistance_stderr, 'Ohm')}, "
                f"L_lead = {value_error(self.inductance, self.inductance_stderr, 'H')}")


def fit_leads(short: Spectrum) -> LeadModel:
    """Fit ``R_lead + jωL_lead`` to a short-circuit spectrum by weighted linear least squares.

    The real parts give R_lead and the imaginary parts ωL_lead; every point is weighted by
    ``1/|Z_short|`` (modulus weighting, as the fits), so the low-|Z| points are not swamped by
    the inductive ones. The standard errors come from the weighted residuals
    (``s² (AᵀWA)⁻¹`` with ``s²`` the weighted residual sum of squares over ``2N − 2``).

    Parameters
    ----------
    short
        The fixture's short-circuit spectrum (Ohm, Hz).

    Returns
    -------
    LeadModel
    """
    z = short.z
    w = 1.0 / np.abs(z)
    omega = short.omega
    # two decoupled weighted problems: Re Z = R and Im Z = ωL
    sw2 = np.sum(w**2)
    r = float(np.sum(w**2 * z.real) / sw2)
    sww = np.sum((w * omega) ** 2)
    inductance = float(np.sum(w**2 * omega * z.imag) / sww)
    res = np.concatenate([w * (z.real - r), w * (z.imag - omega * inductance)])
    dof = 2 * len(short) - 2
    s2 = float(res @ res) / dof if dof > 0 else math.nan
    return LeadModel(
        resistance=r,
        resistance_stderr=math.sqrt(s2 / sw2),
        inductance=inductance,
        inductance_stderr=math.sqrt(s2 / sww),
        n_points=len(short),
    )


# --------------------------------------------------------------------------- fixture
def _load(item: Spectrum | str | Path | None, option: str) -> Spectrum | None:
    """A fixture spectrum from a Spectrum or a file (its first spectrum)."""
    if item is None or isinstance(item, Spectrum):
        return item
    if not isinstance(item, str | Path):
        raise FixtureError(f"{option}: expected a Spectrum or a file path, got "
                           f"{type(item).__name__}")
    from eisfit.io import read

    try:
        return read(item)
    except EisfitError as exc:  # a ReaderError names the file already: its reason alone
        reason = getattr(exc, "reason", None) or str(exc)
        raise FixtureError(f"{option} {item}: not readable as a fixture spectrum: {reason}"
                           ) from None
    except OSError as exc:
        raise FixtureError(f"{option} {item}: cannot be read: {exc.strerror or exc}") from None


def _interpolate(fixture: Spectrum, frequency: np.ndarray, what: str, target: str) -> np.ndarray:
    """``fixture``'s Z at ``frequency`` (Hz): real and imaginary parts interpolated linearly in
    log frequency (duplicate frequencies averaged); refused outside its range beyond
    :data:`RANGE_TOLERANCE`."""
    lo, hi = fixture.frequency_range
    f_lo, f_hi = float(frequency.min()), float(frequency.max())
    if f_lo < lo / (1 + RANGE_TOLERANCE) or f_hi > hi * (1 + RANGE_TOLERANCE):
        raise FixtureError(
            f"{target}: {f_lo:.4g}-{f_hi:.4g} Hz reaches outside the {what} spectrum "
            f"{_name(fixture)} ({lo:.4g}-{hi:.4g} Hz); measure the fixture over the whole range"
        )
    x, inverse = np.unique(np.log(fixture.frequency), return_inverse=True)
    count = np.bincount(inverse)
    re = np.bincount(inverse, fixture.z.real) / count
    im = np.bincount(inverse, fixture.z.imag) / count
    t = np.log(frequency)
    return np.interp(t, x, re) + 1j * np.interp(t, x, im)


@dataclass(frozen=True, eq=False)
class Fixture:
    """A cell fixture's open and/or short measurement, for open/short compensation.

    Build it with :meth:`from_files`. See the module docstring for the formula.

    Attributes
    ----------
    open
        The open-fixture spectrum (no cell), or None.
    short
        The short-circuit spectrum (fixture shorted), or None.
    leads
        With ``leads_model=True``: the R_lead + jωL_lead model fitted to the short, used in its
        place; else None.
    """

    open: Spectrum | None = None
    short: Spectrum | None = None
    leads: LeadModel | None = None

    @classmethod
    def from_files(
        cls,
        open: Spectrum | str | Path | None = None,  # noqa: A002 - the measurement's name
        short: Spectrum | str | Path | None = None,
        *,
        leads_model: bool = False,
    ) -> Fixture:
        """A fixture from its open and/or short measurement (Spectrum objects or files).

        Parameters
        ----------
        open
            Open-fixture measurement (Ohm): a Spectrum or a file read with
            :func:`eisfit.read`.
        short
            Short-circuit measurement (Ohm), likewise.
        leads_model
            Replace the short by the lead model fitted to it (:func:`fit_leads`): for a
            noisy short.

        Raises
        ------
        FixtureError
            Neither given, a file that cannot be read (named), or ``leads_model`` without a
            short.
        """
        o = _load(open, "--open")
        s = _load(short, "--short")
        if o is None and s is None:
            raise FixtureError("a fixture needs an open (--open) or a short (--short) spectrum")
        if leads_model and s is None:
            raise FixtureError("the lead model (--leads-model) is fitted to a short: give "
                               "--short")
        return cls(open=o, short=s, leads=fit_leads(s) if leads_model else None)

    @property
    def method(self) -> str:
        """``open-short``, ``open``, ``short``, with ``-leads-model`` when the short is
        replaced by its model."""
        parts = [k for k, v in (("open", self.open), ("short", self.short)) if v is not None]
        return "-".join(parts) + ("-leads-model" if self.leads is not None else "")

    def short_impedance(self, frequency: Any, target: str = "spectrum") -> np.ndarray:
        """The residual series impedance Z_short (Ohm) at ``frequency`` (Hz): the lead model,
        the short interpolated, or 0 without a short."""
        f = np.asarray(frequency, dtype=float)
        if self.leads is not None:
            return self.leads.impedance(f)
        if self.short is None:
            return np.zeros(f.shape, complex)
        return _interpolate(self.short, f, "short", target)

    def open_admittance(self, frequency: Any, target: str = "spectrum") -> np.ndarray:
        """The stray admittance Y_o = 1/(Z_open − Z_short) (S) at ``frequency`` (Hz); 0
        without an open."""
        f = np.asarray(frequency, dtype=float)
        if self.open is None:
            return np.zeros(f.shape, complex)
        z_open = _interpolate(self.open, f, "open", target)
        return 1.0 / (z_open - self.short_impedance(f, target))

    def record(self) -> dict[str, Any]:
        """What a corrected spectrum's meta (and its fit's JSON) says of the correction."""
        d: dict[str, Any] = {
            "method": self.method,
            "open": None if self.open is None else _name(self.open),
            "short": None if self.short is None else _name(self.short),
            "formula": FORMULA,
        }
        if self.leads is not None:
            d.update(self.leads.to_dict())
        return d

    def correct(self, spectrum: Spectrum) -> Spectrum:
        """The spectrum with the fixture removed (see :func:`correct_fixture`)."""
        return correct_fixture(spectrum, self)

    def __repr__(self) -> str:
        parts = [f"method={self.method!r}"]
        for k, v in (("open", self.open), ("short", self.short)):
            if v is not None:
                parts.append(f"{k}={_name(v)!r}")
        if self.leads is not None:
            parts.append(str(self.leads))
        return f"Fixture({', '.join(parts)})"


def describe(record: Any) -> str:
    """One line for a text report from a corrected spectrum's ``meta["fixture_correction"]``:
    the method, the files, the lead model."""
    files = ", ".join(f"{k} {record[k]}" for k in ("open", "short") if record.get(k))
    text = f"{record.get('method', '?')} compensation ({files})"
    if "lead_resistance_ohm" in record:
        leads = LeadModel(record["lead_resistance_ohm"], record["lead_resistance_stderr_ohm"],
                          record["lead_inductance_H"], record["lead_inductance_stderr_H"], 0)
        text += f"; {leads}"
    return text


def correct_fixture(spectrum: Spectrum, fixture: Fixture) -> Spectrum:
    """Remove a fixture's residual impedance and stray admittance from a measured spectrum.

    ``Z_dut = (Z_m − Z_short) / (1 − (Z_m − Z_short) Y_o)`` with
    ``Y_o = 1/(Z_open − Z_short)`` (*Impedance Measurement Handbook*, "Open and short
    compensations", figure 4-4; exact for its residual model, see :mod:`eisfit.analysis.fixture`).
    The
    fixture's spectra are interpolated (real and imaginary parts, linear in log frequency) to
    the spectrum's frequencies.

    Parameters
    ----------
    spectrum
        The measured spectrum (Ohm, Hz).
    fixture
        The fixture's open and/or short measurement (:meth:`Fixture.from_files`).

    Returns
    -------
    Spectrum
        A new spectrum, the same frequencies and metadata, with ``meta["fixture_correction"]``
        recording the method, the fixture files and the lead model (a fit of it reports them).

    Raises
    ------
    FixtureError
        The spectrum reaches outside the fixture's frequency range (beyond 1 %), was corrected
        already, or the correction leaves a point at 0 Ohm.
    """
    if not isinstance(fixture, Fixture):
        raise FixtureError(f"fixture must be a Fixture, got {type(fixture).__name__}")
    target = _name(spectrum)
    if META_KEY in spectrum.meta:
        raise FixtureError(f"{target}: the spectrum is corrected for its fixture already")
    f = spectrum.frequency
    dz = spectrum.z - fixture.short_impedance(f, target)
    z = dz / (1.0 - dz * fixture.open_admittance(f, target))
    if not np.all(np.isfinite(z)) or np.any(z == 0):
        raise FixtureError(f"{target}: the fixture correction leaves a point at 0 Ohm or "
                           "infinity: is the cell's impedance that of the open or short?")
    meta = dict(spectrum.meta)
    meta[META_KEY] = fixture.record()
    return Spectrum(f, z, meta, min_points=1)
