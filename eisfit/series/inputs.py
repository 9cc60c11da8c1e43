"""The inputs of a temperature series: which spectra, and at which temperature each was measured.

>>> from eisfit.series.inputs import temperature_from_name
>>> temperature_from_name("LATP_-10C.csv")
263.15

This module owns what :func:`eisfit.series.temperature.fit_series` reads before any fitting: the
files named
and the files inside named folders (:func:`expand_paths`), each file's spectra with their labels
(``name[i]`` for a file holding several), and each spectrum's temperature in K from its file name
(:func:`temperature_from_name`: ``LATP_-10C.csv``, ``pellet_25degC.mpt``,
``pellet-140deg.txt``, ``LRC_0_  -72°C.txt``, ``cell_298K``, ``run_T=25`` and ``T25`` meaning
25 °C; ``_C01``, ``Li6PS5Cl`` and ``cycle_1C_rate`` hold none), from its metadata, from a CSV
table (:func:`read_temperature_table`: a ``file`` column and ``temperature_C`` or
``temperature_K``), or from a list in K. Implausible
temperatures (a value in °C given as K) are refused with :class:`SeriesError`, before any fit
when the series is streamed; files that do not read become failures of the series, and spectra
at the same temperature a warning.
"""

from __future__ import annotations

import csv
import dataclasses
import itertools
import math
import pickle
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from eisfit.exceptions import EisfitError
from eisfit.io.spectrum import Spectrum
from eisfit.units import MIN_TEMPERATURE_K, ZERO_CELSIUS_K

__all__ = [
    "temperature_from_name",
    "series_temperature_from_name",
    "read_temperature_table",
    "read_value_table",
    "expand_paths",
    "SeriesError",
    "Variable",
    "TEMPERATURE",
]


class SeriesError(EisfitError, ValueError):
    """A temperature series cannot be set up (missing or implausible temperatures, bad table)."""


# --------------------------------------------------------------------------- temperatures
# A number: digits with an optional decimal point, or "p" for it ("25p5C" is 25.5 °C).
_NUMBER = re.compile(r"\d+(?:[.p]\d+)?")
# A unit right after a number, after an underscore ("25_C"), or after a space when it is °C,
# deg or K ("140 °C"; "sample 3 C" is not 3 °C): °C (also typed as º, or ℃), deg, degC,
# deg.C, C, K; never followed by a letter or digit ("_C01", "5Cl", "3C4" are not temperatures).
_UNIT = re.compile(
    r"(?:_|\s(?=[°º\u2103DdK]))?"
    r"(?P<unit>[°º]\s?C|\u2103|(?i:deg)(?:\.?\s?C)?|C|K)(?![A-Za-z0-9])"
)
# "rate" beside a bare "1C" makes it a C-rate ("cycle_1C_rate", "rate_2C", "0.5C-rate")
_RATE_AFTER = re.compile(r"[-_ ]?(?i:c-?rate|rate)(?![A-Za-z])")
_RATE_BEFORE = re.compile(r"(?:^|[^A-Za-z])(?i:(?:c-?)?rate)[-_ ]?$")
_T_EQUALS_BEFORE = re.compile(r"(?:^|[^A-Za-z0-9])[Tt]\s*=\s*$")


def _number(text: str) -> float:
    return float(text.replace("p", "."))


def _is_separator(stem: str, i: int) -> bool:
    """Whether position ``i`` of ``stem`` is before the start or holds neither a letter, a digit
    nor a decimal point."""
    return i < 0 or not (stem[i].isalnum() or stem[i] == ".")


def _temperatures_in(stem: str) -> list[float]:
    """Every temperature (K) written in ``stem``, in order; see :func:`temperature_from_name`."""
    found: list[float] = []
    for m in _NUMBER.finditer(stem):
        i, j = m.span()
        prev = stem[i - 1] if i > 0 else ""
        word_t = prev in "Tt" and prev != "" and _is_separator(stem, i - 2)  # "T25", "_T25C"
        if (prev.isalnum() and not word_t) or prev == ".":
            continue  # part of a word, formula or date: "Li6PS5Cl", "CHD048", "17.07.2015"
        negative = prev == "\u2212" or (prev == "-" and (i < 2 or not stem[i - 2].isalnum()))
        start = i - 1 if negative else i
        value = _number(m.group())
        unit = _UNIT.match(stem, j)
        if unit is not None:
            u = unit.group("unit")
            if u == "C" and (
                _RATE_AFTER.match(stem, unit.end()) or _RATE_BEFORE.search(stem[:start])
            ):
                continue  # a C-rate
            value = -value if negative else value
            found.append(value if u == "K" else value + ZERO_CELSIUS_K)
            continue
        follows = stem[j : j + 1]
        if follows.isalnum():
            continue
        if _T_EQUALS_BEFORE.search(stem[:start]):  # "T=25", "T = -5"
            found.append((-value if negative else value) + ZERO_CELSIUS_K)
        elif word_t and prev == "T" and not re.fullmatch(r"\d", m.group()):
            found.append(value + ZERO_CELSIUS_K)  # "T25"; "T1", "T2" number trials
    return found


def temperature_from_name(name: str) -> float | None:
    """The temperature written in a file name, in K, or None when there is none.

    Parameters
    ----------
    name
        A file name or path; only the final component without its extension is searched.

    Returns
    -------
    float or None
        Temperature in K. A number followed by ``C``, ``°C`` (or ``º``, ``℃``), ``deg``,
        ``degC`` or ``deg.C`` is in °C, one followed by ``K`` in K; an underscore may come
        between them (``25_C``), and ``p`` may stand for the decimal point
        (``25p5C``); a space may come before ``°C``, ``deg`` or ``K`` only (``sample 3 C``
        is not 3 °C). ``T=25`` and ``T25`` (a word starting with ``T`` and a number of two digits
        or more) are °C.

        The number must start a word: after the start of the name or a character that is
        neither a letter, a digit nor a ``.`` (``Li6PS5Cl``, ``CHD048``, ``17.07.2015`` hold no
        temperature), or after a ``T`` that starts a word (``T25C``). The unit must end the word:
        ``_C01``, ``3C4`` and ``5Cl`` are not temperatures.

        A minus (``-``) is a sign when it starts the name or follows a character that is neither
        a letter nor a digit (``_-10C``, ``LRC_0_  -72°C``, ``-25C``); after a letter or digit it
        is a separator (``pellet-140deg`` is 140 °C, ``2015-25C`` is 25 °C). ``−`` (U+2212) is
        always a sign.

        Not read as temperatures: ``T1`` to ``T9`` (trial or time-point numbers), a bare ``C``
        beside the word ``rate`` (``cycle_1C_rate``, ``rate_2C``, ``0.5C-rate`` are C-rates),
        ``25c`` (lower case), ``25°`` (no unit), and ``100k`` (kilo).

    Raises
    ------
    SeriesError
        When the name holds two different temperatures (``PDAC_2065C_500C``).

    Examples
    --------
    >>> temperature_from_name("LATP_-10C.csv")
    263.15
    >>> temperature_from_name("pellet_298K.mpt")
    298.0
    >>> temperature_from_name("pellet-140deg.txt")
    413.15
    >>> temperature_from_name("Li6PS5Cl_run3_C01.csv") is None
    True
    """
    stem = Path(str(name)).name
    stem = re.sub(r"\.[A-Za-z][A-Za-z0-9]*$", "", stem)
    distinct = sorted(set(round(t, 6) for t in _temperatures_in(stem)))
    if len(distinct) > 1:
        shown = ", ".join(f"{t:g} K" for t in distinct)
        raise SeriesError(
            f"{Path(str(name)).name}: the name holds several temperatures ({shown}); "
            "give them in a table (--temperatures TABLE.csv)"
        )
    return distinct[0] if distinct else None


def series_temperature_from_name(name: str, label: str | None = None) -> float | None:
    """The temperature a series takes from a file name (``temperatures='filename'``, the
    default of :func:`eisfit.series.temperature.fit_series` and ``eisfit batch``), in K.

    Parameters
    ----------
    name
        The file name or path.
    label
        What error messages call the spectrum (default: the file name).

    Returns
    -------
    float or None
        :func:`temperature_from_name`, in K; None when the name holds no temperature.

    Raises
    ------
    SeriesError
        The name holds several temperatures, or one at or below 0 K or below the plausible
        minimum (a value in °C written as K).
    """
    t = temperature_from_name(name)
    if t is None:
        return None
    return _check_kelvin(t, label or Path(str(name)).name, "from the file name")


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
    return read_value_table(path, TEMPERATURE)


def read_value_table(path: str | Path, variable: Variable) -> dict[str, float]:
    """Read a CSV table of the values of ``variable`` (:func:`read_temperature_table` for
    temperatures).

    Parameters
    ----------
    path
        CSV file with a ``file`` column (a file name or path) and a column named after the
        variable with its unit (one of ``variable.columns``, e.g. ``pressure_MPa``). A decimal
        comma is accepted in a ``;``-separated table.
    variable
        The quantity (:data:`TEMPERATURE`, or one of
        :data:`eisfit.series.variable_names.VARIABLES`).

    Returns
    -------
    dict
        File entry as written -> value in ``variable.unit``.

    Raises
    ------
    SeriesError
        Missing columns, a row without a number, or a file listed twice with different values.
    """
    p = Path(path)
    what = f"the {variable.name} table"
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        text = p.read_text(encoding="latin-1")
    except OSError as exc:
        reason = exc.strerror or exc
        raise SeriesError(f"{p}: cannot read {what} ({reason})") from None
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        raise SeriesError(f"{p}: {what} is empty")
    delimiter = ";" if lines[0].count(";") > lines[0].count(",") else ","
    reader = csv.DictReader(lines, delimiter=delimiter)
    fields = {(f or "").strip().lower(): f for f in reader.fieldnames or []}
    if "file" not in fields:
        raise SeriesError(f"{p}: {what} needs a 'file' column")
    found = [c for c in variable.columns if c.lower() in fields]
    if not found:
        names = " or ".join(f"'{c}'" for c in variable.columns)
        raise SeriesError(f"{p}: {what} needs a {names} column")
    col = fields[found[0].lower()]
    scale, offset = variable.columns[found[0]]
    out: dict[str, float] = {}
    for lineno, row in enumerate(reader, start=2):
        name = (row.get(fields["file"]) or "").strip()
        raw = (row.get(col) or "").strip()
        if not name:
            continue
        try:
            value = float(raw.replace(",", ".") if delimiter == ";" else raw) * scale + offset
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


def _temperature_from_meta(spectrum: Spectrum) -> float | None:
    return spectrum.temperature


@dataclasses.dataclass(frozen=True)
class Variable:
    """A quantity a series is measured against, and how each spectrum's value is read.

    Attributes
    ----------
    name : str
        What the value is (``"temperature"``, ``"pressure"``, ``"thickness"``...).
    unit : str
        Unit of the values (``"K"``, ``"MPa"``, ``"mm"``, ``"s"``...; ``""`` for a count).
    from_name : callable
        ``from_name(file_name) -> value or None``; raises :class:`SeriesError` when a name holds
        several different values.
    from_meta : callable
        ``from_meta(spectrum) -> value or None`` from :attr:`Spectrum.meta`.
    columns : dict
        Table column (as written in the header, matched case-blind) -> (scale, offset) taking
        its numbers to ``unit``; the first present is read.
    check : callable
        ``check(value, label, how) -> value``: refuses an implausible value with a
        :class:`SeriesError` naming the spectrum.
    name_hint : str
        How to write the value in a file name, for error messages.
    plural : str
        The name in the plural, for error messages.
    option : str
        The argument that names where the values come from (``temperatures``, ``values``).
    """

    name: str
    unit: str
    from_name: Callable[[str], float | None]
    from_meta: Callable[[Spectrum], float | None]
    columns: dict[str, tuple[float, float]]
    check: Callable[[float, str, str], float]
    name_hint: str
    plural: str
    option: str = "values"


#: Temperatures (K): the variable of an Arrhenius series.
TEMPERATURE = Variable(
    name="temperature",
    unit="K",
    from_name=temperature_from_name,
    from_meta=_temperature_from_meta,
    columns={"temperature_C": (1.0, ZERO_CELSIUS_K), "temperature_K": (1.0, 0.0)},
    check=_check_kelvin,
    name_hint="25C, 25degC or 298K",
    plural="temperatures",
    option="temperatures",
)


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
        if not skip:  # nothing to leave out: no path resolved (thousands of files)
            return False
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


def _read_file(item: str | Path, failures: list[dict[str, str]]) -> list[tuple[str, Spectrum]]:
    """The spectra of one file with their labels; a file that does not read goes to
    ``failures`` (``{"source", "error"}``) and gives none."""
    from eisfit.io import read_all

    try:
        spectra = read_all(item)
    except Exception as exc:  # a bad file goes to failures; the rest go on
        from eisfit.fitting.failures import one_line

        failures.append({"source": Path(item).name or str(item), "error": one_line(exc)})
        return []
    return [(_label(str(item), i, len(spectra)), s) for i, s in enumerate(spectra)]


def _read_items(
    items: Sequence[Any], failures: list[dict[str, str]]
) -> Iterator[tuple[int, str, Spectrum]]:
    """Read the inputs one at a time: (item index, label, spectrum) for each spectrum; a file
    that does not read goes to ``failures`` (``{"source", "error"}``)."""
    for k, item in enumerate(items):
        if isinstance(item, Spectrum):
            yield k, _spectrum_label(k, item), item
            continue
        _check_item_type(k, item)
        for lab, s in _read_file(item, failures):
            yield k, lab, s


@dataclasses.dataclass(frozen=True)
class _TemperatureSource:
    """Where a series' values of ``variable`` (temperatures by default) come from: ``mode`` is
    ``"filename"``, ``"metadata"``, ``"table"`` (``table``: entry -> value) or ``"list"``
    (``values``: one per input), each value in ``variable.unit``."""

    mode: str
    table: dict[str, float] | None = None
    values: list[float] | None = None
    variable: Variable = TEMPERATURE

    @classmethod
    def parse(
        cls, temperatures: Any, n_items: int, variable: Variable = TEMPERATURE
    ) -> _TemperatureSource:
        v = variable
        if isinstance(temperatures, str) and temperatures in ("filename", "metadata"):
            return cls(temperatures, variable=v)
        if isinstance(temperatures, str | Path):
            p = Path(temperatures)
            if not p.is_file():
                raise SeriesError(
                    f"{v.option} {str(temperatures)!r}: expected 'filename', 'metadata', a "
                    f"CSV table or a list of {v.plural} in {v.unit or 'numbers'}"
                )
            return cls("table", table=read_value_table(p, v), variable=v)
        try:
            values = [float(t) for t in temperatures]
        except (TypeError, ValueError):
            raise SeriesError(
                f"{v.option} must be 'filename', 'metadata', a CSV table or a list of numbers"
                + (f" in {v.unit}" if v.unit else "")
            ) from None
        if len(values) != n_items:
            raise SeriesError(
                f"{len(values)} {v.plural} given for {n_items} inputs: give one per input"
            )
        return cls("list", values=values, variable=v)

    def of(self, k: int, lab: str, source: str, spectrum: Spectrum | None) -> float:
        """Value (temperature in K) of spectrum ``lab`` of input ``k`` read from file ``source``.

        ``spectrum`` is needed for ``"metadata"`` only.

        Raises
        ------
        SeriesError
            No value, or an implausible one, for this spectrum.
        """
        v = self.variable
        if self.mode == "list":
            return v.check((self.values or [])[k], lab, "from the list")
        if self.mode == "filename":
            t = v.from_name(source)
            if t is None:
                raise SeriesError(
                    f"{lab}: no {v.name} in the file name (write it as {v.name_hint}), or use "
                    f"{v.option}='metadata' or a table"
                )
            how = "from the file name"
        elif self.mode == "metadata":
            t = v.from_meta(spectrum) if spectrum is not None else None
            if t is None:
                raise SeriesError(
                    f"{lab}: the file records no {v.name}; take it from the file name "
                    "or a table"
                )
            how = "from the file's metadata"
        else:
            t = _lookup(self.table or {}, source)
            if t is None:
                raise SeriesError(f"{lab}: not listed in the {v.name} table")
            how = "from the table"
        return v.check(t, lab, how)

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
    from eisfit.io import read_all

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


@dataclasses.dataclass(frozen=True)
class FileRead:
    """What reading one input file of a streamed series gave, where it was read
    (:class:`FileReader`).

    Attributes
    ----------
    values : list of (str, float)
        The label and value of each spectrum of the file, in order.
    fitted : list of (str, float)
        The label and value of each spectrum sent to be fitted (those prepared).
    failures : list of dict
        ``{"source", "error"}``: the file, when it does not read, or each spectrum that could
        not be prepared (outside the fixture's or σ table's range), in order.
    error : SeriesError or None
        A spectrum without a value, or with an implausible one: the series' error.
    """

    values: list[tuple[str, float]]
    fitted: list[tuple[str, float]]
    failures: list[dict[str, str]]
    error: SeriesError | None = None


@dataclasses.dataclass(frozen=True)
class FileReader:
    """Reads input file ``k`` of a streamed series where it is fitted (a worker process of
    :func:`eisfit.fitting.batch.read_and_fit`): its spectra labelled, their values resolved,
    each prepared for fitting.

    Attributes
    ----------
    source : _TemperatureSource
        Where the values come from.
    prepare : callable
        ``prepare(spectrum, label, value) -> spectrum`` to fit (picklable); an
        :class:`~eisfit.exceptions.EisfitError` makes that spectrum a failure.
    """

    source: _TemperatureSource
    prepare: Callable[[Spectrum, str, float], Spectrum]

    def __call__(self, job: tuple[int, str]) -> tuple[FileRead, list[Spectrum]]:
        """Read input ``job = (k, path)``: what it gave, and its spectra to fit."""
        k, path = job
        failures: list[dict[str, str]] = []
        values: list[tuple[str, float]] = []
        fitted: list[tuple[str, float]] = []
        spectra: list[Spectrum] = []
        for lab, s in _read_file(path, failures):
            try:
                t = self.source.of_spectrum(k, lab, s)
            except SeriesError as exc:
                return FileRead(values, [], failures, exc), []
            values.append((lab, t))
            try:
                spectra.append(self.prepare(s, lab, t))
            except EisfitError as exc:  # outside the fixture's or σ table's range: fails
                failures.append({"source": lab, "error": str(exc)})
                continue
            fitted.append((lab, t))
        return FileRead(values, fitted, failures), spectra


class _Inputs:
    """The spectra of a series with their labels and temperatures, read up front (in memory)
    or one at a time as fitting consumes them (streamed).

    ``records`` yields (label, temperature in K, spectrum) in input order (the value of
    ``variable`` in its unit for a series against another variable); ``failures`` (files
    that do not read) and ``warnings`` (duplicate values) fill as it is consumed;
    ``count`` is the number of spectra when known.
    """

    def __init__(
        self, items: Sequence[Any], temperatures: Any, stream: bool,
        variable: Variable = TEMPERATURE,
    ) -> None:
        self.failures: list[dict[str, str]] = []
        self.variable = variable
        self.warnings: list[str] = []
        self._seen: dict[float, str] = {}
        self.count: int | None
        for k, item in enumerate(items):
            _check_item_type(k, item)
        source = _TemperatureSource.parse(temperatures, len(items), variable)
        self._items = items
        self._source = source
        self._stream_mode = bool(stream)
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
            v = self.variable
            value = f"{t:.2f} K" if v is TEMPERATURE else f"{t:g} {v.unit}".strip()
            self.warnings.append(f"{lab} and {self._seen[key]} have the same {v.name} "
                                 f"({value})")
        else:
            self._seen[key] = lab

    def _stream(
        self, items: Sequence[Any], source: _TemperatureSource
    ) -> Iterator[tuple[str, float, Spectrum]]:
        for k, lab, s in _read_items(items, self.failures):
            t = source.of_spectrum(k, lab, s)
            self._note(lab, t)
            yield lab, t, s

    def reader(
        self, prepare: Callable[[Spectrum, str, float], Spectrum]
    ) -> FileReader | None:
        """A :class:`FileReader` for the worker processes to read this series' files, when
        it is streamed, every input is a file and the reader can be sent to another process
        (a variable whose functions are module-level ones); else None."""
        if not self._stream_mode or not all(isinstance(i, str | Path) for i in self._items):
            return None
        reader = FileReader(self._source, prepare)
        try:
            pickle.dumps(reader)
        except Exception:  # local functions, an unpicklable fixture: read here instead
            return None
        return reader

    def jobs(self) -> Iterator[tuple[int, str]]:
        """What :meth:`reader` reads: (input index, path) of each file."""
        return ((k, str(item)) for k, item in enumerate(self._items))

    def take(self, read: FileRead) -> list[tuple[str, float]]:
        """Account for a file read elsewhere (:class:`FileReader`), in input order: its
        failures and repeated values noted; the label and value of each spectrum it sent to
        be fitted.

        Raises
        ------
        SeriesError
            The file's spectra lack a value or have an implausible one.
        """
        if read.error is not None:
            raise read.error
        self.failures.extend(read.failures)
        for lab, t in read.values:
            self._note(lab, t)
        return read.fitted

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
