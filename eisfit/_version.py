"""The version of eisfit (one place: the package, saved fits and reports read it)."""

__version__ = "0.1.0"
