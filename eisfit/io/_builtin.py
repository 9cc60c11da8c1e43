"""Imports every built-in reader module so that each registers itself."""

from . import biologic_mpr, biologic_mpt, gamry, generic, zplot  # noqa: F401
