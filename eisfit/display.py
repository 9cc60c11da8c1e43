"""How the records show themselves without importing what draws them.

:class:`~eisfit.io.spectrum.Spectrum` and :class:`~eisfit.fitting.result.FitResult` sit in the
layers below the plots, reports, tables and diagrams of :mod:`eisfit.show`, yet display
themselves in Jupyter and offer ``to_latex``, ``diagram`` and the like. The show layer registers
those functions here by name when :mod:`eisfit` is imported (:mod:`eisfit.show.hooks`), and the
records look them up by name: the dependency points down, as the layers require.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eisfit.exceptions import EisfitError

_PROVIDED: dict[str, Callable[..., Any]] = {}


def provide(name: str, function: Callable[..., Any]) -> None:
    """Register ``function`` as the display function called ``name`` (replacing any before)."""
    _PROVIDED[name] = function


def shown(name: str) -> Callable[..., Any]:
    """The display function registered as ``name``.

    Raises
    ------
    EisfitError
        Nothing is registered under that name (:mod:`eisfit.show.hooks` was not imported).
    """
    try:
        return _PROVIDED[name]
    except KeyError:
        raise EisfitError(
            f"no display function {name!r}: import eisfit (which loads eisfit.show.hooks)"
        ) from None
