"""Writing a fit as loadable JSON (:meth:`eisfit.FitResult.to_json`): the ``--json`` object
with the ``format`` and ``saved`` keys that :mod:`eisfit.fitting.saved` reads back exactly.
"""

from __future__ import annotations

import dataclasses
import json
import math
import platform
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from eisfit.exceptions import EisfitError
from eisfit.io.spectrum import Spectrum
from eisfit.model.named import NamedCircuit

if TYPE_CHECKING:
    from eisfit.fitting.result import FitResult

#: The ``format`` key of a saved fit; a file with another is refused.
FORMAT = "eisfit-result/1"

#: How a shipped named circuit's variant is named in a saved fit (as in :mod:`eisfit.model.named`).
_VARIANTS = ("", "intercept", "hidden")


class SavedResultError(EisfitError, ValueError):
    """A saved fit could not be read: not JSON, an unknown format, or a broken record."""


# --------------------------------------------------------------------------- writing
def _num(x: Any) -> float | str:
    """A float as JSON holds it exactly: finite floats as themselves (``repr``-exact), NaN and
    infinities as ``"nan"``, ``"inf"``, ``"-inf"``."""
    x = float(x)
    return x if math.isfinite(x) else repr(x)


def _nums(a: Any) -> list[Any]:
    """An array of floats (any shape) as nested lists of :func:`_num`."""
    arr = np.asarray(a, dtype=np.float64)
    if arr.ndim == 0:
        return _num(arr)  # type: ignore[return-value]
    return [_nums(row) if arr.ndim > 1 else _num(row) for row in arr]


def _meta_value(v: Any) -> Any:
    """A metadata value as JSON: JSON's own types as they are, tuples and non-finite floats
    tagged so they read back as themselves, numpy scalars as Python numbers, anything else as
    its text."""
    if isinstance(v, np.generic):
        v = v.item()
    if v is None or isinstance(v, bool | int | str):
        return v
    if isinstance(v, float):
        return v if math.isfinite(v) else {"$float": repr(v)}
    if isinstance(v, tuple):
        return {"$tuple": [_meta_value(x) for x in v]}
    if isinstance(v, list):
        return [_meta_value(x) for x in v]
    if isinstance(v, Mapping):
        return {str(k): _meta_value(x) for k, x in v.items()}
    return str(v)


def _spectrum_record(s: Spectrum) -> dict[str, Any]:
    return {
        "frequency_Hz": _nums(s.frequency),
        "z_real_ohm": _nums(s.z.real),
        "z_imag_ohm": _nums(s.z.imag),
        "meta": {str(k): _meta_value(v) for k, v in s.meta.items()},
    }


def _named_record(named: NamedCircuit | None) -> dict[str, Any] | None:
    if named is None:
        return None
    from eisfit.model.named import named_circuits

    variant = None
    known = named_circuits().get(named.name)
    if known is not None:
        for name, obj in zip(_VARIANTS, (known, *known._variants), strict=True):
            if obj is named:
                variant = name
    definition = {f.name: getattr(named, f.name) for f in dataclasses.fields(named)}
    definition.pop("path")
    for key in ("bounds", "capacitance_F", "capacitance_unit"):
        definition[key] = {k: _nums(v) for k, v in definition[key].items()}
    definition["reference_cell"] = _nums(definition["reference_cell"])
    definition["total"] = list(definition["total"])
    definition["fallbacks"] = list(definition["fallbacks"])
    return {"variant": variant, "definition": definition}


def versions() -> dict[str, str]:
    """The versions a fit made now is made with: eisfit, numpy, scipy and Python."""
    import scipy

    from eisfit._version import __version__

    return {
        "eisfit": __version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "python": platform.python_version(),
    }


def fitted_with(result: FitResult) -> dict[str, str]:
    """The versions ``result`` was fitted with: those of its file for a loaded result, this
    process's otherwise."""
    return dict(result.__dict__.get("_saved_versions") or versions())


def saved_record(result: FitResult) -> dict[str, Any]:
    """What :meth:`FitResult.to_dict` lacks to rebuild ``result``: the ``saved`` object."""
    search = result.search
    original = result.original
    return {
        "versions": fitted_with(result),
        "circuit_text": result.circuit.text,
        "named": _named_record(result.named),
        "chisqr": _num(result.chisqr),
        "n_free": int(result.n_free),
        "nfev": int(result.nfev),
        "success": bool(result.success),
        "bounds": {k: [_num(r.min), _num(r.max)] for k, r in result.records.items()},
        "covariance": None if result.covariance is None else _nums(result.covariance),
        "role_terms": {
            role: [list(idx), _num(const)] for role, (idx, const) in result.role_terms.items()
        },
        "arc_terms": [[name, role, list(idx)] for name, role, idx in result.arc_terms],
        "search": None if search is None else {
            f.name: _num(v) if isinstance(v, float) else v
            for f in dataclasses.fields(search)
            for v in (getattr(search, f.name),)
        },
        "spectrum": _spectrum_record(result.spectrum),
        "original": None if original is None or original is result.spectrum
        else _spectrum_record(original),
    }


def saved_keys(result: FitResult) -> dict[str, Any]:
    """The two keys that make a ``--json`` object loadable: ``format`` and ``saved``."""
    return {"format": FORMAT, "saved": saved_record(result)}


def to_json(result: FitResult, path: str | Path | None = None, *, force: bool = False) -> str:
    """The loadable JSON text of ``result`` (see :meth:`FitResult.to_json`)."""
    # NaN in a key of to_dict() (none is expected) as JSON's NaN, not a failed save
    text = json.dumps({**result.to_dict(), **saved_keys(result)}, indent=1)
    if path is not None:
        from eisfit.output import write_text

        write_text(path, text + "\n", force=force)
    return text
