"""Real recordings with motion capture: thigh events, step lengths and pelvic/thigh angles on the NeuRA sparse sample.

Data: the sample trial that the GitHub repository ``gait-tech/gaittoolbox`` (GPL-3.0; L. Sy et al., UNSW) ships in
``data/sample``: an excerpt of the NeuRA sparse-sensor dataset (nine healthy adults, Xsens + Vicon; the full set is
on Harvard Dataverse, doi:10.7910/DVN/9QDD5J, and cannot be reached from here). Use it from a local checkout; never
copy it into this repository. ONE trial of ONE person, ``S02-Trial-Walk-1``: about 11 s of quiet standing, a walk
of about 3.5 m along the 4 × 4 m capture volume, a turn, the walk back, standing (25 s in all).

Format, as checked on the files. ``rawimu/S02-Trial-Walk-1-000_<ID>.txt``: Xsens MT Manager exports (Awinda MTx,
firmware 4.3.4), ``//`` comment lines (``Update Rate: 100.0Hz``), then comma-separated ``PacketCounter,
SampleTimeFine, Acc_X/Y/Z, Gyr_X/Y/Z, Mag_X/Y/Z, Quat_q0..q3``. Acc is in m/s² (median norm 9.83-9.95 in every
sensor), Gyr in rad/s (99th percentile of |ω|: 2.5-2.8 on the thighs, 4.2-4.8 on shanks and feet, i.e. 140-275
deg/s). All sensors hold the same 2,503 packets (27626-30128, no gap). Sensor IDs (the dataset's documentation):
pelvis (back of the pelvis) 00B40B91, thighs 00B40C45 (left) and 00B40C3C (right), shanks 00B40BA5 / 00B40C35,
feet 00B40C55 / 00B40C48. ``rawvicon/S02-Trial-Walk-1.mat``: Vicon marker trajectories (Helen Hayes set plus
Plug-in-Gait outputs), one (n, 3) array per marker, 2,503 frames at 100 Hz, in mm (standing heel marker 70 mm above
the floor, posterior iliac spines 1.01 m), z up; the walk runs along y. The recordings were started and stopped by
one trigger, and the authors cut both systems at the same indices (their processed files: frames 1120-2074 of
each), so frame i is IMU packet i; the clock checks below test it. The sample's ``step-detect`` files are the
authors' ankle-IMU stationarity flags, derived from IMUs: not used as a reference.

Reference rule (the coordinate-based rule of Zeni et al., Gait Posture 2008, 27:710; fixed before our detector was
run, never tuned against it). Markers low-passed (4th-order zero-lag Butterworth, 6 Hz). Pelvis centre = mean of
LASI, RASI, LPSI, RPSI; the walking axis is the horizontal lab axis along which the pelvis centre moves farthest.
Passes: runs of at least 1 s in which the pelvis centre moves along that axis at ≥ 0.5 m/s in one direction (so
standing, gait initiation and the turn are not reference). In each pass, with s = ±1 its direction along the axis:
IC = local maximum of s·(heel marker − pelvis centre), FC = local minimum of s·(toe marker − pelvis centre)
(``find_peaks``: at least 0.4 s apart, prominence ≥ 0.10 m, not at the pass's ends), at the frame (10 ms). Sanity
checks per pass (a pass failing one is left out, with the reason): at least one IC per side; ICs alternate sides;
FCs alternate sides; every step time (IC to the next contralateral IC) 0.4-1.0 s. Zeni et al. validated the rule
against force plates in healthy adults; it is still a marker rule, not a force plate, and where its IC sits relative
to floor contact in this slow walk is not measured here (the clock checks bound it). Reference step length: the
distance along the walking axis from the trailing foot's heel marker at its IC to the leading foot's heel marker
at the next (contralateral) IC in the pass, the footprint definition of walkways.

Our side: the pelvis and both thighs (m/s², rad/s, time from the packet counter) go through
:func:`pipeline.importer.import_tables` and :func:`pipeline.run.process_session`, as a user's import, once with all
three sensors and once with the thighs only. The subject profile holds the lengths a clinician would measure,
taken from the standing start of the markers (frames before the first pass): leg length = height of the hip joint
centres (LHJC/RHJC, mean of both), pelvis sensor height = height of the posterior iliac spines (LPSI/RPSI). Step
lengths come from :func:`pipeline.run.spatial_result` (the thigh compass model ``compass_step_length`` and, with
the pelvis, the inverted pendulum), uncalibrated.

Scoring (``pipeline.evaluation`` and ``event_scoring``, as ``validate_thighs.py``): per side and kind, per pass,
reference events inside the pass ``[first, last reference event]``; detections may pair with them up to the
tolerance outside it; an unpaired detection is a false positive only inside it. F1 at ±0.5, ±0.25 and ±0.1 s;
timing error detected − reference (+ = late) of the ±0.5 s pairs. Side check: the ICs paired without regard to side
at ±0.25 s, share with the reference side. Step lengths: each detected IC paired with a reference IC of its side
at ±0.25 s whose reference step exists. Clock checks: (1) for each reference IC, the time of the largest
``|Δ²‖a‖|`` (the heel-strike transient) of that side's foot and thigh IMU within ±0.2 s, minus the IC; (2) the lag
that best aligns each segment's angular speed from its IMU with the rate of turn of its long axis from the markers
(:func:`rotation_lags`), which tests the two clocks without any event rule.

Angles (:func:`compare_angles`): the markers' pelvis and thigh angles (:func:`marker_angles`) and the Xsens devices'
own orientation output (:func:`device_angles`) go through the same stride definitions as ours, with our events.

One person, one short trial, about ten ICs: a smoke test on a second lab and a second reference, not a validation.

Usage::

    .venv/bin/python bench/validate_neura.py --data <gaittoolbox checkout>
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
from event_scoring import fmt, score_window, timing_cells
from numpy.typing import NDArray
from rich.console import Console
from scipy.io import loadmat
from scipy.signal import butter, filtfilt, find_peaks
from scipy.spatial.transform import Rotation
from validate_real import print_rows

from pipeline._signal import butter as zero_phase_butter
from pipeline.errors import ImuGaitError
from pipeline.evaluation import EventScores, match_events, pool, score_events
from pipeline.importer import TableImportSpec, import_tables
from pipeline.metrics import StrideTable, stride_table
from pipeline.orientation import (
    OrientationConfig,
    PelvisAngles,
    ThighAngles,
    obliquity_tilt_deg,
    sagittal_deg,
    walking_heading,
)
from pipeline.run import AlignedSession, load_aligned, process_session, spatial_result
from pipeline.store import Session
from pipeline.subjects import SubjectProfile, save_profile
from pipeline.turns import detect_turns

DATA_ENV = "NEURA_DATA_DIR"
TRIAL = "S02-Trial-Walk-1"
FS_HZ = 100.0
SENSORS = {  # site → Xsens ID (the dataset's documentation)
    "pelvis": "00B40B91",
    "left_thigh": "00B40C45",
    "right_thigh": "00B40C3C",
    "left_shank": "00B40BA5",
    "right_shank": "00B40C35",
    "left_foot": "00B40C55",
    "right_foot": "00B40C48",
}
IMPORTED = {"pelvis+thighs": ("pelvis", "left_thigh", "right_thigh"), "thighs only": ("left_thigh", "right_thigh")}
PELVIS_MARKERS = ("LASI", "RASI", "LPSI", "RPSI")
FOOT_MARKERS = {"left": ("LHEE", "LTOE"), "right": ("RHEE", "RTOE")}
HIP_CENTRES, SPINES = ("LHJC", "RHJC"), ("LPSI", "RPSI")
SEGMENT_MARKERS = {  # (proximal, distal) marker of each segment's long axis, per side
    "thigh": {"left": ("LHJC", "LKJC"), "right": ("RHJC", "RKJC")},
    "shank": {"left": ("LKJC", "LAJC"), "right": ("RKJC", "RAJC")},
    "foot": {"left": ("LHEE", "LTOE"), "right": ("RHEE", "RTOE")},
}
MAX_LAG_S = 0.3
SIDES = ("left", "right")
KINDS = ("IC", "FC")
TOLERANCES_S = (0.5, 0.25, 0.1)
PAIR_TOLERANCE_S = 0.25
CLOCK_WINDOW_S = 0.2

# Reference rule (fixed a priori, see the module docstring).
LOWPASS_HZ = 6.0
PASS_SPEED_M_S = 0.5
MIN_PASS_S = 1.0
MIN_EVENT_GAP_S = 0.4
MIN_PROMINENCE_M = 0.10
STEP_RANGE_S = (0.4, 1.0)

FloatArray = NDArray[np.float64]


# ---- data -----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class XsensExport:
    packet: NDArray[np.int64]
    acc_ms2: FloatArray  # (n, 3)
    gyr_rad_s: FloatArray  # (n, 3)
    quat: FloatArray  # (n, 4) the device's own orientation (q0..q3, sensor → global); NaN when not exported


def read_xsens(path: Path) -> XsensExport:
    """PacketCounter, Acc_X/Y/Z and Gyr_X/Y/Z of an Xsens MT Manager text export (``//`` comment lines first;
    comma- or tab-separated), with the device's orientation from ``Quat_q0..q3`` or ``Mat[1][1]..Mat[3][3]``."""
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    body = [line for line in lines if line.strip() and not line.startswith("//")]
    rate = [line for line in lines if line.startswith("// Update Rate:")]
    if rate and float(rate[0].split(":")[1].strip().removesuffix("Hz")) != FS_HZ:
        raise ValueError(f"{path}: {rate[0][3:]}, expected {FS_HZ:g} Hz")
    sep = "\t" if body and "\t" in body[0] else ","
    header = [h.strip() for h in body[0].split(sep)] if body else []
    wanted = ["PacketCounter", "Acc_X", "Acc_Y", "Acc_Z", "Gyr_X", "Gyr_Y", "Gyr_Z"]
    if any(w not in header for w in wanted):
        raise ValueError(f"{path}: not an Xsens export (needs the columns {', '.join(wanted)})")
    quat_cols = ["Quat_q0", "Quat_q1", "Quat_q2", "Quat_q3"]
    mat_cols = [f"Mat[{i}][{j}]" for i in (1, 2, 3) for j in (1, 2, 3)]
    orientation = quat_cols if all(q in header for q in quat_cols) else [c for c in mat_cols if c in header]
    if len(orientation) not in (0, 4, 9):
        orientation = []
    idx = [header.index(w) for w in wanted + orientation]
    rows = [line.split(sep) for line in body[1:]]
    values = np.array([[float(r[i]) for i in idx] for r in rows if len(r) > max(idx)], dtype=np.float64)
    if values.shape[0] < 2:
        raise ValueError(f"{path}: no samples")
    quat = np.full((values.shape[0], 4), np.nan)
    if len(orientation) == 4:
        quat = values[:, 7:11]
    elif len(orientation) == 9:  # Mat[i][j] = R_ij, sensor → global; to q0..q3 (scalar first)
        xyzw = Rotation.from_matrix(values[:, 7:16].reshape(-1, 3, 3)).as_quat()
        quat = np.column_stack([xyzw[:, 3], xyzw[:, :3]])
    return XsensExport(values[:, 0].astype(np.int64), values[:, 1:4], values[:, 4:7], quat)


def read_markers(path: Path, names: Sequence[str]) -> dict[str, FloatArray]:
    """The named (n, 3) marker trajectories of a Vicon ``.mat`` export, converted from mm to m."""
    content = loadmat(path, squeeze_me=True)
    missing = [n for n in names if n not in content]
    if missing:
        raise ValueError(f"{path}: no marker(s) {', '.join(missing)}")
    out = {n: np.asarray(content[n], dtype=np.float64) / 1e3 for n in names}
    bad = [n for n, x in out.items() if x.ndim != 2 or x.shape[1] != 3]
    if bad:
        raise ValueError(f"{path}: marker(s) {', '.join(bad)} are not (frames, 3) arrays")
    pelvis = [out[n][:, 2] for n in PELVIS_MARKERS if n in out]
    pelvis_z = float(np.nanmedian(pelvis)) if pelvis else 1.0
    if not 0.5 <= pelvis_z <= 1.5:
        raise ValueError(f"{path}: pelvis markers {pelvis_z:.3g} m above the floor; expected positions in mm")
    return out


@dataclass(frozen=True)
class Trial:
    name: str
    t_s: FloatArray  # IMU sample times from the packet counter, session time (s)
    acc_ms2: dict[str, FloatArray]  # per site
    gyr_rad_s: dict[str, FloatArray]
    markers: dict[str, FloatArray]  # m, frame i at time i / FS_HZ
    quat: dict[str, FloatArray]  # per site, the device's own orientation (see XsensExport)


def find_data_dir(data: Path | None) -> Path | None:
    """The folder holding ``rawimu/`` and ``rawvicon/`` (``data`` itself or ``data/data/sample``), or None."""
    if data is None:
        return None
    for candidate in (data, data / "data" / "sample", data / "sample"):
        if (candidate / "rawvicon" / f"{TRIAL}.mat").is_file() and (candidate / "rawimu").is_dir():
            return candidate
    return None


def load_trial(folder: Path, name: str = TRIAL) -> Trial:
    exports = {site: read_xsens(folder / "rawimu" / f"{name}-000_{sid}.txt") for site, sid in SENSORS.items()}
    names = [*PELVIS_MARKERS, *(m for seg in SEGMENT_MARKERS.values() for pair in seg.values() for m in pair)]
    return paired_trial(name, exports, read_markers(folder / "rawvicon" / f"{name}.mat", sorted(set(names))))


def paired_trial(name: str, exports: Mapping[str, XsensExport], markers: dict[str, FloatArray]) -> Trial:
    """One capture's IMU exports and marker trajectories as a :class:`Trial`: every sensor's packets without a gap,
    and as many samples as marker frames, give or take one (frame i is packet i)."""
    for site, e in exports.items():
        if np.any(np.diff(e.packet) != 1):
            raise ValueError(f"{name} {site}: the packet counter has gaps or repeats")
    n_imu = min(e.packet.size for e in exports.values())
    n_mocap = min(x.shape[0] for x in markers.values())
    if abs(n_imu - n_mocap) > 1:
        raise ValueError(f"{name}: {n_imu} IMU samples but {n_mocap} marker frames; the two are not cut alike")
    first = min(int(e.packet[0]) for e in exports.values())
    return Trial(
        name,
        (exports["pelvis"].packet - first) / FS_HZ,
        {s: e.acc_ms2 for s, e in exports.items()},
        {s: e.gyr_rad_s for s, e in exports.items()},
        markers,
        {s: e.quat for s, e in exports.items()},
    )


# ---- reference ------------------------------------------------------------------------------------------------------


def lowpass(x: FloatArray) -> FloatArray:
    """6 Hz zero-lag low-pass along axis 0, each run of finite rows on its own (NaN rows and runs too short to
    filter stay NaN)."""
    b, a = butter(4, LOWPASS_HZ / (FS_HZ / 2.0))
    finite = np.asarray(np.isfinite(x).all(axis=1) if x.ndim == 2 else np.isfinite(x), dtype=bool)
    if finite.all():
        return np.asarray(filtfilt(b, a, x, axis=0), dtype=np.float64)
    out = np.full(x.shape, np.nan)
    for start, end in _runs(finite):
        if end - start > 3 * max(a.size, b.size):
            out[start:end] = filtfilt(b, a, x[start:end], axis=0)
    return out


@dataclass(frozen=True)
class Pass:
    start: int  # frames [start, end)
    end: int
    direction: int  # +1 / −1 along the walking axis


@dataclass(frozen=True)
class Reference:
    """Reference events (s) of the passes that passed the sanity checks, and what came out of the rest."""

    ic_t_s: FloatArray
    ic_side: NDArray[np.str_]
    fc_t_s: FloatArray
    fc_side: NDArray[np.str_]
    windows: tuple[tuple[float, float], ...]  # per kept pass: [first, last reference event]
    step_end_s: FloatArray  # IC ending each reference step (time of the leading foot's IC)
    step_length_m: FloatArray
    step_time_s: FloatArray
    leg_length_m: float
    pelvis_height_m: float
    problems: tuple[str, ...] = ()
    n_passes: int = 0

    def times(self, kind: str, side: str | None = None) -> FloatArray:
        t, s = (self.ic_t_s, self.ic_side) if kind == "IC" else (self.fc_t_s, self.fc_side)
        return t if side is None else t[s == side]


def walking_passes(centre: FloatArray, axis: int) -> list[Pass]:
    v = np.gradient(centre[:, axis], 1.0 / FS_HZ)
    state = np.where(v >= PASS_SPEED_M_S, 1, np.where(v <= -PASS_SPEED_M_S, -1, 0))
    edges = np.concatenate(([0], np.flatnonzero(np.diff(state)) + 1, [state.size]))
    return [
        Pass(int(a), int(b), int(state[a]))
        for a, b in zip(edges[:-1], edges[1:], strict=True)
        if state[a] != 0 and (b - a) / FS_HZ >= MIN_PASS_S
    ]


def _alternates(sides: Sequence[str]) -> bool:
    return all(a != b for a, b in zip(sides[:-1], sides[1:], strict=True))


def reference_events(markers: Mapping[str, FloatArray]) -> Reference:
    m = {k: lowpass(v) for k, v in markers.items()}
    centre = np.mean([m[k] for k in PELVIS_MARKERS], axis=0)
    axis = int(np.argmax(np.ptp(centre[:, :2], axis=0)))
    passes = walking_passes(centre, axis)
    standing = slice(0, max(passes[0].start if passes else centre.shape[0], 1))
    leg = float(np.mean([np.median(m[k][standing, 2]) for k in HIP_CENTRES]))
    spine = float(np.mean([np.median(m[k][standing, 2]) for k in SPINES]))
    events: list[tuple[float, str, str]] = []
    windows, problems = [], []
    steps: list[tuple[float, float, float]] = []
    distance = int(round(MIN_EVENT_GAP_S * FS_HZ))
    for p in passes:
        found: list[tuple[float, str, str, int]] = []
        for side, (heel, toe) in FOOT_MARKERS.items():
            for kind, marker, sign in (("IC", heel, 1.0), ("FC", toe, -1.0)):
                rel = sign * p.direction * (m[marker][p.start : p.end, axis] - centre[p.start : p.end, axis])
                peaks, _ = find_peaks(rel, distance=distance, prominence=MIN_PROMINENCE_M)
                found += [((p.start + k) / FS_HZ, side, kind, p.start + int(k)) for k in peaks]
        found.sort()
        ics = [e for e in found if e[2] == "IC"]
        fcs = [e for e in found if e[2] == "FC"]
        step_t = np.diff([e[0] for e in ics])
        label = f"pass {p.start / FS_HZ:.2f}-{p.end / FS_HZ:.2f} s"
        why = []
        if {e[1] for e in ics} != set(SIDES):
            why.append("no IC on one side")
        if not _alternates([e[1] for e in ics]) or not _alternates([e[1] for e in fcs]):
            why.append("events do not alternate sides")
        if np.any((step_t < STEP_RANGE_S[0]) | (step_t > STEP_RANGE_S[1])):
            why.append(f"step time(s) {', '.join(f'{x:.2f}' for x in step_t)} s outside {STEP_RANGE_S}")
        if why:
            problems.append(f"{label}: {'; '.join(why)}")
            continue
        events += [e[:3] for e in found]
        windows.append((found[0][0], found[-1][0]))
        for a, b in zip(ics[:-1], ics[1:], strict=True):
            heel_a, heel_b = FOOT_MARKERS[a[1]][0], FOOT_MARKERS[b[1]][0]
            length = p.direction * (m[heel_b][b[3], axis] - m[heel_a][a[3], axis])
            steps.append((b[0], length, b[0] - a[0]))
    t = np.array([e[0] for e in events])
    sides = np.array([e[1] for e in events], dtype=str)
    kinds = np.array([e[2] for e in events], dtype=str)
    ic, fc = kinds == "IC", kinds == "FC"
    st = np.array(steps).reshape(-1, 3)
    return Reference(
        t[ic], sides[ic], t[fc], sides[fc], tuple(windows), st[:, 0], st[:, 1], st[:, 2], leg, spine,
        tuple(problems), len(passes),
    )  # fmt: skip


# ---- our detections -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Detection:
    t_s: FloatArray
    side: NDArray[np.str_]
    kind: NDArray[np.str_]
    quality: dict[str, Any]
    step_end_s: FloatArray = field(default_factory=lambda: np.zeros(0))  # IC ending each detected step
    step_side: NDArray[np.str_] = field(default_factory=lambda: np.zeros(0, dtype=str))
    step_thigh_m: FloatArray = field(default_factory=lambda: np.zeros(0))
    step_pelvis_m: FloatArray = field(default_factory=lambda: np.zeros(0))
    error: str = ""

    def times(self, kind: str, side: str | None = None) -> FloatArray:
        sel = self.kind == kind
        if side is not None:
            sel &= self.side == side
        return np.asarray(self.t_s[sel], dtype=np.float64)


def import_trial(
    trial: Trial, ref: Reference, sites: Sequence[str], workdir: Path, subject: str = "neura-s02"
) -> tuple[Session, SubjectProfile]:
    """Import ``sites`` (m/s², rad/s, time from the packet counter) as one session, with the subject's lengths
    from the standing markers in its profile (no sensor height when ``ref.pelvis_height_m`` is NaN)."""
    cols = ("t_s", "acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z")
    files = {}
    for site in sites:
        csv = workdir / f"{trial.name}_{site}.csv"
        values = np.column_stack([trial.t_s, trial.acc_ms2[site], trial.gyr_rad_s[site]])
        pacsv.write_csv(pa.table({c: values[:, i] for i, c in enumerate(cols)}), csv)
        files[site] = csv
    root = workdir / "sessions"
    profile = SubjectProfile(
        subject,
        leg_length_m=round(ref.leg_length_m, 3),
        pelvis_sensor_height_m=(
            round(ref.pelvis_height_m, 3) if "pelvis" in sites and math.isfinite(ref.pelvis_height_m) else None
        ),
    )
    save_profile(root, profile)
    spec = TableImportSpec(FS_HZ, cols[1:4], cols[4:7], "m/s2", "rad/s", time_col="t_s")
    return import_tables(files, spec, root, profile.subject, label=trial.name), profile


def run_ours(
    trial: Trial, ref: Reference, sites: Sequence[str], workdir: Path, subject: str = "neura-s02"
) -> Detection:
    """Process ``sites`` of the trial (:func:`import_trial`) with the public pipeline; events and per-step lengths."""
    empty = np.zeros(0)
    try:
        session, profile = import_trial(trial, ref, sites, workdir, subject)
        result = process_session(session)
        _, spatial = spatial_result(session, profile)
    except ImuGaitError as exc:
        s = empty.astype(str)
        return Detection(empty, s, s, {}, error=str(exc))
    ev = result.events
    steps = spatial.steps
    return Detection(
        np.asarray(ev["t_s"].to_numpy(), dtype=np.float64),
        np.asarray(ev["side"].to_pylist()).astype(str),
        np.asarray(ev["event"].to_pylist()).astype(str),
        dict(result.quality),
        steps.t_s,
        steps.side.astype(str),
        steps.length_thigh_m,
        steps.length_pelvis_m,
    )


def clock_lags(trial: Trial, ref: Reference) -> dict[str, FloatArray]:
    """Per segment (foot, thigh): for each reference IC, the time of the largest ``|Δ²‖a‖|`` of that side's IMU
    within ±``CLOCK_WINDOW_S`` minus the IC (s)."""
    out = {}
    for segment in ("foot", "thigh"):
        lags = []
        for side in SIDES:
            norm = np.linalg.norm(trial.acc_ms2[f"{side}_{segment}"], axis=1)
            d2 = np.zeros_like(norm)
            d2[2:] = np.abs(norm[2:] - 2.0 * norm[1:-1] + norm[:-2])
            for ic in ref.times("IC", side):
                near = np.flatnonzero(np.abs(trial.t_s - ic) <= CLOCK_WINDOW_S)
                if near.size:
                    lags.append(trial.t_s[near[np.argmax(d2[near])]] - ic)
        out[segment] = np.asarray(lags)
    return out


def rotation_lags(
    trial: Trial,
    ref: Reference,
    segments: Mapping[str, Mapping[str, tuple[str, str]]] = SEGMENT_MARKERS,
    standing_s: float = 5.0,
) -> dict[tuple[str, str], tuple[float, float]]:
    """(segment, side) → (lag s, correlation): the shift of the IMU's angular speed that best matches the markers'.

    Markers: the rate of turn of the segment's long axis, ``‖u × du/dt‖`` (u: unit proximal → distal vector).
    IMU: the gyro's norm without its component about the long axis (the direction of gravity in quiet standing;
    the foot's long axis is horizontal, so its whole norm). Both low-passed alike, correlated over the passes ± 0.5 s
    where the markers are seen; + = the IMU is late. ``segments``: segment → side → (proximal, distal) marker;
    ``standing_s``: the quiet standing at the start of the recording. This checks the two clocks with the segments'
    rotation, independent of any event rule."""
    span = np.zeros(trial.t_s.size, dtype=bool)
    for a, b in ref.windows:
        span |= (trial.t_s >= a - 0.5) & (trial.t_s <= b + 0.5)
    idx = np.flatnonzero(span)
    max_lag = int(round(MAX_LAG_S * FS_HZ))
    idx = idx[(idx >= max_lag) & (idx < trial.t_s.size - max_lag)]
    still = slice(0, int(FS_HZ * standing_s))
    out = {}
    for segment, sides in segments.items():
        for side, (proximal, distal) in sides.items():
            v = lowpass(trial.markers[distal] - trial.markers[proximal])
            u = v / np.linalg.norm(v, axis=1, keepdims=True)
            mocap = np.linalg.norm(np.cross(u, np.gradient(u, 1.0 / FS_HZ, axis=0)), axis=1)
            gyr = trial.gyr_rad_s[f"{side}_{segment}"]
            if segment != "foot":
                axis = trial.acc_ms2[f"{side}_{segment}"][still].mean(axis=0)
                axis /= np.linalg.norm(axis)
                gyr = gyr - np.outer(gyr @ axis, axis)
            imu = lowpass(np.linalg.norm(gyr, axis=1))
            lags = np.arange(-max_lag, max_lag + 1)
            seen = idx[np.isfinite(mocap[idx])]
            r = np.array([np.corrcoef(mocap[seen], imu[seen + k])[0, 1] for k in lags])
            i = int(np.clip(np.argmax(r), 1, r.size - 2))
            curve = r[i - 1] - 2.0 * r[i] + r[i + 1]
            frac = 0.5 * (r[i - 1] - r[i + 1]) / curve if curve < 0 else 0.0
            out[(segment, side)] = ((lags[i] + frac) / FS_HZ, float(r[i]))
    return out


# ---- pelvic and thigh angles against the markers ---------------------------------------------------------------------


def _pelvis_from_up(up: FloatArray, rotation_deg: FloatArray, valid: NDArray[np.bool_]) -> PelvisAngles:
    """Obliquity and tilt from the world 'up' unit vector in the pelvis frame, by the pipeline's own definitions
    (``pipeline.orientation.obliquity_tilt_deg``)."""
    nan = np.full(valid.size, np.nan)
    return PelvisAngles(rotation_deg, *obliquity_tilt_deg(up), nan, nan, valid)


@dataclass(frozen=True)
class MarkerSet:
    """The markers a lab's export gives for the angle checks: the pelvis centre (mean of ``pelvis``), the pelvis
    axes (``axes``: filtered markers → lateral, anterior, forward unit vectors in the lab) and each segment's long
    axis (``segments``: segment → side → (proximal, distal) marker)."""

    pelvis: tuple[str, ...]
    axes: Callable[[Mapping[str, FloatArray]], tuple[FloatArray, FloatArray, FloatArray]]
    segments: Mapping[str, Mapping[str, tuple[str, str]]]


def marker_angles(
    markers: Mapping[str, FloatArray], fs_hz: float, marker_set: MarkerSet | None = None
) -> tuple[PelvisAngles, dict[str, ThighAngles]]:
    """Pelvic and thigh angles from the 6 Hz-filtered markers, valid inside the walking passes only (``marker_set``:
    which markers; the NeuRA Helen Hayes set by default).

    Pelvis frame: lateral y = RASI → LASI; anterior x = mid-PSIS → mid-ASIS made perpendicular to y; z = x × y.
    Obliquity and tilt as :func:`_pelvis_from_up`; rotation = the horizontal heading of the lateral axis, high-passed
    as ``pipeline.orientation`` high-passes the sensor's heading. Thigh: the hip → knee joint-centre axis d,
    flexion = atan2(d·F, −d·up), F = the pelvis's anterior axis made horizontal."""
    ms = marker_set or NEURA_MARKERS
    m = {k: lowpass(v) for k, v in markers.items()}
    centre = np.mean([m[k] for k in ms.pelvis], axis=0)
    axis = int(np.argmax(np.nanmax(centre[:, :2], axis=0) - np.nanmin(centre[:, :2], axis=0)))
    valid = np.zeros(centre.shape[0], dtype=bool)
    for p in walking_passes(centre, axis):
        valid[p.start : p.end] = True

    lateral, anterior, forward = ms.axes(m)
    frame = np.stack([anterior, lateral, np.cross(anterior, lateral)], axis=1)  # rows: pelvis axes in the lab
    heading = np.arctan2(lateral[:, 1], lateral[:, 0])
    rotation = np.full(heading.size, np.nan)
    for start, end in _runs(np.isfinite(heading)):  # each stretch the markers see on its own
        unwrapped = np.rad2deg(np.unwrap(heading[start:end]))
        rotation[start:end] = zero_phase_butter(unwrapped, fs_hz, OrientationConfig().heading_highpass_hz, "highpass")
    pelvis = _pelvis_from_up(frame[:, :, 2], rotation, valid)  # lab up (0, 0, 1) in the pelvis frame
    thighs = {}
    for side, (hip, knee) in ms.segments["thigh"].items():
        nan = np.full(valid.size, np.nan)
        thighs[side] = ThighAngles(_sagittal_deg(m[knee] - m[hip], forward), nan, nan, valid, nan)
    return pelvis, thighs


def _unit(v: FloatArray) -> FloatArray:
    return np.asarray(v / np.linalg.norm(v, axis=1, keepdims=True), dtype=np.float64)


def _pelvis_axes(m: Mapping[str, FloatArray]) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Per frame, from the (filtered) iliac-spine markers: lateral = RASI → LASI; anterior = mid-PSIS → mid-ASIS made
    perpendicular to lateral; forward = anterior made horizontal (all unit vectors in the lab)."""
    lateral = _unit(m["LASI"] - m["RASI"])
    anterior = (m["LASI"] + m["RASI"] - m["LPSI"] - m["RPSI"]) / 2.0
    anterior = _unit(anterior - np.einsum("ij,ij->i", anterior, lateral)[:, None] * lateral)
    return lateral, anterior, _unit(np.column_stack([anterior[:, :2], np.zeros(anterior.shape[0])]))


NEURA_MARKERS = MarkerSet(PELVIS_MARKERS, _pelvis_axes, SEGMENT_MARKERS)


def _sagittal_deg(d: FloatArray, forward: FloatArray) -> FloatArray:
    """Sagittal angle (deg) of the segment axis ``d`` (proximal → distal, z up) from the downward vertical, + when
    the distal end is ahead along ``forward``."""
    return np.asarray(np.rad2deg(np.arctan2(np.einsum("ij,ij->i", d, forward), -d[:, 2])), dtype=np.float64)


GEOMETRY_HEADER = (
    "steps",
    "heel to heel m",
    "compass chord (marker thighs) m",
    "chord error %",
    "ankle to ankle m",
    "ankle error %",
    "leading knee flexion °",
    "trailing knee flexion °",
)


def step_geometry(trial: Trial, ref: Reference) -> list[list[str]]:
    """Where the thigh compass model's shortfall lies, from the markers alone (no sensor involved), at each reference
    step's closing IC: the heel-to-heel step (the reference), the compass chord 2·L·sin(Δθ/2) from the markers'
    hip → knee angles with the standing hip-centre height as L, the ankle-to-ankle distance (joint centres) along
    the walking direction, and the knee flexion of each leg (thigh angle − shank angle, sagittal)."""
    m = {k: lowpass(v) for k, v in trial.markers.items()}
    forward = _pelvis_axes(m)[2]
    thigh = {s: _sagittal_deg(m[k] - m[h], forward) for s, (h, k) in SEGMENT_MARKERS["thigh"].items()}
    shank = {s: _sagittal_deg(m[a] - m[k], forward) for s, (k, a) in SEGMENT_MARKERS["shank"].items()}
    ankle = {s: m[a] for s, (_, a) in SEGMENT_MARKERS["shank"].items()}
    side_at = dict(zip(ref.ic_t_s, ref.ic_side, strict=True))
    rows = []
    for t in ref.step_end_s:
        lead = str(side_at[t])
        trail = "right" if lead == "left" else "left"
        i = int(round(t * FS_HZ))
        chord = 2.0 * ref.leg_length_m * np.sin(np.deg2rad(thigh[lead][i] - thigh[trail][i]) / 2.0)
        between = float(np.dot(ankle[lead][i] - ankle[trail][i], forward[i]))
        knee = (thigh[lead][i] - shank[lead][i], thigh[trail][i] - shank[trail][i])
        rows.append((chord, between, *knee))
    if not rows:
        return []
    chord, between, knee_lead, knee_trail = np.array(rows).T
    heel = ref.step_length_m
    return [
        [
            str(heel.size),
            f"{heel.mean():.3f}",
            f"{chord.mean():.3f}",
            f"{100 * (chord.mean() / heel.mean() - 1):+.1f}",
            f"{between.mean():.3f}",
            f"{100 * (between.mean() / heel.mean() - 1):+.1f}",
            f"{knee_lead.mean():.1f} ± {np.std(knee_lead, ddof=1):.1f}",
            f"{knee_trail.mean():.1f} ± {np.std(knee_trail, ddof=1):.1f}",
        ]
    ]


def device_angles(trial: Trial, aligned: AlignedSession) -> tuple[PelvisAngles, dict[str, ThighAngles]]:
    """The same angles from the Xsens devices' own orientation output (their Kalman filter, magnetometer
    included), turned into our segment frames with our sensor-to-segment alignment: a second fusion of the same
    sensors, which separates what our fusion does from how the sensor moved. No pelvic rotation (NaN)."""

    def up_in_segment(site: str) -> FloatArray:
        w, x, y, z = trial.quat[site].T  # sensor → global; global up in the sensor frame = third row of R
        up = np.column_stack([2.0 * (x * z - w * y), 2.0 * (y * z + w * x), 1.0 - 2.0 * (x * x + y * y)])
        return aligned.alignments[site].apply(up)[: aligned.t_s.size]

    up = up_in_segment("pelvis")
    valid = np.all(np.isfinite(up), axis=1)
    pelvis = _pelvis_from_up(up, np.full(valid.size, np.nan), valid)
    thighs = {}
    for side in SIDES:
        u = up_in_segment(f"{side}_thigh")
        nan = np.full(valid.size, np.nan)
        thighs[side] = ThighAngles(sagittal_deg(u), nan, nan, np.all(np.isfinite(u), axis=1), nan)
    return pelvis, thighs


ANGLE_COLUMNS = (  # stride-table column → label
    ("pelvic_obliquity_range_deg", "pelvic obliquity range"),
    ("pelvic_tilt_range_deg", "pelvic tilt range"),
    ("pelvic_rotation_range_deg", "pelvic rotation range"),
    ("pelvic_drop_deg", "pelvic drop in stance"),
    ("pelvic_hike_deg", "pelvic hike in swing"),
    ("thigh_range_deg", "thigh sagittal range"),
)
ANGLE_HEADER = ("metric", "side", "strides", "markers mean °", "ours − markers °", "Xsens − markers °")
SERIES_HEADER = (
    "angle",
    "samples",
    "ours vs markers: r",
    "RMS °",
    "amplitude ratio",
    "Xsens vs markers: r",
    "amplitude ratio",
    "ours vs Xsens: r",
    "RMS °",
)


@dataclass(frozen=True)
class AngleComparison:
    strides: list[list[str]]
    series: list[list[str]]
    toe_off: list[list[str]] = field(default_factory=list)


def toe_off_fractions(angle_deg: FloatArray, fs_hz: float, t_s: FloatArray, span_s: float = 0.6) -> FloatArray:
    """At each time ``t_s``: the share of the thigh's peak-extension → peak-flexion excursion already flexed, the
    quantity the pipeline's FC rule sets (``ThighEventConfig.fc_flexion_fraction``). Peak extension is the angle's
    minimum within ``span_s`` before the time, peak flexion its maximum within ``span_s`` after; NaN where either
    window leaves the data or holds a NaN."""
    out = np.full(t_s.size, np.nan)
    span = int(round(span_s * fs_hz))
    for k, t in enumerate(t_s):
        i = int(round(t * fs_hz))
        if i - span < 0 or i + span >= angle_deg.size:
            continue
        before, after = angle_deg[i - span : i + 1], angle_deg[i : i + span + 1]
        if not (np.isfinite(before).all() and np.isfinite(after).all()):
            continue
        low, high = before.min(), after.max()
        if high > low:
            out[k] = (angle_deg[i] - low) / (high - low)
    return out


def compare_angles(
    trial: Trial, ref: Reference, workdir: Path, marker_set: MarkerSet | None = None, subject: str = "neura-s02"
) -> AngleComparison:
    """Our angles (pelvis + thighs session) against the markers' and the devices' own (:func:`marker_angles`,
    :func:`device_angles`): per stride through the same definitions (``pipeline.metrics.stride_table`` with our
    events on each angle set), and as series inside the walking passes with each pass's mean removed (the markers'
    anatomical frame and the sensor's walking frame differ by a constant). A stride counts when ours and the
    markers both give a value; the amplitude ratio is the ratio of the two series' SDs."""
    session, _ = import_trial(trial, ref, IMPORTED["pelvis+thighs"], workdir, subject)
    aligned = load_aligned(session)
    if aligned.pelvis is None or set(aligned.thighs) != set(SIDES):
        raise ValueError("the pelvis + thighs session lacks a pelvis or a thigh")
    n, fs = aligned.t_s.size, aligned.fs_hz
    frames = min(v.shape[0] for v in trial.markers.values())
    if frames < n:  # one frame short (a capture cut one sample apart): the last samples have no markers
        if n - frames > 1:
            raise ValueError("fewer marker frames than grid samples: frame i is not packet i")
        trial = replace(
            trial, markers={k: np.vstack([v, np.full((n - frames, 3), np.nan)]) for k, v in trial.markers.items()}
        )
    marker_pelvis, marker_thighs = marker_angles({k: v[:n] for k, v in trial.markers.items()}, fs, marker_set)
    device_pelvis, device_thighs = device_angles(trial, aligned)
    sets = {
        "ours": (aligned.pelvis, aligned.thighs),
        "markers": (marker_pelvis, marker_thighs),
        "Xsens": (device_pelvis, device_thighs),
    }
    tables = {k: stride_table(aligned.events, fs, n, pelvis=p, thighs=t) for k, (p, t) in sets.items()}
    strides = [row for column, label in ANGLE_COLUMNS for row in _stride_rows(label, column, tables)]
    passes = _runs(marker_pelvis.valid)

    def angle(name: str, key: str, side: str | None = None) -> FloatArray:
        pelvis, thighs = sets[name]
        x = getattr(pelvis, key) if side is None else thighs[side].sagittal_deg
        return _demeaned(np.asarray(x, dtype=np.float64), passes)

    series = []
    for label, key, side in (
        ("pelvic obliquity", "obliquity_deg", None),
        ("pelvic tilt", "tilt_deg", None),
        ("pelvic rotation", "rotation_deg", None),
        ("thigh sagittal, left", "", "left"),
        ("thigh sagittal, right", "", "right"),
    ):
        ours, markers, device = (angle(name, key, side) for name in ("ours", "markers", "Xsens"))
        ok = np.isfinite(ours) & np.isfinite(markers)
        series.append([label, str(int(ok.sum())), *_agreement(ours, markers), *_agreement(device, markers)[::2],
                       *_agreement(ours, device)[:2]])  # fmt: skip
    toe_off = []
    for name, (_, thighs) in sets.items():
        fractions = [toe_off_fractions(thighs[side].sagittal_deg, fs, ref.times("FC", side)) for side in SIDES]
        f = np.concatenate(fractions)
        f = f[np.isfinite(f)]
        spread = f"{f.mean():.2f} ± {np.std(f, ddof=1):.2f}" if f.size > 1 else "n/a"
        toe_off.append([name, str(f.size), f"{np.median(f):.2f}" if f.size else "n/a", spread])
    return AngleComparison(strides, series, toe_off)


def _agreement(a: FloatArray, b: FloatArray) -> tuple[str, str, str]:
    """Correlation, RMS difference and amplitude ratio (SD of a / SD of b) where both are finite."""
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3:
        return "n/a", "n/a", "n/a"
    r = np.corrcoef(a[ok], b[ok])[0, 1]
    rms = np.sqrt(np.mean((a[ok] - b[ok]) ** 2))
    return f"{r:.2f}", f"{rms:.1f}", f"{np.std(a[ok]) / np.std(b[ok]):.2f}"


def _runs(mask: NDArray[np.bool_]) -> list[tuple[int, int]]:
    """[start, end) index ranges of the True runs of ``mask``."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], mask.astype(np.int8), [0]))))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def _demeaned(x: FloatArray, runs: Sequence[tuple[int, int]]) -> FloatArray:
    out = np.full(x.size, np.nan)
    for a, b in runs:
        if np.isfinite(x[a:b]).any():
            out[a:b] = x[a:b] - np.nanmean(x[a:b])
    return out


def _stride_rows(label: str, column: str, tables: Mapping[str, StrideTable]) -> list[list[str]]:
    ours, markers, device = (np.asarray(getattr(tables[k], column)) for k in ("ours", "markers", "Xsens"))
    side_of = tables["ours"].side
    rows = []
    for side in (*SIDES, "both"):
        sel = np.isfinite(ours) & np.isfinite(markers) & ((side_of == side) if side != "both" else True)
        if sel.any():
            err = [_mean_sd(x[sel] - markers[sel]) for x in (ours, device)]
            rows.append([label, side, str(int(sel.sum())), f"{markers[sel].mean():.1f}", *err])
    return rows


def _mean_sd(e: FloatArray) -> str:
    e = e[np.isfinite(e)]
    if not e.size:
        return "n/a"
    return f"{e.mean():+.1f} ± {fmt(float(np.std(e, ddof=1)) if e.size > 1 else math.nan, '{:.1f}')}"


# ---- scoring and tables ---------------------------------------------------------------------------------------------


def scores(det: Detection, ref: Reference) -> dict[tuple[str, str, float], EventScores]:
    """(kind, side, tolerance) → the passes' scores pooled."""
    out = {}
    for kind in KINDS:
        for side in SIDES:
            r, d = ref.times(kind, side), det.times(kind, side)
            for tol in TOLERANCES_S:
                per_pass = [score_window(d, r[(r >= a) & (r <= b)], a, b, tol) for a, b in ref.windows]
                out[(kind, side, tol)] = pool(per_pass)
    return out


EVENT_HEADER = (
    "sensors",
    "side",
    "kind",
    "ref",
    "det",
    "F1 ±0.5",
    "F1 ±0.25",
    "F1 ±0.1",
    "bias ± SD ms",
    "MAE ms",
    "median err ms",
)


def event_rows(label: str, s: Mapping[tuple[str, str, float], EventScores]) -> list[list[str]]:
    rows = []
    for kind in KINDS:
        for side in (*SIDES, "both"):
            sides = SIDES if side == "both" else (side,)
            by_tol = {t: pool([s[(kind, x, t)] for x in sides]) for t in TOLERANCES_S}
            a = by_tol[0.5]
            rows.append(
                [
                    label,
                    side,
                    kind,
                    str(a.n_reference),
                    str(a.n_detected),
                    *(fmt(by_tol[t].f1, "{:.3f}") for t in TOLERANCES_S),
                    *timing_cells(a),
                    fmt(a.median_error_s * 1e3, "{:+.0f}"),
                ]
            )
    return rows


def laterality(det: Detection, ref: Reference) -> EventScores:
    inside = np.zeros(det.t_s.size, dtype=bool)
    for a, b in ref.windows:
        inside |= (det.t_s >= a - PAIR_TOLERANCE_S) & (det.t_s <= b + PAIR_TOLERANCE_S)
    ic = inside & (det.kind == "IC")
    return score_events(
        det.t_s[ic], ref.ic_t_s, tolerance_s=PAIR_TOLERANCE_S, detected_side=det.side[ic], reference_side=ref.ic_side
    )


def step_pairs(det: Detection, ref: Reference) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Reference, thigh and pelvis lengths of the steps whose ending IC was detected (same side, ±0.25 s)."""
    ref_side = dict(zip(ref.ic_t_s, ref.ic_side, strict=True))
    out: list[tuple[float, float, float]] = []
    for side in SIDES:
        mine = det.step_side == side
        theirs = np.array([ref_side[t] == side for t in ref.step_end_s], dtype=bool)
        m = match_events(det.step_end_s[mine], ref.step_end_s[theirs], tolerance_s=PAIR_TOLERANCE_S)
        for i, j in zip(m.detected, m.reference, strict=True):
            out.append((ref.step_length_m[theirs][j], det.step_thigh_m[mine][i], det.step_pelvis_m[mine][i]))
    a = np.array(out).reshape(-1, 3)
    return a[:, 0], a[:, 1], a[:, 2]


STEP_HEADER = ("sensors", "model", "steps", "ref mean m", "ours mean m", "error mean ± SD m", "error %", "MAE m")


def step_rows(label: str, det: Detection, ref: Reference) -> list[list[str]]:
    reference, thigh, pelvis = step_pairs(det, ref)
    rows = []
    for model, ours in (("thigh compass", thigh), ("pelvis pendulum", pelvis)):
        ok = np.isfinite(ours) & np.isfinite(reference)
        if not ok.any():
            continue
        err = ours[ok] - reference[ok]
        sd = float(np.std(err, ddof=1)) if err.size > 1 else math.nan
        rows.append(
            [
                label,
                model,
                str(int(ok.sum())),
                f"{reference[ok].mean():.3f}",
                f"{ours[ok].mean():.3f}",
                f"{err.mean():+.3f} ± {fmt(sd, '{:.3f}')}",
                f"{100 * err.mean() / reference[ok].mean():+.1f}",
                f"{np.abs(err).mean():.3f}",
            ]
        )
    return rows


def event_listing(det: Detection, ref: Reference) -> list[list[str]]:
    rows = []
    for kind in KINDS:
        for side in SIDES:
            r, d = ref.times(kind, side), det.times(kind, side)
            m = match_events(d, r, tolerance_s=max(TOLERANCES_S))
            err = dict(zip(m.reference.tolist(), m.error_s.tolist(), strict=True))
            for j, t in enumerate(r):
                rows.append([kind, side, f"{t:.2f}", fmt(err.get(j, math.nan) * 1e3, "{:+.0f}")])
    return sorted(rows, key=lambda row: float(row[2]))


TURN_HEADER = ("heading from", "turns", "start s", "end s", "angle °", "Vicon pelvis, same interval °", "error °")


def reference_turn_deg(markers: Mapping[str, FloatArray], start_s: float, end_s: float) -> float:
    """The pelvis's heading change over a turn from the markers alone: the horizontal direction from the posterior
    to the anterior iliac spine midpoints, averaged over the second before ``start_s`` and the second after
    ``end_s`` (as ``pipeline.turns`` measures the angle, so the two differ by the sensors, not the definition).
    + = to the left, as ours."""
    d = (markers["LASI"] + markers["RASI"] - markers["LPSI"] - markers["RPSI"]) / 2.0
    yaw = np.rad2deg(np.unwrap(np.arctan2(d[:, 1], d[:, 0])))
    n, i, j = int(FS_HZ), int(round(start_s * FS_HZ)), int(round(end_s * FS_HZ))
    return float(np.nanmean(yaw[j + 1 : j + 1 + n]) - np.nanmean(yaw[max(i - n, 0) : i]))


def turn_rows(trial: Trial, ref: Reference, workdir: Path) -> list[list[str]]:
    """Our turns (``pipeline.turns``) on the pelvis + thighs session from each heading source the pipeline can use:
    the pelvis (its choice when worn), both thighs' mean (its choice without a pelvis) and each thigh alone, against
    the markers' pelvis heading over each one's interval."""
    session, _ = import_trial(trial, ref, IMPORTED["pelvis+thighs"], workdir)
    aligned = load_aligned(session)
    is_ic = aligned.events.kind == "IC"
    ic, side = aligned.events.t_s[is_ic], aligned.events.side[is_ic]
    sources = {"pelvis": walking_heading(aligned.pelvis, {}), "both thighs": walking_heading(None, aligned.thighs)}
    sources.update({f"{s} thigh": walking_heading(None, {s: aligned.thighs[s]}) for s in SIDES if s in aligned.thighs})
    rows = []
    for name, heading in sources.items():
        if heading is None:
            continue
        t = detect_turns(heading, aligned.fs_hz, ic, side)
        angle, truth = math.nan, math.nan
        if len(t) == 1:  # the trial holds one turn
            angle, truth = float(t.angle_deg[0]), reference_turn_deg(trial.markers, t.start_s[0], t.end_s[0])
        rows.append(
            [
                name,
                str(len(t)),
                " ".join(f"{x:.2f}" for x in t.start_s),
                " ".join(f"{x:.2f}" for x in t.end_s),
                " ".join(f"{x:+.1f}" for x in t.angle_deg),
                fmt(truth, "{:+.1f}"),
                fmt(angle - truth, "{:+.1f}"),
            ]
        )
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    env = os.environ.get(DATA_ENV)
    parser.add_argument("--data", type=Path, default=Path(env) if env else None, help=f"default: ${DATA_ENV}")
    args = parser.parse_args(argv)
    console = Console(width=200)
    folder = find_data_dir(args.data)
    if folder is None:
        console.print(
            f"SKIPPED: no NeuRA sparse sample found (--data {args.data}, ${DATA_ENV}). It is data/sample of the "
            f"GitHub repository gait-tech/gaittoolbox (GPL-3.0: use a local checkout, never copy it here); pass the "
            f"checkout or the folder holding rawimu/ and rawvicon/{TRIAL}.mat."
        )
        return 0
    trial = load_trial(folder)
    ref = reference_events(trial.markers)
    console.print(
        f"reference ({trial.name}, Zeni 2008 on Vicon heel/toe markers): {ref.n_passes} passes, "
        f"{len(ref.windows)} kept, {ref.ic_t_s.size} ICs (L {int((ref.ic_side == 'left').sum())} / R "
        f"{int((ref.ic_side == 'right').sum())}), {ref.fc_t_s.size} FCs, {ref.step_length_m.size} steps: "
        f"length {fmt(float(np.mean(ref.step_length_m)) if ref.step_length_m.size else math.nan, '{:.3f}')} m, "
        f"time {fmt(float(np.mean(ref.step_time_s)) if ref.step_time_s.size else math.nan, '{:.2f}')} s; "
        f"windows {', '.join(f'{a:.2f}-{b:.2f} s' for a, b in ref.windows)}"
    )
    console.print(
        f"subject lengths from the standing markers: leg length (hip joint centre height) {ref.leg_length_m:.3f} m, "
        f"pelvis sensor height (posterior iliac spines) {ref.pelvis_height_m:.3f} m"
    )
    for problem in ref.problems:
        console.print(f"[yellow]{problem}: left out[/yellow]")
    if not ref.windows:
        console.print("no pass passed the sanity checks: nothing to score")
        return 0
    clock = clock_lags(trial, ref)
    console.print(
        "clock check, largest |Δ²‖a‖| within ±0.2 s of each reference IC minus the IC, median (min to max): "
        + "; ".join(
            f"{seg} {np.median(x) * 1e3:+.0f} ms ({x.min() * 1e3:+.0f} to {x.max() * 1e3:+.0f})"
            for seg, x in clock.items()
            if x.size
        )
    )
    lags = rotation_lags(trial, ref)
    console.print(
        "clock check, segment rotation (IMU angular speed vs marker long axis), lag of the IMU at the best "
        "correlation: "
        + "; ".join(f"{seg} {side} {lag * 1e3:+.0f} ms (r {r:.3f})" for (seg, side), (lag, r) in lags.items())
    )
    events, steps, lateral = [], [], []
    listing: list[list[str]] = []
    with tempfile.TemporaryDirectory(prefix="imugait-neura-") as tmp:
        for label, sites in IMPORTED.items():
            work = Path(tmp) / label.replace(" ", "_").replace("+", "_")
            work.mkdir()
            det = run_ours(trial, ref, sites, work)
            if det.error:
                console.print(f"[red]{label}: pipeline failed: {det.error}[/red]")
                continue
            events += event_rows(label, scores(det, ref))
            steps += step_rows(label, det, ref)
            lat = laterality(det, ref)
            q = det.quality
            lateral.append(
                f"{label}: {lat.n_lateral} ICs paired without regard to side at ±{PAIR_TOLERANCE_S} s, detected "
                f"side = reference side in {fmt(lat.laterality_accuracy, '{:.3f}')}; swap check "
                f"{q.get('thigh_swap_check')}, corrected as swapped: {bool(q.get('thighs_swapped'))}; mounting "
                + ", ".join(
                    f"{s} up {mt.get('up')} forward {mt.get('forward')}"
                    for s in SIDES
                    if isinstance(mt := q.get(f"{s}_thigh.mounting"), dict)
                )
                + "; event rules "
                + " | ".join(
                    f"{s}: " + ", ".join(f"{k} {v}" for k, v in rules.items() if v)
                    for s in SIDES
                    if isinstance(rules := q.get(f"{s}_thigh.event_rules"), dict)
                )
            )
            if not listing:
                listing = [[label, *row] for row in event_listing(det, ref)]
    print_rows(console, f"imugait thigh events vs Vicon (Zeni 2008), {trial.name}", EVENT_HEADER, events)
    for line in lateral:
        console.print(line)
    print_rows(console, "step length vs Vicon heel markers (uncalibrated)", STEP_HEADER, steps)
    print_rows(
        console,
        "step geometry from the markers alone at each reference IC (where the thigh compass model falls short)",
        GEOMETRY_HEADER,
        step_geometry(trial, ref),
    )
    with tempfile.TemporaryDirectory(prefix="imugait-neura-angles-") as tmp:
        angles = compare_angles(trial, ref, Path(tmp))
    print_rows(
        console,
        "pelvic and thigh values per stride (pelvis + thighs; our events and stride definitions on both angle sets)",
        ANGLE_HEADER,
        angles.strides,
    )
    print_rows(
        console,
        "angle series within the walking passes, each pass's mean removed",
        SERIES_HEADER,
        angles.series,
    )
    print_rows(
        console,
        "thigh flexion made at the reference FC, share of peak extension → peak flexion (the FC rule's quantity)",
        ("thigh angles", "FCs", "median", "mean ± SD"),
        angles.toe_off,
    )
    with tempfile.TemporaryDirectory(prefix="imugait-neura-turns-") as tmp:
        turns = turn_rows(trial, ref, Path(tmp))
    print_rows(
        console, "the turn between the two passes, by heading source (pelvis + thighs session)", TURN_HEADER, turns
    )
    print_rows(
        console,
        "each reference event, detected − reference",
        ("sensors", "kind", "side", "ref s", "ms"),
        listing,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
