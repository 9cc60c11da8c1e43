"""What users see: plots (matplotlib), the HTML report, circuit diagrams, tables for papers and
the Jupyter displays of spectra and fits (:mod:`eisfit.show.hooks`).

Matplotlib is imported inside the functions that draw, so importing this package stays cheap.
"""
