"""Structured warnings: a :class:`Finding` is a warning line that also says what it is about.

A fit's warnings (:attr:`eisfit.FitResult.warnings`) stay a tuple of strings, printed, compared
and written as before (``"warnings": [str]`` in JSON); each is a :class:`Finding`, a ``str``
that carries a short stable ``code``, the ``role`` it concerns, a ``severity`` and the
``numbers`` behind its text, so code that acts on a warning reads those, never the text. A plain
string where a finding is expected (a warning of a fit saved by an older eisfit, a line a caller
added) is read as code ``other`` (:func:`as_finding`).

==================== ======== ========================================== ==========================
code                 severity what                                       numbers
==================== ======== ========================================== ==========================
``kk_fails``         warning  the spectrum fails the lin-KK check        ``max_residual``,
                                                                         ``threshold``,
                                                                         ``max_trend``,
                                                                         ``trend_threshold``
                                                                         (fractions of abs(Z)),
                                                                         ``worst_Hz``
``kk_not_run``       note     the lin-KK check could not be run
``inductive_dropped`` note    inductive points dropped before the fit    ``dropped``, ``from_Hz``
``numpy_only``       note     fitted with the numpy engine, not compiled
``constrained``      note     the constraints of a constrained fit
``constraint_helper`` note    a constraint helper's value                ``value``, ``stderr``
``no_covariance``    warning  no covariance: no standard errors
``not_converged``    warning  the solver did not converge
``inductance``       warning  an unmodelled series inductance            ``inductance_H``
``at_bound``         warning  a parameter sits at a bound                ``value``, ``bound``
``not_determined``   warning  standard error above 100 %                 ``value``, ``stderr``
``intercept``        warning  a role from the high-frequency intercept   ``intercept_ohm``,
                              less the external resistance is not        ``external_ohm``
                              determined (``role``: the first such role)
``apex_above``       warning  an arc's apex above the highest frequency  ``apex_Hz``, ``limit_Hz``
``apex_below``       warning  an arc's apex below the lowest frequency   ``apex_Hz``, ``limit_Hz``
``depressed``        warning  an arc's CPE exponent below 0.5            ``n``
``capacitance_range`` warning an arc's effective capacitance outside     ``capacitance_F``
                              its role's range (circuit's reference
                              cell, or the geometry's)
``correlated``       warning  two parameters correlated beyond the limit ``correlation``
``not_described``    warning  reduced χ² well above the spectrum's floor ``ratio``
``lower_unphysical`` warning  a lower minimum whose arcs do not fit      ``ratio``
                              their roles was not reported
``hidden_arc``       note     an arc above the window is reported from   ``limit_Hz``, ``apex_Hz``,
                              the intercept (``role``: that arc's)       ``external_ohm``
``fallback``         note     a fallback circuit fitted in place of the
                              named one
``model_choice``     note     what the automatic model choice chose
``refitted``         note     refitted from its neighbours in a series   ``temperature_K``,
                                                                         ``chi_square_before``,
                                                                         ``chi_square_after``
``other``            warning  any other line, and plain strings
==================== ======== ========================================== ==========================

The warnings of an Arrhenius fit (:attr:`eisfit.ArrheniusResult.warnings`, and ``"findings"`` in
the ``arrhenius`` objects of a series' JSON) are findings too:

======================== ======== ====================================== ======================
code                     severity what                                   numbers
======================== ======== ====================================== ======================
``repeated_temperature`` note     a temperature measured more than once  ``temperature_K``,
                                                                         ``count``
``exact_line``           warning  two temperatures: no standard error    ``n``
``scatter``              warning  points scatter beyond their errors     ``reduced_chi_square``
``curved``               warning  the Arrhenius plot is curved           ``p``, ``T_min_K``,
                                                                         ``T_max_K``
``negative_ea``          warning  Ea below zero                          ``Ea_eV``
``series_kk_fails``      note     a spectrum of the series fails lin-KK
``no_resistance``        warning  spectra without the role's resistance  ``count``
``left_out``             warning  points left out by the series'         ``count``, ``of``
                                  physics checks (listed one by one in
                                  ``excluded``)
``unweighted``           warning  a fit without a standard error: the
                                  regression is unweighted
======================== ======== ====================================== ======================

``parameters`` names the parameters a finding is about (``at_bound``, ``not_determined``,
``correlated``: the pair, sorted; ``constraint_helper``); ``role`` is None where no role applies.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["SEVERITIES", "Finding", "as_finding", "by_code"]

#: The two severities: a ``note`` says what was done, a ``warning`` that a result needs care.
SEVERITIES = ("note", "warning")


class Finding(str):
    """A warning line (the ``str`` itself) with its code, role, severity and numbers.

    Equal, hashed, printed and written in JSON as its text; the attributes travel with it
    through pickling and copying (process pools return fits).

    Parameters
    ----------
    message
        The line as it is printed.
    code
        A short stable identifier (see the table in :mod:`eisfit.findings`).
    role
        The role it concerns (``bulk``...), or None.
    severity
        ``"note"`` or ``"warning"``.
    numbers
        Name -> float: the numbers behind the message (e.g. ``max_residual``, ``threshold``).
    parameters
        The parameter names it is about.

    Examples
    --------
    >>> f = Finding("R0 is not determined", "not_determined", role="series",
    ...             numbers={"value": 1.0}, parameters=("R0",))
    >>> f == "R0 is not determined", f.code, f.numbers["value"]
    (True, 'not_determined', 1.0)
    """

    code: str
    role: str | None
    severity: str
    numbers: dict[str, float]
    parameters: tuple[str, ...]

    def __new__(
        cls,
        message: str,
        code: str = "other",
        *,
        role: str | None = None,
        severity: str = "warning",
        numbers: Mapping[str, float] | None = None,
        parameters: Iterable[str] = (),
    ) -> Finding:
        if severity not in SEVERITIES:
            raise ValueError(f"severity {severity!r} is not one of {', '.join(SEVERITIES)}")
        self = super().__new__(cls, message)
        object.__setattr__(self, "code", str(code))
        object.__setattr__(self, "role", None if role is None else str(role))
        object.__setattr__(self, "severity", severity)
        object.__setattr__(
            self, "numbers", {str(k): float(v) for k, v in (numbers or {}).items()}
        )
        object.__setattr__(self, "parameters", tuple(str(p) for p in parameters))
        return self

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("a Finding cannot be changed")

    @property
    def message(self) -> str:
        """The line as a plain ``str``."""
        return str.__str__(self)

    def with_message(self, message: str) -> Finding:
        """The same finding (code, role, severity, numbers, parameters) with another text."""
        return _rebuild(message, self.code, self.role, self.severity, self.numbers,
                        self.parameters)

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _rebuild,
            (self.message, self.code, self.role, self.severity, dict(self.numbers),
             self.parameters),
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON object: ``code``, ``role``, ``severity``, ``message``, ``numbers`` (NaN and
        infinities as ``null``) and ``parameters``."""
        return {
            "code": self.code,
            "role": self.role,
            "severity": self.severity,
            "message": self.message,
            "numbers": {k: v if math.isfinite(v) else None for k, v in self.numbers.items()},
            "parameters": list(self.parameters),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Finding:
        """The finding of a :meth:`to_dict` object (``null`` numbers read as NaN)."""
        numbers = {
            k: math.nan if v is None else float(v) for k, v in (d.get("numbers") or {}).items()
        }
        return cls(
            str(d["message"]),
            str(d.get("code") or "other"),
            role=d.get("role"),
            severity=str(d.get("severity") or "warning"),
            numbers=numbers,
            parameters=d.get("parameters") or (),
        )


def _rebuild(
    message: str,
    code: str,
    role: str | None,
    severity: str,
    numbers: dict[str, float],
    parameters: tuple[str, ...] = (),
) -> Finding:
    """A finding from its pickled fields."""
    return Finding(
        message, code, role=role, severity=severity, numbers=numbers, parameters=parameters
    )


def as_finding(line: str) -> Finding:
    """``line`` as a :class:`Finding`: itself when it is one, else a plain string as ``other``."""
    return line if isinstance(line, Finding) else Finding(str(line))


def by_code(lines: Iterable[str], code: str) -> list[Finding]:
    """The findings among ``lines`` with ``code`` (plain strings count as ``other``)."""
    return [f for f in map(as_finding, lines) if f.code == code]
