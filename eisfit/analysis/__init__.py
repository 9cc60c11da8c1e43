"""Functions of spectra and numbers: Kramers–Kronig, the DRT, Z-HIT, Arrhenius regression and
transference numbers, brick-layer microstructure, fixture correction and DC polarisation.

Imports only :mod:`eisfit.kernels`, :mod:`eisfit.model`, :mod:`eisfit.io` and the shared records.
"""
