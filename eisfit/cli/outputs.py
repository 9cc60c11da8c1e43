"""The files a command writes: plot names and formats, and the batch folder's outputs."""

from __future__ import annotations

import re
from pathlib import Path

from eisfit.exceptions import EisfitError

#: Files ``--out DIR`` always writes (plus ``nyquist_<file>.png`` per spectrum).
OUTPUT_FILES = ("results.csv", "results.json", "arrhenius.png")
#: Every output of ``--out DIR``: without ``--force`` a folder holding one is refused; with it,
#: those a run does not write (an earlier run's plots of other spectra) are removed.
OUTPUT_PATTERNS = (*OUTPUT_FILES, "report.html", "nyquist_*.png", "drt_tracks.png", "fit_*.json")
#: The HTML report shows every spectrum's plots; past this many it is not written by ``batch``
#: (``eisfit.show.report.write_report`` makes one for any selection).
REPORT_MAX_SPECTRA = 100



def safe_name(label: str) -> str:
    stem = re.sub(r"\.[A-Za-z][A-Za-z0-9]*(?=\[|$)", "", label)
    return re.sub(r"[^A-Za-z0-9._+-]+", "_", stem).strip("._") or "spectrum"


def plot_names(labels: list[str]) -> list[str]:
    names, used = [], set(OUTPUT_FILES)
    for lab in labels:
        base = f"nyquist_{safe_name(lab)}"
        name, k = f"{base}.png", 2
        while name in used:
            name, k = f"{base}_{k}.png", k + 1
        used.add(name)
        names.append(name)
    return names



#: Formats matplotlib lists that need more than it has (the pgf backend runs LaTeX).
_PLOT_FORMATS_REFUSED = ("pgf",)


def plot_file_format(path: str) -> str:
    """The file format of ``--plot PATH`` from its suffix (png without one), before any fit.

    Raises
    ------
    EisfitError
        An empty name, or a suffix matplotlib cannot write.
    """
    if path.strip() == "":
        raise EisfitError("--plot: an empty file name; give a file such as fit.png")
    suffix = Path(path).suffix[1:].lower()
    if not suffix:
        return "png"
    from matplotlib.backend_bases import FigureCanvasBase

    formats = [f for f in FigureCanvasBase.get_supported_filetypes()
               if f not in _PLOT_FORMATS_REFUSED]
    if suffix not in formats:
        raise EisfitError(f"--plot {path}: cannot write a '.{suffix}' plot; expected one of "
                          + ", ".join("." + f for f in sorted(formats)))
    return suffix
