"""The inputs of a temperature series: which spectra, and at which temperature each was measured.

>>> from eisfit.series_inputs import temperature_from_name
>>> temperature_from_name("LATP_-10C.csv")
263.15

This module owns what :func:`eisfit.series.fit_series` reads before any fitting: the files named
and the files inside named folders (:func:`expand_paths`), each file's spectra with their labels
(``name[i]`` for a file holding several), and each spectrum's temperature in K from its file name
(:func:`temperature_from_name`: ``LATP_-10C.csv``, ``pellet_25degC.mpt``, ``cell_298K``,
``run_T=25`` meaning 25 °C), from its metadata, from a CSV table (:func:`read_temperature_table`:
a ``file`` column and ``temperature_C`` or ``temperature_K``), or from a list in K. Implausible
temperatures (a value in °C given as K) are refused with :class:`SeriesError`, before any fit
when the series is streamed; files that do not read become failures of the series, and spectra
at the same temperature a warning.
"""

from __future__ import annotations

import csv
import dataclasses
import itertools
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from .arrhenius import MIN_TEMPERATURE_K
from .batch import one_line
from .exceptions import EisfitError
from .spectrum import Spectrum
from .units import ZERO_CELSIUS_K

__all__ = [
    "temperature_from_name",
    "read_temperature_table",
    "expand_paths",
    "SeriesError",
]


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


# --------------------------------------------------------------------------- spectra
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
        for k, item in enumerate(items):
            _check_item_type(k, item)
        source = _TemperatureSource.parse(temperatures, len(items))
        if stream:
            self.count = _check_temperatures_ahead(items, source)
            self.records = self._stream(items, source)
        else:  # every spectrum read, and its temperature resolved, before any fitting
            records = list(self._stream(items, source))
            self.count = len(records)
            self.records = iter(records)

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
