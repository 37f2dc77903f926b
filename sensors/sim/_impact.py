"""Private: heel-strike transients of skin-mounted sensors (:mod:`sensors.sim.gait_model`).

At initial contact the foot stops abruptly; bone decelerates with it while the soft tissue under a skin-mounted
sensor keeps moving and rings as a damped oscillator ("wobbling mass"). Skin-mounted accelerometers therefore
show a sharp transient at each IC that IC detectors rely on. Light, McLellan & Klenerman (1980, J Biomech
13:477-480) measured heel-strike transients of about 5 g at the tibia and 0.5 g at the skull in normal walking
with hard heels, halved by resilient heels; the transient travels up the skeleton and attenuates on the way.
Wakeling & Nigg (2001, J Appl Physiol 90:412-420) and Wakeling, Liphardt & Nigg (2003, J Biomech 36:1761-1769)
measured the soft-tissue vibrations of the thigh and shank that heel strike excites: damped oscillations whose
frequency and damping rise with muscle activity. The defaults (sacrum 0.45 g, thigh 1.0 g at 1.3 m/s, 12/16 Hz,
decay 30/25 ms) describe ordinary shoes as seen by a ~100 Hz IMU, whose band keeps the ringing but not the
high-frequency content of Light's wide-band measurements; we found no published walking peak at
the sacrum or the lateral thigh to anchor them more tightly, so treat them as plausible, not measured.

Each IC at ``t_i`` displaces the sensor relative to its segment by

    d(t) = A_i · (1 − exp(−τ/τ_on))⁵ · exp(−τ/τ_d) · sin(2π f τ),   τ = t − t_i ≥ 0,

a damped oscillation (frequency f, decay τ_d) excited by a contact force that builds up over ``τ_on`` = 8 ms
(the fifth power makes the onset C4-smooth, so the motion is physical and the transient peaks 5-20 ms after IC
rather than as an instantaneous velocity step). Expanding the binomial turns d into a sum of six complex
exponentials, so derivatives are exact and cheap. ``A_i`` is chosen so that the peak added acceleration of a
full-amplitude IC equals the requested value.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from sensors.sim._kinematics import Jet

FloatArray = npt.NDArray[np.float64]

_ONSET_S = 0.008
_ONSET_POWER = 5
_PEAK_GRID = 40_000  # samples over 10 decay times when finding the waveform's peak acceleration
_LOOKBACK = 2  # ICs summed per time; an older one has decayed by exp(-stride/τ_d) < 1e-10


class ImpactTrain:
    """Scalar displacement (m) of a sensor along its impact direction: one transient per contact time.

    Args:
        times_s: contact times, sorted.
        peak_acc_m_s2: peak added acceleration per contact (m/s²; 0 for none).
        freq_hz: oscillation frequency.
        decay_s: exponential decay time.
    """

    def __init__(self, times_s: FloatArray, peak_acc_m_s2: FloatArray, freq_hz: float, decay_s: float) -> None:
        self.times = np.asarray(times_s, dtype=np.float64)
        k = np.arange(_ONSET_POWER + 1)
        self.rates = (-1.0 / decay_s + 2j * math.pi * freq_hz) - k / _ONSET_S
        self.weights = np.array([math.comb(_ONSET_POWER, int(i)) * (-1.0) ** int(i) for i in k])
        grid = np.linspace(0.0, 10.0 * decay_s, _PEAK_GRID)
        unit_peak = float(np.abs(self._unit(grid, 2)).max())
        self.amplitudes = np.asarray(peak_acc_m_s2, dtype=np.float64) / unit_peak

    def _unit(self, tau: FloatArray, order: int) -> FloatArray:
        """``order``-th derivative of the unit-amplitude waveform at delays ``tau`` ≥ 0."""
        result: FloatArray = (np.exp(np.multiply.outer(tau, self.rates)) @ (self.weights * self.rates**order)).imag
        return result

    def __call__(self, t: FloatArray) -> Jet:
        """Displacement (m), velocity (m/s) and acceleration (m/s²) at times ``t``."""
        out = [np.zeros_like(t) for _ in range(3)]
        if self.times.size == 0:
            return Jet(*out)
        coeffs = self.weights * self.rates[None, :] ** np.arange(3)[:, None]  # (order, term)
        latest = np.searchsorted(self.times, t, side="right") - 1
        for back in range(_LOOKBACK):
            i = latest - back
            on = i >= 0
            j = np.maximum(i, 0)
            tau = np.where(on, t - self.times[j], 0.0)
            gain = np.where(on, self.amplitudes[j], 0.0)
            waves = (np.exp(np.multiply.outer(tau, self.rates)) @ coeffs.T).imag  # (n, order)
            for order in range(3):
                out[order] += gain * waves[:, order]
        return Jet(*out)
