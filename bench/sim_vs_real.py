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

Vertical excursion vs step length (:func:`excursion_comparison`; the simulator's ``vertical_excursion_coeff``).
Real: steady straight strides of the Test5 and Test11 trials: INDIP strides (IC to the next same-side IC, exactly
one contralateral IC inside, ≤ 1.5 s), the stride and both neighbours of the same bout with a reference length and
lengths and durations within 15 % of each other (a steady stretch, no gait initiation or termination), no INDIP
turn within 0.5 s. The sensor's vertical acceleration is the specific force along the world up tracked by
:func:`pipeline.orientation.track_up` (0.05 Hz crossover), integrated twice *per stride* with the stride treated
as a closed cycle: the acceleration's mean over the stride is removed (vertical velocity returns to its start
value), then the velocity's mean (the sensor returns to its start height), so there is no drift to filter and no
filter phase or attenuation; each step's excursion is the peak-to-peak height between its two reference ICs. The
stride gives one point: h = mean of its two steps, SL = reference stride length / 2, L = leg length 0.53 × stature
(Winter; ``infoForAlgo.mat``). Per participant c in h = c·SL²/L by least squares through the origin, with the
median and interquartile range of the per-stride ratios. Simulated: the same method on a healthy walk per real
trial at that trial's steady-stride speed and cadence and the participant's leg length (several seeds), scored at
its true ICs, with the profile's coefficient and with the coefficient 0 (the sensor's excursion from pelvic tilt
alone, the sensor sitting behind the hip axis); the sensor excursion is linear in the coefficient, so the
coefficient at which the simulated sensor matches the real one follows per participant. The last line checks the
method on the simulator: the integrated against the true (pose) sensor excursion of the reference walk. Participants
without steady strides (HA/002: no Test5 reference, slow irregular Test11 bouts) are left out and named.

Usage::

    .venv/bin/python bench/sim_vs_real.py --data /tmp/mobgap_example/example_data [--seeds 3]
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table
from validate_real import Trial, data_dir_argument, find_lab_dir, indip_bouts, load_trials

from pipeline.orientation import track_up
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


# --- vertical excursion vs step length -----------------------------------------------------------------------------

LEG_PER_STATURE = 0.53  # hip (greater trochanter) height / stature, Winter
STEADY_TOLERANCE = 0.15  # a steady stride: it and its neighbours within 15 % in length and duration
MAX_STEADY_STRIDE_S = 1.5
TURN_MARGIN_S = 0.5
EXCURSION_TESTS = ("Test5", "Test11")
EXCURSION_POINTS = 256  # resampled points per stride for the closed-cycle integration
REFERENCE_STEP_M, REFERENCE_LEG_M = 0.72, 0.90  # the textbook anchor: 4.5 cm for these (centre of mass)


def vertical_specific_force(acc_ms2: np.ndarray, gyr_dps: np.ndarray, fs_hz: float) -> np.ndarray:
    """Specific force (m/s²) along the world up tracked with :func:`pipeline.orientation.track_up`; gaps held."""
    ok = np.isfinite(acc_ms2).all(axis=1) & np.isfinite(gyr_dps).all(axis=1)
    acc = np.where(ok[:, None], acc_ms2, acc_ms2[ok].mean(axis=0))
    gyr = np.where(ok[:, None], gyr_dps, 0.0)
    up = track_up(acc, gyr, fs_hz, cutoff_hz=0.05)
    return np.asarray(np.einsum("ij,ij->i", up, acc))


def stride_step_excursions(vertical: np.ndarray, fs_hz: float, a: float, m: float, b: float) -> tuple[float, float]:
    """Peak-to-peak height (m) of the two steps ``[a, m]``, ``[m, b]`` of the stride ``[a, b]``: the vertical specific
    force integrated twice over the stride as a closed cycle (zero net velocity change, zero net height change)."""
    t = np.arange(vertical.size) / fs_hz
    tt = np.linspace(a, b, EXCURSION_POINTS + 1)
    dt = (b - a) / EXCURSION_POINTS
    x = np.interp(tt, t, vertical)

    def integrate(y: np.ndarray) -> np.ndarray:
        return np.concatenate([[0.0], np.cumsum(y[1:] + y[:-1]) * dt / 2.0])

    v = integrate(x)
    v -= np.linspace(0.0, v[-1], v.size)  # remove the mean acceleration (incl. gravity): v(b) = v(a)
    v -= integrate(v)[-1] / (b - a)  # remove the mean velocity: z(b) = z(a)
    z = integrate(v)
    k = int(np.argmin(np.abs(tt - m)))
    return float(np.ptp(z[: k + 1])), float(np.ptp(z[k:]))


@dataclass(frozen=True)
class ExcursionStride:
    """One steady stride: participant, trial label, stride length (m), duration (s), step excursions (m)."""

    group: str
    label: str
    leg_m: float
    stride_m: float
    stride_s: float
    step_excursions_m: tuple[float, float]

    @property
    def x(self) -> float:
        """SL² / L with SL = half the stride length."""
        return (self.stride_m / 2.0) ** 2 / self.leg_m

    @property
    def h(self) -> float:
        return 0.5 * sum(self.step_excursions_m)


def steady_strides(bout: object, fs_hz: float) -> list[tuple[float, float, float, float]]:
    """(IC, contralateral IC, next same-side IC, stride length) of the bout's steady straight strides."""
    ics = np.atleast_2d(np.asarray(bout.Stride_InitialContacts, dtype=np.float64)) / fs_hz  # type: ignore[attr-defined]
    length = np.atleast_1d(np.asarray(bout.Stride_Length, dtype=np.float64))  # type: ignore[attr-defined]
    turn_start = np.atleast_1d(np.asarray(bout.Turn_Start, dtype=np.float64))  # type: ignore[attr-defined]
    turn_end = np.atleast_1d(np.asarray(bout.Turn_End, dtype=np.float64))  # type: ignore[attr-defined]
    all_ic = np.atleast_1d(np.asarray(bout.InitialContact_Event, dtype=np.float64))  # type: ignore[attr-defined]
    all_ic = np.sort(all_ic[np.isfinite(all_ic)])
    if ics.shape[1] != 2 or length.size != ics.shape[0]:
        return []
    duration = ics[:, 1] - ics[:, 0]
    out = []
    for j in range(1, ics.shape[0] - 1):
        a, b = ics[j]
        near = slice(j - 1, j + 2)
        if not (np.isfinite(ics[near]).all() and np.isfinite(length[near]).all()) or duration[j] > MAX_STEADY_STRIDE_S:
            continue
        if np.ptp(length[near]) > STEADY_TOLERANCE * length[near].mean():
            continue
        if np.ptp(duration[near]) > STEADY_TOLERANCE * duration[near].mean():
            continue
        if np.any((turn_start - TURN_MARGIN_S < b) & (turn_end + TURN_MARGIN_S > a)):
            continue
        inside = all_ic[(all_ic > a + 0.1) & (all_ic < b - 0.1)]
        if inside.size == 1:
            out.append((float(a), float(inside[0]), float(b), float(length[j])))
    return out


def real_excursions(lab: Path, trials: Sequence[Trial]) -> list[ExcursionStride]:
    rows = []
    for trial in trials:
        if trial.test not in EXCURSION_TESTS or not math.isfinite(trial.height_m):
            continue
        vertical = vertical_specific_force(trial.acc_g * G, trial.gyr_dps, trial.fs_hz)
        leg = LEG_PER_STATURE * trial.height_m
        for bout in indip_bouts(lab, trial):
            for a, m, b, length in steady_strides(bout, trial.fs_hz):
                h = stride_step_excursions(vertical, trial.fs_hz, a, m, b)
                rows.append(ExcursionStride(f"{trial.cohort}/{trial.participant}", trial.label, leg, length, b - a, h))
    return rows


def sim_excursions(
    label: str, group: str, leg_m: float, speed_m_s: float, cadence_spm: float, coeff: float, seed: int
) -> list[ExcursionStride]:
    """A healthy simulated walk (this leg length, speed, cadence, coefficient), 100 Hz with sensor noise, its sacral
    sensor's step excursions by the same closed-cycle integration at its true ICs."""
    duration_s = 40.0
    profile = get_profile(
        "healthy", speed_m_s=speed_m_s, cadence_spm=cadence_spm, leg_length_m=leg_m, vertical_excursion_coeff=coeff
    )
    model = GaitModel(profile, duration_s, seed=seed)
    t = np.arange(0.0, duration_s, 1.0 / FS_HZ)
    acc, gyr = model.imu("pelvis", t, rng=np.random.default_rng(seed))
    vertical = vertical_specific_force(acc, gyr, FS_HZ)
    truth = model.truth
    ic = truth.events_t_s[truth.events_kind == "IC"][4:-1]
    stride_m = 2.0 * speed_m_s * 60.0 / cadence_spm
    return [
        ExcursionStride(group, label, leg_m, stride_m, b - a, stride_step_excursions(vertical, FS_HZ, a, m, b))
        for a, m, b in zip(ic[:-2:2], ic[1:-1:2], ic[2::2], strict=True)
    ]


def fit_coefficient(rows: Sequence[ExcursionStride]) -> tuple[float, float, float, float]:
    """c of h = c·SL²/L: least squares through the origin, and the median and quartiles of the per-stride ratios."""
    x = np.array([r.x for r in rows])
    h = np.array([r.h for r in rows])
    q1, med, q3 = np.percentile(h / x, [25, 50, 75])
    return float(x @ h / (x @ x)), float(med), float(q1), float(q3)


@dataclass(frozen=True)
class ExcursionGroup:
    group: str
    n_strides: int
    leg_m: float
    step_m: float  # mean reference step length
    real_h_m: float  # mean real sensor excursion
    real_fit: tuple[float, float, float, float]
    sim_h_m: float  # mean simulated sensor excursion at the profile's coefficient
    sim_tilt_h_m: float  # ... with coefficient 0 (pelvic tilt only)
    sim_c: float
    matching_coeff: float  # the coefficient at which the simulated sensor excursion equals the real one


def excursion_comparison(
    lab: Path, trials: Sequence[Trial], seeds: int
) -> tuple[list[ExcursionGroup], list[ExcursionStride]]:
    """Per participant: real fit, the same walks simulated, and the matching coefficient; also the real strides."""
    real = real_excursions(lab, trials)
    coeff = get_profile("healthy").vertical_excursion_coeff
    out = []
    for group in sorted({r.group for r in real}):
        rows = [r for r in real if r.group == group]
        sim: dict[float, list[ExcursionStride]] = {coeff: [], 0.0: []}
        for label in sorted({r.label for r in rows}):
            mine = [r for r in rows if r.label == label]
            stride_m = float(np.mean([r.stride_m for r in mine]))
            stride_s = float(np.mean([r.stride_s for r in mine]))
            for c in sim:
                for seed in range(seeds):
                    sim[c] += sim_excursions(
                        label, group, mine[0].leg_m, stride_m / stride_s, 120.0 / stride_s, c, seed
                    )
        # Compare at the real strides' step lengths: weight each trial's simulated walk by its number of real strides.
        weights = {label: sum(r.label == label for r in rows) for label in {r.label for r in rows}}

        def mean_h(sim_rows: list[ExcursionStride], weights: dict[str, int] = weights) -> float:
            per = {label: np.mean([r.h for r in sim_rows if r.label == label]) for label in weights}
            return float(sum(weights[k] * per[k] for k in weights) / sum(weights.values()))

        real_h = float(np.mean([r.h for r in rows]))
        sim_h, tilt_h = mean_h(sim[coeff]), mean_h(sim[0.0])
        out.append(
            ExcursionGroup(
                group,
                len(rows),
                rows[0].leg_m,
                float(np.mean([r.stride_m / 2.0 for r in rows])),
                real_h,
                fit_coefficient(rows),
                sim_h,
                tilt_h,
                fit_coefficient(sim[coeff])[0],
                coeff * (real_h - tilt_h) / (sim_h - tilt_h),
            )
        )
    return out, real


def print_excursions(
    console: Console,
    trials: Sequence[Trial],
    groups: list[ExcursionGroup],
    real: list[ExcursionStride],
    seeds: int,
) -> None:
    coeff = get_profile("healthy").vertical_excursion_coeff
    table = Table(
        title=f"sacral sensor vertical excursion vs step length: h = c·SL²/L (L = {LEG_PER_STATURE}·stature); "
        f"simulated: the same walks, coefficient {coeff:g}, {seeds} seeds"
    )
    for i, name in enumerate(
        (
            "participant",
            "strides",
            "L m",
            "SL m",
            "real h cm",
            "real c (LS)",
            "median [IQR]",
            "sim h cm",
            "sim c",
            "sim tilt-only cm",
            "matching coeff",
        )
    ):
        table.add_column(name, justify="left" if i == 0 else "right")
    for g in groups:
        ls, med, q1, q3 = g.real_fit
        table.add_row(
            g.group,
            str(g.n_strides),
            f"{g.leg_m:.3f}",
            f"{g.step_m:.3f}",
            f"{100 * g.real_h_m:.2f}",
            f"{ls:.4f}",
            f"{med:.4f} [{q1:.3f}-{q3:.3f}]",
            f"{100 * g.sim_h_m:.2f}",
            f"{g.sim_c:.4f}",
            f"{100 * g.sim_tilt_h_m:.2f}",
            f"{g.matching_coeff:.4f}",
        )
    console.print(table)
    if not real:
        return
    ls, med, q1, q3 = fit_coefficient(real)
    fits = [g.real_fit[0] for g in groups]
    matching = np.array([g.matching_coeff for g in groups])
    weights = np.array([g.n_strides for g in groups], dtype=np.float64)
    x_ref = REFERENCE_STEP_M**2 / REFERENCE_LEG_M
    reference = sim_excursions("ref", "sim", REFERENCE_LEG_M, REFERENCE_STEP_M * 108.0 / 60.0, 108.0, coeff, 0)
    console.print(
        f"real, pooled {len(real)} strides: c = {ls:.4f} (LS), median {med:.4f} [IQR {q1:.3f}-{q3:.3f}]; "
        f"participants' LS c {min(fits):.4f}..{max(fits):.4f}"
    )
    console.print(
        f"at SL {REFERENCE_STEP_M} m, L {REFERENCE_LEG_M} m (extrapolated from the real steps): real sensor "
        f"{100 * ls * x_ref:.2f} cm (participants {100 * min(fits) * x_ref:.2f}..{100 * max(fits) * x_ref:.2f}); "
        f"simulated sensor {100 * np.mean([r.h for r in reference]):.2f} cm "
        f"(pelvis centre {100 * coeff * x_ref:.2f} cm)"
    )
    missing = sorted({f"{t.cohort}/{t.participant}" for t in trials} - {g.group for g in groups})
    if missing:
        console.print(f"no steady straight strides (left out): {', '.join(missing)}")
    model = GaitModel(get_profile("healthy", speed_m_s=REFERENCE_STEP_M * 108.0 / 60.0, cadence_spm=108.0), 40.0)
    ic = model.truth.events_t_s[model.truth.events_kind == "IC"][4:-1]
    t = ic[:-1, None] + np.diff(ic)[:, None] * np.linspace(0.0, 1.0, 200)
    true_h = float(np.ptp(model.segment_pose("pelvis", t.ravel())[1][:, 2].reshape(t.shape), axis=1).mean())
    console.print(
        f"method check on the simulator (reference walk): integrated {100 * np.mean([r.h for r in reference]):.2f} cm, "
        f"true sensor excursion {100 * true_h:.2f} cm"
    )
    console.print(
        f"coefficient at which the simulated sensor matches the real one: {np.average(matching, weights=weights):.4f} "
        f"(stride-weighted; participants {matching.min():.4f}..{matching.max():.4f}); profile default {coeff:g}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    data_dir_argument(parser)
    parser.add_argument("--seeds", type=int, default=3, help="simulated walks per real trial (default 3)")
    parser.add_argument("--per-trial", action="store_true", help="also print every real trial's statistics")
    parser.add_argument("--excursion-only", action="store_true", help="only the vertical excursion comparison")
    args = parser.parse_args(argv)
    console = Console(width=200)
    lab = find_lab_dir(args.data)
    if lab is None:
        console.print(f"SKIPPED: no mobgap example data found (--data {args.data}); see bench/validate_real.py")
        return 0
    trials = [t for t in load_trials(lab) if t.wb_start_s.size]
    groups, strides = excursion_comparison(lab, trials, args.seeds)
    if args.excursion_only:
        print_excursions(console, trials, groups, strides, args.seeds)
        return 0
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
    print_excursions(console, trials, groups, strides, args.seeds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
