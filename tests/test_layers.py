"""The package's layering contract (pyproject's ``[tool.importlinter]``, docs/architecture.md):
each layer imports only the ones below it, the shared records import no layer, and no module
imports itself back through others. import-linter checks it in .ci/run; these tests check it
again, show that the check does catch a violation, and pin the order the docs describe."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
#: The layers from the top, as docs/architecture.md draws them.
LAYERS = ["cli", "show", "series", "fitting", "analysis", "kernels", "model", "io"]


def _config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("eisfit", exclude_type_checking_imports=True, cache_dir=None)


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Every set of modules that import each other, directly or not (Tarjan's strongly
    connected components with more than one module)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.find_modules_directly_imported_by(v):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_the_contract_names_the_documented_layers_in_order():
    contracts = {c["type"]: c for c in _config()["contracts"]}
    assert contracts["layers"]["layers"] == [f"eisfit.{name}" for name in LAYERS]
    assert contracts["forbidden"]["forbidden_modules"] == [f"eisfit.{n}" for n in LAYERS]
    assert contracts["acyclic_siblings"]["ancestors"] == ["eisfit"]
    architecture = (ROOT / "docs" / "architecture.md").read_text()
    for name in LAYERS:
        assert f"`{name}/`" in architecture, name


def test_every_module_is_in_a_layer_or_a_shared_record(graph):
    shared = set(next(c for c in _config()["contracts"]
                      if c["type"] == "forbidden")["source_modules"])
    for module in graph.modules:
        parts = module.split(".")
        if len(parts) == 1:
            continue
        assert parts[1] in LAYERS or module in shared, (
            f"{module} is neither in a layer nor a shared record: add it to one")


def test_lint_imports_keeps_every_contract():
    proc = subprocess.run(
        [sys.executable, "-c", "from importlinter.cli import lint_imports_command; "
         "lint_imports_command()", "--no-cache"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "0 broken" in proc.stdout


def test_no_layer_imports_a_layer_above_it(graph):
    illegal = graph.find_illegal_dependencies_for_layers(
        layers=[f"eisfit.{name}" for name in LAYERS], containers=set())
    assert not illegal, sorted((d.importer, d.imported) for d in illegal)


def test_no_import_cycles(graph):
    assert _cycles(graph) == []


def test_the_checks_catch_an_upward_import_and_a_cycle():
    """The checks are not vacuous: one import from the fit records up to the plots breaks the
    layers, and one from the engine back to the fit entry closes a cycle."""
    broken = grimp.build_graph("eisfit", exclude_type_checking_imports=True, cache_dir=None)
    broken.add_import(importer="eisfit.io.spectrum", imported="eisfit.show.plot")
    illegal = broken.find_illegal_dependencies_for_layers(
        layers=[f"eisfit.{name}" for name in LAYERS], containers=set())
    assert {(d.importer, d.imported) for d in illegal} == {("eisfit.io", "eisfit.show")}
    cyclic = grimp.build_graph("eisfit", exclude_type_checking_imports=True, cache_dir=None)
    cyclic.add_import(importer="eisfit.fitting.engine", imported="eisfit.fitting.single")
    assert any({"eisfit.fitting.engine", "eisfit.fitting.single"} <= set(c)
               for c in _cycles(cyclic))
