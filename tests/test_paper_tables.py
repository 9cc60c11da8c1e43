"""Tables for papers (Markdown and LaTeX) and circuit diagrams (SVG by schemdraw).

The golden files in tests/data/ hold the tables of one fixed synthetic fit: a blocking cell
R0-p(R1,CPE1)-p(R2,CPE2)-CPE3 with R_b = 50 kOhm (C 5 pF), R_gb = 200 kOhm (C 2 nF), an
electrode CPE 3e-6 S s^n, 71 points 1 MHz-0.1 Hz, 0.5 % noise (seed 17), 1 mm x 10 mm pellet.
Regenerate them after a deliberate change of format with ``EISFIT_UPDATE_GOLDEN=1`` and read
the diff before committing it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import eisfit
from eisfit.model.synthetic import add_noise, arc_q, frequencies
from eisfit.show.paper_tables import latex_escape, siunitx_number, to_latex, to_markdown

DATA = Path(__file__).resolve().parent / "data"
CIRCUIT = "R0-p(R1,CPE1)-p(R2,CPE2)-CPE3"
TRUE = [12.0, 5.0e4, arc_q(5e4, 5e-12, 0.92), 0.92, 2.0e5, arc_q(2e5, 2e-9, 0.85), 0.85,
        3e-6, 0.88]


@pytest.fixture(scope="module")
def golden_fit():
    f = frequencies(1e6, 0.1, 10)
    z = add_noise(eisfit.Circuit(CIRCUIT).impedance(f, TRUE), 0.005, np.random.default_rng(17))
    return eisfit.fit(eisfit.Spectrum(f, z, meta={"source": "golden.csv"}), "blocking")


@pytest.fixture(scope="module")
def pellet():
    return eisfit.Geometry(thickness="1 mm", diameter="10 mm")


def _golden(name: str, text: str) -> str:
    path = DATA / name
    if os.environ.get("EISFIT_UPDATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    return path.read_text(encoding="utf-8")


# --------------------------------------------------------------------------- golden files
def test_markdown_matches_golden_file(golden_fit, pellet):
    text = golden_fit.to_markdown(pellet)
    assert text == to_markdown(golden_fit, pellet)
    assert text == _golden("paper_table.md", text)


def test_latex_matches_golden_file(golden_fit, pellet):
    text = golden_fit.to_latex(pellet, label="tab:fit")
    assert text == to_latex(golden_fit, pellet, label="tab:fit")
    assert text == _golden("paper_table.tex", text)


def test_tables_hold_the_known_truth(golden_fit, pellet):
    """The fitted values in the tables are those of the synthetic cell, within their errors,
    and the conductivity is L/(R A) of the bulk resistance."""
    md = golden_fit.to_markdown(pellet)
    assert "| `R1` | bulk | 50100 ± 400 | Ω |" in md  # true 50 kΩ
    assert "| bulk | 50100 ± 400 | (5.01 ± 0.08)×10⁻¹² |" in md  # true C_eff 5 pF
    sigma_bulk = 0.1 / (golden_fit.resistances["bulk"] * np.pi * 0.5**2)
    assert f"({sigma_bulk * 1e6:.3f}" in md
    # R0 (12 Ω under a 50 kΩ arc) is not determined: marked, with the note
    assert "| `R0` | series | 0 ± 330 † | Ω |" in md and "† not determined" in md
    assert "σ / (S/cm)" in md
    # without a geometry: no conductivity column; with an area alone: the ASR
    assert "σ" not in golden_fit.to_markdown()
    area_only = eisfit.Geometry(area="0.785 cm2")
    assert "ASR / Ω·cm²" in golden_fit.to_markdown(area_only)


# --------------------------------------------------------------------------- LaTeX
def test_latex_is_balanced_and_escaped(golden_fit, pellet):
    tex = to_latex(golden_fit, pellet, document=True)
    assert tex.count("{") == tex.count("}")
    for env in ("document", "table", "tabular"):
        assert tex.count(rf"\begin{{{env}}}") == tex.count(rf"\end{{{env}}}") >= 1
    assert r"\toprule" in tex and r"\bottomrule" in tex and r"\usepackage{siunitx}" in tex
    assert r"\texttt{CPE1\_0}" in tex and r"\num{1.81 \pm 0.11 e-11}" in tex
    assert r"\si{\ohm}" in tex and r"\si{\siemens\per\centi\metre}" in tex
    # no bare underscore outside math ($...$): every text one escaped
    assert "_" not in re.sub(r"\$[^$]*\$", "", tex.replace(r"\_", ""))


def test_latex_helpers():
    assert latex_escape("a_b & 50% #1 $x$ {y} ~^\\") == (
        r"a\_b \& 50\% \#1 \$x\$ \{y\} \textasciitilde{}\textasciicircum{}\textbackslash{}")
    assert siunitx_number("(1.81 ± 0.11)×10⁻¹¹") == r"\num{1.81 \pm 0.11 e-11}"
    assert siunitx_number("50100 ± 400") == r"\num{50100 \pm 400}"
    assert siunitx_number("1.5×10⁵") == r"\num{1.5e5}"
    assert siunitx_number("not determined") == "--"


def test_latex_compiles_with_pdflatex(golden_fit, pellet, tmp_path):
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex is not on PATH (not a CI requirement); the LaTeX is checked for "
                    "balanced braces and environments instead")
    tex = tmp_path / "table.tex"
    tex.write_text(to_latex(golden_fit, pellet, document=True), encoding="utf-8")
    run = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", tex.name],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    if run.returncode != 0 and "siunitx.sty' not found" in run.stdout:
        pytest.skip("pdflatex is installed without siunitx")
    assert run.returncode == 0, run.stdout[-2000:]
    assert (tmp_path / "table.pdf").stat().st_size > 1000
    assert "Overfull" not in (tmp_path / "table.log").read_text(errors="replace")


# --------------------------------------------------------------------------- diagrams
def _svg_texts(svg: str) -> list[str]:
    root = ET.fromstring(svg)  # parses as XML
    return ["".join(t.itertext()).strip() for t in root.iter("{http://www.w3.org/2000/svg}text")]


def test_diagram_labels_every_element_once():
    pytest.importorskip("schemdraw")
    d = eisfit.draw_circuit(CIRCUIT)
    texts = _svg_texts(d.svg)
    for name in ("R0", "R1", "CPE1", "R2", "CPE2", "CPE3"):
        assert texts.count(name) == 1, (name, texts)
    assert len(texts) == 6
    assert d.circuit == CIRCUIT and d._repr_svg_() == d.svg


def test_fit_diagram_carries_the_values(golden_fit, tmp_path):
    pytest.importorskip("schemdraw")
    d = golden_fit.diagram()
    texts = _svg_texts(d.svg)
    assert texts.count("R1") == 1 and any("Ω" in t for t in texts)
    assert any("n = 0.915" in t for t in texts)  # the bulk CPE exponent
    path = d.save(tmp_path / "circuit.svg")
    ET.parse(path)
    with pytest.raises(eisfit.EisfitError, match="already exists"):
        d.save(path)


def test_deeply_nested_circuit_draws():
    pytest.importorskip("schemdraw")
    deep = "R0-p(R1,p(C1,R2-p(CPE2,R3-p(Wo1,R4-p(C4,R5)))))-p(L1,G1-Ws1,K1)-W1"
    d = eisfit.draw_circuit(deep)
    texts = _svg_texts(d.svg)
    names = eisfit.Circuit(deep).elements
    assert sorted(texts) == sorted(e.name for e in names)
    # boxes for the elements without a symbol, symbols for the rest: the SVG has paths/rects
    assert d.svg.count("<path") >= len(names)


def test_diagram_value_mistakes_and_missing_schemdraw(monkeypatch):
    pytest.importorskip("schemdraw")
    with pytest.raises(eisfit.EisfitError, match="9 numbers"):
        eisfit.draw_circuit(CIRCUIT, [1.0, 2.0])
    import builtins

    real_import = builtins.__import__

    def no_schemdraw(name, *args, **kw):
        if name.startswith("schemdraw"):
            raise ImportError(name)
        return real_import(name, *args, **kw)

    monkeypatch.setattr(builtins, "__import__", no_schemdraw)
    with pytest.raises(eisfit.EisfitError, match=r"pip install 'eisfit\[diagram\]'") as exc:
        eisfit.draw_circuit(CIRCUIT)
    assert "\n" not in str(exc.value)


def test_repr_html_shows_the_diagram(golden_fit):
    pytest.importorskip("schemdraw")
    html = golden_fit._repr_html_()
    assert html.count("<svg") >= 1 and ">CPE3<" in html.replace("</tspan>", "<")
