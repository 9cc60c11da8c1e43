"""The validated impedance spectrum every other part of eisfit trusts."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from eisfit.display import shown
from eisfit.exceptions import SpectrumError

#: Fewest points accepted in a spectrum; a fit needs more points than parameters.
MIN_POINTS = 3
#: Metadata keys of the per-point standard deviations of Re Z and Im Z (Ohm; tuples, one value
#: a point), set by :meth:`Spectrum.with_sigma` and kept point for point by ``mask``/``sorted``.
SIGMA_KEYS = ("sigma_re", "sigma_im")


def _one_dimensional(a: np.ndarray, name: str, where: str) -> np.ndarray:
    """``a`` as a 1-D array: a single row or column is taken as it is; any other shape with
    more than one dimension is refused rather than flattened."""
    if a.ndim == 0:
        return a.reshape(1)
    if a.ndim > 1:
        if sum(n > 1 for n in a.shape) > 1:
            raise SpectrumError(
                f"{where}{name} must be one-dimensional (one value per point), got an array of "
                f"shape {a.shape}"
            )
        return a.reshape(-1)
    return a


def _freeze(meta: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(meta or {}))


@dataclass(frozen=True, eq=False)
class Spectrum:
    """One impedance spectrum.

    Parameters
    ----------
    frequency
        Frequencies in Hz, strictly positive, any order (kept as given).
    z
        Complex impedance in Ohm, Im(Z) < 0 for capacitive behaviour.
    meta
        Metadata: ``source`` (file), ``temperature`` (K), ``technique``, ``cycle``,
        ``instrument``, ``start_time``, ``area_cm2``... Keys a reader does not find are absent.
    temperature
        Convenience keyword: temperature in K, stored in ``meta["temperature"]``.

    Examples
    --------
    >>> import numpy as np
    >>> f = np.logspace(6, 0, 31)
    >>> s = Spectrum(f, 100 + 0j * f, temperature=298.15)
    >>> len(s), s.temperature
    (31, 298.15)
    """

    frequency: np.ndarray
    z: np.ndarray
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __init__(
        self,
        frequency: Any,
        z: Any,
        meta: Mapping[str, Any] | None = None,
        *,
        temperature: float | None = None,
        min_points: int = MIN_POINTS,
    ) -> None:
        source = (meta or {}).get("source")
        where = f"{source}: " if source else ""
        try:
            f = np.array(frequency, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise SpectrumError(f"{where}frequency must be numeric ({exc})") from None
        try:
            zz = np.array(z, dtype=np.complex128)
        except (TypeError, ValueError) as exc:
            raise SpectrumError(f"{where}z must be numeric or complex ({exc})") from None
        f = _one_dimensional(f, "frequency", where)
        zz = _one_dimensional(zz, "z", where)
        if f.shape != zz.shape:
            raise SpectrumError(
                f"{where}frequency and z must have the same length, got {f.size} and {zz.size}"
            )
        if f.size < min_points:
            raise SpectrumError(
                f"{where}a spectrum needs at least {min_points} points, got {f.size}"
            )
        bad = ~np.isfinite(f)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise SpectrumError(f"{where}frequency[{i}] is {f[i]}: expected a finite number")
        nonpos = f <= 0
        if nonpos.any():
            i = int(np.flatnonzero(nonpos)[0])
            raise SpectrumError(f"{where}frequency[{i}] is {f[i]} Hz: expected > 0")
        badz = ~np.isfinite(zz)
        if badz.any():
            i = int(np.flatnonzero(badz)[0])
            raise SpectrumError(f"{where}z[{i}] is {zz[i]}: expected a finite number")
        zero = zz == 0
        if zero.all():
            raise SpectrumError(
                f"{where}Z is 0 Ohm at every point: expected measured impedances (an empty or "
                "unconnected channel?)"
            )
        if zero.any():
            i = int(np.flatnonzero(zero)[0])
            raise SpectrumError(
                f"{where}z[{i}] is 0 Ohm (at {f[i]:g} Hz): expected a measured, non-zero "
                "impedance"
            )
        m = dict(meta or {})
        if temperature is not None:
            m["temperature"] = float(temperature)
        if "temperature" in m and m["temperature"] is not None:
            t = float(m["temperature"])
            if not np.isfinite(t) or t <= 0:
                raise SpectrumError(f"{where}temperature must be > 0 K, got {t}")
        f.setflags(write=False)
        zz.setflags(write=False)
        object.__setattr__(self, "frequency", f)
        object.__setattr__(self, "z", zz)
        object.__setattr__(self, "meta", _freeze(m))

    def __reduce__(self) -> tuple:
        # pickles (process pools, Dask) carry the arrays and a plain dict of metadata
        return (_rebuild, (self.frequency.copy(), self.z.copy(), dict(self.meta)))

    # ------------------------------------------------------------------ basic views
    def __len__(self) -> int:
        return int(self.frequency.size)

    @property
    def temperature(self) -> float | None:
        """Temperature in K, or None when unknown."""
        t = self.meta.get("temperature")
        return None if t is None else float(t)

    @property
    def source(self) -> str | None:
        """The file the spectrum came from, if any."""
        s = self.meta.get("source")
        return None if s is None else str(s)

    @property
    def omega(self) -> np.ndarray:
        """Angular frequency 2πf in rad/s."""
        return 2 * np.pi * self.frequency

    @functools.cached_property
    def frequency_range(self) -> tuple[float, float]:
        """(lowest, highest) frequency in Hz (computed once: the frequencies are read-only)."""
        return float(self.frequency.min()), float(self.frequency.max())

    def with_meta(self, **changes: Any) -> Spectrum:
        """Return a copy with metadata keys added or replaced."""
        m = dict(self.meta)
        m.update(changes)
        return Spectrum(self.frequency, self.z, m, min_points=1)

    def sorted(self, descending: bool = True) -> Spectrum:
        """Return a copy ordered by frequency (high to low by default)."""
        order = np.argsort(self.frequency)
        if descending:
            order = order[::-1]
        return Spectrum(
            self.frequency[order], self.z[order], _per_point(self.meta, order), min_points=1
        )

    def crop(self, fmin: float | None = None, fmax: float | None = None) -> Spectrum:
        """Keep points with ``fmin <= f <= fmax`` (Hz)."""
        keep = np.ones(len(self), bool)
        if fmin is not None:
            keep &= self.frequency >= fmin
        if fmax is not None:
            keep &= self.frequency <= fmax
        return self.mask(keep)

    def mask(self, keep: Any) -> Spectrum:
        """Keep the points where the boolean array ``keep`` is True."""
        keep = np.asarray(keep, bool)
        if keep.shape != self.frequency.shape:
            raise SpectrumError(f"mask must have {len(self)} entries, got {keep.size}")
        return Spectrum(self.frequency[keep], self.z[keep], _per_point(self.meta, keep))

    @property
    def sigma(self) -> tuple[np.ndarray, np.ndarray] | None:
        """Standard deviations (σ', σ'') of the real and imaginary parts of each point (Ohm),
        as :meth:`with_sigma` gave them; None when the spectrum carries none."""
        if SIGMA_KEYS[0] not in self.meta:
            return None
        re, im = (np.array(self.meta[k], float) for k in SIGMA_KEYS)
        return re, im

    def with_sigma(self, real: Any, imag: Any = None) -> Spectrum:
        """Return a copy carrying per-point standard deviations, for ``weighting="sigma"``.

        Parameters
        ----------
        real
            σ of Re Z at each point (Ohm): an array of one value per point, or one number for
            every point.
        imag
            σ of Im Z (Ohm), likewise; None (default) takes ``real`` (one σ for both parts,
            as an instrument's ``dZ`` column gives it).

        Raises
        ------
        SpectrumError
            A σ of another length than the spectrum, or one that is not finite and > 0.

        Examples
        --------
        >>> import numpy as np
        >>> f = np.logspace(5, 0, 11)
        >>> s = Spectrum(f, 100 - 10j + 0 * f).with_sigma(0.5)
        >>> float(s.sigma[1][3])
        0.5
        """
        where = f"{self.source}: " if self.source else ""
        pair = []
        for name, v in (("real", real), ("imag", real if imag is None else imag)):
            try:
                a = np.array(v, dtype=np.float64)
            except (TypeError, ValueError) as exc:
                raise SpectrumError(f"{where}sigma {name} must be numeric ({exc})") from None
            if a.ndim == 0:
                a = np.full(len(self), float(a))
            if a.shape != (len(self),):
                raise SpectrumError(
                    f"{where}sigma {name} must have one value per point ({len(self)}), got "
                    f"shape {a.shape}"
                )
            bad = ~(np.isfinite(a) & (a > 0))
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise SpectrumError(
                    f"{where}sigma {name}[{i}] is {a[i]}: expected a finite number > 0 Ohm"
                )
            pair.append(tuple(a.tolist()))
        return self.with_meta(**dict(zip(SIGMA_KEYS, pair, strict=True)))

    def without_inductive(self) -> Spectrum:
        """Drop points with Im(Z) > 0 at the high-frequency end (cable inductance)."""
        s = self.sorted()
        im = s.z.imag
        n = 0
        while n < len(s) and im[n] > 0:
            n += 1
        return s.mask(np.arange(len(s)) >= n)

    def to_frame(self) -> Any:
        """A :class:`pandas.DataFrame`, one row per point in the spectrum's order.

        Columns: ``frequency_Hz``, ``z_real_ohm``, ``z_imag_ohm`` (Im Z, negative for
        capacitive points), ``z_abs_ohm`` and ``phase_deg``.
        """
        import pandas as pd

        return pd.DataFrame(
            {
                "frequency_Hz": self.frequency,
                "z_real_ohm": self.z.real,
                "z_imag_ohm": self.z.imag,
                "z_abs_ohm": np.abs(self.z),
                "phase_deg": np.degrees(np.angle(self.z)),
            }
        )

    def _repr_html_(self) -> str:
        """Jupyter display: metadata table, a small Nyquist plot and a ``<pre>`` fallback."""
        import html

        try:
            return shown("spectrum_html")(self)
        except Exception:  # a display hook must never raise
            return f"<pre>{html.escape(repr(self))}</pre>"

    def __repr__(self) -> str:
        lo, hi = self.frequency_range
        t = self.temperature
        parts = [f"{len(self)} points", f"{lo:.3g}-{hi:.3g} Hz"]
        if t is not None:
            parts.append(f"T={t:.2f} K")
        if self.source:
            parts.append(f"source={self.source!r}")
        return f"Spectrum({', '.join(parts)})"


def _per_point(meta: Mapping[str, Any], index: np.ndarray) -> dict[str, Any]:
    """``meta`` with its per-point values (:data:`SIGMA_KEYS`) taken at ``index``."""
    m = dict(meta)
    for k in SIGMA_KEYS:
        if k in m:
            m[k] = tuple(np.asarray(m[k], float)[index].tolist())
    return m


def _rebuild(frequency: np.ndarray, z: np.ndarray, meta: dict[str, Any]) -> Spectrum:
    return Spectrum(frequency, z, meta, min_points=1)
