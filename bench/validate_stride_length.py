"""Stride length and walking speed on the IPOL walks, against the feet's own inertial navigation.

Data as ``validate_ipol.py`` (Voisard et al., IPOL 2023: 19 healthy adults, 110 walks of stand – 10 m – U-turn –
10 m – stand; Xsens MTw on the lower back and on each foot, 100 Hz; not shipped with imugait). The dataset gives
no distances, only the gait events, so the reference here is computed from the foot sensors with the standard
zero-velocity method for foot-mounted IMUs (Mariani et al. 2010, J Biomech 43:2999, "3D gait assessment in young
and elderly subjects using foot-worn inertial sensors": stride length within 1.5 ± 6.8 cm of an optical system):

* each swing is the dataset's ``[toe-off, heel strike]`` of that foot; integration runs from the stillest sample
  (smallest gyroscope norm, averaged over the 5 samples that give the gravity direction) of the stance before it
  to the stillest of the stance after it, where the foot is flat and its velocity is taken as zero;
* the foot's attitude starts from gravity at the first still sample (yaw free) and is propagated with the
  gyroscope (exact rotation per sample); acceleration is rotated to that frame, gravity (the still sample's norm) is
  removed, integrated to velocity with the linear drift that makes the final velocity zero removed, and integrated
  again; the stride length is the horizontal distance between the two still positions;
* a swing with a lost sample between its two still samples gets no reference (no interpolation);
* a reference stride of one foot runs from that foot's previous heel strike to the heel strike that ends its
  swing, as our strides run IC to IC; it is "turning" when it overlaps the dataset's ``UTurnBoundaries``.

Plausibility of the reference: over the walks whose every swing of a foot has a value, that foot's summed stride
lengths are compared with the nominal 20 m (the first table). Everything else is the lower-back sensor through
the pipeline, imported as ``validate_ipol.py`` does (packet time, the participant's stature for the pendulum
length; no sensor height was measured):

1. **Strides.** Our strides paired with the reference's (both ICs within ±0.25 s, as ``validate_speed.py``): found
   share, length and speed error, straight and U-turn strides apart, and our steady strides.
2. **The model by turn angle.** The Zijlstra model at the reference's own ICs (``validate_speed.model_at_contacts``)
   against the reference stride, binned by the pelvis heading change over the stride (the pipeline's heading rate,
   low-passed as its turn detection does): where the pendulum stops describing the feet; and the same with the
   pipeline's turn projection (each step × the cosine of the pelvis heading change over it), which the
   pipeline's strides (tables 1 and 3) carry.
3. **Walking speed per walk.** As Mobilise-D defines a bout's speed (the mean of its stride speeds): the mean of
   our stride speeds over the strides inside the trial boundaries (widened by the edge margin ``validate_real.py``
   uses; strides over a stop left out, :func:`pipeline.spatial.walking_strides`) against the mean of the reference
   stride speeds inside the same boundaries; and the same over the straight parts only (strides overlapping the
   U-turn left out on both sides).
4. **Side by side with mobgap** (``--mobgap``, run with ``.venv-bench``): mobgap 1.2.0's whole Mobilise-D pipeline
   (``MobilisedPipelineHealthy``: its gait sequences, ICs, cadence, stride length and speed) on each walk, with the
   same stature and pendulum length (as its ``sensor_height_m``) and the body frame of our pelvis alignment; its
   strides are paired and its walk speeds computed by the same code as ours (tables 1 and 3), over the walks both
   gave a speed for, with the number of participants for whom each pipeline has the lower mean error.

Usage::

    .venv/bin/python bench/validate_stride_length.py --data /tmp/datasets/voisard_ipol_dataset_1   (~15 s)
    .venv-bench/bin/python bench/validate_stride_length.py --data /tmp/datasets/voisard_ipol_dataset_1 --mobgap
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from validate_ipol import (
    FS_HZ,
    IpolTrial,
    _body_frame,
    find_data_dir,
    import_session,
    known_axes,
    load_trial,
    packet_time_s,
)
from validate_real import EDGE_MARGIN_SAMPLES, _f, markdown, print_rows
from validate_speed import STRIDE_HEADER as SPEED_STRIDE_HEADER
from validate_speed import RefStrides, model_at_contacts, pair_strides, paired_stride_rows

from pipeline.errors import ImuGaitError
from pipeline.metrics import MetricsConfig, walking_heading_rate_dps
from pipeline.orientation import PelvisAngles
from pipeline.run import load_aligned, spatial_result
from pipeline.spatial import SpatialConfig, vertical_displacement, walking_strides
from pipeline.subjects import SUBJECT_FILE, read_profile

FOOT_FILE = {"left": "lf", "right": "rf"}
STILL_SEARCH_S = 0.4  # before the first toe-off and after the last heel strike, where to look for a still foot
NOMINAL_M = 20.0
MOBGAP_BODY = ("is", "ml", "pa")  # mobgap's body axes, in the order of its sensor frame's x, y, z
HEADING_BINS_DEG = (0.0, 10.0, 30.0, 60.0, 90.0, 120.0, math.inf)


def foot_grid(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """A foot file's acceleration (m/s²) and angular rate (rad/s) on the uniform 100 Hz grid of its packet counter,
    NaN where a packet was lost."""
    raw = np.loadtxt(path, skiprows=2, delimiter="\t", ndmin=2)
    idx = np.rint(packet_time_s(raw[:, 0]) * FS_HZ).astype(np.int64)
    acc, gyr = np.full((idx[-1] + 1, 3), np.nan), np.full((idx[-1] + 1, 3), np.nan)
    acc[idx], gyr[idx] = raw[:, 1:4], raw[:, 4:7]
    return acc, gyr


def _rotations(w: np.ndarray) -> np.ndarray:
    """Rotation matrices (k, 3, 3) of rotation vectors ``w`` (k, 3) (Rodrigues)."""
    theta = np.linalg.norm(w, axis=1)
    k = w / np.where(theta > 0, theta, 1.0)[:, None]
    kx = np.zeros((w.shape[0], 3, 3))
    kx[:, 0, 1], kx[:, 0, 2], kx[:, 1, 2] = -k[:, 2], k[:, 1], -k[:, 0]
    kx = kx - kx.transpose(0, 2, 1)
    s, c = np.sin(theta)[:, None, None], (1.0 - np.cos(theta))[:, None, None]
    return np.eye(3)[None] + s * kx + c * (kx @ kx)


def _to_vertical(g: np.ndarray) -> np.ndarray:
    """Rotations (k, 3, 3) taking each row of ``g`` onto +z (the smallest rotation)."""
    a = g / np.linalg.norm(g, axis=1, keepdims=True)
    axis = np.cross(a, np.array([0.0, 0.0, 1.0]))
    angle = np.arccos(np.clip(a[:, 2], -1.0, 1.0))
    norm = np.linalg.norm(axis, axis=1, keepdims=True)
    return _rotations(axis / np.where(norm > 0, norm, 1.0) * angle[:, None])


def footstep_displacements(acc: np.ndarray, gyr: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Displacement (k, 3) of the foot from still sample ``start`` to still sample ``end`` of each footstep, in a
    frame with z up; NaN rows where a sample in between was lost. Vectorised over footsteps."""
    out = np.full((start.size, 3), np.nan)
    length = end - start + 1
    ok = (start >= 2) & (end < acc.shape[0]) & (length > 2)
    if not ok.any():
        return out
    s, n_k = start[ok], length[ok]
    m = int(n_k.max())
    j = np.arange(m)
    inside = j[None, :] < n_k[:, None]
    idx = np.minimum(s[:, None] + j[None, :], acc.shape[0] - 1)
    a, w = acc[idx], gyr[idx]
    lost = (~np.isfinite(a).all(axis=2) | ~np.isfinite(w).all(axis=2)) & inside
    still = np.nanmean(acc[s[:, None] + np.arange(-2, 3)[None, :]], axis=1)
    rot = _to_vertical(still)
    dt = 1.0 / FS_HZ
    world = np.zeros_like(a)
    a, w = np.nan_to_num(a), np.nan_to_num(w)
    for col in range(m):  # attitude propagation: one step per sample index, all footsteps at once
        world[:, col] = np.einsum("kij,kj->ki", rot, a[:, col])
        rot = rot @ _rotations(w[:, col] * dt)
    world[:, :, 2] -= np.linalg.norm(still, axis=1)[:, None]
    world[~inside] = 0.0
    v = np.concatenate([np.zeros((s.size, 1, 3)), np.cumsum((world[:, 1:] + world[:, :-1]) * dt / 2, axis=1)], axis=1)
    last = n_k - 1
    v_end = v[np.arange(s.size), last]
    v = v - (j[None, :] / last[:, None])[:, :, None] * v_end[:, None, :]
    v[~inside] = 0.0
    p = np.concatenate([np.zeros((s.size, 1, 3)), np.cumsum((v[:, 1:] + v[:, :-1]) * dt / 2, axis=1)], axis=1)
    d = p[np.arange(s.size), last]
    d[lost.any(axis=1)] = np.nan
    out[ok] = d
    return out


def _stillest(gyr_norm: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Per window ``[lo, hi)``, the index of the smallest finite ``gyr_norm`` (−1 where none)."""
    out = np.full(lo.size, -1, dtype=np.int64)
    for k, (a, b) in enumerate(zip(np.clip(lo, 0, gyr_norm.size), np.clip(hi, 0, gyr_norm.size), strict=True)):
        seg = gyr_norm[a:b]
        if seg.size and np.isfinite(seg).any():
            out[k] = a + int(np.nanargmin(seg))
    return out


@dataclass(frozen=True)
class FootReference:
    """One foot's swings in one walk: heel-strike time (s) and stride length (m, NaN without a reference)."""

    heel_strike_s: np.ndarray
    length_m: np.ndarray


def foot_reference(data_dir: Path, stem: str, meta: dict[str, Any], side: str) -> FootReference:
    events = np.asarray(meta[f"{side.capitalize()}FootEvents"], dtype=np.int64).reshape(-1, 2)
    if events.shape[0] == 0:
        return FootReference(np.zeros(0), np.zeros(0))
    acc, gyr = foot_grid(data_dir / f"{stem}_{FOOT_FILE[side]}.txt")
    norm = np.convolve(np.linalg.norm(gyr, axis=1), np.ones(5) / 5, mode="same")  # still over the gravity window
    toe_off, heel = events[:, 0], events[:, 1]
    margin = int(STILL_SEARCH_S * FS_HZ)
    before_lo = np.concatenate(([toe_off[0] - margin], heel[:-1]))
    after_hi = np.concatenate((toe_off[1:], [heel[-1] + margin]))
    start, end = _stillest(norm, before_lo, toe_off), _stillest(norm, heel, after_hi)
    d = footstep_displacements(acc, gyr, start, end)
    length = np.where((start >= 0) & (end >= 0), np.hypot(d[:, 0], d[:, 1]), np.nan)
    return FootReference(heel / FS_HZ, length)


def reference_strides(data_dir: Path, stem: str, meta: dict[str, Any]) -> tuple[RefStrides, dict[str, float]]:
    """The reference strides of a walk (previous heel strike → heel strike of the same foot) and, per foot whose
    every swing has a value, its summed stride length (the plausibility check)."""
    turn = np.asarray(meta["UTurnBoundaries"], dtype=np.float64) / FS_HZ
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("start", "end", "length")}
    totals = {}
    for side in FOOT_FILE:
        foot = foot_reference(data_dir, stem, meta, side)
        if foot.length_m.size and np.isfinite(foot.length_m).all():
            totals[side] = float(foot.length_m.sum())
        parts["start"].append(foot.heel_strike_s[:-1])
        parts["end"].append(foot.heel_strike_s[1:])
        parts["length"].append(foot.length_m[1:])  # the first swing starts from standing: not a stride
    start, end, length = (np.concatenate(parts[k]) for k in ("start", "end", "length"))
    order = np.argsort(start, kind="stable")
    start, end, length = start[order], end[order], length[order]
    turning = (start < turn[1]) & (end > turn[0])
    with np.errstate(invalid="ignore", divide="ignore"):
        speed = length / (end - start)
    keep = np.isfinite(length)
    strides = RefStrides(
        start[keep], end[keep], length[keep], speed[keep], turning[keep], np.zeros(int(keep.sum()), dtype=np.int64)
    )
    return strides, totals


@dataclass(frozen=True)
class PeerResult:
    """Another pipeline's strides in one walk, scored as ours are."""

    length_m: np.ndarray  # per reference stride; NaN where unpaired
    speed_m_s: np.ndarray
    walk_speed_err_m_s: float  # mean of its stride speeds − mean of the reference's, whole walk
    straight_speed_err_m_s: float  # the same over the straight parts


@dataclass(frozen=True)
class WalkResult:
    participant: str
    ref: RefStrides
    foot_totals_m: dict[str, float]
    ours_length_m: np.ndarray  # per reference stride; NaN where unpaired
    ours_speed_m_s: np.ndarray
    ours_steady: np.ndarray
    model_length_m: np.ndarray  # Zijlstra at the reference ICs
    projected_length_m: np.ndarray  # the same with the pipeline's turn projection
    heading_change_deg: np.ndarray  # pelvis heading change over each reference stride
    walk_speed_err_m_s: float  # mean of our stride speeds − mean of the reference's, whole walk
    straight_speed_err_m_s: float  # the same over the straight parts
    error: str = ""
    mobgap: PeerResult | None = None  # with --mobgap


def heading_deg(pelvis: PelvisAngles, fs_hz: float) -> np.ndarray:
    """Walking heading (deg): the pelvis heading rate low-passed as the turn detection does (no pelvic rotation)."""
    rate = walking_heading_rate_dps(pelvis, fs_hz, MetricsConfig().turn_lowpass_hz)
    return np.asarray(np.cumsum(rate) / fs_hz, dtype=np.float64)


def walk_mean(
    start: np.ndarray,
    end: np.ndarray,
    values: np.ndarray,
    bounds: tuple[float, float],
    turn: tuple[float, float] | None,
) -> float:
    """Mean of ``values`` over the strides wholly inside ``bounds`` and, with ``turn``, not overlapping it."""
    inside = (start >= bounds[0]) & (end <= bounds[1]) & np.isfinite(values)
    if turn is not None:
        inside &= (end <= turn[0]) | (start >= turn[1])
    return float(values[inside].mean()) if inside.any() else math.nan


def mobgap_walk(
    trial: IpolTrial,
    ref: RefStrides,
    sensor_height_m: float,
    bounds: tuple[float, float],
    turn: tuple[float, float],
) -> PeerResult:
    """mobgap 1.2.0's ``MobilisedPipelineHealthy`` on the whole walk (its own gait sequences, ICs, laterality,
    cadence, Zijlstra stride length and walking speed), given the same stature and pendulum length as ours and the
    body frame of ``validate_ipol.known_axes`` (our pelvis alignment, as ``validate_ipol.py --mobgap`` gives its IC
    detectors); its strides (``per_stride_parameters_``) scored by the same pairing and walk means as ours."""
    import warnings

    from mobgap.data import GaitDatasetFromData
    from mobgap.pipeline import MobilisedPipelineHealthy

    forward, up = known_axes(trial)
    body = _body_frame(trial, forward, up)  # acc_is, acc_ml, acc_pa, gyr_* (m/s², deg/s)
    # mobgap's sensor frame is its body frame's axes under other names (mobgap.utils.conversions.to_body_frame)
    sensor = body.rename(
        columns={f"{s}_{b}": f"{s}_{x}" for s in ("acc", "gyr") for b, x in zip(MOBGAP_BODY, "xyz", strict=True)}
    )
    key = (trial.participant, trial.reference.trial)
    dataset = GaitDatasetFromData(
        {key: {"LowerBack": sensor}},
        FS_HZ,
        {key: {"height_m": trial.height_m, "sensor_height_m": sensor_height_m, "cohort": "HA"}},
        {key: {"measurement_condition": "laboratory"}},
        single_sensor_name="LowerBack",
        index_cols=["participant", "trial"],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        strides = MobilisedPipelineHealthy().safe_run(dataset[0]).per_stride_parameters_
    start, end = (np.asarray(strides[c], dtype=np.float64) / FS_HZ for c in ("start", "end"))
    length = np.asarray(strides["stride_length_m"], dtype=np.float64)
    speed = np.asarray(strides["walking_speed_mps"], dtype=np.float64)
    j = pair_strides(ref.start_s, ref.end_s, start, end)
    jj, paired = np.maximum(j, 0), j >= 0
    errors = [
        walk_mean(start, end, speed, bounds, t) - walk_mean(ref.start_s, ref.end_s, ref.speed_m_s, bounds, t)
        for t in (None, turn)
    ]
    return PeerResult(
        np.where(paired, length[jj], np.nan) if start.size else np.full(ref.start_s.size, np.nan),
        np.where(paired, speed[jj], np.nan) if start.size else np.full(ref.start_s.size, np.nan),
        errors[0],
        errors[1],
    )


def run_walk(data_dir: Path, json_path: Path, with_mobgap: bool = False) -> WalkResult:
    meta = json.loads(json_path.read_text(encoding="utf-8"))
    trial: IpolTrial = load_trial(json_path)
    ref, totals = reference_strides(data_dir, json_path.stem, meta)
    nan = np.full(ref.start_s.size, np.nan)
    empty = WalkResult(trial.participant, ref, totals, nan, nan, nan.astype(bool), nan, nan, nan, math.nan, math.nan)
    with tempfile.TemporaryDirectory(prefix="imugait-sl-") as tmp:
        try:
            session = import_session(trial, Path(tmp))
            profile = read_profile(session.path.parent / SUBJECT_FILE)
            if profile is None or profile.pendulum_length_m is None:
                return WalkResult(**{**empty.__dict__, "error": "no stature in the metadata (no pendulum length)"})
            strides, result = spatial_result(session, profile)
            aligned = load_aligned(session)
        except ImuGaitError as exc:
            return WalkResult(**{**empty.__dict__, "error": str(exc)})
    pelvis = aligned.pelvis
    if pelvis is None:
        return WalkResult(**{**empty.__dict__, "error": "no pelvis"})
    j = pair_strides(ref.start_s, ref.end_s, strides.start_s, strides.end_s)
    jj, paired = np.maximum(j, 0), j >= 0
    ours_length = np.where(paired, result.strides.stride_length_m[jj], np.nan)
    ours_speed = np.where(paired, result.strides.speed_m_s[jj], np.nan)
    config = SpatialConfig()
    disp = vertical_displacement(pelvis.vertical_acc_ms2, pelvis.valid, aligned.fs_hz, config=config)
    ic = np.concatenate(
        [np.asarray(meta[f"{s}FootEvents"], dtype=np.float64).reshape(-1, 2)[:, 1] for s in ("Left", "Right")]
    )
    step_end, step_length = model_at_contacts(disp, ic / FS_HZ, aligned.fs_hz, profile.pendulum_length_m, config)
    _, step_projected = model_at_contacts(
        disp, ic / FS_HZ, aligned.fs_hz, profile.pendulum_length_m, config, pelvis=pelvis
    )
    inside = (step_end[None, :] > ref.start_s[:, None] + 1e-6) & (step_end[None, :] <= ref.end_s[:, None] + 1e-6)
    model, projected = (stride_sums(inside, x) for x in (step_length, step_projected))
    heading = heading_deg(pelvis, aligned.fs_hz)
    i0 = np.clip(np.rint(ref.start_s * aligned.fs_hz).astype(np.int64), 0, heading.size - 1)
    i1 = np.clip(np.rint(ref.end_s * aligned.fs_hz).astype(np.int64), 0, heading.size - 1)
    margin = EDGE_MARGIN_SAMPLES / aligned.fs_hz
    b0, b1 = np.asarray(meta["TrialBoundaries"], dtype=np.float64) / FS_HZ
    t0, t1 = np.asarray(meta["UTurnBoundaries"], dtype=np.float64) / FS_HZ
    bounds = (b0 - margin, b1 + margin)
    ours_all = np.where(walking_strides(strides.stride_time_s), result.strides.speed_m_s, np.nan)
    errors = [
        walk_mean(strides.start_s, strides.end_s, ours_all, bounds, turn)
        - walk_mean(ref.start_s, ref.end_s, ref.speed_m_s, bounds, turn)
        for turn in (None, (t0, t1))
    ]
    peer = mobgap_walk(trial, ref, profile.pendulum_length_m, bounds, (t0, t1)) if with_mobgap else None
    return WalkResult(
        trial.participant,
        ref,
        totals,
        ours_length,
        ours_speed,
        paired & strides.valid[jj],
        model,
        projected,
        np.abs(heading[i1] - heading[i0]),
        errors[0],
        errors[1],
        mobgap=peer,
    )


def stride_sums(inside: np.ndarray, step_length: np.ndarray) -> np.ndarray:
    """Per row of ``inside`` (reference strides × steps): the sum of the two steps inside, NaN unless exactly two
    steps with a length are inside."""
    two = inside.sum(axis=1) == 2
    total = np.where(two, (inside * np.nan_to_num(step_length, nan=np.inf)[None, :]).sum(axis=1), np.nan)
    return np.where(np.isfinite(total), total, np.nan)


def run_all(data_dir: Path, jobs: int, with_mobgap: bool = False) -> list[WalkResult]:
    paths = sorted(data_dir.glob("*-*.json"), key=lambda p: tuple(int(x) for x in p.stem.split("-")))
    if jobs <= 1:
        return [run_walk(data_dir, p, with_mobgap) for p in paths]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(run_walk, [data_dir] * len(paths), paths, [with_mobgap] * len(paths), chunksize=4))


def _mean(x: np.ndarray) -> float:
    x = x[np.isfinite(x)]
    return float(x.mean()) if x.size else math.nan


def _cat(results: Sequence[WalkResult], name: str) -> np.ndarray:
    return np.concatenate(
        [
            getattr(r, name) if name.startswith(("ours", "model", "projected", "heading")) else getattr(r.ref, name)
            for r in results
        ]
    )


REFERENCE_HEADER = ("feet with every swing measured", "n", "median m", "IQR m", "within 20 ± 2 m")


def reference_rows(results: Sequence[WalkResult]) -> list[list[str]]:
    totals = np.array([t for r in results for t in r.foot_totals_m.values()])
    if totals.size == 0:
        return [["all", "0", "n/a", "n/a", "n/a"]]
    q1, med, q3 = np.percentile(totals, [25, 50, 75])
    within = np.mean(np.abs(totals - NOMINAL_M) <= 2.0)
    return [
        [
            "summed stride length per foot, vs nominal 20 m",
            str(totals.size),
            f"{med:.1f}",
            f"{q1:.1f}–{q3:.1f}",
            f"{100 * within:.0f} %",
        ]
    ]


STRIDE_HEADER = ("reference strides", *SPEED_STRIDE_HEADER[1:])


def stride_rows(results: Sequence[WalkResult]) -> list[list[str]]:
    """The stride table over the walks we could measure (a walk without a stature has no step lengths: its
    reference strides are not counted as missed)."""
    results = [r for r in results if not r.error]
    return paired_stride_rows(
        _cat(results, "length_m"),
        _cat(results, "speed_m_s"),
        _cat(results, "turning"),
        _cat(results, "ours_length_m"),
        _cat(results, "ours_speed_m_s"),
        _cat(results, "ours_steady"),
        ("straight", "U-turn"),
    )


HEADING_HEADER = (
    "pelvis heading change over the stride",
    "strides",
    "U-turn %",
    "ref length m",
    "model length m",
    "model / ref (median)",
    "× turn projection / ref (median)",
)


def heading_rows(results: Sequence[WalkResult]) -> list[list[str]]:
    ref_len, model = _cat(results, "length_m"), _cat(results, "model_length_m")
    projected = _cat(results, "projected_length_m")
    heading, turning = _cat(results, "heading_change_deg"), _cat(results, "turning").astype(bool)
    ok = np.isfinite(ref_len) & np.isfinite(model) & (ref_len > 0)
    rows = []
    for lo, hi in zip(HEADING_BINS_DEG[:-1], HEADING_BINS_DEG[1:], strict=True):
        sel = ok & (heading >= lo) & (heading < hi)
        ratio = model[sel] / ref_len[sel]
        rows.append(
            [
                f"{lo:.0f}–{hi:.0f}°" if math.isfinite(hi) else f"≥ {lo:.0f}°",
                str(int(sel.sum())),
                _f(100 * float(turning[sel].mean()) if sel.any() else math.nan, "{:.0f}"),
                _f(_mean(ref_len[sel]), "{:.2f}"),
                _f(_mean(model[sel]), "{:.2f}"),
                _f(float(np.median(ratio)) if ratio.size else math.nan, "{:.2f}"),
                _f(float(np.median(projected[sel] / ref_len[sel])) if ratio.size else math.nan, "{:.2f}"),
            ]
        )
    return rows


SPEED_HEADER = ("walking speed per walk (mean of stride speeds)", "walks", "MAE m/s", "bias m/s", "within 0.10 m/s")


def speed_rows(results: Sequence[WalkResult]) -> list[list[str]]:
    rows = []
    for label, name in (
        ("whole walk (U-turn included)", "walk_speed_err_m_s"),
        ("straight parts only", "straight_speed_err_m_s"),
    ):
        e = np.array([getattr(r, name) for r in results])
        e = e[np.isfinite(e)]
        rows.append(
            [
                label,
                str(e.size),
                _f(_mean(np.abs(e)), "{:.3f}"),
                _f(_mean(e), "{:+.3f}"),
                _f(100 * float(np.mean(np.abs(e) <= 0.10)) if e.size else math.nan, "{:.0f} %"),
            ]
        )
    return rows


def mobgap_stride_rows(results: Sequence[WalkResult]) -> list[list[str]]:
    """The stride table for mobgap's strides (its steady-stride row does not apply)."""
    with_peer = [r for r in results if r.mobgap is not None and not r.error]
    peer = [r.mobgap for r in with_peer if r.mobgap is not None]
    return paired_stride_rows(
        _cat(with_peer, "length_m"),
        _cat(with_peer, "speed_m_s"),
        _cat(with_peer, "turning"),
        np.concatenate([p.length_m for p in peer]),
        np.concatenate([p.speed_m_s for p in peer]),
        np.zeros(sum(p.length_m.size for p in peer), dtype=bool),
        ("straight", "U-turn"),
    )[:3]


SIDE_HEADER = (
    "walking speed per walk (mean of stride speeds)",
    "system",
    "walks",
    "MAE m/s",
    "bias m/s",
    "within 0.10 m/s",
    "participants where its MAE is the lower",
)


def side_by_side_rows(results: Sequence[WalkResult]) -> list[list[str]]:
    """Ours and mobgap's walk speed errors over the walks both gave a speed for, and per participant (the mean of
    |error| over that participant's common walks) which of the two is closer."""
    rows = []
    for label, name in (
        ("whole walk (U-turn included)", "walk_speed_err_m_s"),
        ("straight parts only", "straight_speed_err_m_s"),
    ):
        ours = np.array([getattr(r, name) for r in results])
        theirs = np.array([getattr(r.mobgap, name) if r.mobgap is not None else math.nan for r in results])
        common = np.isfinite(ours) & np.isfinite(theirs)
        who = np.array([r.participant for r in results])[common]
        e = {"imugait": ours[common], "mobgap pipeline": theirs[common]}
        mae = {k: {p: float(np.abs(v[who == p]).mean()) for p in np.unique(who)} for k, v in e.items()}
        for system, err in e.items():
            other = "mobgap pipeline" if system == "imugait" else "imugait"
            lower = sum(mae[system][p] < mae[other][p] for p in mae[system])
            rows.append(
                [
                    label,
                    system,
                    str(err.size),
                    _f(_mean(np.abs(err)), "{:.3f}"),
                    _f(_mean(err), "{:+.3f}"),
                    _f(100 * float(np.mean(np.abs(err) <= 0.10)) if err.size else math.nan, "{:.0f} %"),
                    f"{lower} of {len(mae[system])}",
                ]
            )
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, help="the ipol_dataset_1 checkout (or its GaitData folder)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--markdown", type=Path, help="also write the tables as markdown to this file")
    parser.add_argument(
        "--mobgap", action="store_true", help="also run mobgap's whole pipeline on each walk (needs .venv-bench)"
    )
    args = parser.parse_args(argv)
    console = Console(width=160)
    data_dir = find_data_dir(args.data)
    if data_dir is None:
        console.print(f"SKIPPED: no IPOL GaitData found (--data {args.data}); see validate_ipol.py")
        return 0
    results = run_all(data_dir, args.jobs, args.mobgap)
    failed = [r for r in results if r.error]
    tables = [
        ("The reference: each foot's summed stride lengths over a walk", REFERENCE_HEADER, reference_rows(results)),
        ("Our strides paired with the reference's (both ICs within ±0.25 s)", STRIDE_HEADER, stride_rows(results)),
        ("Zijlstra at the reference ICs, by pelvis heading change", HEADING_HEADER, heading_rows(results)),
        ("Walking speed per walk", SPEED_HEADER, speed_rows(results)),
    ]
    if args.mobgap:
        tables += [
            ("mobgap's strides paired with the reference's", STRIDE_HEADER, mobgap_stride_rows(results)),
            ("Walking speed per walk, side by side with mobgap", SIDE_HEADER, side_by_side_rows(results)),
        ]
    for title, header, rows in tables:
        print_rows(console, title, header, rows)
    reasons = Counter(r.error for r in failed)
    console.print(
        f"{len(results)} walks, {len(failed)} without a result"
        + "".join(f"; {reason}: {n}" for reason, n in sorted(reasons.items()))
    )
    if args.markdown:
        args.markdown.write_text("\n\n".join(markdown(h, r) for _, h, r in tables) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
