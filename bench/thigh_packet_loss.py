"""Thigh events on real walks with BLE notifications lost: how many survive, and how far they move.

Data: the Marpino walking dataset, read and scored as in ``bench/validate_thighs.py`` (25 walks with a usable
foot-switch reference; see there). Loss: each thigh's samples are cut into notifications of
:data:`sensors.devices.movesense.SAMPLES_PER_MESSAGE` (8) consecutive samples and each notification is dropped
independently with probability ``loss`` (a different draw per side and per seed; the first one kept, so the session
keeps its time origin), as the simulator's link does; the
remaining rows keep their time stamps, so the import sees the gaps as a real recording would. Every walk is
processed once without loss and then under each loss level and seed, with each setting of
``ThighEventConfig.fc_max_lost_s`` (the masked samples an FC's window may hold in all).

Columns, per loss level × setting, pooled over walks, sides and seeds:

- kept: events paired (±0.2 s, one-to-one) with the same walk's loss-free events, over the loss-free events.
- moved: their shift from the loss-free event (ms, mean ± SD), its 95th percentile of |shift|, and the share moved
  by more than 20 ms. This isolates what the gaps do; the loss-free run is the same pipeline on the same samples.
- vs foot switches: the events paired with the reference at ±0.25 s (F1-style recall: pairs / reference events) and
  their error (ms, mean ± SD), as ``bench/validate_thighs.py`` scores them.

Usage::

    .venv/bin/python bench/thigh_packet_loss.py --data /tmp/datasets/marpino_walking_dataset/Dataset
    .venv/bin/python bench/thigh_packet_loss.py --data ... --loss 0.2 --seeds 2 --fc-max-lost-s 0.1 0.3
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import validate_thighs as vt
from numpy.typing import NDArray
from rich.console import Console
from validate_real import print_rows

from pipeline.evaluation import match_events
from pipeline.events import EventConfig, ThighEventConfig
from pipeline.run import PipelineConfig
from sensors.devices.movesense import SAMPLES_PER_MESSAGE

LOSSES = (0.05, 0.10, 0.20)
SEEDS = 4
FC_MAX_LOST_S = (0.1, ThighEventConfig().fc_max_lost_s)
SELF_TOLERANCE_S = 0.2
REF_TOLERANCE_S = 0.25
MOVED_MS = 20.0

FloatArray = NDArray[np.float64]


def drop_packets(n: int, loss: float, rng: np.random.Generator, packet: int = SAMPLES_PER_MESSAGE) -> NDArray[np.bool_]:
    """Rows kept when each run of ``packet`` consecutive rows (a notification) is lost with probability ``loss``.

    The first notification is always kept: the session's time origin is its first sample, and a lossy run must
    share it with the loss-free run it is compared with (otherwise every event of the walk moves by whole
    notifications, an artefact of the comparison, not of the detector)."""
    kept = rng.random(-(-n // packet)) >= loss
    kept[:1] = True
    return np.repeat(kept, packet)[:n]


def with_loss(trial: vt.MarpinoTrial, loss: float, seed: int) -> vt.MarpinoTrial:
    """``trial`` with notifications of each thigh dropped (independent draws per side)."""
    rng = np.random.default_rng(seed)
    keep = {side: drop_packets(trial.thigh_t_s[side].size, loss, rng) for side in vt.SIDES}
    return dataclasses.replace(
        trial,
        thigh_t_s={s: trial.thigh_t_s[s][keep[s]] for s in vt.SIDES},
        acc_g={s: trial.acc_g[s][keep[s]] for s in vt.SIDES},
        gyr_dps={s: trial.gyr_dps[s][keep[s]] for s in vt.SIDES},
    )


@dataclass
class Tally:
    """Pooled counts and shifts of one kind of event for one (loss, setting)."""

    lossfree: int = 0
    reference: int = 0
    shift_s: list[float] = dataclasses.field(default_factory=list)
    ref_error_s: list[float] = dataclasses.field(default_factory=list)

    def add(self, other: Tally) -> None:
        self.lossfree += other.lossfree
        self.reference += other.reference
        self.shift_s += other.shift_s
        self.ref_error_s += other.ref_error_s


Key = tuple[float, float, str]  # (loss, fc_max_lost_s, kind)


def _config(fc_max_lost_s: float) -> PipelineConfig:
    return PipelineConfig(events=EventConfig(thigh=ThighEventConfig(fc_max_lost_s=fc_max_lost_s)))


def tally(base: vt.Detection, lossy: vt.Detection, ref: vt.Reference, kind: str) -> Tally:
    """Both sides of one kind: the lossy events against the loss-free ones and against the reference."""
    out = Tally()
    for side in vt.SIDES:
        free = base.times(kind, side)
        m = match_events(lossy.times(kind, side), free, tolerance_s=SELF_TOLERANCE_S)
        out.lossfree += free.size
        out.shift_s += list(m.error_s)
        r = ref.times(kind, side)
        det = lossy.times(kind, side)
        det = det[(det >= ref.start_s - REF_TOLERANCE_S) & (det <= ref.end_s + REF_TOLERANCE_S)]
        out.reference += r.size
        out.ref_error_s += list(match_events(det, r, tolerance_s=REF_TOLERANCE_S).error_s)
    return out


def run_walk(path: Path, losses: Sequence[float], seeds: int, settings: Sequence[float]) -> dict[Key, Tally]:
    trial = vt.load_trial(path)
    ref = vt.reference_events(trial)
    out: dict[Key, Tally] = {}
    if ref.problems:
        return out
    with tempfile.TemporaryDirectory(prefix="imugait-loss-") as tmp:

        def run(t: vt.MarpinoTrial, config: PipelineConfig) -> vt.Detection:
            workdir = Path(tempfile.mkdtemp(dir=tmp))
            return vt.run_ours(t, workdir, config=config)

        for setting in settings:
            config = _config(setting)
            base = run(trial, config)
            if base.error:
                continue
            for loss in losses:
                for seed in range(seeds):
                    det = run(with_loss(trial, loss, seed), config)
                    if det.error:
                        continue
                    for kind in vt.KINDS:
                        out.setdefault((loss, setting, kind), Tally()).add(tally(base, det, ref, kind))
    return out


def _ms(x: Sequence[float]) -> str:
    a = np.asarray(x) * 1e3
    return f"{a.mean():+.1f} ± {a.std():.1f}" if a.size else "n/a"


def rows(pooled: dict[Key, Tally], default: float) -> list[list[str]]:
    table = []
    for (loss, setting, kind), t in sorted(pooled.items()):
        shift = np.abs(np.asarray(t.shift_s)) * 1e3
        label = f"{setting:g} s" + (" (default)" if setting == default else "")
        table.append(
            [
                f"{loss:.0%}",
                label,
                kind,
                f"{len(t.shift_s)} / {t.lossfree} ({len(t.shift_s) / max(t.lossfree, 1):.1%})",
                _ms(t.shift_s),
                f"{np.percentile(shift, 95):.1f}" if shift.size else "n/a",
                f"{np.mean(shift > MOVED_MS):.1%}" if shift.size else "n/a",
                f"{len(t.ref_error_s) / max(t.reference, 1):.3f}",
                _ms(t.ref_error_s),
            ]
        )
    return table


HEADER = (
    "loss",
    "fc_max_lost_s",
    "kind",
    "kept (of loss-free)",
    "moved ms",
    "p95 |moved| ms",
    f"moved > {MOVED_MS:g} ms",
    "recall vs switches ±0.25 s",
    "error vs switches ms",
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    env = os.environ.get(vt.DATA_ENV)
    parser.add_argument("--data", type=Path, default=Path(env) if env else None, help=f"default: ${vt.DATA_ENV}")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--loss", type=float, nargs="+", default=list(LOSSES), help="shares of notifications lost")
    parser.add_argument("--seeds", type=int, default=SEEDS)
    parser.add_argument("--fc-max-lost-s", type=float, nargs="+", default=list(FC_MAX_LOST_S))
    parser.add_argument(
        "--held-out", action="store_true", help="the walks of Dataset/Additional (validate_thighs.py --held-out)"
    )
    args = parser.parse_args(argv)
    console = Console(width=200)
    data_dir = vt.find_data_dir(args.data)
    if data_dir is None:
        console.print(
            f"SKIPPED: no Marpino walking dataset found (--data {args.data}, ${vt.DATA_ENV}); see validate_thighs"
        )
        return 0
    paths = vt.workbooks(console, data_dir, args.held_out)
    if not paths:
        return 0
    work = partial(run_walk, losses=args.loss, seeds=args.seeds, settings=args.fc_max_lost_s)
    pooled: dict[Key, Tally] = {}
    walks = 0
    with ProcessPoolExecutor(max(1, args.jobs)) as pool:
        for walk in pool.map(work, paths):
            walks += bool(walk)
            for key, t in walk.items():
                pooled.setdefault(key, Tally()).add(t)
    print_rows(
        console,
        f"thigh events with {SAMPLES_PER_MESSAGE}-sample notifications lost "
        f"({walks} of {len(paths)} walks with a usable reference, {args.seeds} seeds per loss level)",
        HEADER,
        rows(pooled, ThighEventConfig().fc_max_lost_s),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
