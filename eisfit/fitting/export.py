"""A fit (or a model imported from impedance.py) as an impedance.py ``CustomCircuit``.

impedance.py is imported only when a model is exported. Used by
:meth:`eisfit.FitResult.to_impedance` and :meth:`eisfit.fitting.interop.ImportedModel.to_impedance`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from eisfit.exceptions import EisfitError
from eisfit.model.circuit import Circuit


class InteropError(EisfitError, ValueError):
    """A model that cannot be carried between impedance.py and eisfit."""


def _imported(model: Any) -> bool:
    """Whether ``model`` is an :class:`~eisfit.fitting.interop.ImportedModel` (by its fields:
    this module sits below the one that defines it)."""
    return all(hasattr(model, k) for k in ("circuit", "values", "fixed", "fitted", "name")) and \
        not hasattr(model, "records")


def to_impedance(model: Any) -> Any:
    """An eisfit fit (or imported model) as an impedance.py ``CustomCircuit``.

    Parameters
    ----------
    model
        A :class:`~eisfit.FitResult` or an :class:`~eisfit.fitting.interop.ImportedModel`.

    Returns
    -------
    impedance.models.circuits.CustomCircuit
        The circuit string; the varied parameters' values as ``initial_guess`` and, for a fit
        or a fitted imported model, as ``parameters_`` (with their standard errors as
        ``conf_``, NaN where unknown); the fixed ones as ``constants``. ``predict(f)`` equals
        eisfit's impedance at ``f``.

    Raises
    ------
    InteropError
        An element impedance.py does not have (a user element, or a name impedance.py would read
        as another element, such as ``R_s``).
    """
    from impedance.models.circuits import CustomCircuit

    circuit, values, fixed, errors, name = _described(model)
    _check_elements(circuit)
    names = circuit.parameter_names
    constants = {n: v for n, v in zip(names, values, strict=True) if n in fixed}
    free = [v for n, v in zip(names, values, strict=True) if n not in fixed]
    out = CustomCircuit(
        circuit.text.replace(" ", ""), initial_guess=free, constants=constants, name=name
    )
    if getattr(model, "fitted", True):
        out.parameters_ = np.array(free, dtype=float)
        out.conf_ = np.array(
            [errors.get(n, math.nan) for n in names if n not in fixed], dtype=float
        )
    return out


def _described(
    model: Any,
) -> tuple[Circuit, list[float], set[str], dict[str, float], str | None]:
    """(circuit, values, fixed names, standard errors, name) of a FitResult or ImportedModel."""
    if _imported(model):
        return model.circuit, list(model.values), set(model.fixed), {}, model.name
    records = getattr(model, "records", None)
    if records is None or not isinstance(getattr(model, "circuit", None), Circuit):
        raise InteropError(
            f"to_impedance needs a FitResult or an ImportedModel, got {type(model).__name__}"
        )
    values = [float(r.value) for r in records.values()]
    fixed = {k for k, r in records.items() if not r.vary}
    errors = {k: float(r.stderr) for k, r in records.items() if r.stderr is not None}
    return model.circuit, values, fixed, errors, getattr(model, "circuit_name", None)


def _check_elements(circuit: Circuit) -> None:
    """Refuse elements impedance.py would not read as eisfit does."""
    from impedance.models.circuits.elements import circuit_elements, get_element_from_name

    for node in circuit.elements:
        symbol = node.element.name
        if symbol not in circuit_elements:
            raise InteropError(
                f"element {node.name} ({symbol}) has no impedance.py counterpart; only "
                "circuits of impedance.py's elements can be exported"
            )
        read_as = get_element_from_name(node.name)
        if read_as != symbol:
            raise InteropError(
                f"impedance.py would read element {node.name!r} as {read_as!r}, not {symbol}: "
                f"name it with {symbol} and digits only (e.g. {symbol}{node.start})"
            )
