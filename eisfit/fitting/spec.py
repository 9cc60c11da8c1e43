"""How a fit is made: the options of every entry point, stated once.

:func:`eisfit.fit`, :func:`eisfit.fit_stack`, :func:`eisfit.fit_many`, :func:`eisfit.fit_series`,
``eisfit fit`` and ``eisfit batch`` take the same options. Each builds one :class:`FitSpec` from
them, checked once, and passes it down whole; every :class:`~eisfit.FitResult` records the spec
it was made with (``result.spec``, and ``"spec"`` in its JSON), so a result says exactly how it
was obtained, and two paths given the same spectrum and spec give the same result and warnings.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from eisfit.exceptions import ArgumentError

__all__ = ["FitSpec"]


@dataclass(frozen=True)
class FitSpec:
    """The options a spectrum is fitted with.

    Parameters
    ----------
    circuit
        A named circuit (``"blocking"``...), a circuit string, a :class:`~eisfit.Circuit` or a
        :class:`~eisfit.NamedCircuit`; ``"auto"`` lets the data choose among ``cell``'s.
    weighting
        ``"modulus"`` (default), ``"proportional"``, ``"unit"``, ``"sigma"``, ``"admittance"``...
        (:mod:`eisfit.fitting.weighting`).
    external_resistance
        Cables and cell hardware (Ohm), subtracted from a high-frequency intercept.
    drop_inductive
        Drop high-frequency points with Im(Z) > 0 when the circuit has no inductor.
    kk
        Run the lin-KK check and warn when the spectrum fails it.
    geometry
        The cell's :class:`~eisfit.Geometry`, or None. The effective capacitance of each arc is
        judged against its role's range in this cell (per cell constant for bulk and grain
        boundary, per area for interfaces); without one, in the circuit's reference cell.
    constraints
        Expressions between parameters (:mod:`eisfit.fitting.constraints`), or None.
    cell
        With ``circuit="auto"``: the cell family whose named circuits compete.
    engine
        ``"auto"`` (default): the context's engine, compiled where numba is installed (see
        :mod:`eisfit.kernels.compiled`; the command line fits fewer than 100 spectra with numpy,
        which then starts faster); ``"compiled"``: the compiled engine (needs numba, the
        ``fast`` extra); ``"numpy"``: the numpy engine. Both give the same fits to the solver's
        tolerance.

    Examples
    --------
    >>> spec = FitSpec("blocking", external_resistance=1.5)
    >>> spec.to_dict()["external_resistance_ohm"]
    1.5
    >>> FitSpec("blocking", weighting="absolute")
    Traceback (most recent call last):
    ...
    eisfit.exceptions.FitError: weighting must be one of ...
    """

    #: The values of ``engine``.
    ENGINES = ("auto", "compiled", "numpy")

    circuit: Any = "blocking"
    weighting: str = "modulus"
    external_resistance: float = 0.0
    drop_inductive: bool = True
    kk: bool = False
    geometry: Any = None
    constraints: Any = None
    cell: str = "blocking"
    engine: str = "auto"

    def __post_init__(self) -> None:
        from eisfit.fitting.solve import check_arguments
        from eisfit.model.geometry import Geometry

        check_arguments(self.circuit, self.weighting, self.external_resistance)
        object.__setattr__(self, "external_resistance", float(self.external_resistance))
        for name in ("drop_inductive", "kk"):
            if not isinstance(getattr(self, name), bool):
                raise ArgumentError(
                    f"{name} must be True or False, got {type(getattr(self, name)).__name__}"
                )
        if self.engine not in self.ENGINES:
            raise ArgumentError(
                f"engine must be one of {', '.join(self.ENGINES)}, got {self.engine!r}"
            )
        if self.geometry is not None and not isinstance(self.geometry, Geometry):
            raise ArgumentError(
                "geometry must be an eisfit.Geometry (e.g. Geometry(thickness='1 mm', "
                f"diameter='10 mm')) or None, got {type(self.geometry).__name__}"
            )
        if hasattr(self.constraints, "valuesdict"):  # lmfit Parameters with expr: kept as given
            return
        if isinstance(self.constraints, Mapping):  # frozen: keep a copy the caller cannot edit
            object.__setattr__(self, "constraints", tuple(self.constraints.items()))
        elif isinstance(self.constraints, list):
            object.__setattr__(self, "constraints", tuple(self.constraints))

    def record(self, result: Any) -> Any:
        """``result`` with this spec recorded in it (``result.spec``), its arcs' capacitances
        judged in the spec's geometry when there is one, and its warnings one line per finding
        (:func:`eisfit.fitting.checks.grouped`); a failure is returned as it is."""
        if not hasattr(result, "warnings") or not hasattr(result, "records"):
            return result
        from eisfit.fitting.checks import grouped, with_geometry

        if self.geometry is not None:
            result = with_geometry(result, self.geometry)
        return dataclasses.replace(grouped(result), spec=self)

    def keywords(self) -> dict[str, Any]:
        """The keyword arguments of :func:`eisfit.fit` this spec stands for (those of
        :func:`~eisfit.fitting.stack.fit_stack` too, for a spec with a circuit and no
        constraints)."""
        kwargs: dict[str, Any] = {
            "circuit": self.circuit,
            "weighting": self.weighting,
            "external_resistance": self.external_resistance,
            "kk": self.kk,
            "drop_inductive": self.drop_inductive,
            "geometry": self.geometry,
            "engine": self.engine,
        }
        if self.constraints:
            kwargs["constraints"] = self.constraint_argument()
        if isinstance(self.circuit, str) and self.circuit == "auto":
            kwargs["cell"] = self.cell
        return kwargs

    def engine_context(self) -> contextlib.AbstractContextManager[None]:
        """The context to fit in: the spec's engine (:func:`eisfit.kernels.compiled.use`), or,
        for ``"auto"``, the one around the call, unchanged.

        Raises
        ------
        ArgumentError
            ``engine="compiled"`` where numba is not installed.
        """
        if self.engine == "auto":
            return contextlib.nullcontext()
        from eisfit.kernels import compiled

        if self.engine == "compiled" and not compiled.available():
            raise ArgumentError(
                "engine 'compiled' needs numba: pip install 'eisfit[fast]' (or use engine "
                "'auto' or 'numpy')"
            )
        return compiled.use(self.engine == "compiled")

    def compiled_here(self) -> bool:
        """Whether a fit with this spec, started here, runs the compiled engine; worker
        processes are told it with each stack, so they fit as this process would."""
        from eisfit.kernels import compiled

        with self.engine_context():
            return compiled.enabled()

    @property
    def circuit_text(self) -> str:
        """The circuit as given: its name, its string, or a Circuit's text."""
        c = self.circuit
        return c if isinstance(c, str) else str(getattr(c, "name", None) or c)

    def constraint_argument(self) -> Any:
        """The constraints in a form :func:`eisfit.fit` takes (a mapping stays a mapping)."""
        c = self.constraints
        if isinstance(c, tuple) and c and all(isinstance(x, tuple) and len(x) == 2 for x in c):
            return dict(c)
        return list(c) if isinstance(c, tuple) else c

    def to_dict(self) -> dict[str, Any]:
        """The ``spec`` object of a result's JSON."""
        c = self.constraint_argument()
        if isinstance(c, Mapping):
            constraints: Any = [f"{k} = {v}" for k, v in c.items()]
        elif isinstance(c, list):
            constraints = [str(x) for x in c]
        elif c is None:
            constraints = None
        else:  # lmfit Parameters: their expressions
            constraints = [
                f"{name} = {p.expr}" for name, p in c.items() if getattr(p, "expr", None)
            ]
        return {
            "circuit": self.circuit_text,
            "weighting": self.weighting,
            "external_resistance_ohm": self.external_resistance,
            "drop_inductive": self.drop_inductive,
            "kk": self.kk,
            "geometry": None if self.geometry is None else self.geometry.to_dict(),
            "constraints": constraints,
            **({"cell": self.cell} if self.circuit == "auto" else {}),
            "engine": self.engine,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], circuit: Any = None) -> FitSpec:
        """The spec of a result's JSON ``spec`` object (``circuit`` overrides its text)."""
        from eisfit.model.geometry import Geometry

        g = d.get("geometry")
        geometry = None
        if g is not None:
            geometry = Geometry.from_si(
                g["thickness_m"], None if g.get("diameter_m") is not None else g["area_m2"],
                diameter_m=g.get("diameter_m"), note=g.get("note"),
            )
        return cls(
            circuit=d["circuit"] if circuit is None else circuit,
            weighting=str(d["weighting"]),
            external_resistance=float(d["external_resistance_ohm"]),
            drop_inductive=bool(d["drop_inductive"]),
            kk=bool(d["kk"]),
            geometry=geometry,
            constraints=d.get("constraints"),
            cell=str(d.get("cell", "blocking")),
            engine=str(d.get("engine", "auto")),
        )
