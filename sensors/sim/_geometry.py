"""Private: how big the walker's movements are for its step length (:mod:`sensors.sim.gait_model`).

The profile fixes speed, cadence and step timing, so the step lengths follow (distance travelled per step); the
pelvis vertical excursion and the thigh angles must then be those of a person taking such steps with such legs.
Both come from normative data, deliberately *not* from the inverted-pendulum or compass models the analysis
pipeline uses to estimate step length (that would make the validation circular).

Vertical excursion
------------------
Miff, Gard & Childress (2000, Proc. IEEE EMBS 22:155-158) showed with a rocker-based inverted pendulum and data
over a range of speeds that the trunk's vertical excursion is set by step length and leg geometry only, not by
cadence: it is quadratic in speed at constant cadence (h ∝ SL²) and linear in speed in freely chosen gait (where
SL ∝ √v). We use ``h = vertical_excursion_coeff · SL² / leg_length`` with SL the root-mean-square step length,
anchored so that 0.72 m steps on a 0.90 m leg give 4.5 cm, the middle of the 4-5 cm normative peak-to-peak
excursion of the pelvis/centre of mass at ordinary speed (Saunders, Inman & Eberhart 1953, "about 2 inches";
Perry & Burnfield 2010). The coefficient 0.078 is 0.62 times the straight-leg compass value 1/8 (h ≈ SL²/(8L)):
the real path is flatter than the compass arc because the leg rolls over the foot like a rocker (Miff et al.
2000), while stance knee flexion hardly changes the peak-to-peak excursion, it delays it by 2-6 % of the cycle
(Gard & Childress 1999, Arch Phys Med Rehabil 80:26-32).

The coefficient sets the pelvis *centre* (hip-axis midpoint). The sacral sensor sits behind the hip axis
(``sacrum_offset_m``) and also moves with pelvic tilt, which peaks with the pelvis highest: it rises about 0.55 cm
more per step (4.9 cm instead of 4.5 cm for the anchor step). Checked against real lower-back sensors
(``bench/sim_vs_real.py``, mobgap's Mobilise-D lab examples: steady straight strides, the vertical specific force
integrated twice per stride as a closed cycle, INDIP reference stride lengths, L = 0.53 × stature): the real
sensors give c = 0.080 (HA/001, 12 strides) and 0.089 (MS/001, 17 strides) in h_sensor = c·SL²/L, pooled 0.084
(HA/002 has no steady strides); the simulated sensor on the same walks gives 0.087 and 0.089, and the centre
coefficient at which the simulated sensor matches the real one is 0.072-0.078 (stride-weighted 0.076). That is
within the participants' spread of 0.078, so the textbook value stays. It also means the real sacral excursion is
*not* the ≈ 5.7 cm for 0.72 m steps on a 0.90 m leg that the Zijlstra pendulum with mobgap's K implies for that leg
(extrapolated from the real steps of 0.54-0.63 m: 4.8 cm, participants 4.6-5.1): on real data the pipeline's
pendulum is the sensor height (≈ 1.1-1.16 × 0.53 × stature), which is what makes K fit.

Thigh angles
------------
Winter's normative global thigh angle (Winter 1991/2009, natural cadence): about +25° at IC, peak extension
about -17° near contralateral IC (52 % of the cycle), peak flexion about +29° in terminal swing (87 %). That is
an inter-thigh angle at IC of about 42° for steps of 0.8 leg lengths. Step length is the horizontal heel-to-heel
distance, which also contains the feet (at contralateral IC the trailing heel is lifted behind its ankle) and the
slight trailing knee flexion (6° on one motion-capture trial, ``bench/validate_neura.py``), so it exceeds the
straight-leg chord 2·L·sin(Δ/2) of a compass model (0.72 L for 42°; a compass needs Δ ≈ 47° for 0.8 L).
Keeping the angles normative, we scale the curve about its mean in proportion to step length per leg length
(small-angle geometry, fixed segment proportions): ``Δ_IC = 42° · (SL/L) / 0.8``. The per-side
``thigh_rom_scale`` then shares that range between the legs (normalised so that the mean inter-thigh angle over
both ICs still matches the mean step length): a stiff right hip gets a smaller right thigh range, the healthy
left hip makes up the rest, and the step that needs the stiff hip's extension (the left step) comes out shorter.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from sensors.sim._profiles import GaitProfile

FloatArray = npt.NDArray[np.float64]

#: Canonical thigh sagittal angle (deg) at the reference step length, Fourier coefficients [a0, a1, b1, ...]:
#: +25° at IC, peak extension -17° at 52 %, peak flexion +29° at 87 % (Winter's normative shape).
THIGH_SAGITTAL_DEG = np.array([8.71, 21.30, -3.12, -3.94, -3.12, -0.47, 1.45, -0.59, 0.50])
#: Step length / leg length at which :data:`THIGH_SAGITTAL_DEG` applies (0.72 m steps on a 0.90 m leg).
REFERENCE_STEP_RATIO = 0.8


def step_lengths_m(profile: GaitProfile) -> tuple[float, float]:
    """Nominal (left, right) step lengths in metres: speed × step time (left step = right IC → left IC)."""
    stride_s = 120.0 / profile.cadence_spm
    left = profile.speed_m_s * profile.step_share_left * stride_s
    return left, profile.speed_m_s * stride_s - left


def vertical_excursion_m(profile: GaitProfile) -> float:
    """Pelvis vertical peak-to-peak (m): ``coeff · SL_rms² / leg_length`` (see the module docstring)."""
    left, right = step_lengths_m(profile)
    return profile.vertical_excursion_coeff * (left**2 + right**2) / 2.0 / profile.leg_length_m


def thigh_sagittal_scales(profile: GaitProfile) -> tuple[float, float]:
    """(left, right) multipliers of :data:`THIGH_SAGITTAL_DEG` about its mean (see the module docstring)."""
    left, right = step_lengths_m(profile)
    geometry = (left + right) / 2.0 / profile.leg_length_m / REFERENCE_STEP_RATIO
    r_left, r_right = profile.thigh_rom_scale
    share = 2.0 / (r_left + r_right) if r_left + r_right > 0.0 else 0.0
    return geometry * share * r_left, geometry * share * r_right
