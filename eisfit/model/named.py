"""Named circuits for the cells users build, loaded from the ``circuits/*.toml`` data files.

Each file gives the circuit string, a role for each element (``series``, ``bulk``,
``grain_boundary``, ``electrode``, ``interface``, ``electrolyte``, ``anode_interface``,
``cathode_interface``, ``diffusion``, ``intercept``), parameter bounds, the effective capacitance
expected for each role, the roles summed into ``total`` and, optionally, the reduced circuit used
when an arc relaxes above the measured window (``[hidden]``).
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from eisfit.exceptions import CircuitSyntaxError, EisfitError
from eisfit.model.capacitance import AREA_ROLES, REFERENCE_CELL
from eisfit.model.circuit import Circuit

ROLES = (
    "series",
    "bulk",
    "grain_boundary",
    "electrode",
    "interface",
    "electrolyte",
    "anode_interface",
    "cathode_interface",
    "diffusion",
    "intercept",
    "total",
)


@dataclass(frozen=True)
class NamedCircuit:
    """A circuit with physical roles, as defined in ``circuits/NAME.toml``.

    Attributes
    ----------
    name
        The name users type (``blocking``).
    circuit
        The circuit string.
    cell
        Cell family (``blocking``, ``li-symmetric``, ``full-cell``).
    description
        One or two sentences for ``eisfit circuits``.
    roles
        Element name -> role.
    bounds
        Parameter name -> (lower, upper) overriding the element defaults.
    capacitance_F
        Role -> (low, high) expected effective capacitance in F.
    total
        Roles whose resistances add up to ``total``.
    hidden_role, hidden_circuit
        Role of the arc replaced by the high-frequency intercept when it relaxes above the
        window, and the circuit without that arc; None when the circuit has no such fallback.
    interfaces
        Number of identical interfaces in series (2 for a symmetric cell), for ASR per interface.
    capacitance_unit
        Role -> (low, high) expected effective capacitance per unit cell constant (F/cm, bulk,
        grain boundary, electrolyte) or per unit area (F/cm², electrodes and interfaces), from
        ``[capacitance_per_cell_constant]`` and ``[capacitance_per_area]``: the capacitance
        warnings (:mod:`eisfit.model.capacitance`). Roles missing here are judged by
        ``capacitance_F`` read as written for ``reference_cell``.
    reference_cell
        (thickness in cm, area in cm²) of the cell the warnings assume without a geometry: a
        pellet 1 mm thick with 10 mm electrodes unless ``[reference_cell]`` gives another.
    fallbacks
        Named circuits with fewer arcs, tried in order when a fit of this one gives an arc the
        capacitance of an electrode or leaves no arc inside the window (``blocking`` →
        ``blocking-single`` → ``blocking-spike``).
    """

    name: str
    circuit: str
    cell: str
    description: str
    roles: dict[str, str]
    bounds: dict[str, tuple[float, float]] = field(default_factory=dict)
    capacitance_F: dict[str, tuple[float, float]] = field(default_factory=dict)
    total: tuple[str, ...] = ()
    hidden_role: str | None = None
    hidden_circuit: str | None = None
    interfaces: int = 1
    path: str = ""
    fallbacks: tuple[str, ...] = ()
    capacitance_unit: dict[str, tuple[float, float]] = field(default_factory=dict)
    reference_cell: tuple[float, float] = REFERENCE_CELL

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # a shipped circuit (or one of its variants) is pickled by name: unpickling shares the
        # process's own object instead of a copy per fit result
        known = named_circuits().get(self.name)
        if known is not None:
            for variant, obj in zip(_VARIANTS, (known, *known._variants), strict=True):
                if obj is self:
                    return _shared_named, (self.name, variant)
        return self.__class__, tuple(getattr(self, f.name) for f in dataclasses.fields(self))

    @functools.cached_property
    def parsed(self) -> Circuit:
        """The parsed :class:`~eisfit.model.circuit.Circuit` (parsed once)."""
        return Circuit(self.circuit)

    def electrode_like(self, role: str, capacitance: float) -> bool:
        """True when an arc of ``role`` (not the electrode's) has an effective capacitance
        (F) in the electrode range of this circuit and above its own role's range."""
        electrode = self.capacitance_F.get("electrode")
        if electrode is None or role == "electrode" or not capacitance > 0:
            return False
        own = self.capacitance_F.get(role)
        return capacitance >= electrode[0] and (own is None or capacitance > own[1])

    def role_of(self, element_name: str) -> str | None:
        """The role of an element (``R1`` -> ``bulk``), or None."""
        return self.roles.get(element_name)

    def intercept_variant(self) -> NamedCircuit | None:
        """The same circuit with the hidden-role arc counted into the high-frequency intercept.

        Used when a fit places that arc above the measured window: its resistance and the series
        resistance add up to the intercept, and the arc itself is not reported.
        """
        return self._variants[0]

    def hidden_variant(self) -> NamedCircuit | None:
        """The named circuit used when the hidden-role arc lies above the window."""
        return self._variants[1]

    @functools.cached_property
    def _variants(self) -> tuple[NamedCircuit | None, NamedCircuit | None]:
        if not self.hidden_role:
            return None, None
        roles = dict(self.roles)
        for k, v in self.roles.items():
            if v == self.hidden_role:
                roles.pop(k)
                if self.parsed.element(k).element.name == "R":
                    roles[k] = "intercept"
            elif v == "series":
                roles[k] = "intercept"
        intercept = dataclasses.replace(self, roles=roles, hidden_circuit=None)
        if not self.hidden_circuit:
            return intercept, None
        reduced = Circuit(self.hidden_circuit)
        names = {e.name for e in reduced.elements}
        roles = {k: v for k, v in self.roles.items() if k in names}
        # the series resistor now carries the intercept: series + hidden arc
        roles[reduced.elements[0].name] = "intercept"
        bounds = {k: v for k, v in self.bounds.items() if k.split("_")[0] in names or k in names}
        hidden = dataclasses.replace(
            self, circuit=self.hidden_circuit, roles=roles, bounds=bounds, hidden_circuit=None
        )
        return intercept, hidden


def _circuit_files() -> list[tuple[str, str]]:
    """(file name, text) of every named-circuit file, from the checkout or the installed package."""
    repo = Path(__file__).resolve().parents[2] / "circuits"
    if repo.is_dir() and any(repo.glob("*.toml")):
        return [(str(p), p.read_text(encoding="utf-8")) for p in sorted(repo.glob("*.toml"))]
    pkg = resources.files("eisfit.circuits")
    out = []
    for entry in sorted(pkg.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            out.append((entry.name, entry.read_text(encoding="utf-8")))
    return out


def _parse(path: str, text: str) -> NamedCircuit:
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise EisfitError(f"{path}: not valid TOML ({exc})") from None
    for key in ("name", "circuit", "roles"):
        if key not in data:
            raise EisfitError(f"{path}: missing the key {key!r}")
    circuit = Circuit(data["circuit"])
    names = {e.name for e in circuit.elements}
    for element_name, role in data["roles"].items():
        if element_name not in names:
            raise EisfitError(f"{path}: role given for {element_name!r}, not in {circuit.text!r}")
        if role not in ROLES:
            raise EisfitError(f"{path}: unknown role {role!r}; roles: {', '.join(ROLES)}")
    pnames = set(circuit.parameter_names)
    bounds = {}
    for pname, b in data.get("bounds", {}).items():
        if pname not in pnames:
            raise EisfitError(f"{path}: bounds given for unknown parameter {pname!r}")
        bounds[pname] = (float(b[0]), float(b[1]))
    hidden = data.get("hidden", {})
    if hidden:
        Circuit(hidden["circuit"])
    reference = _reference_cell(path, data.get("reference_cell"))
    return NamedCircuit(
        name=data["name"],
        circuit=data["circuit"],
        cell=data.get("cell", data["name"]),
        description=data.get("description", ""),
        roles=dict(data["roles"]),
        bounds=bounds,
        capacitance_F={
            k: (float(v[0]), float(v[1])) for k, v in data.get("capacitance_F", {}).items()
        },
        capacitance_unit=_capacitances(path, data),
        total=tuple(data.get("total", ())),
        hidden_role=hidden.get("role"),
        hidden_circuit=hidden.get("circuit"),
        interfaces=int(data.get("interfaces", 1)),
        path=path,
        fallbacks=tuple(data.get("fallback", ())),
        reference_cell=reference,
    )


def _reference_cell(path: str, table: Any) -> tuple[float, float]:
    """(thickness cm, area cm²) of ``[reference_cell]`` (thickness with diameter or area)."""
    if table is None:
        return NamedCircuit.reference_cell
    from eisfit.model.geometry import Geometry

    try:
        g = Geometry(table.get("thickness"), area=table.get("area"), diameter=table.get("diameter"))
        return g.thickness_cm, g.area_cm2
    except EisfitError as exc:
        raise EisfitError(f"{path}: [reference_cell]: {exc}") from None


def _capacitances(path: str, data: dict[str, Any]) -> dict[str, tuple[float, float]]:
    """Role -> capacitance range per unit cell constant (F/cm) or per unit area (F/cm²)."""
    out: dict[str, tuple[float, float]] = {}
    for table, per_area in (("capacitance_per_cell_constant", False),
                            ("capacitance_per_area", True)):
        for role, v in data.get(table, {}).items():
            if (role in AREA_ROLES) != per_area:
                other = "capacitance_per_cell_constant" if per_area else "capacitance_per_area"
                raise EisfitError(f"{path}: the {role} capacitance belongs in [{other}]")
            out[role] = (float(v[0]), float(v[1]))
    return out


@functools.cache
def named_circuits() -> dict[str, NamedCircuit]:
    """Every named circuit, keyed by name.

    Examples
    --------
    >>> "blocking" in named_circuits()
    True
    """
    out: dict[str, NamedCircuit] = {}
    for path, text in _circuit_files():
        nc = _parse(path, text)
        if nc.name in out:
            raise EisfitError(
                f"{path}: the name {nc.name!r} is already defined in {out[nc.name].path}"
            )
        out[nc.name] = nc
    return out


#: How a pickled shipped circuit names itself: the circuit, or its intercept or hidden variant.
_VARIANTS = ("", "intercept", "hidden")


def _shared_named(name: str, variant: str) -> NamedCircuit:
    """A shipped named circuit or its ``intercept``/``hidden`` variant (for unpickling)."""
    nc = named_circuits()[name]
    return (nc, *nc._variants)[_VARIANTS.index(variant)]  # type: ignore[return-value]


def resolve(circuit: str | Circuit | NamedCircuit) -> tuple[Circuit, NamedCircuit | None]:
    """Turn a name, a circuit string or a Circuit into (Circuit, NamedCircuit or None)."""
    if isinstance(circuit, NamedCircuit):
        return circuit.parsed, circuit
    if isinstance(circuit, Circuit):
        return circuit, None
    if not isinstance(circuit, str):
        raise TypeError(f"circuit must be a name or a circuit string, got {type(circuit).__name__}")
    known = named_circuits()
    if circuit in known:
        return known[circuit].parsed, known[circuit]
    if circuit.replace("_", "-") in known:
        nc = known[circuit.replace("_", "-")]
        return nc.parsed, nc
    try:
        return Circuit(circuit), None
    except CircuitSyntaxError as exc:
        hint = _name_hint(circuit, known)
        if hint is None:
            raise
        raise CircuitSyntaxError(exc.circuit, exc.position, f"{exc.reason}; {hint}") from None


def _name_hint(text: str, known: dict[str, NamedCircuit]) -> str | None:
    """``did you mean 'blocking'? named circuits: ...`` for a string that looks like a
    misspelt circuit name (letters, digits, ``-`` and ``_`` only); None for one that does not."""
    word = text.strip()
    if not word or not all(c.isalnum() or c in "-_" for c in word):
        return None
    names = sorted(known)
    close = difflib.get_close_matches(word.lower().replace("_", "-"), names, n=1, cutoff=0.6)
    listed = "named circuits: " + ", ".join(names)
    return f"did you mean {close[0]!r}? {listed}" if close else listed


def ordered_roles(seen: Iterable[str]) -> list[str]:
    """Roles in :attr:`eisfit.Series.roles` order: the usual ones first, then the rest as met."""
    preferred = ("series", "bulk", "grain_boundary", "electrolyte", "interface",
                 "anode_interface", "cathode_interface", "diffusion", "total")
    seen = dict.fromkeys(seen)
    return [k for k in preferred if k in seen] + [k for k in seen if k not in preferred]
