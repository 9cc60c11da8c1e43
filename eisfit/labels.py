"""Labels that tell spectra apart, for tables, reports and plot titles.

:func:`short_labels` keeps the part of each file name that differs from the others (the common
start and end left out); :func:`spectrum_label` says which spectrum of a file holding several a
fit is (its index in the file, and the cycle or loop number the file gives it).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["short_labels", "spectrum_label", "spectrum_keys"]

#: ``name[3]``: the 4th spectrum of a file holding several (:func:`eisfit.fit_series` labels).
_INDEX = re.compile(r"\[\d+\]$")
#: Characters after which a name may be cut (word separators); ``-`` and ``.`` only when no
#: digit follows them (a sign, a decimal point or a date must stay whole).
_ALWAYS = "_ /\\,;()[]"
_UNLESS_DIGIT = "-.+"


def _cut_ok(name: str, p: int) -> bool:
    """Whether ``name`` may be cut between ``name[p - 1]`` and ``name[p]``."""
    if p <= 0 or p >= len(name):
        return True
    a, b = name[p - 1], name[p]
    if a in _ALWAYS or b in _ALWAYS:
        return True
    if a in _UNLESS_DIGIT and not b.isdigit():
        return True
    return b in _UNLESS_DIGIT and not (p + 1 < len(name) and name[p + 1].isdigit())


def _common_start(names: Sequence[str]) -> int:
    """Characters of the common start that may be left out: cut at a word boundary."""
    p = len(os.path.commonprefix(list(names)))
    while p > 0 and not all(_cut_ok(n, p) for n in names):
        p -= 1
    return p


def _common_end(names: Sequence[str], start: int) -> int:
    """Characters of the common end (after ``start``) that may be left out."""
    q = len(os.path.commonprefix([n[start:][::-1] for n in names]))
    while q > 0 and not all(_cut_ok(n, len(n) - q) for n in names):
        q -= 1
    return q


def short_labels(labels: Sequence[str]) -> tuple[list[str], str]:
    """The distinguishing part of each label, and a note saying what was left out.

    The start and the end that every file name shares are left out, cut at a word boundary
    (``_``, a space, ``-`` or ``.`` not before a digit), so a number, a sign or a date is never
    cut in two: ``LATP__1stTry__17.07.2015__LRC_0_  -17°C.txt`` among others of the same series
    reads ``17.07.2015__LRC_0_  -17°C``. A spectrum index ``[i]`` stays on its label. Labels
    are kept whole when there are fewer than two files, or when leaving out the shared parts
    would leave a label empty.

    Parameters
    ----------
    labels
        File names, each perhaps followed by ``[i]``.

    Returns
    -------
    (list of str, str)
        The labels to show, in the same order, and a one-line note naming the left-out start
        and end (empty when nothing was left out).
    """
    labels = [str(lab) for lab in labels]
    bases, tails = [], []
    for lab in labels:
        m = _INDEX.search(lab)
        cut = m.start() if m and m.start() > 0 else len(lab)
        bases.append(lab[:cut])
        tails.append(lab[cut:])
    distinct = list(dict.fromkeys(bases))
    if len(distinct) < 2:
        return labels, ""
    p = _common_start(distinct)
    q = _common_end(distinct, p)
    short = [b[p : len(b) - q].strip(" _") for b in bases]
    if not all(short) and p:  # one name is the others' start: leave out the end alone
        p = 0
        q = _common_end(distinct, p)
        short = [b[: len(b) - q].strip(" _") for b in bases]
    if (p == 0 and q == 0) or not all(short) or len(set(short)) < len(distinct):
        return labels, ""
    parts = []
    if p:
        parts.append(f"start {distinct[0][:p]!r}")
    if q:
        parts.append(f"end {distinct[0][len(distinct[0]) - q:]!r}")
    short, shared = _without_shared_words(short)
    if shared:
        parts.append("the words " + ", ".join(repr(w) for w in shared))
    note = "file names shown without their common " + ", ".join(parts[:-1])
    note += (" and " if len(parts) > 1 else "") + parts[-1]
    return [s + t for s, t in zip(short, tails, strict=True)], note


def _without_shared_words(names: Sequence[str]) -> tuple[list[str], list[str]]:
    """Names without the words (between ``_`` and spaces) that every one of them holds, the
    rest joined by a space, and those words; the names as they are when that would leave one
    empty or two alike."""
    words = [[w for w in re.split(r"[_\s]+", n) if w] for n in names]
    shared = [w for w in dict.fromkeys(words[0]) if all(w in ws for ws in words[1:])]
    if not shared:
        return list(names), []
    out = [" ".join(w for w in ws if w not in shared) for ws in words]
    if not all(out) or len(set(out)) < len(out):
        return list(names), []
    return out, shared


def _number(value: Any) -> int | float | None:
    """A cycle, loop or time from metadata as a plain number, or None."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    if x != x or x in (float("inf"), float("-inf")):
        return None
    return int(x) if x.is_integer() else x


def spectrum_keys(meta: Mapping[str, Any]) -> dict[str, Any]:
    """What tells a spectrum apart from the others of its file, as JSON keys.

    Parameters
    ----------
    meta
        A spectrum's metadata (:attr:`eisfit.Spectrum.meta`).

    Returns
    -------
    dict
        ``n_spectra`` (spectra in the file) when the file holds several, and ``cycle``,
        ``loop`` (numbers as the file writes them, e.g. EC-Lab's ``cycle number``/``z cycle``
        and its ``Loop n`` block) and ``time_s`` (seconds from the start of the experiment to
        the spectrum's first point) where the reader records them; empty for a single spectrum
        of a file with none of them.
    """
    out: dict[str, Any] = {}
    n = _number(meta.get("n_spectra"))
    if n is not None and n > 1:
        out["n_spectra"] = int(n)
    for key in ("cycle", "loop", "time_s"):
        v = _number(meta.get(key))
        if v is not None:
            out[key] = v
    return out


def spectrum_label(meta: Mapping[str, Any]) -> str | None:
    """Which spectrum of its file this is, in words; None for the only spectrum of a file.

    ``spectrum 3 (0-7), cycle 3``: the index in the file (as ``eisfit read`` and the JSON
    ``spectrum`` key number them, from 0), the range of indices, then the cycle or loop number
    and the time from the start of the experiment when the reader recorded them.

    Parameters
    ----------
    meta
        A spectrum's metadata (:attr:`eisfit.Spectrum.meta`).

    Returns
    -------
    str or None
    """
    keys = spectrum_keys(meta)
    if "n_spectra" not in keys:
        return None
    index = _number(meta.get("spectrum_index"))
    parts = [f"spectrum {index if index is not None else '?'} (0-{keys['n_spectra'] - 1})"]
    for key in ("cycle", "loop"):
        if key in keys:
            parts.append(f"{key} {keys[key]}")
    if "time_s" in keys:
        t = keys["time_s"]
        parts.append(f"t = {t:.0f} s" if abs(t) >= 100 else f"t = {t:.3g} s")
    return ", ".join(parts)
