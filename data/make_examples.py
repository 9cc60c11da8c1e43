"""Write the example spectra in data/ from known parameters (run: python data/make_examples.py).

``data/README.md`` describes each set and the truth it was made from (``data/truth.json``).

Every file is synthetic: made by eisfit's own circuit evaluator from the parameters below, with
0.5 % Gaussian noise proportional to |Z| and a fixed seed. They are examples, not measurements.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from eisfit.model.circuit import Circuit
from eisfit.model.synthetic import add_noise, arc_q, frequencies

HERE = Path(__file__).resolve().parent
K_B = 8.617333262e-5  # eV/K

# LATP-like pellet: 1.0 mm thick, 10 mm electrodes; total conductivity 1.12e-4 S/cm at 30 °C.
THICKNESS_CM = 0.10
AREA_CM2 = np.pi * 0.5**2
CELL_CONSTANT = THICKNESS_CM / AREA_CM2  # 1/cm
SIGMA_TOTAL_30C = 1.12e-4  # S/cm
BULK_FRACTION_30C = 0.35  # share of the total resistance at 30 °C
EA_BULK, EA_GB = 0.30, 0.42  # eV, Arrhenius in sigma*T
C_BULK, C_GB = 4e-12, 1.5e-9  # F
N_BULK, N_GB, Q_EL, N_EL = 0.92, 0.85, 2e-6, 0.85
TEMPERATURES_C = [-40, -30, -20, -10, 0, 10, 20, 30]


def _resistance(r30: float, ea: float, t_k: float) -> float:
    """R(T) for sigma*T = A exp(-Ea/kT), pinned to r30 at 30 °C."""
    t30 = 303.15
    return r30 * (t_k / t30) * np.exp(ea / K_B * (1 / t_k - 1 / t30))


def write_table(path: Path, f: np.ndarray, z: np.ndarray, header: str) -> None:
    lines = [f"# {line}" for line in header.splitlines()]
    lines.append("freq/Hz,Re(Z)/Ohm,-Im(Z)/Ohm")
    lines += [f"{fi:.6e},{zi.real:.6e},{-zi.imag:.6e}" for fi, zi in zip(f, z, strict=True)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def latp_series(rng: np.random.Generator) -> dict:
    r_total_30 = CELL_CONSTANT / SIGMA_TOTAL_30C
    rb30, rgb30 = BULK_FRACTION_30C * r_total_30, (1 - BULK_FRACTION_30C) * r_total_30
    circuit = Circuit("R0-p(R1,CPE1)-p(R2,CPE2)-CPE3")
    f = frequencies(7e6, 0.1, 10)
    truth = {}
    for t_c in TEMPERATURES_C:
        t_k = t_c + 273.15
        rb, rgb = _resistance(rb30, EA_BULK, t_k), _resistance(rgb30, EA_GB, t_k)
        p = [1.5, rb, arc_q(rb, C_BULK, N_BULK), N_BULK, rgb, arc_q(rgb, C_GB, N_GB), N_GB,
             Q_EL, N_EL]
        z = add_noise(circuit.impedance(f, p), 0.005, rng)
        name = f"LATP_{t_c}C.csv"
        write_table(
            HERE / "latp_pellet" / name, f, z,
            f"eisfit example: synthetic LATP-like pellet at {t_c} degC (see data/README.md)",
        )
        truth[name] = {
            "temperature_C": t_c,
            "series_ohm": 1.5,
            "bulk_ohm": rb,
            "grain_boundary_ohm": rgb,
            "bulk_apex_Hz": 1 / (2 * np.pi * rb * C_BULK),
            "grain_boundary_apex_Hz": 1 / (2 * np.pi * rgb * C_GB),
        }
    return truth


def full_cell(rng: np.random.Generator) -> dict:
    # Li | sulfide SSE | LFP, 1 cm^2: electrolyte ~100, Li|SSE ~220, cathode|SSE ~255 Ohm cm^2.
    circuit = Circuit("R0-p(R1,CPE1)-p(R2,CPE2)-p(R3,CPE3)-Wo1")
    f = frequencies(7e6, 0.1, 10)
    r_el, f_el, n_el = 100.0, 2.0e6, 0.95
    r_an, f_an, n_an = 220.0, 2.2e3, 0.85
    r_ca, f_ca, n_ca = 255.0, 320.0, 0.85
    c = {k: 1 / (2 * np.pi * fr * r) for k, (r, fr) in
         {"el": (r_el, f_el), "an": (r_an, f_an), "ca": (r_ca, f_ca)}.items()}
    p = [2.0, r_el, arc_q(r_el, c["el"], n_el), n_el, r_an, arc_q(r_an, c["an"], n_an), n_an,
         r_ca, arc_q(r_ca, c["ca"], n_ca), n_ca, 60.0, 20.0]
    z = add_noise(circuit.impedance(f, p), 0.005, rng)
    write_table(HERE / "full_cell" / "Li_SSE_LFP_25C.csv", f, z,
                "eisfit example: synthetic Li|SSE|LFP full cell, 1 cm2 (see data/README.md)")
    return {"Li_SSE_LFP_25C.csv": {"series_ohm": 2.0, "electrolyte_ohm": r_el,
                                   "anode_interface_ohm": r_an, "cathode_interface_ohm": r_ca,
                                   "diffusion_ohm": 60.0, "diffusion_tau_s": 20.0}}


# Li6PS5Cl-like thick pellet, after a published pellet: conductance 16.62 mS at
# 30 °C, Ea 0.416 eV (ln(sigma*T)), 1.83 Ohm of cables and cell hardware. 1.2 mm thick with
# 10 mm electrodes, that is 2.54 mS/cm at 30 °C. Its bulk and grain-boundary arcs relax near
# 300 MHz, far above the 7 MHz window: the spectrum is the high-frequency intercept and the
# blocking-electrode spike.
SULFIDE_THICKNESS_CM = 0.12
SULFIDE_CONDUCTANCE_30C = 16.62e-3  # S
SULFIDE_EA = 0.416  # eV, Arrhenius in sigma*T
SULFIDE_C, SULFIDE_N = 8e-12, 0.95  # F: electrolyte (bulk and grain boundary together)
SULFIDE_Q_EL, SULFIDE_N_EL = 4e-6, 0.88  # blocking electrodes (S s^n)
SULFIDE_LEADS_OHM = 1.83  # cables and cell hardware
SULFIDE_TEMPERATURES_C = [30, 50, 70, 100]
SULFIDE_SEED = 20261123  # its own generator: the LATP and full-cell files stay as they were


def sulfide_series(rng: np.random.Generator) -> dict:
    r30 = 1 / SULFIDE_CONDUCTANCE_30C
    circuit = Circuit("R0-p(R1,CPE1)-CPE2")
    f = frequencies(7e6, 0.1, 10)
    truth = {}
    for t_c in SULFIDE_TEMPERATURES_C:
        t_k = t_c + 273.15
        r = _resistance(r30, SULFIDE_EA, t_k)
        p = [SULFIDE_LEADS_OHM, r, arc_q(r, SULFIDE_C, SULFIDE_N), SULFIDE_N,
             SULFIDE_Q_EL, SULFIDE_N_EL]
        z = add_noise(circuit.impedance(f, p), 0.005, rng)
        name = f"LPSCl_{t_c}C.csv"
        write_table(
            HERE / "sulfide_pellet" / name, f, z,
            f"eisfit example: synthetic Li6PS5Cl-like pellet at {t_c} degC (see data/README.md)",
        )
        truth[name] = {
            "temperature_C": t_c,
            "series_ohm": SULFIDE_LEADS_OHM,
            "electrolyte_ohm": r,
            "conductance_S": 1 / r,
            "conductivity_S_per_cm": SULFIDE_THICKNESS_CM / AREA_CM2 / r,
            "electrolyte_apex_Hz": 1 / (2 * np.pi * r * SULFIDE_C),
        }
    return truth


def main() -> None:
    rng = np.random.default_rng(20261122)
    truth = {"latp_pellet": latp_series(rng), "full_cell": full_cell(rng),
             "geometry": {"thickness": "1.0 mm", "diameter": "10 mm"},
             "Ea_eV": {"bulk": EA_BULK, "grain_boundary": EA_GB, "form": "ln(sigma*T)"}}
    (HERE / "sulfide_pellet").mkdir(exist_ok=True)
    truth["sulfide_pellet"] = {
        "spectra": sulfide_series(np.random.default_rng(SULFIDE_SEED)),
        "geometry": {"thickness": "1.2 mm", "diameter": "10 mm"},
        "external_resistance_ohm": SULFIDE_LEADS_OHM,
        "Ea_eV": SULFIDE_EA,
        "form": "ln(sigma*T)",
    }
    (HERE / "truth.json").write_text(json.dumps(truth, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
