"""Sensor-to-segment alignment for any mounting orientation, from the walking data itself.

Segment frame (all sites): ``x`` anterior, ``y`` left, ``z`` superior (right-handed; mobgap's ``pa``/``ml``/``is``
axes except that mobgap's ``ml`` points right, since its ``is × ml = pa``). The result is a rotation ``R`` whose
rows are those axes in sensor coordinates, so ``v_segment = R @ v_sensor`` (``acc_seg = acc @ R.T``).

* ``z`` — gravity. The accelerometer reads +g upwards when still, so ``z`` is the mean acceleration direction over
  still periods (rolling mean gyro magnitude below ``still_gyro_dps`` for ≥ ``min_still_s``), or over all valid
  data when the subject never stood still. Angles are then relative to that posture (report ranges, or absolute
  values only after a standing period).
* Thigh ``y`` — the flexion axis is the principal axis of the gyro in the horizontal plane (the thigh swings in the
  sagittal plane). Sign: thigh flexion velocity is a brief large peak in swing and a slow extension through the
  longer stance, so flexion velocity is positively skewed; the axis about which the projected rate has positive
  skew points to the *right* (flexion = positive rotation about the right axis), and ``y`` is its opposite.
* Pelvis — found from walking windows, per walking bout, with a consensus across bouts (the sensor does not move
  on the body within a session; bouts differ only by heading, and the axes are body-fixed, so turns do not matter).
  Free acceleration first: the vertical is tracked with the gyro (:func:`pipeline.orientation.track_up`) and the
  horizontal acceleration and angular velocity are the parts orthogonal to it per sample, expressed in a fixed
  horizontal basis of the session 'up'. Without the tracked vertical the pelvis's roll of a few degrees leaks
  g·sin(obliquity) into the lateral axis, as large as the sway acceleration and nearly in anti-phase with it, and
  the side axis comes out flipped (pinned by ``tests/pipeline/test_pelvis_alignment.py``).

  Walking windows (``window_s``, hop ``window_hop_s``): mostly valid and moving, vertical free acceleration SD above
  ``walk_min_acc_ms2``, and a step period and step regularity (first dominant peak of the unbiased autocorrelation
  of the vertical acceleration; Moe-Nilssen & Helbostad 2004, J Biomech 37:121–126) above
  ``walk_min_regularity``; the regularity weighs the window. Consecutive windows form a bout.

  Line — frequency signature, not variance: antero-posterior acceleration repeats every step (even harmonics of
  the stride frequency) while the medio-lateral sway reverses every step (odd harmonics); the harmonic-ratio
  literature uses the same split (Menz, Lord & Fitzpatrick 2003, Gait Posture 18:35–46). Shifting a stride-periodic
  signal by one step (half a stride) keeps the even harmonics and negates the odd ones, so the symmetrised
  step-lag autocovariance of the horizontal acceleration over its variance is ≈ +1 along AP and ≈ −1 along ML.
  The gyro gives the mirror image: pitch (about ML) is step-periodic and roll (obliquity, about AP) reverses
  every step. The window's signature is acc − gyro (2 × 2); the weighted mean over windows is the pooled signature
  and its top eigenvector is the AP line. Band: 0.3 × step frequency (turns' centripetal acceleration and heading
  drift out) to ``signature_lowpass_hz``.

  Sign — two independent cues, summed as correlations and weighted like the line: (i) inverted pendulum (Cavagna;
  Zijlstra & Hof 2003, Gait Posture 18:1–10): the body is slowest at its highest point, so the step-band forward
  acceleration runs opposite to the vertical velocity; (ii) McCamley et al. 2012 (trunk yaw rate > 0 at a right
  IC) with Mansour et al. 2015 (the leftward acceleration rises through a right IC): the stride-band yaw rate and
  the leftward acceleration are in anti-phase; yaw (about the tracked 'up') does not depend on the horizontal axis
  signs. Both hold on the simulator and on all Mobilise-D example trials (``docs/validation/README.md``). Cues not
  used: the pelvic rotation *angle* at IC (near a zero crossing on real trunks, peaking in the simulator) and the
  pitch rate vs the vertical velocity (positive on every real trial, negative in the simulator).

  ``y = up × x``. ``confidence`` = line strength (eigenvalue gap of the pooled signature / ``line_gap_full``) ×
  sign strength (mean sign evidence / ``sign_evidence_full``) × bout agreement (weight share of the bouts whose
  own axis lies within ``bout_agreement_deg`` of the consensus, sign included). Without any regular walking window
  all the movement is taken as one window (and usually flagged low-confidence).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from scipy import integrate, stats
from scipy import signal as sps

from pipeline import _signal as sig
from pipeline.errors import InsufficientDataError
from pipeline.orientation import track_up

G = 9.80665
FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class AlignConfig:
    """Parameters of the automatic alignment."""

    still_gyro_dps: float = 8.0  # rolling mean |gyro| below this counts as standing still
    still_window_s: float = 0.5
    min_still_s: float = 1.0  # still time needed to take gravity from still periods only
    stride_range_s: tuple[float, float] = (0.6, 2.5)
    default_stride_s: float = 1.1  # used when no stride periodicity is found
    min_confidence: float = 0.3  # below this the alignment is flagged low_confidence
    fusion_cutoff_hz: float = 0.05  # gravity tracking used to remove gravity before the pelvis PCA
    turn_rate_dps: float = 20.0  # low-passed yaw rate above this is a turn (blanked for the stride period)
    long_axis: int = 0  # sensor axis along the device's long side (x on the supported IMUs): down the thigh when worn
    # pelvis: walking windows (evidence per window, bouts = runs of consecutive windows, consensus over bouts)
    window_s: float = 5.0
    window_hop_s: float = 1.0
    window_pad_s: float = 1.0  # filter margin either side of a window
    window_min_usable: float = 0.9  # share of valid, non-still samples a window needs
    walk_min_acc_ms2: float = 0.3  # SD of the vertical free acceleration below this is not walking
    walk_min_regularity: float = 0.2  # step regularity (vertical autocorrelation at the step period) of walking
    signature_highpass: float = 0.3  # × step frequency: removes turns' centripetal acceleration and heading drift
    signature_lowpass_hz: float = 8.0
    line_gap_full: float = 0.4  # signature eigenvalue gap giving full line strength
    sign_evidence_full: float = 0.5  # mean sign evidence giving full sign strength
    bout_agreement_deg: float = 30.0  # a bout's own axis within this of the consensus agrees


@dataclass(frozen=True)
class Alignment:
    """Sensor-to-segment rotation of one site and how much to trust it."""

    site: str
    rotation: FloatArray  # (3, 3) rows = segment x (anterior), y (left), z (up) in sensor coordinates
    up_source: Literal["still", "walking"]
    stride_s: float  # stride period found in the data (NaN: none, default used)
    confidence: float  # 0..1: separation of the axis choice times the strength of the sign evidence
    low_confidence: bool

    def apply(self, v: NDArray[np.floating[Any]]) -> FloatArray:
        """Rotate (n, 3) sensor-frame vectors into the segment frame."""
        return np.asarray(v, dtype=np.float64) @ self.rotation.T


def _unit(v: FloatArray) -> FloatArray:
    return v / np.linalg.norm(v)


def horizontal_basis(up: FloatArray) -> FloatArray:
    """Two orthonormal vectors (2, 3) spanning the plane orthogonal to ``up``."""
    helper = np.eye(3)[int(np.argmin(np.abs(up)))]
    e1 = _unit(np.cross(up, helper))
    return np.vstack([e1, np.cross(up, e1)])


def gravity_up(
    acc: FloatArray, gyr: FloatArray, valid: NDArray[np.bool_], fs_hz: float, *, config: AlignConfig
) -> tuple[FloatArray, Literal["still", "walking"], NDArray[np.bool_]]:
    """Unit 'up' vector in sensor coordinates, where it came from, and the still mask used."""
    if valid.sum() < fs_hz:
        raise InsufficientDataError("less than one second of valid samples: cannot find the gravity direction")
    gyr_f = sig.fill_invalid(gyr, valid)
    w = max(1, int(config.still_window_s * fs_hz))
    rolling = np.convolve(np.linalg.norm(gyr_f, axis=1), np.ones(w) / w, mode="same")
    still = valid & (rolling < config.still_gyro_dps)
    if still.sum() >= config.min_still_s * fs_hz:
        return _unit(acc[still].mean(axis=0)), "still", still
    return _unit(np.nanmean(acc[valid], axis=0)), "walking", still


def _stride_period(x: FloatArray, fs_hz: float, config: AlignConfig) -> float:
    band = sig.butter(x, fs_hz, (0.25, 4.0), "bandpass")
    return sig.dominant_period_s(band, fs_hz, *config.stride_range_s)


def align_thigh(
    acc: FloatArray, gyr: FloatArray, valid: NDArray[np.bool_], fs_hz: float, *, site: str, config: AlignConfig
) -> Alignment:
    """Alignment of a thigh sensor (see the module docstring for the method and sign argument)."""
    up, source, still = gravity_up(acc, gyr, valid, fs_hz, config=config)
    walk = valid & ~still
    if walk.sum() < 2 * fs_hz:
        raise InsufficientDataError(f"{site}: less than two seconds of movement; cannot find the thigh's swing axis")
    basis = horizontal_basis(up)
    g_h = sig.fill_invalid(gyr, valid) @ basis.T  # (n, 2)
    cov = np.cov(g_h[walk].T)
    evals, evecs = np.linalg.eigh(cov)
    axis = evecs[:, 1] @ basis  # principal horizontal gyro axis, in sensor coordinates
    rate = sig.butter(g_h @ evecs[:, 1], fs_hz, 8.0, "lowpass")
    skew = float(stats.skew(rate[walk]))
    right = axis if skew > 0 else -axis
    y = -_unit(right - up * (right @ up))
    x = np.cross(y, up)
    separation = 1.0 - evals[0] / evals[1] if evals[1] > 0 else 0.0
    confidence = float(separation * min(1.0, abs(skew) / 0.5))
    stride = _stride_period(g_h @ evecs[:, 1], fs_hz, config)
    return Alignment(site, np.vstack([x, y, up]), source, stride, confidence, confidence < config.min_confidence)


def _step_lag(vertical: FloatArray, fs_hz: float, config: AlignConfig) -> tuple[int, float]:
    """Step period (samples) and step regularity of a window of vertical acceleration (Moe-Nilssen 2004).

    The highest peak of the unbiased autocorrelation within half the stride range, unless a peak at about half its
    lag reaches half its height: then the highest peak is the stride (an asymmetric gait's stride peak can top the
    step peak, while a step-periodic signal is anti-correlated at half its period). (0, 0) without a peak.
    """
    x = vertical - vertical.mean()
    n = x.shape[0]
    lo, hi = int(config.stride_range_s[0] / 2 * fs_hz), int(np.ceil(config.stride_range_s[1] / 2 * fs_hz))
    if n < 2 * hi or not np.any(x):
        return 0, 0.0
    spec = np.fft.rfft(x, 2 * n)
    ac = np.fft.irfft(spec * np.conj(spec))[:n]
    ac = ac / ac[0] / (1.0 - np.arange(n) / n)
    peaks, _ = sps.find_peaks(ac[: hi + 1])
    peaks = peaks[peaks >= lo]
    if peaks.size == 0:
        return 0, 0.0
    best = int(peaks[np.argmax(ac[peaks])])
    half = peaks[(peaks >= 0.4 * best) & (peaks <= 0.6 * best)]
    if half.size and ac[half].max() >= 0.5 * ac[best]:
        best = int(half[np.argmax(ac[half])])
    return best, float(ac[best])


def _corr(a: FloatArray, b: FloatArray) -> float:
    """Pearson correlation, 0 when either input is constant."""
    a, b = a - a.mean(), b - b.mean()
    d = float(np.sqrt((a @ a) * (b @ b)))
    return float(a @ b) / d if d > 0 else 0.0


def _half_stride_signature(x: FloatArray, lag: int) -> FloatArray:
    """Symmetrised lag-``lag`` autocovariance of (n, 2) ``x`` over its total variance: +1 for a step-periodic
    direction (even stride harmonics), −1 for a stride-periodic one that reverses every step (odd harmonics)."""
    x = x - x.mean(axis=0)
    a, b = x[:-lag], x[lag:]
    m = a.T @ b / a.shape[0]
    var = float(np.trace(x.T @ x)) / x.shape[0]
    return np.asarray(0.5 * (m + m.T) / max(var, 1e-12), dtype=np.float64)


@dataclass(frozen=True)
class _Window:
    """Evidence of one walking window, in the 2-D horizontal basis of the session's 'up'."""

    start: int
    weight: float  # step regularity
    step: int  # step period, samples
    signature: FloatArray  # (2, 2) acc signature − gyro signature: + along AP, − along ML
    step_acc: FloatArray  # (m, 2) horizontal free acceleration, step band
    step_vel: FloatArray  # (m,) vertical velocity, step band
    stride_acc: FloatArray  # (m, 2) horizontal free acceleration, stride band
    stride_yaw: FloatArray  # (m,) yaw rate, stride band

    def sign_evidence(self, ap: FloatArray) -> float:
        """Evidence (−2…2) that the horizontal unit vector ``ap`` (2-D) points forward rather than backward."""
        left = np.array([-ap[1], ap[0]])  # up × forward, in the right-handed horizontal basis
        pendulum = -_corr(self.step_acc @ ap, self.step_vel)
        sway = -_corr(self.stride_yaw, self.stride_acc @ left)
        return pendulum + sway


def _pelvis_windows(
    h_acc: FloatArray,
    h_gyr: FloatArray,
    vertical: FloatArray,
    yaw: FloatArray,
    usable: NDArray[np.bool_],
    fs_hz: float,
    config: AlignConfig,
) -> list[_Window]:
    """Evidence of each regular walking window (see the module docstring).

    Windows with the same step lag share their filters: each group of them with the same padded extent is filtered
    in one call per band (windows stacked along a second axis), which gives the same numbers as filtering each
    window alone at a fraction of the cost (the filter's per-call set-up dominated)."""
    n, w, hop = h_acc.shape[0], int(config.window_s * fs_hz), max(1, int(config.window_hop_s * fs_hz))
    pad = int(config.window_pad_s * fs_hz)
    starts = range(0, n - w + 1, hop) if n >= w else range(0)
    found: list[tuple[int, int, float]] = []  # (start, step lag, regularity) of each walking window
    for a in starts:
        b = a + w
        if usable[a:b].mean() < config.window_min_usable or np.std(vertical[a:b]) < config.walk_min_acc_ms2:
            continue
        step, regularity = _step_lag(vertical[a:b], fs_hz, config)
        if step and regularity >= config.walk_min_regularity:
            found.append((a, step, regularity))
    groups: dict[tuple[int, int, int], list[int]] = {}  # (step, padded length, offset of the window) -> windows
    for k, (a, step, _) in enumerate(found):
        lo, hi = max(0, a - pad), min(n, a + w + pad)
        groups.setdefault((step, hi - lo, a - lo), []).append(k)
    out: dict[int, _Window] = {}
    for (step, length, offset), members in groups.items():
        f_step = fs_hz / step
        idx = np.asarray([max(0, found[k][0] - pad) for k in members])[None, :] + np.arange(length)[:, None]
        keep = slice(offset, offset + w)  # idx: (time, window); every array below has time on axis 0
        wide = (config.signature_highpass * f_step, min(config.signature_lowpass_hz, 0.45 * fs_hz))
        step_band, stride_band = (0.5 * f_step, 1.5 * f_step), (0.3 * f_step, 0.7 * f_step)
        v = vertical[idx]
        velocity = integrate.cumulative_trapezoid(v - v.mean(axis=0), dx=1.0 / fs_hz, axis=0, initial=0.0)
        acc_gyr = sig.butter(np.concatenate([h_acc[idx], h_gyr[idx]], axis=2), fs_hz, wide, "bandpass")[keep]
        step_f = sig.butter(np.concatenate([h_acc[idx], velocity[:, :, None]], axis=2), fs_hz, step_band, "bandpass")
        stride_f = sig.butter(
            np.concatenate([h_acc[idx], yaw[idx][:, :, None]], axis=2), fs_hz, stride_band, "bandpass"
        )
        step_f, stride_f = step_f[keep], stride_f[keep]
        for j, k in enumerate(members):
            signature = _half_stride_signature(acc_gyr[:, j, :2], step) - _half_stride_signature(
                acc_gyr[:, j, 2:], step
            )
            out[k] = _Window(
                found[k][0],
                found[k][2],
                step,
                signature,
                step_f[:, j, :2],
                step_f[:, j, 2],
                stride_f[:, j, :2],
                stride_f[:, j, 2],
            )
    return [out[k] for k in range(len(found))]


@dataclass(frozen=True)
class PelvisAxisEstimate:
    """Forward axis of a pelvis sensor from walking, with the per-bout evidence behind it."""

    forward: FloatArray  # (3,) unit, horizontal (orthogonal to ``up``), sensor coordinates
    up: FloatArray  # (3,)
    stride_s: float  # median over the walking windows (NaN: none found)
    n_windows: int
    n_bouts: int
    line_strength: float  # 0..1: eigenvalue gap of the pooled signature
    sign_strength: float  # 0..1: mean sign evidence
    bout_agreement: float  # weight share of the bouts whose own axis agrees with the consensus (within 30°, sign)


def estimate_pelvis_forward(
    acc: FloatArray,
    gyr: FloatArray,
    valid: NDArray[np.bool_],
    fs_hz: float,
    up: FloatArray,
    *,
    config: AlignConfig,
) -> PelvisAxisEstimate | None:
    """Forward axis of a body-fixed lower-back/pelvis sensor from its walking bouts; None without walking.

    ``acc`` (m/s², +g up at rest) and ``gyr`` (deg/s) are (n, 3) in sensor axes, gap-free (invalid samples filled),
    ``valid`` marks the usable samples, ``up`` is the session's unit vertical in sensor axes.
    """
    u = track_up(acc, gyr, fs_hz, cutoff_hz=config.fusion_cutoff_hz)
    free = acc - G * u
    vertical = np.einsum("ij,ij->i", free, u)
    yaw = np.einsum("ij,ij->i", gyr, u)
    basis = horizontal_basis(up)
    h_acc = (free - vertical[:, None] * u) @ basis.T
    h_gyr = (gyr - yaw[:, None] * u) @ basis.T
    wins = _pelvis_windows(h_acc, h_gyr, vertical, yaw, valid, fs_hz, config)
    if not wins:
        return None
    hop = max(1, int(config.window_hop_s * fs_hz))
    starts = np.array([x.start for x in wins])
    bout_of = np.concatenate(([0], np.cumsum(np.diff(starts) > hop)))
    weights = np.array([x.weight for x in wins])
    sigs = np.array([x.signature for x in wins])
    pooled = np.einsum("k,kij->ij", weights, sigs) / weights.sum()
    evals, evecs = np.linalg.eigh(pooled)
    ap = evecs[:, 1]  # most step-periodic horizontal direction: the AP line
    evidence = np.array([x.sign_evidence(ap) for x in wins])
    total = float(weights @ evidence) / float(weights.sum())
    if total < 0:
        ap, evidence, total = -ap, -evidence, -total
    agree, n_bouts = 0.0, int(bout_of[-1]) + 1
    for k in range(n_bouts):  # each bout's own axis, for the agreement
        sel = np.flatnonzero(bout_of == k)
        own = np.linalg.eigh(np.einsum("k,kij->ij", weights[sel], sigs[sel]))[1][:, 1]
        if sum(weights[i] * wins[i].sign_evidence(own) for i in sel) < 0:
            own = -own
        agree += float(weights[sel].sum()) * float(own @ ap > np.cos(np.deg2rad(config.bout_agreement_deg)))
    forward = ap @ basis
    return PelvisAxisEstimate(
        forward,
        up,
        float(np.median([2 * x.step for x in wins]) / fs_hz),
        len(wins),
        n_bouts,
        float(min(1.0, (evals[1] - evals[0]) / config.line_gap_full)),
        float(min(1.0, total / config.sign_evidence_full)),
        agree / float(weights.sum()),
    )


def align_pelvis(
    acc: FloatArray, gyr: FloatArray, valid: NDArray[np.bool_], fs_hz: float, *, config: AlignConfig
) -> Alignment:
    """Alignment of a pelvis/sacrum sensor (see the module docstring for the method and sign argument)."""
    valid = valid & np.isfinite(acc).all(axis=1) & np.isfinite(gyr).all(axis=1)
    up, source, still = gravity_up(acc, gyr, valid, fs_hz, config=config)
    walk = valid & ~still
    if walk.sum() < 2 * fs_hz:
        raise InsufficientDataError("pelvis: less than two seconds of movement; cannot find the walking direction")
    acc_f, gyr_f = sig.fill_invalid(acc, valid), sig.fill_invalid(gyr, valid)
    est = estimate_pelvis_forward(acc_f, gyr_f, walk, fs_hz, up, config=config)
    if est is None:  # no regular walking window: all the movement as one window, flagged by its low confidence
        whole = replace(
            config,
            window_s=min(config.window_s, acc.shape[0] / fs_hz),
            window_min_usable=0.0,
            walk_min_acc_ms2=0.0,
            walk_min_regularity=-np.inf,
        )
        est = estimate_pelvis_forward(acc_f, gyr_f, walk, fs_hz, up, config=whole)
    if est is None:
        raise InsufficientDataError("pelvis: no stepping found in the movement; cannot find the walking direction")
    x = est.forward
    y = np.cross(up, x)
    confidence = est.line_strength * est.sign_strength * est.bout_agreement
    return Alignment(
        "pelvis", np.vstack([x, y, up]), source, est.stride_s, confidence, confidence < config.min_confidence
    )


_AXES = ("x", "y", "z")


def _closest_axis(v: FloatArray) -> tuple[str, float]:
    """The signed sensor axis nearest the unit vector ``v`` (sensor coordinates) and the cosine between them."""
    k = int(np.argmax(np.abs(v)))
    return f"{'+' if v[k] >= 0 else '-'}{_AXES[k]}", round(float(abs(v[k])), 3)


def describe_mounting(al: Alignment, *, config: AlignConfig) -> dict[str, Any]:
    """Human-readable mounting of one sensor, for the quality record.

    ``up`` / ``forward`` / ``left``: the sensor axis nearest each segment axis (``"-x"`` = the sensor's negative
    x axis) with its cosine (1 = exactly aligned, ≈ 0.7 = halfway between two axes). For a thigh,
    ``upside_down`` is True when the sensor's long axis (``long_axis``, normally worn pointing down the thigh)
    points up. ``low_confidence`` repeats :attr:`Alignment.low_confidence`; the text says so too.
    """
    names = ("forward", "left", "up")
    out: dict[str, Any] = {}
    parts = []
    for name, row in zip(names, al.rotation, strict=True):
        axis, cos = _closest_axis(row)
        out[name] = axis
        out[f"{name}_cos"] = cos
        parts.append(f"{axis} {name}")
    text = f"{al.site}: sensor " + ", ".join(parts)
    if al.site != "pelvis":
        long_up = float(al.rotation[2, config.long_axis])
        out["upside_down"] = bool(long_up > 0.5)
        if out["upside_down"]:
            text += f" — upside down (its {_AXES[config.long_axis]} axis points up the thigh)"
    out["low_confidence"] = al.low_confidence
    if al.low_confidence:
        text += f" — LOW CONFIDENCE ({al.confidence:.2f}); check the sensor placement"
    out["text"] = text
    return out
