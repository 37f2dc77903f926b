"""Pelvis-only events on real walks with more BLE notifications lost: contacts, sides and distance against loss.

Data: the IPOL lower-back set, read and scored as in ``bench/validate_ipol.py`` (110 walks of 19 healthy people,
foot-sensor reference; see there). Its recordings already lost some packets, which the import masks as recorded.
On top of that, the rows are cut into notifications of :data:`sensors.devices.movesense.SAMPLES_PER_MESSAGE` (8)
and each is dropped with probability ``loss`` (``thigh_packet_loss.drop_packets``: the first is kept, so the session
keeps its time origin). Every walk is processed as recorded, then under each loss level and seed.

Columns, per loss level, pooled over walks and seeds: ICs paired (±0.2 s) with the same walk's ICs as recorded,
over those, and their shift (ms, mean ± SD, 95th percentile of |shift|, share > 20 ms); against the reference, F1 at
±0.25 s, mean absolute timing error and laterality of the ±0.5 s pairs (``pipeline.evaluation``, pooled); the walk's
distance (our mean step length × cadence over the trial) against the nominal 20 m, median |error|.

Usage::

    .venv/bin/python bench/pelvis_packet_loss.py --data <ipol_dataset_1 folder>
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import sys
import tempfile
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path

import numpy as np
import validate_ipol as vi
from rich.console import Console
from thigh_packet_loss import MOVED_MS, SELF_TOLERANCE_S, drop_packets
from validate_real import Detection, TrialScores, evaluate, print_rows

from pipeline.evaluation import match_events, pool
from sensors.devices.movesense import SAMPLES_PER_MESSAGE

LOSSES = (0.0, 0.05, 0.10, 0.20)
SEEDS = 4


def with_loss(trial: vi.IpolTrial, loss: float, seed: int) -> vi.IpolTrial:
    """``trial`` with notifications of its rows dropped."""
    keep = drop_packets(trial.t_s.size, loss, np.random.default_rng(seed))
    return dataclasses.replace(trial, t_s=trial.t_s[keep], acc_ms2=trial.acc_ms2[keep], gyr_rad_s=trial.gyr_rad_s[keep])


@dataclasses.dataclass
class Level:
    """One loss level, pooled: the scores, the shifts from the walks as recorded, the distance errors."""

    scores: list[TrialScores] = dataclasses.field(default_factory=list)
    recorded: int = 0  # ICs of the walks as recorded
    shift_s: list[float] = dataclasses.field(default_factory=list)
    distance_err_m: list[float] = dataclasses.field(default_factory=list)

    def add(self, other: Level) -> None:
        self.scores += other.scores
        self.recorded += other.recorded
        self.shift_s += other.shift_s
        self.distance_err_m += other.distance_err_m


def run_walk(trial: vi.IpolTrial, losses: Sequence[float], seeds: int) -> dict[float, Level]:
    out: dict[float, Level] = {}
    with tempfile.TemporaryDirectory(prefix="imugait-ploss-") as tmp:

        def run(t: vi.IpolTrial) -> tuple[Detection, float]:
            return vi.run_ours(t, Path(tempfile.mkdtemp(dir=tmp)))

        base, _ = run(trial)
        for loss in losses:
            level = out.setdefault(loss, Level())
            for seed in range(seeds if loss > 0 else 1):
                det, distance = run(with_loss(trial, loss, seed) if loss > 0 else trial)
                level.scores.append(evaluate(trial.reference, det))
                level.recorded += base.ic_t_s.size
                level.shift_s += list(match_events(det.ic_t_s, base.ic_t_s, tolerance_s=SELF_TOLERANCE_S).error_s)
                if math.isfinite(distance):
                    level.distance_err_m.append(distance - vi.NOMINAL_DISTANCE_M)
    return out


def row(loss: float, level: Level) -> list[str]:
    ic25, ic5 = pool([s.ic[0.25] for s in level.scores]), pool([s.ic[0.5] for s in level.scores])
    shift = np.asarray(level.shift_s) * 1e3
    moved = np.abs(shift)
    return [
        f"{loss:.0%}" + (" (as recorded)" if loss == 0 else ""),
        f"{shift.size} / {level.recorded} ({shift.size / max(level.recorded, 1):.1%})",
        f"{shift.mean():+.1f} ± {shift.std():.1f}" if shift.size else "n/a",
        f"{np.percentile(moved, 95):.1f}" if moved.size else "n/a",
        f"{np.mean(moved > MOVED_MS):.1%}" if moved.size else "n/a",
        f"{ic25.f1:.3f}",
        f"{ic5.mean_abs_error_s * 1e3:.0f}",
        f"{ic5.laterality_accuracy:.3f}",
        f"{np.median(np.abs(level.distance_err_m)):.2f} ({len(level.distance_err_m)})"
        if level.distance_err_m
        else "n/a",
    ]


HEADER = (
    "notifications lost",
    "ICs kept (of as recorded)",
    "moved ms",
    "p95 |moved| ms",
    f"moved > {MOVED_MS:g} ms",
    "F1 ±0.25 s",
    "MAE ms",
    "laterality",
    "distance median |err| m (walks)",
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    env = os.environ.get(vi.DATA_ENV)
    parser.add_argument("--data", type=Path, default=Path(env) if env else None, help=f"default: ${vi.DATA_ENV}")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--loss", type=float, nargs="+", default=list(LOSSES), help="shares of notifications lost")
    parser.add_argument("--seeds", type=int, default=SEEDS)
    args = parser.parse_args(argv)
    console = Console(width=200)
    data_dir = vi.find_data_dir(args.data)
    if data_dir is None:
        console.print(f"SKIPPED: no IPOL lower-back set found (--data {args.data}, ${vi.DATA_ENV}); see validate_ipol")
        return 0
    trials = vi.load_trials(data_dir)
    losses = sorted(set(args.loss) | {0.0})
    pooled: dict[float, Level] = {}
    with ProcessPoolExecutor(max(1, args.jobs)) as ex:
        for walk in ex.map(partial(run_walk, losses=losses, seeds=args.seeds), trials):
            for loss, level in walk.items():
                pooled.setdefault(loss, Level()).add(level)
    print_rows(
        console,
        f"pelvis-only events with {SAMPLES_PER_MESSAGE}-sample notifications lost ({len(trials)} walks, "
        f"{args.seeds} seeds per loss level)",
        HEADER,
        [row(loss, pooled[loss]) for loss in losses],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
