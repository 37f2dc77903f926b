"""Pelvis kinematics of the simulator against real lower-back recordings: phase and shape statistics side by side.

Real data: mobgap's Mobilise-D lab example data (``--data``, or ``MOBGAP_DATA_DIR``; see ``bench/validate_real.py``),
lower-back IMU at 100 Hz with INDIP reference walking bouts and initial contacts (with sides). Simulated: one
healthy :class:`~sensors.sim.gait_model.GaitModel` walk per real trial at that trial's reference speed and
cadence (several seeds), sampled at 100 Hz with the profile's sensor noise, scored at its true ICs.

Body frame (both): up = the mean specific force over the walking (gravity), forward = the sensor's forward axis
(real: +z, mobgap ``to_body_frame``; simulated: −z) projected on the horizontal, left = up × forward. Signals:
``acc V`` (up), ``acc AP`` (forward), ``acc ML`` (left), m/s²; ``yaw`` (about up, + turning left), ``roll``
(about forward, + left side rising), ``pitch`` (about left, + anterior tilt) rates in deg/s.

Per stride (IC to the next IC of the same side, ≤ 2.5 s, inside one reference bout; the simulated walk's strides
after its first two), each signal is resampled to 128 points of normalised time and expanded in harmonics
``k`` of the stride: ``x(φ) ≈ Σ A_k cos(2πkφ + θ_k)``. ``θ_k`` is the harmonic's phase *at the IC* (0° = it
peaks at the IC, −90° = a quarter of its period later). Columns:

- ``H1 @R``: stride-frequency (k = 1) phase at a right IC (left strides contribute θ₁ + 180°, since the
  stride-frequency component of a left-right symmetric walk flips sign between the sides); ``H2 @IC``: step
  frequency (k = 2) phase at an IC, both sides; each as the circular mean over strides ``±`` its circular SD
  (``sqrt(−2 ln R)``, the stride-to-stride variability of the phase relation); ``A1``, ``A2``: mean amplitudes.
- Correlations over the stride (from harmonics 1-8, so the stride is periodic and velocities and displacements
  integrate without drift; mean over strides): ``r(pitch, vV)``, ``r(tilt, vV)``: pitch rate and tilt (integrated
  pitch rate) with vertical velocity; ``r(yaw, sway)``: yaw rate with the lateral (left) displacement;
  ``r(yaw, vML)``: yaw rate with the lateral velocity. ``yaw sign@R`` is the share of right ICs at which the
  stride-filtered yaw rate is negative (McCamley's laterality cue; ``@L`` the share positive at left ICs).

Rows: each real trial, the per-participant means, their spread (min..max over participants), and the simulated
walks (mean over trials and seeds). A simulated statistic "matches" when it lies within the participants' range
widened by half its width (phases on the circle).

Usage::

    .venv/bin/python bench/sim_vs_real.py --data /tmp/mobgap_example/example_data [--seeds 3]
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rich.console import Console
from rich.table import Table
from validate_real import Trial, data_dir_argument, find_lab_dir, load_trials

from sensors.sim.gait_model import G, GaitModel, get_profile

FS_HZ = 100.0
N_POINTS = 128
N_HARMONICS = 8
MAX_STRIDE_S = 2.5
SIGNALS = ("acc V", "acc AP", "acc ML", "yaw", "roll", "pitch")
CORRELATIONS = ("r(pitch, vV)", "r(tilt, vV)", "r(yaw, sway)", "r(yaw, vML)")
SIGN_SHARES = ("yaw sign@R", "yaw sign@L")


@dataclass(frozen=True)
class Recording:
    """Body-frame signals of one walk (n, 6: acc V/AP/ML m/s², yaw/roll/pitch deg/s) and its strides."""

    label: str
    group: str  # participant, or "sim"
    signals: np.ndarray
    strides: list[tuple[float, float, str]]  # (IC, next IC of the same side, side)
    fs_hz: float = FS_HZ


def body_frame(acc: np.ndarray, gyr: np.ndarray, forward_axis: np.ndarray, walking: np.ndarray) -> np.ndarray:
    """Rotate sensor-frame acc (m/s²) and gyro (deg/s) to (V, AP, ML) and (yaw, roll, pitch): up = mean specific
    force over ``walking``, forward = ``forward_axis`` projected on the horizontal, left = up × forward."""
    up = acc[walking].mean(axis=0)
    up /= np.linalg.norm(up)
    forward = forward_axis - up * (forward_axis @ up)
    forward /= np.linalg.norm(forward)
    left = np.cross(up, forward)
    R = np.vstack([up, forward, left])  # rows: body axes in sensor axes
    return np.column_stack([acc @ R.T, gyr @ R.T])


def real_recording(trial: Trial) -> Recording:
    t = np.arange(trial.acc_g.shape[0]) / trial.fs_hz
    walking = trial.in_bouts(t) & np.isfinite(trial.acc_g).all(axis=1)
    signals = body_frame(trial.acc_g * G, trial.gyr_dps, np.array([0.0, 0.0, 1.0]), walking)
    strides = []
    for side in ("left", "right"):
        ic = np.sort(trial.ic_t_s[trial.ic_side == side])
        for a, b in zip(ic[:-1], ic[1:], strict=True):
            same_bout = (trial.wb_start_s <= a) & (b <= trial.wb_end_s)
            if b - a <= MAX_STRIDE_S and same_bout.any():
                strides.append((float(a), float(b), side))
    return Recording(trial.label, f"{trial.cohort}/{trial.participant}", signals, strides, trial.fs_hz)


def trial_cadence_spm(trial: Trial) -> float:
    """Median reference step rate inside the bouts (steps/min)."""
    ic = np.sort(trial.ic_t_s[trial.in_bouts(trial.ic_t_s)])
    steps = np.diff(ic)
    steps = steps[(steps > 0.25) & (steps < 1.25)]
    return 60.0 / float(np.median(steps))


def sim_recording(speed_m_s: float, cadence_spm: float, seed: int, duration_s: float = 60.0) -> Recording:
    """A healthy simulated walk at this speed and cadence, 100 Hz, with sensor noise, scored at its true ICs."""
    step_m = speed_m_s * 60.0 / cadence_spm
    speed_m_s = min(max(step_m, 0.35), 1.0) * cadence_spm / 60.0  # keep the step within the profile's limits
    model = GaitModel(get_profile("healthy", speed_m_s=speed_m_s, cadence_spm=cadence_spm), duration_s, seed=seed)
    t = np.arange(0.0, duration_s, 1.0 / FS_HZ)
    acc, gyr = model.imu("pelvis", t, rng=np.random.default_rng(seed))
    walking = t >= model.truth.walking_start_s + 2.0
    signals = body_frame(acc, gyr, np.array([0.0, 0.0, -1.0]), walking)
    truth = model.truth
    strides = []
    for side in ("left", "right"):
        ic = truth.events_t_s[(truth.events_side == side) & (truth.events_kind == "IC")][2:]
        strides += [(float(a), float(b), side) for a, b in zip(ic[:-1], ic[1:], strict=True)]
    return Recording(f"sim v={speed_m_s:.2f} c={cadence_spm:.0f} s{seed}", "sim", signals, strides)


@dataclass(frozen=True)
class StrideStats:
    """Per-stride harmonics (complex, stride × signal × harmonic 1..K), sides, correlations, yaw sign at IC."""

    coeffs: np.ndarray
    sides: np.ndarray
    correlations: np.ndarray  # stride × CORRELATIONS
    yaw_at_ic: np.ndarray  # stride-filtered yaw rate at the opening IC


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    den = math.sqrt(float(a @ a) * float(b @ b))
    return float(a @ b) / den if den > 0 else math.nan


def stride_stats(rec: Recording) -> StrideStats:
    n = rec.signals.shape[0]
    t_all = np.arange(n) / rec.fs_hz
    phi = np.arange(N_POINTS) / N_POINTS
    k = np.arange(1, N_HARMONICS + 1)
    basis = np.exp(-2j * np.pi * np.outer(phi, k))  # (points, harmonics)
    coeffs, sides, corrs, yaw0 = [], [], [], []
    for a, b, side in rec.strides:
        t = a + (b - a) * phi
        if t[0] < 0 or b >= t_all[-1]:
            continue
        x = np.column_stack([np.interp(t, t_all, rec.signals[:, j]) for j in range(6)])
        if not np.isfinite(x).all():
            continue
        c = (x.T @ basis) / N_POINTS  # (signal, harmonic): x ≈ Σ 2|c| cos(2πkφ + arg c)
        coeffs.append(c[:, :N_HARMONICS])
        sides.append(side)
        w = 2.0 * np.pi * k / (b - a)  # rad/s of each harmonic

        def synth(ck: np.ndarray) -> np.ndarray:
            return 2.0 * np.real(np.exp(2j * np.pi * np.outer(phi, k)) @ ck)

        v_vert = synth(c[0] / (1j * w))
        pitch = synth(c[5])
        tilt = synth(c[5] / (1j * w))
        yaw = synth(c[3])
        v_ml = synth(c[2] / (1j * w))
        sway = synth(c[2] / (1j * w) ** 2)
        corrs.append([_corr(pitch, v_vert), _corr(tilt, v_vert), _corr(yaw, sway), _corr(yaw, v_ml)])
        yaw0.append(yaw[0])
    return StrideStats(np.array(coeffs), np.array(sides), np.array(corrs), np.array(yaw0))


def _circ(z: np.ndarray) -> tuple[float, float]:
    """Circular mean (deg) and circular SD (deg) of unit phasors."""
    m = np.mean(z / np.abs(z))
    r = min(abs(m), 1.0)
    return math.degrees(np.angle(m)), math.degrees(math.sqrt(-2.0 * math.log(max(r, 1e-12))))


def summarise(rec: Recording) -> dict[str, float]:
    s = stride_stats(rec)
    out: dict[str, float] = {"strides": float(s.sides.size)}
    flip = np.where(s.sides == "left", -1.0, 1.0)  # stride harmonic relative to the right IC
    for j, name in enumerate(SIGNALS):
        h1 = s.coeffs[:, j, 0] * flip
        h2 = s.coeffs[:, j, 1]
        out[f"{name} H1@R"], out[f"{name} H1 sd"] = _circ(h1)
        out[f"{name} H2@IC"], out[f"{name} H2 sd"] = _circ(h2)
        out[f"{name} A1"] = float(np.mean(2.0 * np.abs(h1)))
        out[f"{name} A2"] = float(np.mean(2.0 * np.abs(h2)))
    for j, name in enumerate(CORRELATIONS):
        out[name] = float(np.nanmean(s.correlations[:, j]))
    right, left = s.sides == "right", s.sides == "left"
    out["yaw sign@R"] = float(np.mean(s.yaw_at_ic[right] < 0)) if right.any() else math.nan
    out["yaw sign@L"] = float(np.mean(s.yaw_at_ic[left] > 0)) if left.any() else math.nan
    return out


def _wrap(deg: float) -> float:
    return (deg + 180.0) % 360.0 - 180.0


def _is_phase(key: str) -> bool:
    return key.endswith(("H1@R", "H2@IC"))


def _mean(values: Sequence[float], key: str) -> float:
    v = np.array([x for x in values if math.isfinite(x)])
    if not v.size:
        return math.nan
    if _is_phase(key):
        return math.degrees(float(np.angle(np.mean(np.exp(1j * np.radians(v))))))
    return float(v.mean())


def _span(values: Sequence[float], key: str) -> tuple[float, float]:
    """(low, high) of the participant means; phases unwrapped around their circular mean."""
    v = np.array([x for x in values if math.isfinite(x)])
    if _is_phase(key):
        centre = _mean(list(v), key)
        v = centre + np.array([_wrap(x - centre) for x in v])
    return float(v.min()), float(v.max())


def _matches(sim: float, lo: float, hi: float, key: str) -> bool:
    half = 0.5 * (hi - lo)
    if _is_phase(key):
        centre = 0.5 * (lo + hi)
        sim = centre + _wrap(sim - centre)
        half = max(half, 10.0)  # phases: at least ±10° beyond the range (about 1 % of a stride at H1)
    return lo - half <= sim <= hi + half


def _fmt(key: str, value: float) -> str:
    if not math.isfinite(value):
        return "n/a"
    if _is_phase(key) or key.endswith(" sd"):
        return f"{value:+.0f}" if _is_phase(key) else f"{value:.0f}"
    return f"{value:+.2f}" if key.startswith(("r(", "yaw sign")) else f"{value:.2f}"


def comparison(
    real: list[tuple[Recording, dict[str, float]]], sim: list[dict[str, float]]
) -> tuple[list[str], list[list[str]], int, int]:
    """Rows (one per statistic): per-participant means, participant range, simulated mean, match flag."""
    groups = sorted({rec.group for rec, _ in real})
    keys = [k for k in real[0][1] if k != "strides"]
    header = ["statistic", *groups, "real range", "sim", "match"]
    rows, n_ok, n_all = [], 0, 0
    for key in keys:
        per_group = [_mean([s[key] for rec, s in real if rec.group == g], key) for g in groups]
        lo, hi = _span(per_group, key)
        sim_value = _mean([s[key] for s in sim], key)
        checked = not key.endswith((" A1", " A2"))
        ok = _matches(sim_value, lo, hi, key) if checked else True
        n_ok += ok and checked
        n_all += checked
        rows.append(
            [
                key,
                *(_fmt(key, v) for v in per_group),
                f"{_fmt(key, lo)}..{_fmt(key, hi)}",
                _fmt(key, sim_value),
                ("yes" if ok else "NO") if checked else "",
            ]
        )
    return header, rows, n_ok, n_all


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    data_dir_argument(parser)
    parser.add_argument("--seeds", type=int, default=3, help="simulated walks per real trial (default 3)")
    parser.add_argument("--per-trial", action="store_true", help="also print every real trial's statistics")
    args = parser.parse_args(argv)
    console = Console(width=200)
    lab = find_lab_dir(args.data)
    if lab is None:
        console.print(f"SKIPPED: no mobgap example data found (--data {args.data}); see bench/validate_real.py")
        return 0
    trials = [t for t in load_trials(lab) if t.wb_start_s.size]
    real = []
    for trial in trials:
        rec = real_recording(trial)
        if len(rec.strides) >= 4:
            real.append((rec, summarise(rec)))
    sim = []
    for rec, _ in real:
        trial = next(t for t in trials if t.label == rec.label)
        for seed in range(args.seeds):
            sim.append(summarise(sim_recording(trial.reference_speed_m_s, trial_cadence_spm(trial), seed)))
    header, rows, n_ok, n_all = comparison(real, sim)
    table = Table(title=f"sacral sensor: {len(real)} real trials vs {len(sim)} simulated walks (phases in deg)")
    for i, name in enumerate(header):
        table.add_column(name, justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(*row)
    console.print(table)
    console.print(f"simulated statistics within the participants' spread (widened by half): {n_ok}/{n_all}")
    if args.per_trial:
        keys = [k for k in real[0][1] if k != "strides"]
        per = Table(title="real trials")
        per.add_column("statistic")
        for rec, _ in real:
            per.add_column(rec.label.replace(" ", "\n"), justify="right")
        for key in ["strides", *keys]:
            per.add_row(key, *(_fmt(key, s[key]) if key != "strides" else f"{s[key]:.0f}" for _, s in real))
        console.print(per)
    return 0


if __name__ == "__main__":
    sys.exit(main())
