"""Private: heel-strike impact onsets in a thigh accelerometer, the IC refinement of thigh event detection.

At initial contact the foot stops abruptly and a transient runs up the leg: bone decelerates and the soft tissue
under a skin-mounted sensor rings for a few tens of ms (Light, McLellan & Klenerman 1980, J Biomech 13:477-480;
Wakeling & Nigg 2001, J Appl Physiol 90:412-420). IC is the onset of that transient. Shank- and foot-IMU
detectors take the same route: a gyroscope landmark bounds a short search window in which the impact is found in
the acceleration norm or its jerk (Falbriard et al. 2018, Front Physiol 9:610, compare the norm's maximum, the
local minimum before it and the last jerk zero crossing before it as IC features).

The norm ``‖a‖`` does not depend on how the sensor is mounted. Its second difference ``Δ²‖a‖[k] = ‖a‖[k] − 2‖a‖[k−1]
+ ‖a‖[k−2]`` is a causal high-pass: walking itself (a few Hz) leaves it near zero, the ringing of a transient (10-30
Hz) does not, and being causal it cannot respond before the transient starts (a zero-phase filter would). A sample
is *active* where ``|Δ²‖a‖|`` exceeds ``impact_snr`` robust standard deviations (1.4826 × its median absolute value
over the walking part of the valid recording: quiet standing would set the level at the sensor's noise floor, where
the vibration of a fast terminal swing already counts as impact, which put ICs ≈ 57 ms early on real recordings that
were mostly standing, ``bench/validate_thighs.py``); white noise exceeds 6 SD with probability 2·10⁻⁹ per sample, so
a window without an active sample (soft shoes, a slow shuffle, a gap) yields no onset and the caller falls back to
its gyroscope rule. Otherwise the transient is the window's largest ``|Δ²‖a‖|`` and its onset the first sample of
the activity leading up to it: the first sample after the last ``impact_quiet_samples`` consecutive valid, inactive
samples before the peak (one quiet sample can be a zero crossing of the ringing). Brief activity earlier in terminal
swing (fast swings decelerate hard) is thus not taken for the onset, and a transient whose start was lost in a gap
gives no onset rather than a late one. The contact happened within the sampling interval before the onset sample, so
the onset is reported half a sample earlier.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from pipeline import _signal as sig
from pipeline._event_core import FloatArray

_MAD_TO_SD = 1.4826
_MIN_LEVEL_SAMPLES = 100  # one second at 100 Hz


def impact_onsets(
    acc_ms2: FloatArray,
    valid: NDArray[np.bool_],
    start: FloatArray,
    stop: FloatArray,
    *,
    snr: float,
    quiet_samples: int,
    walking: NDArray[np.bool_] | None = None,
) -> FloatArray:
    """Impact onset (fractional sample) in each window ``[start, stop)``, NaN where none is found.

    ``acc_ms2`` is the (n, 3) accelerometer in any sensor frame, ``valid`` its mask. ``walking`` (optional mask)
    is where the noise level is measured; with less than ``_MIN_LEVEL_SAMPLES`` of it, the whole valid recording.
    Loops over windows, not samples.
    """
    out = np.full(start.shape[0], np.nan)
    n = acc_ms2.shape[0]
    if n < quiet_samples + 3:
        return out
    norm = np.linalg.norm(sig.fill_invalid(acc_ms2, valid), axis=1)
    d2 = np.zeros(n)
    d2[2:] = np.abs(norm[2:] - 2.0 * norm[1:-1] + norm[:-2])
    defined = np.zeros(n, dtype=bool)
    defined[2:] = valid[2:] & valid[1:-1] & valid[:-2]
    if not defined.any():
        return out
    level = defined if walking is None or (defined & walking).sum() < _MIN_LEVEL_SAMPLES else defined & walking
    scale = _MAD_TO_SD * float(np.median(d2[level]))
    if scale <= 0.0:
        return out
    above = defined & (d2 > snr * scale)
    quiet = defined & ~above
    ok = np.isfinite(start) & np.isfinite(stop)
    for i in np.flatnonzero(ok):
        a = max(int(np.ceil(start[i])), quiet_samples + 2)
        b = min(int(np.ceil(stop[i])), n)
        if b <= a or not above[a:b].any():
            continue
        peak = a + int(np.argmax(np.where(defined[a:b], d2[a:b], 0.0)))
        # the transient's activity runs back from its peak to the last stretch of quiet samples
        run = np.convolve(quiet[: peak + 1], np.ones(quiet_samples), mode="valid") == quiet_samples
        last_quiet = np.flatnonzero(run)
        if not last_quiet.size:
            continue
        k = int(last_quiet[-1]) + quiet_samples  # first sample after that quiet stretch
        if k >= a and defined[k : peak + 1].all():  # a gap between them may hide the true onset
            out[i] = k - 0.5
    return out
