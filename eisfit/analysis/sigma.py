"""Per-point standard deviations of a spectrum from a table (``--sigma FILE``).

A CSV (or tab- or semicolon-separated) table with a header row: a frequency column (Hz; named
``frequency``, ``freq``, ``f``, ``frequency_hz`` or ``freq/hz``) and either ``sigma_re`` and
``sigma_im`` (Ohm, the σ of Re Z and Im Z) or one column ``sigma`` or ``dZ`` (Ohm, one σ for
both parts). Each point of a spectrum takes the row of its frequency (equal to 1 part in 10⁶),
so one table serves every spectrum measured on its grid; a spectrum with a frequency the table
lacks is refused. The spectrum then carries the σ (:meth:`eisfit.Spectrum.with_sigma`) for
``weighting="sigma"``.

Examples
--------
>>> import numpy as np, eisfit
>>> t = SigmaTable(np.array([1e3, 1e2, 10.0]), np.array([0.5, 0.2, 0.1]), np.ones(3))
>>> s = t.apply(eisfit.Spectrum([10.0, 1e2, 1e3], [11 - 1j, 10 - 1j, 9 - 2j]))
>>> s.sigma[0].tolist()
[0.1, 0.2, 0.5]
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from eisfit.exceptions import EisfitError
from eisfit.io.spectrum import Spectrum

__all__ = ["SigmaError", "SigmaTable", "read_sigma"]

#: Relative difference within which a spectrum's frequency matches a row of the table.
MATCH_RTOL = 1e-6

_FREQUENCY = ("frequency", "freq", "f", "frequency_hz", "freq/hz", "frequency/hz")
_ONE = ("sigma", "dz", "sigma_z")


class SigmaError(EisfitError, ValueError):
    """A σ table that cannot be read or does not cover a spectrum."""


@dataclass(frozen=True)
class SigmaTable:
    """σ of Re Z and Im Z (Ohm) at each frequency (Hz) of a table.

    Attributes
    ----------
    frequency
        Frequencies (Hz), shape (M,).
    sigma_re, sigma_im
        Standard deviations of Re Z and Im Z (Ohm), shape (M,).
    source
        The file read, named in errors.
    """

    frequency: np.ndarray
    sigma_re: np.ndarray
    sigma_im: np.ndarray
    source: str = "sigma table"

    def apply(self, spectrum: Spectrum) -> Spectrum:
        """``spectrum`` carrying the σ of the row of each of its frequencies.

        Raises
        ------
        SigmaError
            A frequency of the spectrum that no row of the table has.
        """
        f = spectrum.frequency
        order = np.argsort(self.frequency)
        ft = self.frequency[order]
        i = np.clip(np.searchsorted(ft, f), 1, ft.size - 1) if ft.size > 1 else np.zeros(
            f.size, int
        )
        if ft.size > 1:  # the nearer of the two neighbours
            i = np.where(np.abs(ft[i - 1] - f) < np.abs(ft[i] - f), i - 1, i)
        miss = np.abs(ft[i] - f) > MATCH_RTOL * f
        if miss.any():
            k = int(np.flatnonzero(miss)[0])
            raise SigmaError(
                f"{self.source}: no row for {f[k]:.6g} Hz of "
                f"{spectrum.source or 'the spectrum'} (expected a sigma row at every frequency "
                "of the spectrum)"
            )
        rows = order[i]
        return spectrum.with_sigma(self.sigma_re[rows], self.sigma_im[rows])


def read_sigma(path: str | Path) -> SigmaTable:
    """Read a σ table (see the module's description).

    Parameters
    ----------
    path
        The table: a header row, then one row per frequency.

    Returns
    -------
    SigmaTable

    Raises
    ------
    SigmaError
        The file cannot be read, lacks the columns, or holds a value that is not a finite
        number (σ must be > 0).
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise SigmaError(f"{p}: cannot read the sigma table ({exc})") from None
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if len(lines) < 2:
        raise SigmaError(f"{p}: expected a header row and one row per frequency")
    delim = next((d for d in ("\t", ";", ",") if d in lines[0]), None)
    rows = list(csv.reader(lines, delimiter=delim or " ", skipinitialspace=True))
    header = [h.strip().lower() for h in rows[0]]
    f_col = _column(header, _FREQUENCY, p, "a frequency column (frequency, Hz)")
    if "sigma_re" in header and "sigma_im" in header:
        cols = (header.index("sigma_re"), header.index("sigma_im"))
    else:
        one = _column(header, _ONE, p, "sigma_re and sigma_im, or sigma or dZ (Ohm)")
        cols = (one, one)
    data = np.empty((len(rows) - 1, 3))
    for n, row in enumerate(rows[1:], start=2):
        for j, c in enumerate((f_col, *cols)):
            try:
                data[n - 2, j] = float(row[c])
            except (IndexError, ValueError):
                cell = row[c] if c < len(row) else ""
                raise SigmaError(
                    f"{p}: row {n}, column {header[c]!r} is {cell!r}: expected a number"
                ) from None
    f, s_re, s_im = data.T
    bad = ~(np.isfinite(data).all(axis=1) & (f > 0) & (s_re > 0) & (s_im > 0))
    if bad.any():
        n = int(np.flatnonzero(bad)[0]) + 2
        raise SigmaError(f"{p}: row {n}: expected a frequency > 0 Hz and sigma > 0 Ohm")
    return SigmaTable(f, s_re, s_im, str(p))


def _column(header: list[str], names: tuple[str, ...], path: Path, what: str) -> int:
    for name in names:
        if name in header:
            return header.index(name)
    raise SigmaError(f"{path}: expected {what} in the header, got {', '.join(header)}")
