"""Segment angles against the simulator's truth in walks with U-turns: the up-vector filter of pipeline 1.12 next to
those it replaced (docs/validation §r, §s).

Each walk is simulated (:class:`sensors.sim.gait_model.GaitModel`, 60 s, a 180° left turn every 12 s; the
simulated gyros have their constant biases of 0.1-0.35 °/s per axis) and written as a session with the pelvis and
both thighs. The pipeline aligns it (:func:`pipeline.run.load_aligned`) with its own angle functions (1.12: the
strapdown filter with the gyro bias removed and the accelerometer weighted down in turns, for the pelvic angles
and the thighs), and with those of earlier versions, re-stated below for the comparison only: 1.11 (the pelvis's
angles from the linearised up vector, ``orientation.track_up``; the thighs' strapdown filter without bias or
turning weight) and 1.10 (1.11's pelvis; the thigh's sagittal and frontal angles as one-axis complementary filters
of ``−ω_y`` and ``ω_x``, its heading rate ``u·ω`` with ``u`` integrated as ``du/dt = u × ω``, linearised, in two
passes). Everything else (alignment, events) is the current pipeline's throughout.

Errors are estimate − truth (``model.pelvis_angles_deg``, ``model.thigh_angles_deg``), less their median over
straight walking (the angles are relative to the mean walking posture). *Straight*: from 5 s, away from every turn
(0.5 s before it to 5 s after). *After turns*: 0.5-2.7 s after each turn's end, the strides that the turning mask
(turn + 0.5 s) no longer leaves out. Columns: RMS over straight walking; mean over the after-turn windows; worst
after-turn window mean. The last table gives the turn angles (``derived/turns.arrow``, truth 180°) of one-thigh and
two-thigh sessions of the same walk.

Usage::

    .venv/bin/python bench/sim_orientation.py           # 2 profiles × 2 seeds, about 30 s
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from rich.console import Console
from rich.table import Table

from pipeline import _signal as sig
from pipeline import orientation
from pipeline.run import load_aligned, process_session
from pipeline.schemas import TURNS
from pipeline.store import read_table
from sensors.sim.gait_model import GaitModel, get_profile
from sensors.sim.offline import write_simulated_session

PROFILES = ("healthy", "antalgic_right")
SEEDS = (0, 1)
DURATION_S, TURN_EVERY_S = 60.0, 12.0
FloatArray = NDArray[np.float64]


# --- pipeline 1.10's angle functions, for comparison only --------------------------------------------------------


def _fuse_1_10(gyro_angle: FloatArray, acc_angle: FloatArray, fs_hz: float, cutoff_hz: float) -> FloatArray:
    return gyro_angle + sig.first_order_lowpass(acc_angle - gyro_angle, fs_hz, cutoff_hz)


def _up_1_10(acc: FloatArray, gyr_dps: FloatArray, fs_hz: float, cutoff_hz: float, passes: int) -> FloatArray:
    u_acc = acc / np.maximum(np.linalg.norm(acc, axis=1, keepdims=True), 1e-9)
    u = sig.first_order_lowpass(u_acc, fs_hz, cutoff_hz)
    for _ in range(passes):
        u = _fuse_1_10(np.cumsum(np.cross(u, np.deg2rad(gyr_dps)), axis=0) / fs_hz, u_acc, fs_hz, cutoff_hz)
        u = u / np.linalg.norm(u, axis=1, keepdims=True)
    return np.asarray(u)


def _pelvis_1_11(
    acc_seg: FloatArray, gyr_seg: FloatArray, valid: NDArray[np.bool_], fs_hz: float, *, config: Any
) -> orientation.PelvisAngles:
    """Pipeline 1.11's pelvic angles: every angle from the linearised up vector (``orientation.track_up``)."""
    acc, gyr = sig.fill_invalid(acc_seg, valid), sig.fill_invalid(gyr_seg, valid)
    u = orientation.track_up(acc, gyr, fs_hz, cutoff_hz=config.fusion_cutoff_hz)
    obliquity, tilt = orientation.obliquity_tilt_deg(u)
    heading_rate = np.einsum("ij,ij->i", u, gyr)
    rotation = sig.butter(np.cumsum(heading_rate) / fs_hz, fs_hz, config.heading_highpass_hz, "highpass")
    vertical = np.einsum("ij,ij->i", u, acc) - np.linalg.norm(acc, axis=1).mean()
    for arr in (rotation, obliquity, tilt, heading_rate, vertical):
        arr[~valid] = np.nan
    return orientation.PelvisAngles(rotation, obliquity, tilt, heading_rate, vertical, valid.copy())


def _thigh_1_10(
    acc_seg: FloatArray,
    gyr_seg: FloatArray,
    valid: NDArray[np.bool_],
    fs_hz: float,
    *,
    side: Literal["left", "right"],
    config: Any,
) -> orientation.ThighAngles:
    acc, gyr = sig.fill_invalid(acc_seg, valid), sig.fill_invalid(gyr_seg, valid)
    cutoff = config.fusion_cutoff_hz
    sagittal = _fuse_1_10(np.cumsum(-gyr[:, 1]) / fs_hz, orientation.sagittal_deg(acc), fs_hz, cutoff)
    frontal = _fuse_1_10(np.cumsum(gyr[:, 0]) / fs_hz, np.rad2deg(np.arctan2(acc[:, 1], acc[:, 2])), fs_hz, cutoff)
    if side == "right":
        frontal = -frontal
    heading_rate = np.einsum("ij,ij->i", _up_1_10(acc, gyr, fs_hz, cutoff, passes=2), gyr)
    flexion_rate = -gyr[:, 1]
    for arr in (sagittal, frontal, flexion_rate, heading_rate):
        arr[~valid] = np.nan
    return orientation.ThighAngles(sagittal, frontal, flexion_rate, valid.copy(), heading_rate)


_TRACK_UP_AND_BIAS = orientation.track_up_and_bias


def _up_and_bias_1_11(
    acc: FloatArray, gyr_dps: FloatArray, fs_hz: float, *, cutoff_hz: float, config: Any = None
) -> tuple[FloatArray, FloatArray]:
    """Pipeline 1.11's strapdown filter where the angle functions fuse: no gyro bias removed, no turning weight
    (``config`` ignored)."""
    del config
    return _TRACK_UP_AND_BIAS(acc, gyr_dps, fs_hz, cutoff_hz=cutoff_hz, config=None)


VERSIONS = ("1.10", "1.11", "1.12")


@contextmanager
def angle_functions(version: str) -> Iterator[None]:
    """For the duration of the block: the pipeline's angle functions ("1.12"), or those of pipeline 1.11 (pelvis
    linearised, thighs strapdown without bias or turning weight) or 1.10 (1.11's pelvis, 1.10's thighs)."""
    saved = orientation.pelvis_angles, orientation.thigh_angles, orientation.track_up_and_bias
    if version in ("1.10", "1.11"):
        orientation.pelvis_angles = _pelvis_1_11  # type: ignore[assignment]
        orientation.track_up_and_bias = _up_and_bias_1_11  # type: ignore[assignment]
    if version == "1.10":
        orientation.thigh_angles = _thigh_1_10  # type: ignore[assignment]
    try:
        yield
    finally:
        orientation.pelvis_angles, orientation.thigh_angles, orientation.track_up_and_bias = saved


# --- the walks ---------------------------------------------------------------------------------------------------


def _errors(version: str, profile: str, seed: int, workdir: Path) -> dict[str, tuple[FloatArray, FloatArray]]:
    """Per angle, its error over straight walking and its mean error in each after-turn window."""
    model = GaitModel(get_profile(profile, turn_every_s=TURN_EVERY_S), DURATION_S, seed=seed)
    session = write_simulated_session(workdir / f"{version}_{profile}_{seed}", model, duration_s=DURATION_S, seed=seed)
    with angle_functions(version):
        aligned = load_aligned(session)
    t = aligned.t_s
    turns = np.asarray(model.truth.turns).reshape(-1, 2)
    near = np.any([(t > a - 0.5) & (t < b + 5.0) for a, b in turns], axis=0)
    straight = (t > 5.0) & ~near
    pelvis_truth = model.pelvis_angles_deg(t)
    series: dict[str, tuple[FloatArray, FloatArray]] = {}
    assert aligned.pelvis is not None
    series["pelvic obliquity"] = (aligned.pelvis.obliquity_deg, pelvis_truth[:, 1])
    series["pelvic tilt"] = (aligned.pelvis.tilt_deg, pelvis_truth[:, 2])
    for side, thigh in sorted(aligned.thighs.items()):
        truth = model.thigh_angles_deg(side, t)
        series[f"{side} thigh sagittal"] = (thigh.sagittal_deg, truth[:, 0])
        series[f"{side} thigh frontal"] = (thigh.frontal_deg, truth[:, 1])
    out = {}
    for name, (estimate, truth) in series.items():
        error = estimate - truth
        error = error - np.nanmedian(error[straight])
        after = np.array([np.nanmean(error[(t > b + 0.5) & (t < b + 2.7)]) for _, b in turns])
        out[name] = (error[straight], after)
    return out


def _turn_angles(version: str, profile: str, seed: int, sites: tuple[str, ...], workdir: Path) -> FloatArray:
    model = GaitModel(get_profile(profile, turn_every_s=TURN_EVERY_S), DURATION_S, seed=seed)
    folder = workdir / f"turns_{version}_{profile}_{seed}_{'_'.join(sites)}"
    session = write_simulated_session(folder, model, duration_s=DURATION_S, sites=sites, seed=seed)
    with angle_functions(version):
        process_session(session)
    return np.asarray(read_table(session.derived_path("turns"), TURNS).column("angle_deg").to_numpy(), dtype=float)


def main(argv: Sequence[str] | None = None) -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    console = Console(width=140)
    angle_table = Table(title="Segment angle error against the simulator's truth, walks with a U-turn every 12 s (°)")
    for column in ("angle", "pipeline", "straight RMS", "after turns: mean", "worst window"):
        angle_table.add_column(column, justify="left" if column in ("angle", "pipeline") else "right")
    turn_table = Table(title="Turn angle by sensors (truth 180°): mean (min … max) over all turns")
    for column in ("sensors", "pipeline", "turns", "angle °"):
        turn_table.add_column(column, justify="left" if column in ("sensors", "pipeline") else "right")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        for version in VERSIONS:
            pooled: dict[str, list[tuple[FloatArray, FloatArray]]] = {}
            for profile in PROFILES:
                for seed in SEEDS:
                    for name, values in _errors(version, profile, seed, workdir).items():
                        pooled.setdefault(name, []).append(values)
            for name, values in pooled.items():
                straight = np.concatenate([s for s, _ in values])
                after = np.concatenate([a for _, a in values])
                worst = after[np.nanargmax(np.abs(after))]
                rms = float(np.sqrt(np.nanmean(straight**2)))
                angle_table.add_row(name, version, f"{rms:.2f}", f"{np.nanmean(after):+.2f}", f"{worst:+.1f}")
            angle_table.add_section()
        for sites in (("left_thigh", "right_thigh"), ("left_thigh",), ("right_thigh",)):
            for version in VERSIONS:
                angles = np.concatenate([_turn_angles(version, p, s, sites, workdir) for p in PROFILES for s in SEEDS])
                label = " + ".join(site.removesuffix("_thigh") for site in sites) + " thigh" + "s" * (len(sites) > 1)
                turn_table.add_row(
                    label, version, str(angles.size), f"{angles.mean():.1f} ({angles.min():.1f} … {angles.max():.1f})"
                )
    console.print(angle_table)
    console.print(turn_table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
