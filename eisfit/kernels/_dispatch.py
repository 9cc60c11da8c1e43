"""The element dispatch of the compiled interpreter (:mod:`eisfit.kernels._kernels`), generated from
the element registry (numba, the optional ``fast`` extra).

Each element is written once, in :mod:`eisfit.model.elements` (or by :func:`eisfit.define_element`);
here its functions are compiled as they are, and the dispatch on the element code
(:data:`eisfit.kernels.compiled.ELEMENT_CODES`) is generated from the registry:

* :func:`dispatch_source` writes a module whose ``element_values``, a compiled C callback of
  :data:`SIGNATURE`, has one branch per element of a table: it loads the element's parameters
  into a tuple and calls the element's compiled impedance and gradient at every frequency (a
  user element without a gradient gets central differences of its compiled impedance, the
  steps of :func:`eisfit.fitting.user_elements.numeric_gradient`);
* :func:`element_values` makes that module for the elements a circuit holds (its program's
  codes, :func:`program_codes`), writes it into the cache folder (:func:`cache_folder`) named
  by a fingerprint of its source and of the elements' source, imports it and returns its
  callback. numba caches the callback on disk beside it, and a changed element gives another
  fingerprint, so a cached callback never runs another element's code.

The interpreter and the Levenberg–Marquardt of :mod:`eisfit.kernels._kernels` take the callback as
an
argument (a function pointer), so they are compiled once whatever elements are registered;
a circuit's first fit compiles the dispatch of its own elements alone (about 1.5 s for the
elements of the ``full-cell`` circuit, 0.3 s for ``R0-Cd1`` with a user element ``Cd``), once
per environment.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import os
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import CodeType
from typing import Any

import numpy as np
from numba import types
from numba.extending import overload, register_jitable

from eisfit.kernels import compiled
from eisfit.model import elements
from eisfit.model.elements import STEP

#: The element dispatch: ``element_values(code, p, s, omega, zs, sp, gz) -> n`` writes Z of
#: the element ``code`` (parameters ``p[s:s + n]``) at every ``omega`` (rad/s) into ``zs[sp]``
#: and dZ/dp into the rows ``gz[s:s + n]``, and returns n (0 for an unknown code).
SIGNATURE = types.int64(
    types.int64,
    types.float64[::1],
    types.int64,
    types.float64[::1],
    types.complex128[:, ::1],
    types.int64,
    types.complex128[:, ::1],
)

#: How element functions are compiled: numpy's error model (a division by zero gives inf or
#: NaN), inlined into the dispatch where it calls them (faster to compile, and to run, than
#: separate functions), no cache of their own (the dispatch's cached code holds them).
ELEMENT_OPTIONS = "nogil=True, error_model='numpy', inline='always'"

_LOADED: dict[tuple, tuple[Any, tuple]] = {}


def _register_helpers() -> None:
    """Compile the helpers of :mod:`eisfit.model.elements` where element functions call them."""
    overload(elements.tanh)(lambda x: _finite_tanh)
    overload(elements.select)(lambda condition, a, b: _branch)
    for helper in elements.KERNEL_HELPERS:
        if helper not in (elements.tanh, elements.select):
            register_jitable(helper)


def _finite_tanh(x):  # pragma: no cover - compiled
    # numba's complex tanh overflows to NaN beyond |Re x| ≈ 355; it is ±1 there
    if x.real > 20.0:
        return 1.0 + 0j
    if x.real < -20.0:
        return -1.0 + 0j
    return np.tanh(x)


def _branch(condition, a, b):  # pragma: no cover - compiled
    return a if condition else b


_register_helpers()


def element_table(codes: Iterable[int] | None = None) -> list[tuple[int, elements.Element]]:
    """The elements the interpreter evaluates, with their codes: those of
    :data:`eisfit.kernels.compiled.ELEMENT_CODES` still registered with a compiled form (of them,
    those
    of ``codes`` alone, when given)."""
    reg = elements.ELEMENTS
    wanted = None if codes is None else set(codes)
    return sorted(
        (code, reg[name])
        for name, code in compiled.ELEMENT_CODES.items()
        if name in reg and reg[name].compiled and (wanted is None or code in wanted)
    )


def _tuple(items: Sequence[str]) -> str:
    """The source of a tuple of ``items``."""
    return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"


def _numeric_gradient_source(k: int, e: elements.Element) -> list[str]:
    """A compiled gradient of element code ``k`` by central differences of its impedance,
    with the steps of :func:`eisfit.fitting.user_elements.numeric_gradient`."""
    n = e.n_params
    lines = ["", "", f"@numba.njit({ELEMENT_OPTIONS})", f"def _G{k}(q, w, z):"]
    for j, kind in enumerate(e.kinds):
        if kind == "positive":
            grow, shrink = float(np.exp(STEP)), float(np.exp(-STEP))
            lines += [f"    h = q[{j}] * {grow!r}", f"    l = q[{j}] * {shrink!r}"]
        else:
            lines += [f"    h = q[{j}] + {STEP!r} * max(abs(q[{j}]), 1.0)",
                      f"    l = q[{j}] - {STEP!r} * max(abs(q[{j}]), 1.0)"]
        up = _tuple(["h" if i == j else f"q[{i}]" for i in range(n)])
        down = _tuple(["l" if i == j else f"q[{i}]" for i in range(n)])
        lines.append(f"    d{j} = (_Z{k}({up}, w) - _Z{k}({down}, w)) / (h - l)")
    lines.append(f"    return {_tuple([f'd{j}' for j in range(n)])}")
    return lines


def _branch_source(k: int, e: elements.Element) -> list[str]:
    """The branch of ``element_values`` for the element of code ``k``: its parameters loaded
    once, its impedance and gradient at every frequency."""
    n = e.n_params
    lines = [
        f"    if code == {k}:  # {e.name}",
        f"        q = {_tuple([f'p[s + {j}]' if j else 'p[s]' for j in range(n)])}",
        "        for i in range(n_freq):",
        f"            z = _Z{k}(q, omega[i])",
        f"            g = _G{k}(q, omega[i], z)",
        "            zs[sp, i] = z",
    ]
    lines += [f"            gz[{f's + {j}' if j else 's'}, i] = g[{j}]" for j in range(n)]
    return [*lines, f"        return {n}"]


def dispatch_source(table: Sequence[tuple[int, elements.Element]]) -> str:
    """The source of the module of the dispatch for ``table`` (code, element): the compiled
    functions of each element (``_Z<code>``, ``_G<code>``) and ``element_values``."""
    lines = [
        '"""The element dispatch of eisfit\'s compiled interpreter, generated by '
        'eisfit.kernels._dispatch',
        'from the element registry; not to be edited (a changed registry gives another file)."""',
        "",
        "import numba",
        "",
        "from eisfit.kernels._dispatch import SIGNATURE",
        "from eisfit.model.elements import ELEMENTS as _ELEMENTS",
        "",
    ]
    for k, e in table:
        lines.append(f"_Z{k} = numba.njit({ELEMENT_OPTIONS})(_ELEMENTS[{e.name!r}].impedance)")
        if not e.numeric_gradient:
            lines.append(f"_G{k} = numba.njit({ELEMENT_OPTIONS})(_ELEMENTS[{e.name!r}].gradient)")
    for k, e in table:
        if e.numeric_gradient:
            lines += _numeric_gradient_source(k, e)
    lines += [
        "",
        "",
        "@numba.cfunc(SIGNATURE, cache=True, error_model='numpy')",
        "def element_values(code, p, s, omega, zs, sp, gz):",
        "    n_freq = omega.size",
    ]
    for k, e in table:
        lines += _branch_source(k, e)
    lines.append("    return 0")
    return "\n".join(lines) + "\n"


def _code_digest(code: CodeType) -> bytes:
    """A digest of a code object that is the same in every process (no addresses)."""
    h = hashlib.sha256(code.co_code)
    for c in code.co_consts:
        h.update(_code_digest(c) if isinstance(c, CodeType) else repr(c).encode())
    h.update(repr((code.co_names, code.co_varnames)).encode())
    return h.digest()


def _source_of(fn: Any) -> bytes:
    """What an element function's compiled form depends on: the text of the file that defines
    it (with the helpers it calls) and its own code."""
    parts = [_code_digest(fn.__code__)] if hasattr(fn, "__code__") else [repr(fn).encode()]
    try:
        path = inspect.getsourcefile(fn)
        if path is not None and os.path.isfile(path):
            parts.append(Path(path).read_bytes())
    except (TypeError, OSError):
        pass
    return b"\0".join(parts)


def fingerprint(source: str, table: Sequence[tuple[int, elements.Element]]) -> str:
    """A name for the generated module: a digest of its ``source`` and of every element's
    functions (:func:`_source_of`)."""
    h = hashlib.sha256(source.encode())
    for _, e in table:
        h.update(e.name.encode() + _source_of(e.impedance))
        if not e.numeric_gradient:
            h.update(_source_of(e.gradient))
    return h.hexdigest()[:20]


def cache_folder() -> Path:
    """The folder of the generated modules (numba caches their compiled code beside them):
    ``$NUMBA_CACHE_DIR/eisfit``, else ``__pycache__/kernels`` in the package, else
    ``$XDG_CACHE_HOME/eisfit`` (``~/.cache/eisfit``), the first writable one.

    Raises
    ------
    OSError
        None of them is writable.
    """
    candidates = []
    if os.environ.get("NUMBA_CACHE_DIR"):
        candidates.append(Path(os.environ["NUMBA_CACHE_DIR"]) / "eisfit")
    candidates.append(Path(__file__).parent / "__pycache__" / "kernels")
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    candidates.append(Path(xdg) / "eisfit")
    for folder in candidates:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(folder, os.W_OK):
            return folder
    raise OSError(f"no writable folder for the compiled kernels (tried {candidates[0]})")


def _write_once(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` unless it holds it already: a file numba's cache depends on
    keeps its time stamp, and of processes racing to write it the first one's stays."""
    try:
        held: bool | None = path.read_text(encoding="utf-8") == text
    except FileNotFoundError:
        held = None
    except (OSError, UnicodeDecodeError):
        held = False
    if held:
        return
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".eisfit-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        if held is None:
            try:
                os.link(tmp, path)  # only where no file is yet
                return
            except FileExistsError:
                return  # another process wrote it: the same text, its name says
            except OSError:
                pass  # no hard links on this file system
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _generate(table: Sequence[tuple[int, elements.Element]]) -> Any:
    """The callback of the generated module for ``table``: written if new, imported, compiled
    by numba (or loaded from its cache)."""
    source = dispatch_source(table)
    name = f"eisfit_elements_{fingerprint(source, table)}"
    module = sys.modules.get(name)
    if module is None:
        path = cache_folder() / f"{name}.py"
        _write_once(path, source)
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:  # pragma: no cover - a .py path always loads
            raise ImportError(f"cannot load the generated element dispatch {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
    return module.element_values


def element_values(codes: Sequence[int] | None = None) -> Any:
    """The element dispatch of the elements of ``codes`` (by default every element of
    :func:`element_table`), a compiled callback of :data:`SIGNATURE`: generated, written and
    compiled on the first call with these elements (or loaded from numba's cache), the same
    object afterwards.

    The compiled engine asks for the elements of the circuit it fits, so the first fit of a
    circuit compiles only what that circuit holds, and each set of elements has its own module
    in the cache folder.
    """
    table = element_table(codes)
    key = tuple((code, id(e)) for code, e in table)
    done = _LOADED.get(key)
    if done is None:
        # the elements are kept with their callback, so their ids are not reused
        done = _LOADED[key] = (_generate(table), tuple(e for _, e in table))
    return done[0]


def program_codes(ops: np.ndarray) -> tuple[int, ...]:
    """The element codes a circuit program (:func:`eisfit.kernels.compiled.program`) uses."""
    return tuple(sorted(set(ops[ops[:, 0] == 0, 1].tolist())))
