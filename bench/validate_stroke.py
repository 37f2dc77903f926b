"""People after stroke: our pelvis-only pipeline on 12 hemiparetic walkers on a treadmill, against their shank IMUs.

Data: the ``data`` folder of the GitHub repository ``SintMaartenskliniek/MovingReality`` (MIT licence; not shipped
with imugait, never commit it), recorded for Ensink, Hofstad, Theunissen & Keijsers, "Assessment of Foot Strike
Angle and Forward Propulsion with Wearable Sensors in People with Stroke", *Sensors* 2024, 24(2):710
(doi:10.3390/s24020710). 12 people after stroke walk about three minutes per trial on the GRAIL treadmill, five
trials each: regular walking before and after (``1Reg``, ``2Reg``) and with feedback on the foot strike angle
(``FBIC``), on push-off (``FBPO``) or both (``2FB``). Xsens MTw Awinda at 100 Hz on the lower back (``lumbar``), both
shanks and both feet; ``Xsens/exportedNNN/sensorspec.json`` names each sensor's segment and
``corresponding_files.txt`` the trial of each export folder. The Vicon files that were the study's reference are not
in the repository snapshot we could obtain (their blobs are missing), so the reference here is the shank
gyroscopes, and there is no stature, so no step length.

Reference events. Each shank's sagittal angular velocity (the gyro axis with the most variance, its median removed,
2nd-order 12 Hz low-pass, signed so that the mid-swing peaks are positive) has one large peak per stride at
mid-swing; the initial contact is the first local minimum after it (within ``IC_WINDOW_S``) and the final contact the
last local minimum before it (within ``FC_WINDOW_S``): the shank-gyroscope rule of Salarian et al. (IEEE Trans.
Biomed. Eng. 2004, 51(8):1434-1443) and Catalfamo, Ghoussayni & Ewins (Sensors 2010, 10(6):5683-5702), the family of
methods Trojaniello et al. (J. NeuroEng. Rehabil. 2014, 11:152) validated on hemiparetic walkers. It is an
algorithm, not a gold standard: a reference of the class of IPOL's foot-IMU events (``bench/validate_ipol.py``). Its
checks: the two shanks' contact counts may differ by at most one (:func:`validate_semiogram.reference_consistent`),
and the contacts must alternate feet (:func:`alternation`); trials failing either are printed but not pooled. And the
same leg's foot sensor: the median time from each shank IC to the foot's largest acceleration within ±0.25 s
(:func:`foot_impact_offset_ms`), printed per side, shows where the shank rule and the foot's impact part.

Time: all sensors of a trial share the Awinda master's ``PacketCounter``; times are seconds on the lumbar sensor's
counter (:func:`validate_ipol.packet_time_s`). The walking interval scored is from the first to the last reference
initial contact. The lumbar rows go to the pipeline as a pelvis-only session (``validate_ipol.import_session``), which
finds the sensor's axes itself.

Scoring as ``bench/validate_semiogram.py``: F1 at ±0.5 / 0.25 / 0.1 s, timing error and laterality of the ±0.5 s
pairs, final contacts at ±0.5 s, per trial, pooled and mean of trials; a table per trial type; per reference foot,
recall and mean signed timing error (a one-sided timing offset, as a hemiparetic gait might cause, shows there).
With ``--mobgap`` (run with ``.venv-bench``) mobgap 1.2.0's IcdIonescu and IcdShinImproved, each with LrcUllrich, run
on the same trials as in ``validate_ipol.py --mobgap`` and are scored by the same code.

Usage::

    .venv/bin/python bench/validate_stroke.py --data /path/to/MovingReality
    .venv-bench/bin/python bench/validate_stroke.py --data /path/to/MovingReality --mobgap
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from scipy import signal
from validate_ipol import IpolTrial, Outcome, compare_mobgap, merge_sides, packet_time_s, run_all
from validate_real import HEADER, Trial, markdown, print_rows
from validate_semiogram import (
    ACC_COLUMNS,
    GYR_COLUMNS,
    SIDE_HEADER,
    lower_back_samples,
    read_lower_back,
    reference_consistent,
    scored_rows,
    side_rows,
)

DATA_ENV = "MOVINGREALITY_DATA_DIR"
FS_HZ = 100.0
LOWPASS_HZ = 12.0
IC_WINDOW_S = 0.5  # the initial contact: first shank-gyro minimum this soon after the mid-swing peak
FC_WINDOW_S = 0.6  # the final contact: last minimum this soon before it
MIN_STRIDE_S = 0.6  # mid-swing peaks at least this far apart
PEAK_SHARE = 0.4  # a mid-swing peak rises to at least this share of the 99th percentile
IMPACT_WINDOW_S = 0.25  # the reference check: the foot's impact looked for this far either side of a shank IC
TRIAL_TYPES = ("1Reg", "FBIC", "FBPO", "2FB", "2Reg")
_ENTRY = re.compile(r"_(1Reg|2Reg|Reg|FBIC|FBPO|2FB)\w*\.c3d\W*=\s*(exported\d+)\s*(#.*)?$")


@dataclass(frozen=True)
class TrialFolder:
    participant: str  # "pp01"
    trial_type: str  # one of TRIAL_TYPES
    folder: Path  # the exportedNNN folder
    note: str  # the dataset's own comment on the trial, "" when none


def find_data_dir(data: Path | None) -> Path | None:
    """The ``data`` folder under a repository checkout (or the folder itself), or None."""
    if data is None:
        return None
    for candidate in (data / "data", data):
        if any(candidate.glob("1019_pp*/corresponding_files.txt")):
            return candidate
    return None


def trial_folders(data_dir: Path) -> list[TrialFolder]:
    """Every trial the participants' ``corresponding_files.txt`` list (``Reg`` is read as ``1Reg``), in order."""
    out = []
    for listing in sorted(data_dir.glob("1019_pp*/corresponding_files.txt")):
        participant = listing.parent.name.removeprefix("1019_")
        for line in listing.read_text(encoding="utf-8", errors="replace").splitlines():
            m = _ENTRY.search(line.strip())
            if m:
                kind = "1Reg" if m.group(1) == "Reg" else m.group(1)
                note = (m.group(3) or "").lstrip("# ").strip()
                out.append(TrialFolder(participant, kind, listing.parent / "Xsens" / m.group(2), note))
    return out


def usable(folder: TrialFolder) -> str:
    """Why a trial cannot be used ("" when it can): the dataset marks an Xsens recording error, or files are
    missing."""
    if "xsens" in folder.note.lower():
        return f"the dataset notes: {folder.note}"
    spec_path = folder.folder / "sensorspec.json"
    if not spec_path.exists():
        return "no sensorspec.json: which sensor sat on which segment (and side) is not recorded"
    spec = json.loads(spec_path.read_text(encoding="utf-8"))
    missing = [
        s
        for s in ("lumbar", "leftshank", "rightshank")
        if not [f for f in folder.folder.glob(f"*_{spec.get(s)}") if f.stat().st_size > 0]
    ]
    return f"no data for {', '.join(missing)}" if missing else ""


def shank_sagittal_rate(gyr: np.ndarray) -> np.ndarray:
    """The shank's sagittal angular velocity: the axis with the most variance, median removed, low-passed, signed so
    that the mid-swing peaks (the largest excursions) are positive."""
    g = gyr - np.median(gyr, axis=0)
    x = g[:, int(np.argmax(np.mean(g * g, axis=0)))]
    b, a = signal.butter(2, LOWPASS_HZ / (FS_HZ / 2.0))
    x = signal.filtfilt(b, a, x)
    return -x if np.percentile(x, 99.5) < -np.percentile(x, 0.5) else x


def shank_events(rate: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sample indices of the initial and final contacts of one shank (see the module docstring); a stride whose
    minimum is not found within its window gives no event."""
    peaks, _ = signal.find_peaks(
        rate, height=PEAK_SHARE * np.percentile(rate, 99), distance=round(MIN_STRIDE_S * FS_HZ)
    )
    minima, _ = signal.find_peaks(-rate)
    after = np.searchsorted(minima, peaks, side="right")
    before = after - 1
    ic_ok = (after < minima.size) & (minima[np.minimum(after, minima.size - 1)] - peaks <= IC_WINDOW_S * FS_HZ)
    fc_ok = (before >= 0) & (peaks - minima[np.maximum(before, 0)] <= FC_WINDOW_S * FS_HZ)
    return minima[after[ic_ok]], minima[before[fc_ok]]


def shank_contacts(table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """:func:`shank_events` of one shank's MT Manager export (sample indices in that file)."""
    return shank_events(shank_sagittal_rate(table[list(GYR_COLUMNS)].to_numpy(dtype=np.float64)))


def alternation(ic_side: np.ndarray) -> float:
    """Share of consecutive reference contacts on opposite feet (1 for a clean walk)."""
    return float(np.mean(ic_side[1:] != ic_side[:-1])) if ic_side.size > 1 else math.nan


def load_trial(folder: TrialFolder) -> IpolTrial:
    spec = json.loads((folder.folder / "sensorspec.json").read_text(encoding="utf-8"))
    tables = {
        s: read_lower_back(next(folder.folder.glob(f"*_{spec[s]}"))) for s in ("lumbar", "leftshank", "rightshank")
    }
    counter0 = int(tables["lumbar"]["PacketCounter"].iloc[0])
    ic: dict[str, np.ndarray] = {}
    fc: dict[str, np.ndarray] = {}
    for side in ("left", "right"):
        table = tables[f"{side}shank"]
        t = packet_time_s(table["PacketCounter"].to_numpy()) + (int(table["PacketCounter"].iloc[0]) - counter0) / FS_HZ
        i_ic, i_fc = shank_contacts(table)
        ic[side], fc[side] = t[i_ic], t[i_fc]

    ic_t, ic_s = merge_sides(ic)
    fc_t, fc_s = merge_sides(fc)
    start, end = (np.array([ic_t[0]]), np.array([ic_t[-1]])) if ic_t.size else (np.zeros(1), np.zeros(1))
    empty = np.zeros((0, 3))
    trial_id = f"{folder.trial_type} ({folder.folder.name})"
    reference = Trial(
        "stroke", folder.participant, "treadmill", trial_id, FS_HZ, empty, empty, start, end,
        np.full(1, np.nan), end - start, ic_t, ic_s, fc_t, fc_s,
    )  # fmt: skip
    t, acc, gyr = lower_back_samples(tables["lumbar"])
    return IpolTrial(reference, reference, t, acc, gyr, math.nan)


def foot_impact_offset_ms(folder: TrialFolder) -> dict[str, float]:
    """Per side, the median time (ms) from each shank IC to the largest foot acceleration (norm) within
    ±``IMPACT_WINDOW_S`` of it: a check of the reference against the same leg's foot sensor (NaN without one)."""
    spec = json.loads((folder.folder / "sensorspec.json").read_text(encoding="utf-8"))
    out = {}
    for side in ("left", "right"):
        feet = [f for f in folder.folder.glob(f"*_{spec.get(side + 'foot')}") if f.stat().st_size > 0]
        if not feet:
            out[side] = math.nan
            continue
        shank = read_lower_back(next(folder.folder.glob(f"*_{spec[side + 'shank']}")))
        foot = read_lower_back(feet[0])
        ic, _ = shank_contacts(shank)
        shift = int(foot["PacketCounter"].iloc[0]) - int(shank["PacketCounter"].iloc[0])
        norm = np.linalg.norm(foot[list(ACC_COLUMNS)].to_numpy(dtype=np.float64), axis=1)
        half = round(IMPACT_WINDOW_S * FS_HZ)
        at = ic - shift
        at = at[(at >= half) & (at + half < norm.size)]
        if at.size == 0:
            out[side] = math.nan
            continue
        windows = norm[at[:, None] + np.arange(-half, half + 1)]
        out[side] = float(np.median(np.argmax(windows, axis=1) - half) * 1e3 / FS_HZ)
    return out


def reference_ok(trial: Trial) -> bool:
    """Counts within one of each other and at least 90 % alternating feet."""
    return reference_consistent(trial) and alternation(trial.ic_side) >= 0.9


def type_rows(trials: Sequence[IpolTrial], outcomes: Sequence[Outcome], ok: Sequence[bool]) -> list[list[str]]:
    """Pooled rows per trial type (consistent references only), then all types."""
    rows = []
    for kind in (*TRIAL_TYPES, "all"):
        picked = [
            o.whole
            for t, o, good in zip(trials, outcomes, ok, strict=True)
            if good and (kind == "all" or t.reference.trial.startswith(kind + " "))
        ]
        if picked:
            pooled = scored_rows(picked, [True] * len(picked))[-2]
            rows.append([kind, str(len(picked)), *pooled[1:]])
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    env = os.environ.get(DATA_ENV)
    parser.add_argument("--data", type=Path, default=Path(env) if env else None, help=f"default: ${DATA_ENV}")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--mobgap", action="store_true", help="also run mobgap's detectors (needs .venv-bench)")
    parser.add_argument("--markdown", type=Path, help="also write the tables as markdown to this file")
    args = parser.parse_args(argv)
    console = Console(width=200)
    data_dir = find_data_dir(args.data)
    if data_dir is None:
        console.print(
            f"SKIPPED: no MovingReality trials found (--data {args.data}, ${DATA_ENV}). They are the data folder "
            "of the GitHub repository SintMaartenskliniek/MovingReality (MIT)."
        )
        return 0
    folders = trial_folders(data_dir)
    reasons = [usable(f) for f in folders]
    for f, why in zip(folders, reasons, strict=True):
        if why:
            console.print(f"left out {f.participant} {f.trial_type} ({f.folder.name}): {why}")
    trials = [load_trial(f) for f, why in zip(folders, reasons, strict=True) if not why]
    outcomes: list[Outcome] = run_all(trials, args.jobs)
    ok = [reference_ok(t.reference) for t in trials]
    tables = []
    title = f"imugait pelvis-only vs shank-IMU reference, {len(trials)} stroke treadmill trials"
    rows = scored_rows([o.whole for o in outcomes], ok)
    for row, trial in zip(rows, trials, strict=False):
        row[0] += f" (alternation {alternation(trial.reference.ic_side):.2f})"
    print_rows(console, title, HEADER[:10], rows)
    tables.append((title, HEADER[:10], rows))
    title = "by trial type, pooled over the trials with a consistent reference"
    header = ("trial type", "trials", *HEADER[1:10])
    rows = type_rows(trials, outcomes, ok)
    print_rows(console, title, header, rows)
    tables.append((title, header, rows))
    title = "per reference foot (±0.5 s pairs); reference check: foot impact − shank IC, median ms"
    rows = side_rows(trials, [o.detection for o in outcomes])
    kept_folders = [f for f, why in zip(folders, reasons, strict=True) if not why]
    for row, folder in zip(rows, kept_folders, strict=True):
        offset = foot_impact_offset_ms(folder)
        row.append("/".join("n/a" if math.isnan(offset[k]) else f"{offset[k]:+.0f}" for k in ("left", "right")))
    side_header = (*SIDE_HEADER, "foot impact − shank IC L/R ms")
    print_rows(console, title, side_header, rows)
    tables.append((title, side_header, rows))
    for trial, o in zip(trials, outcomes, strict=True):
        if o.whole.error:
            console.print(f"[red]{trial.reference.label}: pipeline failed: {o.whole.error}[/red]")
    if args.mobgap:
        kept = [(t, o) for t, o, good in zip(trials, outcomes, ok, strict=True) if good]
        rows = compare_mobgap(console, [t for t, _ in kept], [o for _, o in kept])
        header = ("detector", "F1 ±0.5 (pooled)", "F1 ±0.25", "F1 ±0.1", "MAE ms", "bias ms", "lat acc")
        tables.append((f"mobgap side by side, {len(kept)} consistent trials, pooled", header, rows))
    if args.markdown:
        text = "\n\n".join(f"{title}\n\n" + markdown(header, rows) for title, header, rows in tables)
        args.markdown.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
