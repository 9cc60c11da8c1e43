"""A short human summary of an impedance file (what ``eisfit read PATH`` prints)."""

from __future__ import annotations

from pathlib import Path

from eisfit.io.spectrum import Spectrum

__all__ = ["describe"]

_META_ORDER = (
    "technique",
    "instrument",
    "software",
    "start_time",
    "temperature",
    "area_cm2",
    "amplitude",
)


def _fmt_meta(key: str, value: object, s: Spectrum) -> str:
    if key == "temperature" and isinstance(value, (int, float)):
        return f"{value:.2f} K ({value - 273.15:.1f} °C)"
    if key == "amplitude" and isinstance(value, (int, float)):
        return f"{value:g} {s.meta.get('amplitude_unit', '')}".strip()
    if key == "area_cm2" and isinstance(value, (int, float)):
        return f"{value:g} cm²"
    return str(value)


def describe(path: str | Path, format: str | None = None) -> str:
    """Summarise a file: format, number of spectra, points, frequency range, metadata.

    Parameters
    ----------
    path
        The file.
    format
        Format name to skip detection.

    Returns
    -------
    str
        A few lines of text (no trailing newline).

    Raises
    ------
    ReaderError
        If the file cannot be read.

    Examples
    --------
    >>> print(describe("pellet_25C.mpt"))          # doctest: +SKIP
    pellet_25C.mpt
      format: biologic-mpt, 1 spectrum
      spectrum 0: 61 points, 1 Hz - 1 MHz, |Z| 12.3 - 4.56e+03 Ohm
      technique: Potentio Electrochemical Impedance Spectroscopy
    """
    from eisfit.io import read_all

    spectra = read_all(path, format)
    s0 = spectra[0]
    n = len(spectra)
    lines = [str(Path(path).name)]
    lines.append(f"  format: {s0.meta.get('format', '?')}, {n} spectr" + ("um" if n == 1 else "a"))
    shown = spectra if n <= 6 else spectra[:3] + spectra[-2:]
    for k, s in enumerate(shown):
        if n > 6 and k == 3:
            lines.append(f"  ... {n - 5} more ...")
        lo, hi = s.frequency_range
        mod = abs(s.z)
        extra = []
        for key in ("cycle", "loop"):
            if key in s.meta:
                extra.append(f"{key} {s.meta[key]}")
        tail = f" ({', '.join(extra)})" if extra else ""
        lines.append(
            f"  spectrum {s.meta.get('spectrum_index', k)}: {len(s)} points, "
            f"{lo:.4g} Hz - {hi:.4g} Hz, |Z| {mod.min():.4g} - {mod.max():.4g} Ohm{tail}"
        )
    for key in _META_ORDER:
        if key in s0.meta and s0.meta[key] not in (None, ""):
            lines.append(f"  {key}: {_fmt_meta(key, s0.meta[key], s0)}")
    for a in s0.meta.get("assumptions", []) or []:
        lines.append(f"  assumed: {a}")
    for note in s0.meta.get("notes", []) or []:
        lines.append(f"  note: {note}")
    return "\n".join(lines)
