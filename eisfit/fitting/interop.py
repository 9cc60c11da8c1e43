"""Models to and from impedance.py.

:func:`from_impedance` takes an impedance.py ``CustomCircuit`` (fitted or not) or the JSON file
its ``save`` writes, and returns an :class:`ImportedModel`: the circuit, every parameter's value
(the fitted ``parameters_`` when the model was fitted, else its ``initial_guess``) and the
``constants`` as fixed values. :meth:`ImportedModel.fit` fits a spectrum from those values with
the constants held. :func:`to_impedance` (also :meth:`eisfit.FitResult.to_impedance`) goes the
other way.

Both packages name elements and parameters alike (``R0``, ``CPE1_0``), so values travel in the
same order. impedance.py is imported only by :func:`to_impedance` (reading one of its models
needs only the model's attributes).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from eisfit.exceptions import CircuitSyntaxError
from eisfit.fitting.export import InteropError, to_impedance
from eisfit.model.circuit import Circuit

if TYPE_CHECKING:  # pragma: no cover
    from eisfit.fitting.result import FitResult
    from eisfit.io.spectrum import Spectrum

__all__ = ["InteropError", "ImportedModel", "from_impedance", "to_impedance"]


@dataclass(frozen=True)
class ImportedModel:
    """A circuit and parameter values taken from impedance.py.

    Attributes
    ----------
    circuit
        The circuit.
    values
        Every parameter's value, in the circuit's order (:attr:`Circuit.parameter_names`),
        in the units of :attr:`Circuit.parameter_units`.
    fixed
        Names of the parameters impedance.py held constant.
    fitted
        True when the values are impedance.py's fitted ``parameters_``, False when they are its
        ``initial_guess``.
    name
        The model's name in impedance.py, or None.
    """

    circuit: Circuit
    values: tuple[float, ...]
    fixed: frozenset[str] = field(default_factory=frozenset)
    fitted: bool = False
    name: str | None = None

    @property
    def parameters(self) -> dict[str, float]:
        """Parameter name -> value."""
        return dict(zip(self.circuit.parameter_names, self.values, strict=True))

    def impedance(self, frequency: Sequence[float]) -> np.ndarray:
        """Impedance (Ohm, complex) at ``frequency`` (Hz)."""
        return self.circuit.impedance(frequency, self.values)

    def fit(self, spectrum: Spectrum, **options: Any) -> FitResult:
        """Fit ``spectrum`` from these values, the fixed parameters held at theirs.

        Parameters
        ----------
        spectrum
            The measured spectrum.
        **options
            Passed to :func:`eisfit.fit` (``weighting``, ``external_resistance``...).

        Returns
        -------
        FitResult
        """
        import lmfit

        from eisfit.fitting.single import fit

        params = lmfit.Parameters()
        for name, value in self.parameters.items():
            params.add(name, value=value, vary=name not in self.fixed)
        return fit(spectrum, self.circuit, params=params, **options)

    def to_impedance(self) -> Any:
        """This model as an impedance.py ``CustomCircuit`` (see :func:`to_impedance`)."""
        return to_impedance(self)


# --------------------------------------------------------------------------- from impedance.py
def from_impedance(model: Any) -> ImportedModel:
    """An impedance.py model as an eisfit circuit with its values.

    Parameters
    ----------
    model
        An impedance.py ``CustomCircuit`` (or any of its circuit classes), or the path of a JSON
        file written by its ``save`` method.

    Returns
    -------
    ImportedModel
        Values from ``parameters_`` when the model was fitted, else from ``initial_guess``;
        ``constants`` become fixed parameters.

    Raises
    ------
    InteropError
        An unreadable file, a circuit string eisfit cannot parse (an element it does not
        know), a model whose values do not match its circuit, or an object that is not an
        impedance.py model.

    Examples
    --------
    >>> from impedance.models.circuits import CustomCircuit
    >>> m = from_impedance(CustomCircuit("R0-p(R1,C1)", initial_guess=[10, 100, 1e-6]))
    >>> m.parameters
    {'R0': 10.0, 'R1': 100.0, 'C1': 1e-06}
    """
    if isinstance(model, (str, os.PathLike)):
        return _from_file(Path(model))
    if not all(hasattr(model, a) for a in ("circuit", "initial_guess", "constants")):
        raise InteropError(
            f"from_impedance needs an impedance.py circuit or the path of its saved JSON, "
            f"got {type(model).__name__}"
        )
    fitted = getattr(model, "parameters_", None)
    values = model.initial_guess if fitted is None else fitted
    return _model(
        model.circuit, values, model.constants, fitted is not None, getattr(model, "name", None),
        where=f"impedance.py model {model.circuit!r}",
    )


def _from_file(path: Path) -> ImportedModel:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InteropError(f"{path}: no such file; expected a model impedance.py saved") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        why = " ".join(str(exc).split())
        raise InteropError(f"{path}: not an impedance.py model file ({why})") from None
    keys = ("Circuit String", "Initial Guess", "Constants", "Fit")
    missing = [k for k in keys if not isinstance(data, dict) or k not in data]
    if missing:
        raise InteropError(
            f"{path}: not an impedance.py model file (no {', '.join(repr(k) for k in missing)})"
        )
    fitted = bool(data["Fit"])
    values = data.get("Parameters") if fitted else data["Initial Guess"]
    if values is None:
        raise InteropError(f"{path}: a fitted model with no 'Parameters'")
    return _model(
        data["Circuit String"], values, data["Constants"] or {}, fitted, data.get("Name"),
        where=str(path),
    )


def _model(
    text: Any,
    values: Any,
    constants: Mapping[str, Any],
    fitted: bool,
    name: Any,
    *,
    where: str,
) -> ImportedModel:
    """The ImportedModel of impedance.py's circuit ``text``, its free ``values`` (in order,
    constants left out) and ``constants``."""
    if not isinstance(text, str):
        raise InteropError(f"{where}: the circuit string is {type(text).__name__}, not text")
    try:
        circuit = Circuit(text.replace(" ", ""))
    except CircuitSyntaxError as exc:
        raise InteropError(f"{where}: {exc}") from None
    names = circuit.parameter_names
    unknown = [k for k in constants if k not in names]
    if unknown:
        raise InteropError(
            f"{where}: constants {', '.join(unknown)} are not parameters of the circuit "
            f"(its parameters are {', '.join(names)})"
        )
    free = [float(v) for v in np.asarray(values, dtype=float).ravel()]
    if len(free) + len(constants) != len(names):
        raise InteropError(
            f"{where}: {len(free)} values and {len(constants)} constants for the "
            f"{len(names)} parameters {', '.join(names)}"
        )
    it = iter(free)
    full = tuple(float(constants[n]) if n in constants else next(it) for n in names)
    return ImportedModel(
        circuit, full, frozenset(constants), fitted, None if name is None else str(name)
    )
