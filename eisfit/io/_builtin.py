"""Imports every built-in reader module so that each registers itself."""

from eisfit.io import (  # noqa: F401
    autolab,
    biologic_mpr,
    biologic_mpt,
    chi,
    gamry,
    generic,
    ivium,
    lcr,
    novocontrol,
    palmsens,
    par,
    relaxis,
    zahner,
    zahner_text,
    zplot,
)
