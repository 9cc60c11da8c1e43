"""The display functions of :mod:`eisfit.show` that spectra and fits call through
:mod:`eisfit.display`: registered when :mod:`eisfit` is imported.

Each imports its module on first use, so registering them loads neither matplotlib nor the
report code.
"""

from __future__ import annotations

from typing import Any

from eisfit.display import provide


def spectrum_html(spectrum: Any) -> str:
    """A spectrum's Jupyter display (:func:`eisfit.show.report.spectrum_html`)."""
    from eisfit.show.report import spectrum_html as html

    return html(spectrum)


def fit_figure_html(result: Any) -> str:
    """A fit's Nyquist and residual plot as an embedded image."""
    from eisfit.show.plot import fit_figure
    from eisfit.show.report import figure_img

    return figure_img(fit_figure(result), "fit", dpi=80)


def to_markdown(result: Any, geometry: Any = None) -> str:
    """A fit's tables in Markdown (:func:`eisfit.show.paper_tables.to_markdown`)."""
    from eisfit.show.paper_tables import to_markdown as markdown

    return markdown(result, geometry)


def to_latex(result: Any, geometry: Any = None, **kw: Any) -> str:
    """A fit's tables in LaTeX (:func:`eisfit.show.paper_tables.to_latex`)."""
    from eisfit.show.paper_tables import to_latex as latex

    return latex(result, geometry, **kw)


def draw_circuit(circuit: Any, values: Any = None) -> Any:
    """A circuit drawn with its values (:func:`eisfit.show.diagram.draw_circuit`)."""
    from eisfit.show.diagram import draw_circuit as draw

    return draw(circuit, values)


for _function in (spectrum_html, fit_figure_html, to_markdown, to_latex, draw_circuit):
    provide(_function.__name__, _function)
