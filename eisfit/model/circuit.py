"""Equivalent circuits: a parser for impedance.py's circuit strings and a vectorised evaluator.

Grammar (whitespace ignored)::

    circuit  := series
    series   := term ("-" term)*
    term     := "p" "(" series ("," series)+ ")" | element
    element  := SYMBOL [0-9_A-Za-z]*      e.g. R0, CPE1, Wo1, R_bulk

The element type is the registered symbol the name starts with (longest match, so ``CPE1`` is
a CPE and ``Wo1`` a Wo). Parameters are named as impedance.py names them: ``R0`` for a
one-parameter element, ``CPE1_0`` and ``CPE1_1`` for a two-parameter one, in the order the
elements appear in the string. A circuit string holds at most :data:`MAX_LENGTH` characters
and nests ``p(...)`` at most :data:`MAX_DEPTH` deep.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from eisfit.exceptions import ArgumentError, CircuitSyntaxError
from eisfit.model import elements as _el

#: Deepest nesting of ``p(...)`` accepted; real cells need two or three levels.
MAX_DEPTH = 32
#: Longest circuit string accepted, in characters.
MAX_LENGTH = 10_000

_T = TypeVar("_T")


# --------------------------------------------------------------------------- tree
@dataclass(frozen=True)
class ElementNode:
    """One element of a circuit, e.g. ``CPE1``.

    Attributes
    ----------
    name
        The name as typed (``CPE1``).
    element
        The registered element.
    start
        Index of its first parameter in the circuit's parameter vector.
    position
        Character position in the circuit string.
    """

    name: str
    element: _el.Element
    start: int
    position: int

    @property
    def param_names(self) -> list[str]:
        """impedance.py-style parameter names."""
        n = self.element.n_params
        return [self.name] if n == 1 else [f"{self.name}_{i}" for i in range(n)]

    @property
    def indices(self) -> range:
        """Indices of this element's parameters in the circuit parameter vector."""
        return range(self.start, self.start + self.element.n_params)

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Series:
    """Elements or sub-circuits in series."""

    children: tuple

    def __str__(self) -> str:
        return "-".join(str(c) for c in self.children)


@dataclass(frozen=True)
class Parallel:
    """Elements or sub-circuits in parallel (``p(A,B,...)``)."""

    children: tuple

    @functools.cached_property
    def rq_arc(self) -> tuple[ElementNode, ElementNode] | None:
        """The (R, CPE) of a ``p(R,CPE)`` arc (in either order), else None; evaluated in one
        fused expression."""
        if len(self.children) != 2:
            return None
        a, b = self.children
        if not (isinstance(a, ElementNode) and isinstance(b, ElementNode)):
            return None
        if a.element.name == "CPE":
            a, b = b, a
        if a.element.name == "R" and b.element.name == "CPE":
            return a, b
        return None

    def __str__(self) -> str:
        return "p(" + ",".join(str(c) for c in self.children) + ")"


Node = ElementNode | Series | Parallel


# --------------------------------------------------------------------------- parser
class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.n_params = 0
        self.names: dict[str, int] = {}
        self.elements: list[ElementNode] = []
        self.depth = 0  # p(...) levels open
        # an element's symbol is at most this long: the longest-match scan stays linear
        self.longest_symbol = max(map(len, _el.ELEMENTS))

    def error(self, message: str, position: int | None = None) -> CircuitSyntaxError:
        return CircuitSyntaxError(self.text, self.pos if position is None else position, message)

    def skip(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def peek(self) -> str:
        self.skip()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def expect(self, ch: str, what: str) -> None:
        got = self.peek()
        if got != ch:
            found = repr(got) if got else "the end of the string"
            raise self.error(f"expected {what}, found {found}")
        self.pos += 1

    def parse(self) -> Node:
        if len(self.text) > MAX_LENGTH:
            raise CircuitSyntaxError(
                self.text,
                MAX_LENGTH,
                f"the circuit string is {len(self.text)} characters long; at most "
                f"{MAX_LENGTH} are accepted",
            )
        if not self.text.strip():
            raise CircuitSyntaxError(self.text, 0, "the circuit string is empty")
        node = self.series()
        if self.peek():
            ch = self.peek()
            hint = " (a ',' only separates branches inside p(...))" if ch == "," else ""
            if ch == ")":
                hint = " (no matching 'p(')"
            raise self.error(f"unexpected {ch!r}{hint}")
        return node

    def series(self) -> Node:
        items = [self.term()]
        while self.peek() == "-":
            self.pos += 1
            items.append(self.term())
        return items[0] if len(items) == 1 else Series(tuple(items))

    def term(self) -> Node:
        ch = self.peek()
        if not ch:
            raise self.error("expected an element or p(...), found the end of the string")
        if not ch.isalpha():
            raise self.error(f"expected an element or p(...), found {ch!r}")
        start = self.pos
        end = start
        while end < len(self.text) and (self.text[end].isalnum() or self.text[end] == "_"):
            end += 1
        word = self.text[start:end]
        if word == "p":
            self.pos = end
            if self.peek() != "(":
                raise self.error("expected '(' after 'p'")
            if self.depth >= MAX_DEPTH:
                raise self.error(f"p(...) nested more than {MAX_DEPTH} deep", start)
            self.depth += 1
            self.pos += 1
            branches = [self.series()]
            while self.peek() == ",":
                self.pos += 1
                branches.append(self.series())
            self.expect(")", "',' or ')' to close p(...)")
            if len(branches) < 2:
                raise self.error("p(...) needs at least two branches separated by ','", start)
            self.depth -= 1
            return Parallel(tuple(branches))
        self.pos = end
        return self.element(word, start)

    def element(self, word: str, start: int) -> ElementNode:
        symbol = ""
        for i in range(min(len(word), self.longest_symbol), 0, -1):
            head = word[:i]
            if head in _el.ELEMENTS and (i == len(word) or not word[i].islower()):
                symbol = head
                break
        shown = repr(word) if len(word) <= 40 else f"{word[:37]!r}..."
        if not symbol:
            known = ", ".join(sorted(_el.ELEMENTS))
            raise self.error(f"unknown element {shown}; known elements: {known}", start)
        if word in self.names:
            raise self.error(
                f"element name {shown} is used twice (first at character "
                f"{self.names[word] + 1}); give each element its own number",
                start,
            )
        self.names[word] = start
        node = ElementNode(word, _el.ELEMENTS[symbol], self.n_params, start)
        self.n_params += node.element.n_params
        self.elements.append(node)
        return node


# --------------------------------------------------------------------------- evaluation
def _eval(node: Node, p: np.ndarray, w: np.ndarray) -> np.ndarray:
    if isinstance(node, ElementNode):
        return node.element.impedance(p[node.start : node.start + node.element.n_params], w)
    if isinstance(node, Series):
        z = _eval(node.children[0], p, w)
        for c in node.children[1:]:
            z = z + _eval(c, p, w)
        return z
    pair = node.rq_arc
    if pair is not None:
        # p(R, CPE) = R / (1 + R Q (jω)^n): one division instead of three
        r, q = p[pair[0].start], p[pair[1].start]
        return r / (1.0 + (r * q) * _el.jw_power(p[pair[1].start + 1], np.log(w)))
    y = 1.0 / _eval(node.children[0], p, w)
    for c in node.children[1:]:
        y = y + 1.0 / _eval(c, p, w)
    return 1.0 / y


def _rq_grad(
    pair: tuple[ElementNode, ElementNode],
    p: np.ndarray,
    log_w: np.ndarray,
    jac: np.ndarray,
    rows: list[int],
) -> np.ndarray:
    """Z of a ``p(R, CPE)`` arc and its derivatives, written into ``jac``.

    With a = (jω)^n and Z = R / (1 + R Q a): dZ/dR = (Z/R)², dZ/dQ = −Z² a and
    dZ/dn = −Z² Q a ln(jω).
    """
    i_r, i_q = pair[0].start, pair[1].start
    r, q = p[i_r], p[i_q]
    a = _el.jw_power(p[i_q + 1], log_w)
    z = r / (1.0 + (r * q) * a)
    z2 = z * z
    jac[i_r] = z2 / (r * r)
    dq = -z2 * a
    jac[i_q] = dq
    jac[i_q + 1] = dq * q * (log_w + 0.5j * np.pi)
    rows.extend((i_r, i_q, i_q + 1))
    return z


def _eval_grad(
    node: Node,
    p: np.ndarray,
    w: np.ndarray,
    jac: np.ndarray,
    rows: list[int],
    log_w: np.ndarray | None = None,
) -> np.ndarray:
    """Return Z of ``node`` and write dZ/dp into ``jac`` rows of its parameters."""
    if log_w is None:
        log_w = np.log(w)
    if isinstance(node, Parallel):
        pair = node.rq_arc
        if pair is not None:
            return _rq_grad(pair, p, log_w, jac, rows)
    if isinstance(node, ElementNode):
        sl = p[node.start : node.start + node.element.n_params]
        z = node.element.impedance(sl, w)
        for k, g in enumerate(node.element.gradient(sl, w, z)):
            jac[node.start + k] = g
            rows.append(node.start + k)
        return z
    if isinstance(node, Series):
        z = None
        for c in node.children:
            zc = _eval_grad(c, p, w, jac, rows, log_w)
            z = zc if z is None else z + zc
        return z
    parts = []
    y = None
    for c in node.children:
        sub: list[int] = []
        zc = _eval_grad(c, p, w, jac, sub, log_w)
        parts.append((zc, sub))
        y = 1.0 / zc if y is None else y + 1.0 / zc
    z = 1.0 / y
    for zc, sub in parts:
        factor = (z / zc) ** 2
        for r in sub:
            jac[r] *= factor
        rows.extend(sub)
    return z


def _walk(node: Node) -> Iterator[Node]:
    yield node
    if not isinstance(node, ElementNode):
        for c in node.children:
            yield from _walk(c)


def _elements_of(node: Node) -> Iterator[ElementNode]:
    """The elements of ``node``, left to right."""
    return (n for n in _walk(node) if isinstance(n, ElementNode))


# --------------------------------------------------------------------------- arc structure
@dataclass(frozen=True)
class ArcTerm:
    """A relaxation in series at the top level: p(R, CPE), p(R, C), K, Zarc (or HN), TLMr.

    Attributes
    ----------
    kind
        ``"rq"``, ``"rc"``, ``"k"``, ``"zarc"`` or ``"tlm"``.
    indices
        Its parameters' indices in the circuit's parameter vector.
    names
        Its elements' names (``("R1", "CPE1")``).
    """

    kind: str
    indices: tuple[int, ...]
    names: tuple[str, ...]


@dataclass(frozen=True)
class Structure:
    """The top-level series parts of a circuit, sorted by what they do.

    Attributes
    ----------
    series_r
        Parameter indices of the resistors in series.
    inductors
        Parameter indices of the inductors (``L``, ``La``) in series.
    tails
        Capacitors and CPEs in series (a blocking spike).
    diffusion
        Diffusion elements in series (``W``, ``Wo``, ``Ws``, ``G``, ``Gs``).
    arcs
        The relaxations (:class:`ArcTerm`), high to low frequency as written.
    other
        Parameter indices of everything else.
    """

    series_r: tuple[int, ...] = ()
    inductors: tuple[int, ...] = ()
    tails: tuple[ElementNode, ...] = ()
    diffusion: tuple[ElementNode, ...] = ()
    arcs: tuple[ArcTerm, ...] = ()
    other: tuple[int, ...] = ()


#: Which list of :class:`Structure` an element in series at the top level belongs to.
_SERIES_ROLE = {
    "R": "series_r",
    "L": "inductors",
    "La": "inductors",
    "C": "tails",
    "CPE": "tails",
    **dict.fromkeys(("W", "Wo", "Ws", "G", "Gs"), "diffusion"),
}


def _as_arc(node: Node) -> ArcTerm | None:
    """``node`` as an :class:`ArcTerm`, or None when it is not one."""
    if isinstance(node, ElementNode):
        # an HN arc starts as a Zarc; TLMr's R_ct‖CPE is the arc, R_ion starts equal to R_ct
        kind = {"K": "k", "Zarc": "zarc", "HN": "zarc", "TLMr": "tlm"}.get(node.element.name)
        return None if kind is None else ArcTerm(kind, tuple(node.indices), (node.name,))
    if not isinstance(node, Parallel):
        return None
    if node.rq_arc is not None:
        r, q = node.rq_arc
        return ArcTerm("rq", (r.start, q.start, q.start + 1), (r.name, q.name))
    if len(node.children) != 2 or not all(isinstance(e, ElementNode) for e in node.children):
        return None
    r, c = node.children
    if r.element.name != "R":
        r, c = c, r
    if r.element.name == "R" and c.element.name == "C":
        return ArcTerm("rc", (r.start, c.start), (r.name, c.name))
    return None


def _structure(top_level: Sequence[Node]) -> Structure:
    """Classify the top-level series parts ``top_level`` of a circuit."""
    parts: dict[str, list] = {f: [] for f in ("series_r", "inductors", "tails", "diffusion",
                                              "arcs", "other")}
    for node in top_level:
        arc = _as_arc(node)
        if arc is not None:
            parts["arcs"].append(arc)
        elif isinstance(node, ElementNode):
            role = _SERIES_ROLE.get(node.element.name, "other")
            if role in ("tails", "diffusion"):
                parts[role].append(node)
            elif role == "other":
                parts[role].extend(node.indices)
            else:
                parts[role].append(node.start)
        else:
            for e in _elements_of(node):
                parts["other"].extend(e.indices)
    return Structure(**{k: tuple(v) for k, v in parts.items()})


# --------------------------------------------------------------------------- Circuit
class Circuit:
    """An equivalent circuit parsed from impedance.py's string syntax.

    Parameters
    ----------
    text
        The circuit string, e.g. ``"R0-p(R1,CPE1)-p(R2,CPE2)-CPE3"``.

    Raises
    ------
    CircuitSyntaxError
        With the character position of the mistake.

    Examples
    --------
    >>> c = Circuit("R0-p(R1,C1)")
    >>> c.parameter_names
    ['R0', 'R1', 'C1']
    >>> z = c.impedance([1.0, 1e3], [10.0, 100.0, 1e-6])
    >>> z.shape
    (2,)

    A Circuit is a value: its attributes cannot be set after parsing, it is equal to (and
    hashes as) any Circuit of the same string (whitespace aside), and what is derived from it
    (:attr:`structure`, :attr:`log_scaled`, what the layers above derive through
    :meth:`derived`) is computed once per object.

    >>> c.text = "R0"
    Traceback (most recent call last):
    ...
    AttributeError: a Circuit cannot be changed (text); parse another
    """

    __slots__ = ("tree", "text", "elements", "n_params", "_names", "_key", "_derived")

    tree: Node
    text: str
    elements: tuple[ElementNode, ...]
    n_params: int

    def __init__(self, text: str) -> None:
        if not isinstance(text, str):
            raise ArgumentError(f"a circuit must be given as a string, got {type(text).__name__}")
        parser = _Parser(text)
        tree = parser.parse()
        elements = tuple(parser.elements)
        # the tree does not change: the names are spelled once, not on every fit
        names = tuple(n for e in elements for n in e.param_names)
        for slot, value in (("tree", tree), ("text", text), ("elements", elements),
                            ("n_params", parser.n_params), ("_names", names),
                            ("_key", str(tree)), ("_derived", {})):
            object.__setattr__(self, slot, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"a Circuit cannot be changed ({name}); parse another")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"a Circuit cannot be changed ({name}); parse another")

    # ---------------------------------------------------------------- derived facts
    def derived(self, key: Hashable, compute: Callable[[], _T]) -> _T:
        """What ``compute()`` returns, computed the first time ``key`` is asked for and kept
        with this Circuit from then on.

        The layers above the model keep what they derive from a circuit alone here (the
        compiled program, the fit's bounds), so that it lives and dies with the Circuit and
        no cache keyed by circuit text is needed. The value is shared: read it, do not change
        it. ``key`` names the fact and what else it depends on.

        Parameters
        ----------
        key
            Names the fact, e.g. ``"fitting.bounds"``, led by the layer that derives it so
            that keys do not collide.
        compute
            Makes the fact from nothing but this Circuit (and what ``key`` names).

        Returns
        -------
        object
            The fact, the same object every time.
        """
        try:
            return self._derived[key]
        except KeyError:
            return self._derived.setdefault(key, compute())

    @property
    def structure(self) -> Structure:
        """The top-level series parts sorted by what they do (series resistors, inductors,
        spike, diffusion, arcs), computed once."""
        return self.derived("structure", lambda: _structure(self.top_level()))

    @property
    def log_scaled(self) -> np.ndarray:
        """Which parameters are fitted in log space (the ``positive`` ones), read-only,
        computed once."""
        return self.derived("log_scaled", self._log_scaled)

    def _log_scaled(self) -> np.ndarray:
        log = np.array([k == "positive" for k in self.parameter_kinds])
        log.setflags(write=False)
        return log

    # ---------------------------------------------------------------- description
    @property
    def parameter_names(self) -> list[str]:
        """Parameter names in impedance.py's order (``R0``, ``CPE1_0``, ``CPE1_1``...)."""
        return list(self._names)

    @property
    def parameter_units(self) -> list[str]:
        """Unit of each parameter, same order as :attr:`parameter_names`."""
        return [u for e in self.elements for u in e.element.units]

    @property
    def parameter_kinds(self) -> list[str]:
        """``positive`` or ``exponent`` for each parameter."""
        return [k for e in self.elements for k in e.element.kinds]

    @property
    def default_bounds(self) -> list[tuple[float, float]]:
        """Default (lower, upper) bound for each parameter."""
        return [b for e in self.elements for b in e.element.bounds]

    def element(self, name: str) -> ElementNode:
        """The element called ``name`` (``R1``, ``CPE1``...)."""
        for e in self.elements:
            if e.name == name:
                return e
        raise KeyError(f"circuit {self.text!r} has no element {name!r}")

    def nodes(self) -> Iterator[Node]:
        """Every node of the tree, depth first."""
        return _walk(self.tree)

    def top_level(self) -> tuple[Node, ...]:
        """The components in series at the top level."""
        return self.tree.children if isinstance(self.tree, Series) else (self.tree,)

    def __str__(self) -> str:
        return str(self.tree)

    def __repr__(self) -> str:
        return f"Circuit({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Circuit) and self._key == other._key

    def __hash__(self) -> int:
        return hash(self._key)

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        # pickled as its text; unpickling shares one parsed Circuit per text, so a batch of
        # results from worker processes does not carry a parsed tree each, and its derived
        # facts are computed once for all of them
        return _shared_circuit, (self.text,)

    # ---------------------------------------------------------------- evaluation
    def _check(self, params: Sequence[float]) -> np.ndarray:
        p = np.asarray(params, dtype=np.float64).ravel()
        if p.size != self.n_params:
            raise ValueError(
                f"circuit {self.text!r} takes {self.n_params} parameters "
                f"({', '.join(self.parameter_names)}), got {p.size}"
            )
        return p

    def impedance(self, frequency: Sequence[float], params: Sequence[float]) -> np.ndarray:
        """Impedance Z (Ohm, complex) at ``frequency`` (Hz) for ``params`` in impedance.py order."""
        p = self._check(params)
        w = 2 * np.pi * np.asarray(frequency, dtype=np.float64)
        z = _eval(self.tree, p, w)
        return np.broadcast_to(z, w.shape).astype(np.complex128)

    def impedance_and_jacobian(
        self, frequency: Sequence[float], params: Sequence[float]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Impedance and its derivatives.

        Returns
        -------
        z : ndarray, complex, shape (n_freq,)
            Impedance in Ohm.
        jac : ndarray, complex, shape (n_params, n_freq)
            dZ/dp for each parameter p (impedance.py order).
        """
        p = self._check(params)
        w = 2 * np.pi * np.asarray(frequency, dtype=np.float64)
        jac = np.empty((self.n_params, w.size), dtype=np.complex128)
        z = _eval_grad(self.tree, p, w, jac, [])
        return np.broadcast_to(z, w.shape).astype(np.complex128), jac

    # ---------------------------------------------------------------- many parameter sets
    def _check_batch(self, params: np.ndarray) -> np.ndarray:
        p = np.asarray(params, dtype=np.float64)
        if p.ndim != 2 or p.shape[1] != self.n_params:
            raise ValueError(
                f"circuit {self.text!r} takes parameter sets of {self.n_params} "
                f"({', '.join(self.parameter_names)}), got an array of shape {p.shape}"
            )
        return p.T[:, :, None]

    def impedance_batch(self, frequency: Sequence[float], params: np.ndarray) -> np.ndarray:
        """Impedance for K parameter sets at once: ``params`` (K, n_params) -> Z (K, n_freq).

        ``frequency`` is (n_freq,), shared by every set, or (K, n_freq), one row per set.
        """
        p = self._check_batch(params)
        w = 2 * np.pi * np.asarray(frequency, dtype=np.float64)
        z = _eval(self.tree, p, w)
        return np.broadcast_to(z, (p.shape[1], w.shape[-1]))

    def impedance_and_jacobian_batch(
        self, frequency: Sequence[float], params: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Impedance (K, n_freq) and dZ/dp (n_params, K, n_freq) for K parameter sets.

        ``frequency`` is (n_freq,), shared by every set, or (K, n_freq), one row per set.
        """
        p = self._check_batch(params)
        w = 2 * np.pi * np.asarray(frequency, dtype=np.float64)
        n_freq = w.shape[-1]
        jac = np.empty((self.n_params, p.shape[1], n_freq), dtype=np.complex128)
        z = _eval_grad(self.tree, p, w, jac, [])
        return np.broadcast_to(z, (p.shape[1], n_freq)), jac


@functools.lru_cache(maxsize=256)
def _shared_circuit(text: str) -> Circuit:
    """The Circuit of ``text``, parsed once per process (used when unpickling).

    The one table of parsed circuits kept by text: results unpickled from worker processes
    share one Circuit, and so its derived facts (:meth:`Circuit.derived`). Defining or removing
    an element empties it (:func:`eisfit.model.elements.on_change`), so a circuit unpickled
    afterwards is parsed with the registry as it is then.
    """
    return Circuit(text)


_el.on_change(_shared_circuit.cache_clear)
