"""Thigh and pelvis events against force plates, pelvic and thigh angles against markers: one Kuopio gait trial.

Data: the one trial ``l_comf_01`` that the GitHub repository ``gateway240/opensim-core-examples`` (Apache-2.0) ships
as test data. It comes from the Kuopio gait dataset (HUMEA laboratory, University of Eastern Finland; Zenodo
doi:10.5281/zenodo.10559504, v1.0.0, 2024: 51 healthy adults, Movella Xsens MTw Awinda on the pelvis, thighs, shanks
and feet, marker trajectories, ground reaction forces), which cannot be reached from here. Use it from a local
checkout; never copy it into this repository. ONE trial of ONE healthy adult walking at a comfortable speed along
the lab's walkway, 9.7 s; the markers see about 4 m of it (4.7-8.6 s), three force plates in a row take three
consecutive footfalls.

Format, as checked on the files. ``IMUXsens/data/test/l_comf_01-000_<ID>.txt``: MT Manager 2022.2 exports, 12 ``//``
lines, then tab-separated ``PacketCounter, SampleTimeFine (NaN), Acc_X/Y/Z, Gyr_X/Y/Z, Mat[1][1]..Mat[3][3]``; acc
m/s², gyro rad/s; 972 packets (4097-5068) in every sensor, no gap. Sensors (``myIMUMappings.xml`` of the same
folder): pelvis 00B42DA3, femur_l 00B42D4D, femur_r 00B42DA2, tibia_l 00B42D53, tibia_r 00B42DAE, calcn_l
00B42D4E, calcn_r 00B42D48. ``MarkerInverseKinematics/data/l_comf_01_markers.trc``: 100 Hz, 973 frames, mm, z up,
the walk along +y: clusters (Pelvis1-4, L/RFemur1-4, L/RTibia1-4, L/RFoot1-3) and the lab software's joint centres
(``Pelvis_LFemur_score`` = left hip, ``LFemur_LTibia_score`` = left knee, ``LTibia_LFoot_score`` = left ankle, and
the right's), no anatomical pelvis landmarks. ``C3DParser/data/l_comf_01.c3d``: the same 973 frames and 1 kHz
analog channels, five force plates (``FORCE_PLATFORM``; plates 1-3 in the floor along the walkway, 4-5 unloaded),
and a start/stop trigger pulse at 5 ms and 9.714 s. The IMU files hold one sample fewer than the capture: IMU row i
is taken as frame i (time i / 100 s), which the clock check below tests. ``ScaleTool/data/subject01_calib_static_
markers.trc`` is a standing trial; its hip-centre width equals the walk's (checked by this script), so it is taken
as the same person, and its hip-centre height is the subject's leg length.

References (fixed before our detector was run on this trial, never tuned against it):

* **Force plates** (the gold standard for floor contact). Per plate, the vertical force less its median (the plate
  is unloaded most of the trial); a contact is a run above 20 N lasting ≥ 0.2 s, not touching the recording's ends;
  IC = its first sample, FC = the first sample after it (1 ms). The foot is the one whose ankle centre moves
  slowest (horizontally) over the middle half of the contact, at most a third as fast as the other.
* **Markers**, for every step the cameras see: the coordinate rule of Zeni et al. (Gait Posture 2008, 27:710) with
  the ankle joint centres in place of heel and toe markers (this lab has none by name): IC = foremost, FC =
  rearmost position of the ankle centre relative to the pelvis cluster's centroid along the walking axis, inside
  passes where the centroid moves at ≥ 0.5 m/s for ≥ 1 s (the rule and checks of ``validate_neura.py``). Marker
  gaps up to 0.2 s are filled linearly; an event within 5 frames of a longer gap is not taken. The script prints
  where these events fall against the plates, so the marker rule's own offset is on the page. Reference step
  length: the ankle-to-ankle distance along the walkway at successive contralateral ICs (footprints, the same
  point on each foot).

Our side: the pelvis and both thighs go through :func:`pipeline.importer.import_tables` and
:func:`pipeline.run.process_session` as a user's import (``validate_neura.run_ours``), three times: pelvis +
thighs, thighs only, pelvis only. The profile holds the leg length only (no measured sensor height: the pendulum
length comes from the leg length, ``pipeline.subjects``). Angles: ``validate_neura.compare_angles`` with this lab's
markers (pelvis frame: lateral = right → left hip centre, anterior = from the pelvis cluster's centroid to the hip
centres' midpoint made perpendicular to it; its constant tilt offset cancels in the per-stride ranges and the
de-meaned series compared).

One person, one short walk, three force-plate contacts and about eight marker contacts: a smoke test on a third lab
and the first force plates, not a validation.

Usage::

    .venv-bench/bin/python bench/validate_kuopio.py --data <opensim-core-examples checkout>
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import validate_neura as vn
from event_scoring import fmt, score_window
from numpy.typing import NDArray
from rich.console import Console
from scipy.signal import find_peaks
from validate_real import print_rows

from pipeline.evaluation import EventScores, pool

DATA_ENV = "KUOPIO_DATA_DIR"
TRIAL = "l_comf_01"
SUBJECT = "kuopio-01"
FS_HZ = vn.FS_HZ
SENSORS = {  # site → Xsens ID (myIMUMappings.xml)
    "pelvis": "00B42DA3",
    "left_thigh": "00B42D4D",
    "right_thigh": "00B42DA2",
    "left_shank": "00B42D53",
    "right_shank": "00B42DAE",
    "left_foot": "00B42D4E",
    "right_foot": "00B42D48",
}
IMPORTED = {**vn.IMPORTED, "pelvis only": ("pelvis",)}
FILES = {  # where each file sits in the opensim-core-examples checkout (else all in one folder)
    "imu": "IMUXsens/data/test",
    "markers": "MarkerInverseKinematics/data",
    "c3d": "C3DParser/data",
    "static": "ScaleTool/data",
}
STATIC_TRIAL = "subject01_calib_static_markers.trc"
JOINT_CENTRES = {  # our name → the lab's
    "LHJC": "Pelvis_LFemur_score",
    "RHJC": "Pelvis_RFemur_score",
    "LKJC": "LFemur_LTibia_score",
    "RKJC": "RFemur_RTibia_score",
    "LAJC": "LTibia_LFoot_score",
    "RAJC": "RTibia_RFoot_score",
}
PELVIS_CLUSTER = ("Pelvis1", "Pelvis2", "Pelvis3", "Pelvis4")
ANKLES = {"left": "LAJC", "right": "RAJC"}
SEGMENTS = {
    "thigh": {"left": ("LHJC", "LKJC"), "right": ("RHJC", "RKJC")},
    "shank": {"left": ("LKJC", "LAJC"), "right": ("RKJC", "RAJC")},
}
SAME_PERSON_MM = 5.0  # hip-centre widths of the static and the walk within this: one person

# Reference rules (fixed a priori, see the module docstring).
PLATE_THRESHOLD_N = 20.0
MIN_CONTACT_S = 0.2
STANCE_SPEED_RATIO = 1.0 / 3.0
MAX_FILL_S = 0.2
EDGE_FRAMES = 5

FloatArray = NDArray[np.float64]


# ---- data -----------------------------------------------------------------------------------------------------------


def find_file(data: Path, kind: str, name: str) -> Path | None:
    for candidate in (data / FILES[kind] / name, data / name):
        if candidate.is_file():
            return candidate
    return None


def read_trc(path: Path) -> dict[str, FloatArray]:
    """Every named marker of an OpenSim ``.trc`` file as (frames, 3) in metres (NaN where not seen)."""
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    if len(lines) < 6 or not lines[0].startswith("PathFileType"):
        raise ValueError(f"{path}: not a .trc marker file")
    keys, values = lines[1].split("\t"), lines[2].split("\t")
    info = dict(zip((k.strip() for k in keys), (v.strip() for v in values), strict=False))
    scale = {"mm": 1e-3, "m": 1.0}.get(info.get("Units", ""))
    if scale is None:
        raise ValueError(f"{path}: marker units {info.get('Units')!r}, expected mm or m")
    if float(info.get("DataRate", "nan")) != FS_HZ:
        raise ValueError(f"{path}: {info.get('DataRate')} Hz, expected {FS_HZ:g} Hz")
    names = [n.strip() for n in lines[3].split("\t")[2:] if n.strip()]
    width = 2 + 3 * len(names)
    rows = [line.split("\t") for line in lines[5:] if line.strip()]
    data = np.full((len(rows), width), np.nan)
    for i, row in enumerate(rows):
        cells = [c.strip() for c in row[:width]]
        data[i, : len(cells)] = [float(c) if c else np.nan for c in cells]
    return {n: data[:, 2 + 3 * k : 5 + 3 * k] * scale for k, n in enumerate(names)}


def fill_gaps(x: FloatArray, max_frames: int) -> FloatArray:
    """Interior NaN runs of up to ``max_frames`` rows filled linearly; longer ones and the ends stay NaN."""
    out = x.copy()
    seen = np.asarray(np.isfinite(x).all(axis=1), dtype=bool)
    idx = np.flatnonzero(seen)
    if idx.size < 2:
        return out
    for start, end in vn._runs(~seen):
        if start > idx[0] and end <= idx[-1] and end - start <= max_frames:
            for j in range(3):
                out[start:end, j] = np.interp(np.arange(start, end), [start - 1, end], x[[start - 1, end], j])
    return out


@dataclass(frozen=True)
class Plates:
    load_n: FloatArray  # (plates, samples) vertical force less its median, N
    rate_hz: float
    centre_m: FloatArray  # (plates, 3) centre of each plate's corners, lab frame


def read_plates(path: Path) -> Plates:
    """The force plates of a ``.c3d`` file (needs the ``c3d`` package, installed in the bench venv)."""
    try:
        import c3d  # type: ignore[import-not-found,import-untyped,unused-ignore]
    except ImportError as exc:
        raise ValueError("reading force plates needs the c3d package (pip install c3d; the bench venv has it)") from exc
    with path.open("rb") as f:
        reader = c3d.Reader(f)
        group = reader.get("FORCE_PLATFORM")
        if group is None or reader.analog_rate <= 0:
            raise ValueError(f"{path}: no force plates")
        channels = np.asarray(group.get("CHANNEL").int16_array, dtype=np.int64).reshape(-1, 6)
        corners = np.asarray(group.get("CORNERS").float_array, dtype=np.float64).reshape(-1, 4, 3)
        units = reader.get("POINT").get("UNITS").string_value.strip()
        analog = np.concatenate([a for _, _, a in reader.read_frames()], axis=1)
        rate = float(reader.analog_rate)
    scale = {"mm": 1e-3, "m": 1.0}.get(units)
    if scale is None:
        raise ValueError(f"{path}: point units {units!r}")
    fz = analog[channels[:, 2] - 1]
    return Plates(fz - np.median(fz, axis=1, keepdims=True), rate, corners.mean(axis=1) * scale)


@dataclass(frozen=True)
class Trial:
    trial: vn.Trial
    plates: Plates
    leg_length_m: float
    leg_source: str


def load(data: Path) -> Trial:
    exports = {}
    for site, sid in SENSORS.items():
        path = find_file(data, "imu", f"{TRIAL}-000_{sid}.txt")
        if path is None:
            raise FileNotFoundError(f"{TRIAL}-000_{sid}.txt ({site})")
        exports[site] = vn.read_xsens(path)
    trc, c3d_file = find_file(data, "markers", f"{TRIAL}_markers.trc"), find_file(data, "c3d", f"{TRIAL}.c3d")
    if trc is None or c3d_file is None:
        raise FileNotFoundError(f"{TRIAL}_markers.trc or {TRIAL}.c3d")
    raw = read_trc(trc)
    missing = [n for n in (*PELVIS_CLUSTER, *JOINT_CENTRES.values()) if n not in raw]
    if missing:
        raise ValueError(f"{trc}: no marker(s) {', '.join(missing)}")
    gap = int(round(MAX_FILL_S * FS_HZ))
    markers = {n: fill_gaps(raw[n], gap) for n in PELVIS_CLUSTER}
    markers |= {ours: fill_gaps(raw[theirs], gap) for ours, theirs in JOINT_CENTRES.items()}
    trial = vn.paired_trial(TRIAL, exports, markers)
    leg, source = leg_length(markers, find_file(data, "static", STATIC_TRIAL))
    return Trial(trial, read_plates(c3d_file), leg, source)


def leg_length(walk: Mapping[str, FloatArray], static: Path | None) -> tuple[float, str]:
    """The hip-centre height of the standing trial when its hip-centre width is the walk's (the same person);
    otherwise the walk's median hip-centre height, which reads a little short."""
    walk_width = float(np.nanmedian(np.linalg.norm(walk["LHJC"] - walk["RHJC"], axis=1)))
    fallback = float(np.nanmean([np.nanmedian(walk[k][:, 2]) for k in ("LHJC", "RHJC")]))
    if static is None:
        return fallback, "walk's median hip-centre height (no standing trial)"
    s = read_trc(static)
    left, right = s[JOINT_CENTRES["LHJC"]], s[JOINT_CENTRES["RHJC"]]
    width = float(np.nanmedian(np.linalg.norm(left - right, axis=1)))
    if abs(width - walk_width) * 1e3 > SAME_PERSON_MM:
        return fallback, f"walk's median hip-centre height (standing trial's hip width {width * 1e3:.1f} mm ≠ walk's)"
    height = float(np.nanmean([np.nanmedian(left[:, 2]), np.nanmedian(right[:, 2])]))
    return height, (
        f"standing trial's hip-centre height (hip-centre width {width * 1e3:.1f} mm there, {walk_width * 1e3:.1f} "
        "mm in the walk)"
    )


# ---- references -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlateContact:
    plate: int  # 1-based
    ic_s: float
    fc_s: float
    side: str  # "" when the foot could not be told
    speed_ratio: float  # slower ankle's speed / faster's over the middle half


def plate_contacts(plates: Plates, ankles: Mapping[str, FloatArray]) -> list[PlateContact]:
    """Contacts on each plate (module docstring) with the foot that made them."""
    out = []
    min_samples = int(round(MIN_CONTACT_S * plates.rate_hz))
    for k, load in enumerate(plates.load_n):
        for start, end in vn._runs(np.abs(load) > PLATE_THRESHOLD_N):
            if end - start < min_samples or start == 0 or end == load.size:
                continue
            ic, fc = start / plates.rate_hz, end / plates.rate_hz
            a = int(math.ceil((ic + 0.25 * (fc - ic)) * FS_HZ))
            b = int(math.floor((fc - 0.25 * (fc - ic)) * FS_HZ))
            speed = {
                s: float(np.nanmean(np.linalg.norm(np.diff(x[a : b + 1, :2], axis=0), axis=1)) * FS_HZ)
                for s, x in ankles.items()
            }
            slow, fast = sorted(speed, key=lambda s: speed[s])
            ratio = speed[slow] / speed[fast] if speed[fast] > 0 else math.nan
            side = slow if ratio <= STANCE_SPEED_RATIO else ""
            out.append(PlateContact(k + 1, ic, fc, side, ratio))
    return sorted(out, key=lambda c: c.ic_s)


def marker_reference(markers: Mapping[str, FloatArray], leg_length_m: float) -> vn.Reference:
    """Zeni's rule on the ankle centres relative to the pelvis cluster (module docstring), as a
    :class:`validate_neura.Reference`."""
    m = {k: vn.lowpass(v) for k, v in markers.items()}
    centre = np.mean([m[k] for k in PELVIS_CLUSTER], axis=0)
    span = np.nanmax(centre[:, :2], axis=0) - np.nanmin(centre[:, :2], axis=0)
    axis = int(np.argmax(span))
    passes = vn.walking_passes(centre, axis)
    distance = int(round(vn.MIN_EVENT_GAP_S * FS_HZ))
    events: list[tuple[float, str, str, int]] = []
    windows, problems, steps = [], [], []
    for p in passes:
        found: list[tuple[float, str, str, int]] = []
        for side, ankle in ANKLES.items():
            rel = p.direction * (m[ankle][p.start : p.end, axis] - centre[p.start : p.end, axis])
            for run_start, run_end in vn._runs(np.isfinite(rel)):
                seg = rel[run_start:run_end]
                for kind, sign in (("IC", 1.0), ("FC", -1.0)):
                    peaks, _ = find_peaks(sign * seg, distance=distance, prominence=vn.MIN_PROMINENCE_M)
                    keep = (peaks >= EDGE_FRAMES) & (peaks < seg.size - EDGE_FRAMES)
                    k0 = p.start + run_start
                    found += [((k0 + k) / FS_HZ, side, kind, k0 + int(k)) for k in peaks[keep]]
        found.sort()
        ics = [e for e in found if e[2] == "IC"]
        fcs = [e for e in found if e[2] == "FC"]
        step_t = np.diff([e[0] for e in ics])
        why = []
        if {e[1] for e in ics} != set(vn.SIDES):
            why.append("no IC on one side")
        if not vn._alternates([e[1] for e in ics]) or not vn._alternates([e[1] for e in fcs]):
            why.append("events do not alternate sides")
        if np.any((step_t < vn.STEP_RANGE_S[0]) | (step_t > vn.STEP_RANGE_S[1])):
            why.append(f"step time(s) {', '.join(f'{x:.2f}' for x in step_t)} s outside {vn.STEP_RANGE_S}")
        if why:
            problems.append(f"pass {p.start / FS_HZ:.2f}-{p.end / FS_HZ:.2f} s: {'; '.join(why)}")
            continue
        events += found
        windows.append((found[0][0], found[-1][0]))
        for a, b in zip(ics[:-1], ics[1:], strict=True):
            length = p.direction * (m[ANKLES[b[1]]][b[3], axis] - m[ANKLES[a[1]]][a[3], axis])
            steps.append((b[0], length, b[0] - a[0]))
    t = np.array([e[0] for e in events])
    sides = np.array([e[1] for e in events], dtype=str)
    ic = np.array([e[2] == "IC" for e in events], dtype=bool)
    st = np.array(steps, dtype=np.float64).reshape(-1, 3)
    return vn.Reference(
        t[ic], sides[ic], t[~ic], sides[~ic], tuple(windows), st[:, 0], st[:, 1], st[:, 2], leg_length_m, math.nan,
        tuple(problems), len(passes),
    )  # fmt: skip


def plate_reference(contacts: Sequence[PlateContact], leg_length_m: float) -> vn.Reference:
    """The contacts whose foot is known, as a :class:`validate_neura.Reference` (no windows, no steps)."""
    known = [c for c in contacts if c.side]
    ic = np.array([c.ic_s for c in known])
    fc = np.array([c.fc_s for c in known])
    sides = np.array([c.side for c in known], dtype=str)
    order_fc = np.argsort(fc)
    empty = np.zeros(0)
    return vn.Reference(
        ic, sides, fc[order_fc], sides[order_fc], (), empty, empty, empty, leg_length_m, math.nan
    )  # fmt: skip


def plate_scores(det: vn.Detection, plates: vn.Reference) -> dict[tuple[str, str, float], EventScores]:
    """(kind, side, tolerance) → scores against the plates, each kind in its own window [first, last plate event]:
    the plates take consecutive footfalls, so a detection inside the window with no plate event is a false one."""
    out = {}
    for kind in vn.KINDS:
        every = plates.times(kind)
        window = (float(every.min()), float(every.max())) if every.size else (math.nan, math.nan)
        for side in vn.SIDES:
            for tol in vn.TOLERANCES_S:
                out[(kind, side, tol)] = pool(
                    [score_window(det.times(kind, side), plates.times(kind, side), *window, tol)]
                )
    return out


def marker_vs_plates(markers: vn.Reference, plates: vn.Reference) -> list[list[str]]:
    """Each plate event against the marker rule's event of the same foot and kind (nearest within 0.25 s)."""
    rows = []
    for kind in vn.KINDS:
        for side in vn.SIDES:
            theirs = markers.times(kind, side)
            for t in plates.times(kind, side):
                near = theirs[np.abs(theirs - t) <= vn.PAIR_TOLERANCE_S]
                err = float(near[np.argmin(np.abs(near - t))] - t) if near.size else math.nan
                rows.append([kind, side, f"{t:.3f}", fmt(err * 1e3, "{:+.0f}")])
    return sorted(rows, key=lambda r: float(r[2]))


def stance_rows(label: str, det: vn.Detection, contacts: Sequence[PlateContact]) -> list[list[str]]:
    """Per plate contact: the stance time (FC − IC) from our events of that foot paired with the plate's (nearest
    within ±0.25 s each), against the plate's."""
    rows = []
    for c in contacts:
        if not c.side:
            continue
        ours = []
        for kind, t in (("IC", c.ic_s), ("FC", c.fc_s)):
            d = det.times(kind, c.side)
            near = d[np.abs(d - t) <= vn.PAIR_TOLERANCE_S]
            ours.append(float(near[np.argmin(np.abs(near - t))]) if near.size else math.nan)
        stance, plate = ours[1] - ours[0], c.fc_s - c.ic_s
        rows.append(
            [label, str(c.plate), c.side, f"{plate:.3f}", fmt(stance, "{:.3f}"), fmt((stance - plate) * 1e3, "{:+.0f}"),
             fmt(100 * (stance / plate - 1), "{:+.1f}")]
        )  # fmt: skip
    return rows


TRANSIENT_SNR = 10.0  # robust SDs of |Δ²‖a‖|: a leg sensor's heel-strike transient (the pipeline's own rule uses 6)
TRANSIENT_WINDOW_S = (-0.1, 0.15)
TRANSIENT_HEADER = (
    "plate",
    "foot",
    "thigh ms",
    "shank ms",
    "foot ms",
    "peak loading rate ms",
    "load there N",
    "peak N",
)


def transient_rows(trial: vn.Trial, contacts: Sequence[PlateContact], plates: Plates) -> list[list[str]]:
    """Per plate contact: for the contacting leg's thigh, shank and foot sensor, the first sample within
    ``TRANSIENT_WINDOW_S`` of the plate's IC where ``|Δ²‖a‖|`` reaches ``TRANSIENT_SNR`` robust SDs (1.4826 × its
    median over the plate contacts ± 2 s), minus the IC (ms, with the SDs reached); and when the plate's vertical
    loading rate peaks after the IC, the load there and the contact's peak load."""
    known = [c for c in contacts if c.side]
    if not known:
        return []
    span = (trial.t_s >= known[0].ic_s - 2.0) & (trial.t_s <= known[-1].fc_s + 2.0)
    rows = []
    for c in known:
        cells = []
        for segment in ("thigh", "shank", "foot"):
            norm = np.linalg.norm(trial.acc_ms2[f"{c.side}_{segment}"], axis=1)
            d2 = np.zeros_like(norm)
            d2[2:] = np.abs(norm[2:] - 2.0 * norm[1:-1] + norm[:-2])
            ratio = d2 / (1.4826 * np.median(d2[span]))
            near = np.flatnonzero(
                (trial.t_s >= c.ic_s + TRANSIENT_WINDOW_S[0]) & (trial.t_s <= c.ic_s + TRANSIENT_WINDOW_S[1])
            )
            hit = near[ratio[near] >= TRANSIENT_SNR]
            cells.append(f"{(trial.t_s[hit[0]] - c.ic_s) * 1e3:+.0f} ({ratio[hit[0]]:.0f} SD)" if hit.size else "n/a")
        load = np.abs(plates.load_n[c.plate - 1])
        i, j = int(round(c.ic_s * plates.rate_hz)), int(round(c.fc_s * plates.rate_hz))
        k = i + int(np.argmax(np.diff(load[i:j])))
        rows.append(
            [str(c.plate), c.side, *cells, f"{(k - i) / plates.rate_hz * 1e3:+.0f}", f"{load[k]:.0f}",
             f"{load[i:j].max():.0f}"]
        )  # fmt: skip
    return rows


STANCE_HEADER = ("sensors", "plate", "foot", "plate stance s", "ours s", "error ms", "error %")


def _mean(x: FloatArray, pattern: str) -> str:
    return fmt(float(np.mean(x)) if x.size else math.nan, pattern)


# ---- report ---------------------------------------------------------------------------------------------------------


def pelvis_cluster_axes(m: Mapping[str, FloatArray]) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Lateral = right → left hip centre; anterior = pelvis cluster centroid → hip centres' midpoint, made
    perpendicular to lateral; forward = anterior made horizontal (unit vectors in the lab)."""
    lateral = vn._unit(m["LHJC"] - m["RHJC"])
    cluster = np.mean([m[k] for k in PELVIS_CLUSTER], axis=0)
    anterior = (m["LHJC"] + m["RHJC"]) / 2.0 - cluster
    anterior = vn._unit(anterior - np.einsum("ij,ij->i", anterior, lateral)[:, None] * lateral)
    return lateral, anterior, vn._unit(np.column_stack([anterior[:, :2], np.zeros(anterior.shape[0])]))


KUOPIO_MARKERS = vn.MarkerSet(PELVIS_CLUSTER, pelvis_cluster_axes, {"thigh": SEGMENTS["thigh"]})


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    env = os.environ.get(DATA_ENV)
    parser.add_argument("--data", type=Path, default=Path(env) if env else None, help=f"default: ${DATA_ENV}")
    args = parser.parse_args(argv)
    console = Console(width=200)
    if args.data is None or not args.data.is_dir():
        console.print(
            f"SKIPPED: no Kuopio trial (--data {args.data}, ${DATA_ENV}). It is the test data of the GitHub "
            f"repository gateway240/opensim-core-examples (use a local checkout, never copy it here); pass the "
            f"checkout or one folder holding {TRIAL}-000_<ID>.txt, {TRIAL}_markers.trc and {TRIAL}.c3d."
        )
        return 0
    try:
        data = load(args.data)
    except (FileNotFoundError, ValueError) as exc:
        console.print(f"SKIPPED: {exc}")
        return 0
    trial = data.trial
    contacts = plate_contacts(data.plates, {s: trial.markers[a] for s, a in ANKLES.items()})
    plates = plate_reference(contacts, data.leg_length_m)
    markers = marker_reference(trial.markers, data.leg_length_m)
    console.print(
        f"{TRIAL}: leg length {data.leg_length_m:.3f} m from the {data.leg_source}; force plates (20 N): "
        + "; ".join(
            f"plate {c.plate} {c.side or 'foot unknown'} {c.ic_s:.3f}-{c.fc_s:.3f} s (ankle speed ratio "
            f"{c.speed_ratio:.2f})"
            for c in contacts
        )
    )
    console.print(
        f"marker reference (Zeni 2008 on the ankle centres): {markers.n_passes} passes, {len(markers.windows)} kept, "
        f"{markers.ic_t_s.size} ICs (L {int((markers.ic_side == 'left').sum())} / R "
        f"{int((markers.ic_side == 'right').sum())}), {markers.fc_t_s.size} FCs, {markers.step_length_m.size} "
        f"steps: length {_mean(markers.step_length_m, '{:.3f}')} m, time {_mean(markers.step_time_s, '{:.3f}')} s; "
        f"windows {', '.join(f'{a:.2f}-{b:.2f} s' for a, b in markers.windows)}"
    )
    for problem in markers.problems:
        console.print(f"[yellow]{problem}: left out[/yellow]")
    print_rows(
        console, "the marker rule against the force plates (marker − plate)", ("kind", "side", "plate s", "ms"),
        marker_vs_plates(markers, plates),
    )  # fmt: skip
    if markers.windows:
        lags = vn.rotation_lags(trial, markers, SEGMENTS, standing_s=1.5)
        console.print(
            "clock check, segment rotation (IMU angular speed vs marker long axis), lag of the IMU at the best "
            "correlation: "
            + "; ".join(f"{seg} {side} {lag * 1e3:+.0f} ms (r {r:.3f})" for (seg, side), (lag, r) in lags.items())
        )
    plate_rows, marker_rows, lateral, steps, stance = [], [], [], [], []
    listing: list[list[str]] = []
    marker_listing: list[list[str]] = []
    with tempfile.TemporaryDirectory(prefix="imugait-kuopio-") as tmp:
        for label, sites in IMPORTED.items():
            work = Path(tmp) / label.replace(" ", "_").replace("+", "_")
            work.mkdir()
            det = vn.run_ours(trial, markers, sites, work, SUBJECT)
            if det.error:
                console.print(f"[red]{label}: pipeline failed: {det.error}[/red]")
                continue
            plate_rows += vn.event_rows(label, plate_scores(det, plates))
            stance += stance_rows(label, det, contacts)
            if markers.windows:
                marker_rows += vn.event_rows(label, vn.scores(det, markers))
                lat = vn.laterality(det, markers)
                lateral.append(
                    f"{label}: {lat.n_lateral} ICs paired without regard to side at ±{vn.PAIR_TOLERANCE_S} s, "
                    f"detected side = reference side in {fmt(lat.laterality_accuracy, '{:.3f}')}"
                )
                steps += vn.step_rows(label, det, markers)
            listing += [[label, *row] for row in vn.event_listing(det, plates)]
            if markers.windows and label != "thighs only":
                marker_listing += [[label, *row] for row in vn.event_listing(det, markers)]
            rules = {s: det.quality.get(f"{s}_thigh.event_rules") for s in vn.SIDES}
            if any(isinstance(r, dict) for r in rules.values()):
                console.print(
                    f"{label}: thigh event rules "
                    + " | ".join(
                        f"{s}: " + ", ".join(f"{k} {v}" for k, v in r.items() if v)
                        for s, r in rules.items()
                        if isinstance(r, dict)
                    )
                )
    print_rows(console, f"imugait events vs the force plates, {TRIAL}", vn.EVENT_HEADER, plate_rows)
    print_rows(console, "each plate event, detected − plate", ("sensors", "kind", "side", "plate s", "ms"), listing)
    print_rows(console, "stance time of each plate contact, ours against the plate's", STANCE_HEADER, stance)
    print_rows(
        console,
        f"the leg sensors' first |Δ²‖a‖| ≥ {TRANSIENT_SNR:g} robust SDs from the plate's IC; the plate's loading",
        TRANSIENT_HEADER,
        transient_rows(trial, contacts, data.plates),
    )
    if not markers.windows:
        console.print("no marker pass passed the sanity checks: nothing more to score")
        return 0
    print_rows(console, "imugait events vs the marker rule (every step the cameras see)", vn.EVENT_HEADER, marker_rows)
    for line in lateral:
        console.print(line)
    print_rows(
        console, "each marker event, detected − marker rule", ("sensors", "kind", "side", "marker s", "ms"),
        marker_listing,
    )  # fmt: skip
    print_rows(console, "step length vs ankle-centre footprints (uncalibrated)", vn.STEP_HEADER, steps)
    with tempfile.TemporaryDirectory(prefix="imugait-kuopio-angles-") as tmp:
        angles = vn.compare_angles(trial, markers, Path(tmp), KUOPIO_MARKERS, SUBJECT)
    print_rows(
        console,
        "pelvic and thigh values per stride (pelvis + thighs; our events and stride definitions on all angle sets)",
        vn.ANGLE_HEADER,
        angles.strides,
    )
    print_rows(console, "angle series within the walking pass, its mean removed", vn.SERIES_HEADER, angles.series)
    print_rows(
        console,
        "thigh flexion made at the marker FC, share of peak extension → peak flexion (the FC rule's quantity)",
        ("thigh angles", "FCs", "median", "mean ± SD"),
        angles.toe_off,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
