"""Circuit diagrams for papers and notebooks, drawn with schemdraw as SVG.

:func:`draw_circuit` (and :meth:`eisfit.FitResult.diagram`) lays a circuit out as it is
written: series chains left to right, parallel branches stacked top to bottom between two
vertical buses. Resistors, capacitors and inductors get their symbols, a CPE schemdraw's
constant-phase symbol, every other element (Warburg, Gerischer, transmission lines, Voigt and
user-defined elements) a labelled box. Each element is labelled with its name above and, for
a fit, its values below (four significant digits, units typeset).

schemdraw is an optional extra (``pip install 'eisfit[diagram]'``), imported only here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eisfit.exceptions import EisfitError
from eisfit.format import value
from eisfit.model.circuit import Circuit, ElementNode, Parallel, Series

__all__ = ["draw_circuit", "CircuitDiagram", "DiagramError"]

#: Length of one element along the wire (schemdraw units).
ELEMENT_LENGTH = 3.0
#: Stub between a parallel block's terminal and its bus.
_LEAD = 0.6
#: Vertical room between two stacked branches.
_GAP = 0.5
#: Room above a wire for the element's name, and below for each line of its values.
_NAME_ROOM, _LINE_ROOM = 1.0, 0.55
_SYMBOLS = {"R": "Resistor", "C": "Capacitor", "L": "Inductor2", "La": "Inductor2",
            "CPE": "CPE"}


class DiagramError(EisfitError):
    """A circuit diagram cannot be drawn (schemdraw missing, a value list of the wrong size)."""


@dataclass(frozen=True)
class CircuitDiagram:
    """A drawn circuit.

    Attributes
    ----------
    circuit : str
        The circuit string drawn.
    svg : str
        The diagram as an SVG document.
    """

    circuit: str
    svg: str

    def _repr_svg_(self) -> str:
        return self.svg

    def save(self, path: str | Path, *, force: bool = False) -> Path:
        """Write the SVG to ``path`` (atomically; an existing file only with ``force``)."""
        from eisfit.output import write_text

        return write_text(path, self.svg, force=force)


@dataclass(frozen=True)
class _Box:
    width: float
    up: float
    down: float


def _schemdraw() -> tuple[Any, Any]:
    try:
        import schemdraw
        import schemdraw.elements as elm
    except ImportError:
        raise DiagramError(
            "drawing circuit diagrams needs the optional schemdraw package: "
            "pip install 'eisfit[diagram]'"
        ) from None
    return schemdraw, elm


def _value_lines(node: ElementNode, values: Mapping[str, float] | None) -> list[str]:
    """The element's values, one line per parameter (empty without values)."""
    if values is None:
        return []
    lines = []
    for name, unit in zip(node.param_names, node.element.units, strict=True):
        if name in values:
            text = value(values[name], unit, digits=4)
            lines.append(f"n = {text}" if node.element.name == "CPE" and not unit else text)
    return lines


def _measure(node: Any, values: Mapping[str, float] | None, sizes: dict[int, _Box]) -> _Box:
    """The width and the room above and below the wire of ``node`` (memoised in ``sizes``)."""
    if isinstance(node, ElementNode):
        box = _Box(ELEMENT_LENGTH, _NAME_ROOM,
                   0.5 + _LINE_ROOM * max(1, len(_value_lines(node, values))))
    elif isinstance(node, Series):
        parts = [_measure(c, values, sizes) for c in node.children]
        box = _Box(sum(p.width for p in parts), max(p.up for p in parts),
                   max(p.down for p in parts))
    else:
        parts = [_measure(c, values, sizes) for c in node.children]
        depth = sum(p.up + p.down for p in parts) + _GAP * (len(parts) - 1) - parts[0].up
        box = _Box(max(p.width for p in parts) + 2 * _LEAD, parts[0].up, depth)
    sizes[id(node)] = box
    return box


def _line(d: Any, elm: Any, a: tuple[float, float], b: tuple[float, float]) -> None:
    if a != b:
        d.add(elm.Line().at(a).to(b))


def _draw_element(d: Any, elm: Any, node: ElementNode, x: float, y: float,
                  values: Mapping[str, float] | None) -> None:
    kind = _SYMBOLS.get(node.element.name, "RBox")
    e = getattr(elm, kind)().at((x, y)).right().length(ELEMENT_LENGTH)
    e = e.label(node.name, loc="top")
    lines = _value_lines(node, values)
    if lines:
        e = e.label("\n".join(lines), loc="bottom", fontsize=10)
    d.add(e)


def _draw(d: Any, elm: Any, node: Any, x: float, y: float,
          values: Mapping[str, float] | None, sizes: dict[int, _Box]) -> None:
    """Draw ``node`` with its left terminal at (x, y), its wire along y."""
    if isinstance(node, ElementNode):
        _draw_element(d, elm, node, x, y, values)
    elif isinstance(node, Series):
        for child in node.children:
            _draw(d, elm, child, x, y, values, sizes)
            x += sizes[id(child)].width
    else:
        _draw_parallel(d, elm, node, x, y, values, sizes)


def _draw_parallel(d: Any, elm: Any, node: Parallel, x: float, y: float,
                   values: Mapping[str, float] | None, sizes: dict[int, _Box]) -> None:
    """Branches stacked downwards between a left and a right bus; narrower ones centred."""
    box = sizes[id(node)]
    left, right = x + _LEAD, x + box.width - _LEAD
    _line(d, elm, (x, y), (left, y))
    _line(d, elm, (right, y), (x + box.width, y))
    yk = y
    for k, child in enumerate(node.children):
        cb = sizes[id(child)]
        if k:
            yk -= sizes[id(node.children[k - 1])].down + _GAP + cb.up
        start = left + (right - left - cb.width) / 2
        _line(d, elm, (left, yk), (start, yk))
        _draw(d, elm, child, start, yk, values, sizes)
        _line(d, elm, (start + cb.width, yk), (right, yk))
    _line(d, elm, (left, y), (left, yk))
    _line(d, elm, (right, y), (right, yk))


def _values_by_name(circuit: Circuit, values: Any) -> dict[str, float] | None:
    if values is None:
        return None
    if isinstance(values, Mapping):
        return {str(k): float(v) for k, v in values.items()}
    seq = list(values) if isinstance(values, Sequence) or hasattr(values, "__len__") else None
    if seq is None or len(seq) != circuit.n_params:
        raise DiagramError(
            f"values for circuit {circuit.text!r} must be a mapping of parameter names or "
            f"{circuit.n_params} numbers in its parameter order"
        )
    return dict(zip(circuit.parameter_names, (float(v) for v in seq), strict=True))


def draw_circuit(circuit: Circuit | str, values: Any = None) -> CircuitDiagram:
    """Draw a circuit (series left to right, parallel branches stacked) as SVG.

    Parameters
    ----------
    circuit
        A :class:`eisfit.Circuit` or a circuit string (``"R0-p(R1,CPE1)-CPE2"``).
    values
        Optional parameter values: a mapping of parameter names (``R1``, ``CPE1_0``) to values
        in their units, or one number per parameter in the circuit's order; each element is
        then labelled with its values under its name.

    Returns
    -------
    CircuitDiagram
        ``.svg`` holds the SVG; it shows itself in a notebook and ``.save(path)`` writes it.

    Raises
    ------
    DiagramError
        schemdraw is not installed (``pip install 'eisfit[diagram]'``), or ``values`` does not
        match the circuit.
    """
    c = circuit if isinstance(circuit, Circuit) else Circuit(circuit)
    named = _values_by_name(c, values)
    schemdraw, elm = _schemdraw()
    sizes: dict[int, _Box] = {}
    box = _measure(c.tree, named, sizes)
    d = schemdraw.Drawing(canvas="svg", show=False)
    d.config(fontsize=12)
    d.add(elm.Dot(open=True).at((0, 0)))
    _draw(d, elm, c.tree, 0.0, 0.0, named, sizes)
    d.add(elm.Dot(open=True).at((box.width, 0)))
    svg = d.get_imagedata("svg")
    return CircuitDiagram(str(c), svg.decode("utf-8") if isinstance(svg, bytes) else str(svg))
