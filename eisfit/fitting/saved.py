"""Saved fits: a :class:`~eisfit.fitting.result.FitResult` written as JSON and read back exactly.

The saved object is the ``--json`` object of ``eisfit fit`` (:meth:`FitResult.to_dict`, every
key unchanged) with two keys more: ``format`` (:data:`FORMAT`) and ``saved``, which holds what
that object lacks to rebuild the result without fitting again: the spectrum (frequency and Z as
real/imaginary pairs, its metadata), the spectrum as given when points were dropped, the named
circuit's definition, parameter bounds, the covariance matrix, χ², the roles' and arcs' terms,
the search record and the versions of eisfit, numpy and scipy the fit was made with. Every float
is written by ``repr`` (the shortest text that reads back to the same double), so a loaded
result equals the original in every bit; NaN and infinities are written as the strings
``"nan"``, ``"inf"`` and ``"-inf"`` inside ``saved`` (``null`` in the ``--json`` keys).
The warnings read back as :class:`~eisfit.findings.Finding` objects from the ``findings`` key;
a file without it (written by an older eisfit) gives plain strings.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from eisfit.exceptions import EisfitError, FitError
from eisfit.findings import Finding
from eisfit.fitting.result import FitResult, ParameterRecord
from eisfit.fitting.save import (  # the writing half
    _VARIANTS,
    FORMAT,
    SavedResultError,
)
from eisfit.io.spectrum import Spectrum
from eisfit.model.circuit import Circuit
from eisfit.model.named import NamedCircuit


# --------------------------------------------------------------------------- reading
def load_result(path_or_text: str | Path) -> FitResult:
    """Read a fit saved by :meth:`FitResult.to_json` or ``eisfit fit --save``/``--json``.

    Parameters
    ----------
    path_or_text
        A file, or the JSON text itself (a string starting with ``{``).

    Returns
    -------
    FitResult
        The fit as it was saved, number for number (nothing is fitted again): its report,
        ``to_dict()``, conductivity and plots are the original's.

    Raises
    ------
    SavedResultError
        Not JSON, not a saved fit, a format this version cannot read, several fits in one
        file (see :func:`load_results`), or a damaged record; the message names the file.
    """
    results = load_results(path_or_text)
    if len(results) != 1:
        raise SavedResultError(
            f"{_where(path_or_text)}: holds {len(results)} fits; read them with "
            "eisfit.load_results"
        )
    return results[0]


def load_results(path_or_text: str | Path) -> list[FitResult]:
    """Every fit of a saved file: one object, a list of them (``eisfit fit --json`` of a file
    of several spectra) or ``{"spectra": [...]}``; see :func:`load_result`."""
    where = _where(path_or_text)
    doc = _document(path_or_text, where)
    if isinstance(doc, dict) and "spectra" in doc and "format" not in doc:
        doc = doc["spectra"]
    objs = doc if isinstance(doc, list) else [doc]
    if not objs:
        raise SavedResultError(f"{where}: holds no saved fit (an empty list)")
    out = []
    for k, obj in enumerate(objs):
        label = where if len(objs) == 1 else f"{where} [fit {k}]"
        out.append(_from_saved(obj, label))
    return out


def _is_text(path_or_text: str | Path) -> bool:
    return isinstance(path_or_text, str) and path_or_text.lstrip()[:1] in ("{", "[")


def _where(path_or_text: str | Path) -> str:
    return "saved fit (text)" if _is_text(path_or_text) else str(path_or_text)


def _document(path_or_text: str | Path, where: str) -> Any:
    if not isinstance(path_or_text, str | Path):
        from eisfit.exceptions import ArgumentError

        raise ArgumentError(
            f"load_result takes a path or JSON text, got {type(path_or_text).__name__}"
        )
    if _is_text(path_or_text):
        text = str(path_or_text)
    else:
        try:
            text = Path(path_or_text).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise SavedResultError(f"{where}: no such file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise SavedResultError(f"{where}: cannot be read ({exc})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SavedResultError(
            f"{where}: not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None


def _from_saved(obj: Any, where: str) -> FitResult:
    if not isinstance(obj, dict):
        raise SavedResultError(f"{where}: not a saved eisfit fit (a JSON object is expected)")
    fmt = obj.get("format")
    if fmt is None or "saved" not in obj:
        raise SavedResultError(
            f"{where}: not a saved eisfit fit (no 'format' and 'saved' keys); write one with "
            "'eisfit fit --save FILE' or FitResult.to_json"
        )
    if fmt != FORMAT:
        raise SavedResultError(
            f"{where}: format {fmt!r} cannot be read by this eisfit (it reads {FORMAT!r})"
        )
    try:
        return _rebuild(obj, obj["saved"])
    except SavedResultError:
        raise
    except KeyError as exc:
        raise SavedResultError(f"{where}: damaged saved fit: the key {exc} is missing") from None
    except (TypeError, ValueError, IndexError, AttributeError, EisfitError) as exc:
        text = " ".join(str(exc).split())
        raise SavedResultError(f"{where}: damaged saved fit: {text}") from None


def _float(v: Any) -> float:
    """A float of the saved object: a number, ``"nan"``/``"inf"``/``"-inf"``, or ``null``
    (NaN, as the ``--json`` keys write it)."""
    if v is None:
        return math.nan
    if isinstance(v, bool) or not isinstance(v, int | float | str):
        raise ValueError(f"expected a number, got {v!r}")
    if isinstance(v, str) and v not in ("nan", "inf", "-inf"):
        raise ValueError(f"expected a number, got {v!r}")
    return float(v)


def _array(v: Any) -> np.ndarray:
    return np.array(_floats(v), dtype=np.float64)


def _floats(v: Any) -> Any:
    return [_floats(x) for x in v] if isinstance(v, list) else _float(v)


def _meta_from(v: Any) -> Any:
    if isinstance(v, list):
        return [_meta_from(x) for x in v]
    if isinstance(v, dict):
        if set(v) == {"$float"}:
            return float(v["$float"])
        if set(v) == {"$tuple"}:
            return tuple(_meta_from(x) for x in v["$tuple"])
        return {k: _meta_from(x) for k, x in v.items()}
    return v


def _spectrum_from(rec: dict[str, Any]) -> Spectrum:
    f = _array(rec["frequency_Hz"])
    re, im = _array(rec["z_real_ohm"]), _array(rec["z_imag_ohm"])
    if not f.shape == re.shape == im.shape or f.ndim != 1:
        raise ValueError("the spectrum's frequency and Z columns differ in length")
    z = np.empty(f.size, dtype=np.complex128)
    z.real, z.imag = re, im  # exactly the saved parts (re + 1j*im may round a -0.0)
    return Spectrum(f, z, _meta_from(rec["meta"]), min_points=1)


def _named_from(rec: dict[str, Any] | None) -> NamedCircuit | None:
    if rec is None:
        return None
    from eisfit.model.named import named_circuits

    d = dict(rec["definition"])
    for key in ("bounds", "capacitance_F", "capacitance_unit"):
        d[key] = {k: tuple(_floats(v)) for k, v in d[key].items()}
    d["reference_cell"] = tuple(_floats(d["reference_cell"]))
    d["total"] = tuple(d["total"])
    d["fallbacks"] = tuple(d["fallbacks"])
    d["roles"] = dict(d["roles"])
    built = NamedCircuit(**d)
    known = named_circuits().get(built.name)
    variant = rec.get("variant")
    if known is not None and variant in _VARIANTS:
        shared = (known, *known._variants)[_VARIANTS.index(variant)]
        # the process's own object when its definition is the one fitted (shared, as
        # unpickling does); the saved definition when the shipped one has changed since
        if shared is not None and dataclasses.replace(built, path=shared.path) == shared:
            return shared
    return built


def _records(
    obj: dict[str, Any], saved: dict[str, Any], circuit: Circuit, cov: np.ndarray | None
) -> tuple[dict[str, ParameterRecord], dict[str, list[str]]]:
    """The parameter records (values, errors, bounds, correlations) and flags."""
    names = circuit.parameter_names
    params = obj["parameters"]
    if list(params) != names:
        raise ValueError(
            f"its parameters ({', '.join(params)}) are not those of {circuit.text!r}"
        )
    records, flags = {}, {}
    for n in names:
        p = params[n]
        lo, hi = saved["bounds"][n]
        records[n] = ParameterRecord(
            n, _float(p["value"]), _float(lo), _float(hi), bool(p["vary"]),
            None if p["stderr"] is None else _float(p["stderr"]),
        )
        if p["flags"]:
            flags[n] = [str(x) for x in p["flags"]]
    if cov is not None:  # the correlations, as build_result computes them from it
        free = [n for n in names if records[n].vary]
        if cov.shape != (len(free), len(free)):
            raise ValueError(f"the covariance matrix is not {len(free)} x {len(free)}")
        sd = np.sqrt(cov.diagonal())
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = cov / (sd[:, None] * sd)
        corr.setflags(write=False)
        for a, n in enumerate(free):
            records[n].correlation = (tuple(free), corr, a)
    return records, flags


def _search_from(rec: dict[str, Any] | None) -> Any:
    if rec is None:
        return None
    from eisfit.fitting.search import Search

    kinds = {f.name: f.type for f in dataclasses.fields(Search)}
    values = {}
    for k, v in rec.items():
        if k not in kinds:
            raise ValueError(f"unknown search field {k!r}")
        values[k] = v if isinstance(v, int | str) and k in ("rounds", "unphysical_reason") \
            else _float(v)
    return Search(**values)


def _spec_from(rec: dict[str, Any] | None) -> Any:
    """The :class:`~eisfit.fitting.spec.FitSpec` of a saved ``spec`` object (None in older
    files)."""
    if rec is None:
        return None
    from eisfit.fitting.spec import FitSpec

    return FitSpec.from_dict(rec)


def _warnings_from(obj: dict[str, Any]) -> tuple[str, ...]:
    """The warnings of a saved object: findings again from its ``findings``; from its
    ``warnings`` alone (older files) plain strings, read as code ``other``."""
    findings = obj.get("findings")
    warnings = tuple(str(w) for w in obj["warnings"])
    if findings is None:
        return warnings
    out = tuple(Finding.from_dict(f) for f in findings)
    if out != warnings:
        raise ValueError("its findings do not match its warnings")
    return out


def _rebuild(obj: dict[str, Any], saved: dict[str, Any]) -> FitResult:
    """The FitResult of a saved object (``obj``: the whole object, ``saved``: its ``saved``)."""
    circuit = Circuit(saved["circuit_text"])
    cov = None if saved["covariance"] is None else _array(saved["covariance"])
    if cov is not None:
        cov.setflags(write=False)
    records, flags = _records(obj, saved, circuit, cov)
    spectrum = _spectrum_from(saved["spectrum"])
    original = spectrum if saved["original"] is None else _spectrum_from(saved["original"])
    result = FitResult(
        spectrum=spectrum,
        circuit=circuit,
        named=_named_from(saved["named"]),
        weighting=str(obj["weighting"]),
        records=records,
        chisqr=_float(saved["chisqr"]),
        chi_square=_float(obj["chi_square"]),
        aic=_float(obj["aic"]),
        bic=_float(obj["bic"]),
        n_free=int(saved["n_free"]),
        nfev=int(saved["nfev"]),
        success=bool(saved["success"]),
        external_resistance=_float(obj["external_resistance_ohm"]),
        resistances={k: _float(v) for k, v in obj["resistances_ohm"].items()},
        resistance_stderr={k: _float(v) for k, v in obj["resistance_stderr_ohm"].items()},
        warnings=_warnings_from(obj),
        flags=flags,
        original=original,
        covariance=cov,
        role_terms={
            role: (tuple(int(i) for i in idx), _float(const))
            for role, (idx, const) in saved["role_terms"].items()
        },
        arc_terms=tuple(
            (str(name), str(role), tuple(int(i) for i in idx))
            for name, role, idx in saved["arc_terms"]
        ),
        search=_search_from(saved["search"]),
        spec=_spec_from(obj.get("spec")),
    )
    object.__setattr__(result, "_saved_versions", dict(saved["versions"]))
    return result


# --------------------------------------------------------------------------- starting values
def check_start(result: FitResult, circuit: Circuit, named: NamedCircuit | None) -> bool:
    """Whether the previous fit ``result`` can start a fit of ``circuit``: True when the two
    have the same parameters, False when ``result`` is its named circuit's hidden variant (some
    parameters missing, see :func:`start_vectors`).

    Raises
    ------
    ArgumentError
        ``result`` is not a FitResult.
    FitError
        The circuits' parameters differ otherwise.
    """
    if not isinstance(result, FitResult):
        from eisfit.exceptions import ArgumentError

        raise ArgumentError(f"start_from must be a FitResult, got {type(result).__name__}")
    names, have = circuit.parameter_names, list(result.values)
    if set(have) == set(names):
        return True
    if named is not None and result.named is not None and result.named.name == named.name \
            and set(have) < set(names):
        return False
    raise FitError(
        f"the starting fit's circuit {str(result.circuit)!r} has the parameters "
        f"{', '.join(have)}, not those of {circuit.text!r} ({', '.join(names)}): "
        "fit the circuit it was fitted with"
    )


def start_vectors(
    result: FitResult, circuit: Circuit, named: NamedCircuit | None, spectrum: Spectrum
) -> list[np.ndarray]:
    """Starting vectors for a fit of ``circuit`` to ``spectrum`` from a previous fit's values.

    The previous values by parameter name, as one vector when the two circuits have the same
    parameters. A previous fit reported under its named circuit's hidden variant (an arc above
    the window, so fewer parameters) starts the full circuit from each automatic starting
    vector with the previous values put in.

    Raises
    ------
    FitError
        The circuits' parameters differ (other than by that variant).
    """
    names = circuit.parameter_names
    values = result.values
    missing = [k for k, v in values.items() if not math.isfinite(v)]
    if missing:
        raise FitError(f"the starting fit has no value for {', '.join(missing)}")
    if check_start(result, circuit, named):
        return [np.array([values[n] for n in names], dtype=np.float64)]
    from eisfit.fitting import guess

    given = [(names.index(n), v) for n, v in values.items()]
    out = []
    for p in guess.candidates(circuit, spectrum.frequency, spectrum.z):
        p = np.array(p, dtype=np.float64)
        for i, v in given:
            p[i] = v
        out.append(p)
    return out
