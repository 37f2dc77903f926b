"""Where the simulator's walking-speed error comes from: the sensor chain or the step-length model.

The simulator-truth grid (``bench/sim_grid.py``) reports the pelvis walking speed against the simulator's true speed.
That error has two parts, and this bench separates them per step for the grid's four speed cells (healthy walker,
60 s, no packet loss, seeds 0 and 1, steps between 8 and 52 s; walks and true excursions as in ``bench/sim_gaps.py``):

* **chain**: the pipeline's step length against the same Zijlstra pendulum (mobgap's K, the standing sensor height
  as the pendulum) applied to the simulated sensor's *true* vertical excursion between the same two ICs
  (``model.segment_pose``). What alignment, the double integration and its filters lose.
* **model**: that pendulum on the true excursion against the true step length (speed × step time). What the
  inverted pendulum with a population K says about the simulator's pelvis, which is a different model of walking
  (its vertical excursion is ``vertical_excursion_coeff · SL² / leg_length`` plus the sacral offset and tilt;
  ``sensors.sim._geometry``): model against model, neither is the truth about people.

*filter* is what the chain's drift removal should cost on its own: the vertical velocity is high-passed at
``SpatialConfig.velocity_highpass_hz`` (4th-order Butterworth, forward and backward, as mobgap's ``SlZijlstra``),
whose gain at the step frequency f is G = 1 / (1 + (f_c / f)^8) on a sinusoidal excursion; the step length goes
with √h, so the filter alone costs √G − 1 of it.

Usage::

    .venv/bin/python bench/sim_speed_budget.py [--markdown]      # 8 walks, about 10 s
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table
from sim_gaps import pelvis_walk, true_excursions_m

from pipeline.spatial import SpatialConfig, pendulum_step_length, step_table
from sensors.sim.gait_model import GaitModel, GaitProfile, get_profile
from sensors.sim.offline import standing_sensor_height_m

#: The grid's speed cells (``bench/sim_grid.py``): name, cadence (steps/min), speed (m/s); None = the profile's own.
CELLS: tuple[tuple[str, float | None, float | None], ...] = (
    ("very slow 80/0.5", 80.0, 0.5),
    ("slow 90/0.8", 90.0, 0.8),
    ("baseline", None, None),
    ("fast 125/1.7", 125.0, 1.7),
)
WINDOW_S = (8.0, 52.0)
HEADER = [
    "cell",
    "cadence spm",
    "true step m",
    "sensor excursion cm",
    "chain err %",
    "filter alone %",
    "model err %",
    "total err %",
    "steps",
]


@dataclasses.dataclass(frozen=True)
class Budget:
    """Per step of one cell (seeds pooled): the true step length, the true sensor excursion, the pendulum on it
    and the pipeline's step length, all in metres."""

    cadence_spm: float
    true_m: np.ndarray
    excursion_m: np.ndarray
    pendulum_m: np.ndarray
    measured_m: np.ndarray


def cell_profile(cadence_spm: float | None, speed_m_s: float | None) -> GaitProfile:
    profile = get_profile("healthy")
    if cadence_spm is None or speed_m_s is None:
        return profile
    return dataclasses.replace(profile, cadence_spm=cadence_spm, speed_m_s=speed_m_s)


def walk(profile: GaitProfile, seed: int, workdir: Path, duration_s: float = 60.0) -> Budget:
    """One pelvis-only walk: every step's truth, the pendulum on its true excursion and the pipeline's length."""
    model = GaitModel(profile, duration_s, seed=seed)
    aligned = pelvis_walk(model, workdir / f"{profile.cadence_spm:g}_{seed}", seed)
    pendulum = standing_sensor_height_m(model)
    steps = step_table(
        aligned.events,
        aligned.fs_hz,
        aligned.t_s.size,
        leg_length_m=profile.leg_length_m,
        pendulum_length_m=pendulum,
        pelvis=aligned.pelvis,
    )
    start = steps.t_s - steps.duration_s
    keep = np.isfinite(steps.duration_s) & (start > WINDOW_S[0]) & (steps.t_s < WINDOW_S[1])
    h = true_excursions_m(model, start[keep], steps.t_s[keep])
    true = profile.speed_m_s * steps.duration_s[keep]
    return Budget(
        profile.cadence_spm,
        true,
        h,
        pendulum_step_length(h, pendulum, SpatialConfig().zijlstra_k),
        steps.length_pelvis_m[keep],
    )


def pooled(parts: Sequence[Budget]) -> Budget:
    return Budget(
        parts[0].cadence_spm,
        *(
            np.concatenate([getattr(p, f) for p in parts])
            for f in ("true_m", "excursion_m", "pendulum_m", "measured_m")
        ),
    )


def filter_loss(cadence_spm: float) -> float:
    """√G − 1 of the drift high-pass at the step frequency (the module docstring)."""
    config = SpatialConfig()
    gain = 1.0 / (1.0 + (config.velocity_highpass_hz / (cadence_spm / 60.0)) ** (2 * config.filter_order))
    return float(np.sqrt(gain) - 1.0)


def row(name: str, budget: Budget) -> list[str]:
    """The table's row for one cell: medians over its steps, errors in % (the columns of :data:`HEADER`)."""
    ok = np.isfinite(budget.measured_m) & np.isfinite(budget.pendulum_m)
    true, pend, meas = budget.true_m[ok], budget.pendulum_m[ok], budget.measured_m[ok]

    def pct(x: np.ndarray) -> str:
        return f"{100.0 * float(np.median(x)):+.2f}"

    return [
        name,
        f"{budget.cadence_spm:.0f}",
        f"{np.median(true):.3f}",
        f"{100.0 * np.median(budget.excursion_m[ok]):.2f}",
        pct(meas / pend - 1.0),
        f"{100.0 * filter_loss(budget.cadence_spm):+.2f}",
        pct(pend / true - 1.0),
        pct(meas / true - 1.0),
        str(int(ok.sum())),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--markdown", action="store_true", help="print a markdown table instead")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, cadence, speed in CELLS:
            profile = cell_profile(cadence, speed)
            rows.append(row(name, pooled([walk(profile, seed, Path(tmp)) for seed in range(args.seeds)])))
    if args.markdown:
        print("| " + " | ".join(HEADER) + " |")
        print("|" + "---|" * len(HEADER))
        for r in rows:
            print("| " + " | ".join(r) + " |")
        return 0
    table = Table(title="Pelvis step length on the simulator: chain vs model (medians over steps)")
    for h in HEADER:
        table.add_column(h, justify="left" if h == "cell" else "right")
    for r in rows:
        table.add_row(*r)
    Console().print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
