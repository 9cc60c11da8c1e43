"""Plain text for a terminal: tables that fit its width (rich), long lines wrapped.

Used by the text reports the command line prints (:meth:`eisfit.Series.report`). Nothing here
writes colour or control codes: the text is the same on a terminal, in a pipe and in a file.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence

__all__ = ["terminal_width", "table_lines", "wrap_lines", "cell"]

#: Width of a table printed without a width: wide enough that no cell is wrapped.
_UNLIMITED = 10_000


def terminal_width() -> int:
    """Characters per line of the terminal: ``COLUMNS`` when set, else the terminal's, else 80."""
    from rich.console import Console

    return int(Console(file=io.StringIO(), legacy_windows=False).width)


def cell(value: float | None, error: float | None = None) -> str:
    """A table cell for ``value ± error`` (:func:`eisfit.format.value_error`): ``-`` for no
    value, ``not determined`` when the value is not finite or its error exceeds it."""
    from eisfit.format import NOT_DETERMINED, determined, value_error

    if value is None:
        return "-"
    if not determined(value, error):
        return NOT_DETERMINED
    return value_error(value, error)


def table_lines(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    width: int | None = None,
    indent: int = 4,
) -> list[str]:
    """A table as lines of text that fit ``width`` characters, indented by ``indent`` spaces.

    The first column (labels) is left-aligned, the others right-aligned; a cell too wide for
    its share of the width wraps onto a second line of its row (rich's layout), so no line is
    wider than ``width``.

    Parameters
    ----------
    headers
        Column headings.
    rows
        One sequence of cell texts per row, as long as ``headers``.
    width
        Characters per line; None: as wide as the cells need.
    indent
        Spaces before each line (counted in ``width``).

    Returns
    -------
    list of str
        The lines, without trailing spaces.
    """
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1),
                  collapse_padding=True)
    for k, h in enumerate(headers):
        # a column of single words (temperatures, chi2) never wraps; labels and "a ± b" wrap
        # at their spaces, words folded only when a column is narrower than its longest word
        whole = k > 0 and not any(" " in str(row[k]) for row in rows)
        table.add_column(Text(h), justify="left" if k == 0 else "right", overflow="fold",
                         no_wrap=whole)
    for row in rows:
        table.add_row(*(Text(str(c)) for c in row))  # Text: a '[' in a file name is no markup
    avail = _UNLIMITED if width is None else max(int(width) - indent, 20)
    out = io.StringIO()
    console = Console(
        file=out, width=avail, color_system=None, force_terminal=False, force_jupyter=False,
        force_interactive=False, highlight=False, emoji=False, legacy_windows=False,
    )
    console.print(table)
    pad = " " * indent
    return [pad + line.rstrip() for line in out.getvalue().splitlines() if line.strip()]


def wrap_lines(lines: Sequence[str], width: int) -> list[str]:
    """Each line longer than ``width`` wrapped at spaces; shorter lines as they are.

    The continuation of a ``- `` item lines up with the item's text; that of any other line is
    indented four spaces more than the line.
    """
    out: list[str] = []
    for line in lines:
        if len(line) <= width:
            out.append(line)
            continue
        lead = len(line) - len(line.lstrip(" "))
        extra = 2 if line.lstrip(" ").startswith("- ") else 4
        out.extend(
            textwrap.wrap(
                line, width=width, subsequent_indent=" " * min(lead + extra, width // 2),
                break_on_hyphens=False, drop_whitespace=True,
            )
            or [line[:width]]
        )
    return out
