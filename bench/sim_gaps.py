"""How many pelvis steps keep a length when BLE notifications are lost, and how good the bridged ones are.

Each cell simulates a healthy walker (:class:`sensors.sim.gait_model.GaitModel`, 60 s) and writes a pelvis-only
session with the simulator's link (notifications of 8 samples at 104 Hz, jittered host stamps, a given share of
notifications lost; :func:`sensors.sim.offline.write_simulated_session`). The pipeline's own
:func:`pipeline.spatial.step_table` then measures every step at the detected ICs with several values of
``SpatialConfig.max_bridged_gap_s``: 0 reproduces the old rule (any invalid sample costs the step its length), 0.12 s
is the default. The reference for each step is the same Zijlstra model applied to the simulator's true pelvis height
between the same two ICs (``model.segment_pose``), with the standing sensor height as the pendulum, so the error is
what the sensor chain and the gaps add, not the model's. Steps between 8 and 52 s (away from gait initiation and the
end of the record).

Columns: share of the steps with a length; error of all measured steps (mean ± SD, % of the reference); error of the
steps whose excursion spans a gap (those the rule bridged).

Usage::

    .venv/bin/python bench/sim_gaps.py             # 4 loss levels × 3 seeds, about 10 s
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from rich.console import Console

from pipeline.run import AlignedSession, load_aligned
from pipeline.spatial import SpatialConfig, pendulum_step_length, step_table
from sensors.sim.gait_model import GaitModel, get_profile
from sensors.sim.offline import LinkImperfections, standing_sensor_height_m, write_simulated_session

LOSSES = (0.02, 0.05, 0.10, 0.20)
TOLERANCES_S = (0.0, 0.06, 0.12, 0.24)
WINDOW_S = (8.0, 52.0)


@dataclass(frozen=True)
class CellSteps:
    """Per detected step of one simulated walk: the reference length and, per tolerance, the measured one."""

    reference_m: np.ndarray
    measured_m: dict[float, np.ndarray]
    across_gap: dict[float, np.ndarray]


def pelvis_walk(model: GaitModel, folder: Path, seed: int, loss: float = 0.0) -> AlignedSession:
    """``model``'s walk as a pelvis-only session with ``loss`` of the notifications lost, loaded and aligned."""
    session = write_simulated_session(
        folder, model, duration_s=model.duration_s, sites=("pelvis",), seed=seed, link=LinkImperfections(loss=loss)
    )
    return load_aligned(session)


def true_excursions_m(model: GaitModel, start_s: np.ndarray, end_s: np.ndarray) -> np.ndarray:
    """The simulated pelvis sensor's true vertical peak-to-peak over each ``[start_s, end_s)`` (m), at 500 Hz."""
    t = np.arange(float(np.min(start_s)) - 1.0, float(np.max(end_s)) + 1.0, 0.002)
    z = model.segment_pose("pelvis", t)[1][:, 2]
    a, b = np.searchsorted(t, start_s), np.searchsorted(t, end_s)
    return np.array([np.ptp(z[i:j]) for i, j in zip(a, b, strict=True)])


def simulate(loss: float, seed: int, workdir: Path, duration_s: float = 60.0) -> CellSteps:
    """One pelvis-only walk with ``loss``, its steps measured at every tolerance and their references."""
    model = GaitModel(get_profile("healthy"), duration_s, seed=seed)
    aligned = pelvis_walk(model, workdir / f"loss{loss}_seed{seed}", seed, loss)
    pendulum = standing_sensor_height_m(model)
    leg = model.profile.leg_length_m
    measured, across = {}, {}
    steps = None
    for tol in TOLERANCES_S:
        config = replace(SpatialConfig(), max_bridged_gap_s=tol)
        steps = step_table(
            aligned.events,
            aligned.fs_hz,
            aligned.t_s.size,
            leg_length_m=leg,
            pendulum_length_m=pendulum,
            pelvis=aligned.pelvis,
            config=config,
        )
        measured[tol], across[tol] = steps.length_pelvis_m, steps.across_gap
    assert steps is not None
    start = steps.t_s - steps.duration_s
    keep = np.isfinite(steps.duration_s) & (start > WINDOW_S[0]) & (steps.t_s < WINDOW_S[1])
    h = true_excursions_m(model, start[keep], steps.t_s[keep])
    reference = pendulum_step_length(h, pendulum, SpatialConfig().zijlstra_k)
    return CellSteps(reference, {k: v[keep] for k, v in measured.items()}, {k: v[keep] for k, v in across.items()})


def _pm(e: np.ndarray) -> str:
    return f"{e.mean():+.1f} ± {e.std():.1f}" if e.size else "n/a"


def rows(cells: dict[float, Sequence[CellSteps]]) -> list[list[str]]:
    """One row per loss level and tolerance, the seeds pooled."""
    out = []
    for loss, seeds in cells.items():
        ref = np.concatenate([c.reference_m for c in seeds])
        for tol in TOLERANCES_S:
            got = np.concatenate([c.measured_m[tol] for c in seeds])
            gap = np.concatenate([c.across_gap[tol] for c in seeds])
            ok = np.isfinite(got) & np.isfinite(ref)
            n_ok, n_ref = int(ok.sum()), int(np.isfinite(ref).sum())
            err = 100.0 * (got - ref) / ref
            out.append(
                [
                    f"{100 * loss:.0f} %",
                    f"{tol:.2f}" + (" (default)" if tol == SpatialConfig().max_bridged_gap_s else ""),
                    f"{n_ok} / {n_ref} ({100 * n_ok / max(n_ref, 1):.0f} %)",
                    _pm(err[ok]),
                    str(int((ok & gap).sum())),
                    _pm(err[ok & gap]),
                ]
            )
    return out


HEADER = (
    "notifications lost",
    "bridged gap ≤ s",
    "steps with a length",
    "error % (all)",
    "bridged steps",
    "error % (bridged)",
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--markdown", action="store_true", help="print a markdown table instead")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="imugait-gaps-") as tmp:
        cells = {loss: [simulate(loss, seed, Path(tmp)) for seed in range(args.seeds)] for loss in LOSSES}
    table = rows(cells)
    if args.markdown:
        print("| " + " | ".join(HEADER) + " |")
        print("|" + "---|" * len(HEADER))
        for r in table:
            print("| " + " | ".join(r) + " |")
        return 0
    from rich.table import Table

    out = Table(title=f"Pelvis steps under notification loss (healthy, 60 s, {args.seeds} seeds per level)")
    for h in HEADER:
        out.add_column(h, justify="right")
    for r in table:
        out.add_row(*r)
    Console(width=160).print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
