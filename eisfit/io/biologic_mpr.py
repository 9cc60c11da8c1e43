"""BioLogic EC-Lab binary files (``.mpr``), read through galvani.

galvani is GPL-3.0 and an optional extra (``pip install eisfit[mpr]``); it is imported only
when an ``.mpr`` file is read and used as a library. Its column names are EC-Lab's, so the
columns go through the same normaliser as ``.mpt`` files; a file that stores only ``|Z|`` and
the phase (Modulo Bat) is converted from those.
"""

from __future__ import annotations

import warnings
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np

from ..exceptions import ReaderError, UnsupportedFormatError
from ..spectrum import Spectrum
from ._text import read_bytes
from .normalise import add_note, spectra_from_columns
from .registry import register

MAGIC = b"BIO-LOGIC MODULAR FILE"


@register("biologic-mpr", extensions=(".mpr",), description="BioLogic EC-Lab binary (.mpr)")
class BiologicMpr:
    """BioLogic EC-Lab binary file (``.mpr``), via the optional galvani package."""

    @staticmethod
    def sniff(head: bytes, path: Path) -> float:
        if head.startswith(MAGIC):
            return 0.95
        if path.suffix.lower() == ".mpr":
            return 0.3
        return 0.0

    @staticmethod
    def read(path: Path) -> list[Spectrum]:
        data = read_bytes(path, expected="a BioLogic .mpr file")
        if not data.startswith(MAGIC):
            kind = "text" if b"\x00" not in data[:4096] else "binary data"
            raise ReaderError(
                path,
                f"expected a BioLogic .mpr file starting with {MAGIC.decode()!r}, found {kind}"
                + (
                    " (an EC-Lab ASCII file? read it with format='biologic-mpt')"
                    if data.lstrip(b"\xef\xbb\xbf").upper().startswith(b"EC-LAB ASCII FILE")
                    else ""
                ),
                offset=0,
            )
        try:
            from galvani import BioLogic
        except ImportError:
            raise UnsupportedFormatError(
                path,
                "reading .mpr files needs the optional galvani package: "
                "pip install 'eisfit[mpr]' (or export the file as .mpt from EC-Lab)",
            ) from None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                mpr = BioLogic.MPRfile(str(path))
        except NotImplementedError as exc:
            raise ReaderError(
                path,
                f"galvani cannot read this .mpr ({' '.join(str(exc).split())}); "
                "export it as .mpt from EC-Lab",
            ) from None
        except Exception as exc:
            raise ReaderError(
                path,
                f"damaged or unsupported .mpr ({type(exc).__name__}: "
                f"{' '.join(str(exc).split())}); export it as .mpt from EC-Lab",
            ) from None
        arr = getattr(mpr, "data", None)
        if arr is None or arr.dtype.names is None:
            raise ReaderError(path, "the .mpr file has no data module")
        if arr.shape[0] == 0:
            raise ReaderError(path, "the .mpr data module holds 0 points (measurement empty)")
        names = list(arr.dtype.names)
        if "freq/Hz" not in names:
            raise ReaderError(
                path, f"no 'freq/Hz' column in the .mpr data (columns: {names[:8]}...): "
                "not an impedance measurement"
            )
        cols = {n: np.asarray(arr[n], dtype=float) for n in names if arr[n].dtype.kind in "fiub"}
        meta: dict[str, Any] = {"format": "biologic-mpr", "source": str(path)}
        ts = getattr(mpr, "timestamp", None)
        sd = getattr(mpr, "startdate", None)
        if isinstance(ts, datetime):
            meta["start_time"] = ts.isoformat()
        elif isinstance(sd, date):
            meta["start_time"] = sd.isoformat()
        version = getattr(mpr, "version", None)
        if version is not None:
            meta["data_module_version"] = int(version)
        extra = None
        loops = getattr(mpr, "loop_index", None)
        if loops is not None:
            starts = np.asarray(loops, dtype=int)
            starts = starts[(starts >= 0) & (starts < arr.shape[0])]
            if starts.size > 1:
                extra = np.zeros(arr.shape[0])
                for k, a in enumerate(np.unique(starts)):
                    extra[a:] = k
        if "Re(Z)/Ohm" not in cols:
            add_note(meta, "the .mpr stores |Z| and phase only")
        return spectra_from_columns(path, cols, list(cols), meta, extra_groups=extra)
