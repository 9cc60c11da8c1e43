"""Many spectra with a variable (temperature, pressure, thickness, time): inputs, the series
fit, its physics checks, neighbour refits and the joint fit.

Imports only :mod:`eisfit.fitting` and the layers below it.
"""
