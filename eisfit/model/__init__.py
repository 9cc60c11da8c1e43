"""The model of a cell: elements (one registry), the circuit parser and its value object,
named circuits with their roles, capacitance ranges per role and the cell geometry.

Imports only :mod:`eisfit.io` and the shared records below it. Public names are in
:mod:`eisfit`; this package exports nothing itself.
"""
