"""Private maths behind :mod:`sensors.sim.gait_model`.

Everything here works on whole time arrays. Scalar signals travel as :class:`Jet` (value, first and second time
derivative) so that angular velocities and linear accelerations are exact (analytic chain rule) rather than
finite-difference estimates. Phases are in cycles (1.0 = one stride), angles in radians, lengths in metres.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

_TWO_PI = 2.0 * np.pi
_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(24)


class Jet(NamedTuple):
    """A signal and its first and second time derivatives, all shape ``(n,)``."""

    v: FloatArray
    d: FloatArray
    dd: FloatArray


def jet_const(value: float, n: int) -> Jet:
    """A constant signal."""
    zeros = np.zeros(n)
    return Jet(np.full(n, value, dtype=np.float64), zeros, zeros.copy())


def jet_add(*jets: Jet) -> Jet:
    """Sum of signals."""
    v, d, dd = jets[0]
    for jet in jets[1:]:
        v, d, dd = v + jet.v, d + jet.d, dd + jet.dd
    return Jet(v, d, dd)


def jet_scale(jet: Jet, factor: float) -> Jet:
    """A signal times a constant."""
    return Jet(jet.v * factor, jet.d * factor, jet.dd * factor)


def jet_mul(a: Jet, b: Jet) -> Jet:
    """Product of two signals (Leibniz rule)."""
    return Jet(a.v * b.v, a.d * b.v + a.v * b.d, a.dd * b.v + 2.0 * a.d * b.d + a.v * b.dd)


def compose(f: FloatArray, df: FloatArray, ddf: FloatArray, x: Jet) -> Jet:
    """``f(x(t))`` from ``f``, ``f'``, ``f''`` evaluated at ``x(t)`` (chain rule)."""
    return Jet(f, df * x.d, ddf * x.d**2 + df * x.dd)


def smoothstep(u: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Quintic smoothstep ``S(u)`` clamped to [0, 1], with ``S'`` and ``S''`` (both zero outside (0, 1))."""
    uc = np.clip(u, 0.0, 1.0)
    s = uc**3 * (10.0 - 15.0 * uc + 6.0 * uc**2)
    ds = 30.0 * uc**2 * (1.0 - uc) ** 2
    dds = 60.0 * uc * (1.0 - uc) * (1.0 - 2.0 * uc)
    return s, ds, dds


def smoothstep_jet(t: FloatArray, start_s: float, duration_s: float) -> Jet:
    """``S((t - start) / duration)`` as a jet in time; C2, exactly 0 before ``start`` and 1 after the end."""
    s, ds, dds = smoothstep((t - start_s) / duration_s)
    return Jet(s, ds / duration_s, dds / duration_s**2)


def smoothstep_integral(u: FloatArray) -> FloatArray:
    """``∫_0^u S(x) dx`` for ``u`` in [0, 1] (equals 1/2 at ``u = 1``)."""
    result: FloatArray = u**4 * (2.5 - 3.0 * u + u**2)
    return result


def fourier_jet(phase: Jet, coeffs: FloatArray) -> Jet:
    """``a0 + Σ_k a_k cos(2πkφ) + b_k sin(2πkφ)`` with ``coeffs = [a0, a1, b1, a2, b2, ...]``, φ in cycles."""
    a0 = float(coeffs[0])
    a = coeffs[1::2]
    b = coeffs[2::2]
    w = _TWO_PI * np.arange(1, a.size + 1, dtype=np.float64)
    arg = np.outer(phase.v, w)
    cos, sin = np.cos(arg), np.sin(arg)
    f = a0 + cos @ a + sin @ b
    df = (-sin * a + cos * b) @ w
    ddf = -(cos * a + sin * b) @ w**2
    return compose(f, df, ddf, phase)


def cosine_jet(phase: Jet, harmonic: int, amplitude: float, peak_phase: float) -> Jet:
    """``amplitude · cos(2π·harmonic·(φ − peak_phase))``: maxima at ``peak_phase`` (+ multiples of 1/harmonic)."""
    w = _TWO_PI * harmonic
    arg = w * (phase.v - peak_phase)
    return compose(amplitude * np.cos(arg), -amplitude * w * np.sin(arg), -amplitude * w**2 * np.cos(arg), phase)


def bump_jet(phase: Jet, start: float, width: float, amplitude: float) -> Jet:
    """A C2 bump ``amplitude · sin³(π u)`` for ``u = (φ mod 1 − start) / width`` in [0, 1], zero elsewhere."""
    u = (np.mod(phase.v, 1.0) - start) / width
    inside = (u > 0.0) & (u < 1.0)
    x = np.pi * np.where(inside, u, 0.0)
    s, c = np.sin(x), np.cos(x)
    k = np.pi / width
    f = amplitude * s**3
    df = amplitude * 3.0 * k * s**2 * c
    ddf = amplitude * k**2 * (6.0 * s * c**2 - 3.0 * s**3)
    return compose(f, df, ddf, phase)


def stride_steps_jet(phase: Jet, values: FloatArray, first: int) -> Jet:
    """A C2 staircase in phase: ``values[k - first]`` at integer phase ``k``, moving to the next value along a
    quintic smoothstep over each cycle (zero slope and curvature at the integers); constant beyond the table."""
    pos = phase.v - first
    whole = np.floor(pos)
    i = np.clip(whole, 0, values.size - 1).astype(np.intp)
    j = np.clip(whole + 1.0, 0, values.size - 1).astype(np.intp)
    s, ds, dds = smoothstep(pos - whole)
    delta = values[j] - values[i]
    return compose(values[i] + delta * s, delta * ds, delta * dds, phase)


class PhaseWarp:
    """Monotone C2 map from time to phase through knots ``(t_i, φ_i)``.

    Between knots a quintic Hermite segment with zero second derivative at both ends; the knot rates are the
    harmonic means of the neighbouring secant slopes (at most twice either, which keeps every segment monotone).
    Outside the knots the phase continues linearly at the end rates.
    """

    def __init__(self, knots_t: FloatArray, knots_phase: FloatArray) -> None:
        self.t = np.asarray(knots_t, dtype=np.float64)
        self.phase = np.asarray(knots_phase, dtype=np.float64)
        dt = np.diff(self.t)
        dphi = np.diff(self.phase)
        if self.t.size < 2 or np.any(dt <= 0.0) or np.any(dphi <= 0.0):
            raise ValueError("phase knots must be strictly increasing in both time and phase")
        slope = dphi / dt
        inner = 2.0 * slope[:-1] * slope[1:] / (slope[:-1] + slope[1:])
        self.rate = np.concatenate([slope[:1], inner, slope[-1:]])

    def __call__(self, t: FloatArray) -> Jet:
        """Phase (cycles), phase rate (cycles/s) and its derivative (cycles/s²) at times ``t``."""
        n_seg = self.t.size - 1
        i = np.clip(np.searchsorted(self.t, t, side="right") - 1, 0, n_seg - 1)
        t0, dt = self.t[i], self.t[i + 1] - self.t[i]
        p0, dp = self.phase[i], self.phase[i + 1] - self.phase[i]
        r0, r1 = self.rate[i], self.rate[i + 1]
        u = (t - t0) / dt
        u2, u3 = u * u, u * u * u
        h = u3 * (10.0 - 15.0 * u + 6.0 * u2)
        dh = 30.0 * u2 * (1.0 - u) ** 2
        ddh = 60.0 * u * (1.0 - u) * (1.0 - 2.0 * u)
        g0 = u - 6.0 * u3 + 8.0 * u3 * u - 3.0 * u3 * u2
        dg0 = 1.0 - 18.0 * u2 + 32.0 * u3 - 15.0 * u2 * u2
        ddg0 = -36.0 * u + 96.0 * u2 - 60.0 * u3
        g1 = -4.0 * u3 + 7.0 * u3 * u - 3.0 * u3 * u2
        dg1 = -12.0 * u2 + 28.0 * u3 - 15.0 * u2 * u2
        ddg1 = -24.0 * u + 84.0 * u2 - 60.0 * u3
        phi = p0 + dp * h + dt * (r0 * g0 + r1 * g1)
        dphi = dp * dh / dt + r0 * dg0 + r1 * dg1
        ddphi = dp * ddh / dt**2 + (r0 * ddg0 + r1 * ddg1) / dt
        before, after = t < self.t[0], t > self.t[-1]
        phi = np.where(before, self.phase[0] + self.rate[0] * (t - self.t[0]), phi)
        phi = np.where(after, self.phase[-1] + self.rate[-1] * (t - self.t[-1]), phi)
        dphi = np.where(before, self.rate[0], np.where(after, self.rate[-1], dphi))
        ddphi = np.where(before | after, 0.0, ddphi)
        return Jet(phi, dphi, ddphi)


def rot_x(angle: FloatArray) -> FloatArray:
    """Stack of right-hand rotations about x, shape ``(n, 3, 3)``."""
    c, s = np.cos(angle), np.sin(angle)
    one, zero = np.ones_like(c), np.zeros_like(c)
    return np.stack([one, zero, zero, zero, c, -s, zero, s, c], axis=-1).reshape(-1, 3, 3)


def rot_y(angle: FloatArray) -> FloatArray:
    """Stack of right-hand rotations about y, shape ``(n, 3, 3)``."""
    c, s = np.cos(angle), np.sin(angle)
    one, zero = np.ones_like(c), np.zeros_like(c)
    return np.stack([c, zero, s, zero, one, zero, -s, zero, c], axis=-1).reshape(-1, 3, 3)


def rot_z(angle: FloatArray) -> FloatArray:
    """Stack of right-hand rotations about z, shape ``(n, 3, 3)``."""
    c, s = np.cos(angle), np.sin(angle)
    one, zero = np.ones_like(c), np.zeros_like(c)
    return np.stack([c, -s, zero, s, c, zero, zero, zero, one], axis=-1).reshape(-1, 3, 3)


class Rotation(NamedTuple):
    """Orientation ``R`` (n,3,3), angular velocity ``w`` and angular acceleration ``a`` (n,3), world frame."""

    R: FloatArray
    w: FloatArray
    a: FloatArray


def rot_zxy(z: Jet, x: Jet, y: Jet) -> Rotation:
    """``Rz(z) · Rx(x) · Ry(y)`` with its world-frame angular velocity and acceleration (rad/s, rad/s²)."""
    R = rot_z(z.v) @ rot_x(x.v) @ rot_y(y.v)
    n = z.v.size
    ez = np.tile([0.0, 0.0, 1.0], (n, 1))
    cz, sz, cx, sx = np.cos(z.v), np.sin(z.v), np.cos(x.v), np.sin(x.v)
    u1 = np.stack([cz, sz, np.zeros(n)], axis=-1)  # Rz · e_x, the rotated x axis
    u2 = np.stack([-sz * cx, cz * cx, sx], axis=-1)  # Rz · Rx · e_y, the doubly rotated y axis
    w_zx = z.d[:, None] * ez + x.d[:, None] * u1
    w = w_zx + y.d[:, None] * u2
    du1 = z.d[:, None] * np.stack([-sz, cz, np.zeros(n)], axis=-1)
    du2 = np.cross(w_zx, u2)
    a = z.dd[:, None] * ez + x.dd[:, None] * u1 + x.d[:, None] * du1 + y.dd[:, None] * u2 + y.d[:, None] * du2
    return Rotation(R, w, a)


def rotate(R: FloatArray, r: FloatArray) -> FloatArray:
    """``R @ r`` for a stack of rotations and one vector or a stack of vectors; shape ``(n, 3)``."""
    result: FloatArray = np.einsum("nij,j->ni" if r.ndim == 1 else "nij,nj->ni", R, r)
    return result


def carried_point_acc(origin_acc: FloatArray, rot: Rotation, r_world: FloatArray) -> FloatArray:
    """Acceleration of a point fixed in a rotating segment, ``a_o + α × r + ω × (ω × r)`` (r in world axes)."""
    result: FloatArray = origin_acc + np.cross(rot.a, r_world) + np.cross(rot.w, np.cross(rot.w, r_world))
    return result


class Course:
    """Where the body goes: a gait-initiation ramp, straight walking and optional 180° left turns.

    Amplitude envelope ``w(t)`` rises as a quintic smoothstep over ``[walk_s - ramp_s, walk_s)``. Turn ``k``
    (k ≥ 1) starts at ``walk_s + k·every_s`` and turns the heading by +π over ``turn_s`` (smoothstep). The
    horizontal path moves at ``speed · w(t)`` along the heading; positions during turns use Gauss–Legendre
    quadrature of the (smooth) heading, so the path is exact to rounding and defined for any time.
    """

    def __init__(self, walk_s: float, ramp_s: float, speed: float, every_s: float | None, turn_s: float) -> None:
        self.walk_s, self.ramp_s, self.speed = walk_s, ramp_s, speed
        self.every_s, self.turn_s = every_s, turn_s
        if every_s is not None:
            d = speed * self._turn_integral(np.array([turn_s]))[0]
            self.turn_disp = d  # displacement over one turn in the pre-turn heading frame
            self.period_disp = d - np.array([speed * (every_s - turn_s), 0.0])

    def envelope(self, t: FloatArray) -> Jet:
        """Gait amplitude envelope: 0 while standing, 1 from ``walk_s`` on."""
        return smoothstep_jet(t, self.walk_s - self.ramp_s, self.ramp_s)

    def _turn_index(self, t: FloatArray) -> tuple[FloatArray, FloatArray]:
        assert self.every_s is not None
        k = np.floor((t - self.walk_s) / self.every_s)
        return k, t - self.walk_s - k * self.every_s

    def heading(self, t: FloatArray) -> Jet:
        """Walking direction, radians from world +x, counter-clockwise (left) positive."""
        if self.every_s is None:
            return jet_const(0.0, t.size)
        k, tau = self._turn_index(t)
        s, ds, dds = smoothstep(tau / self.turn_s)
        on = k >= 1
        h = np.where(on, np.pi * (k - 1.0 + s), 0.0)
        return Jet(h, np.where(on, np.pi * ds / self.turn_s, 0.0), np.where(on, np.pi * dds / self.turn_s**2, 0.0))

    def _turn_integral(self, tau: FloatArray) -> FloatArray:
        """``∫_0^τ [cos πS(u/T), sin πS(u/T)] du`` per element (n, 2)."""
        u = 0.5 * tau[:, None] * (_GL_NODES[None, :] + 1.0)
        s, _, _ = smoothstep(u / self.turn_s)
        half = 0.5 * tau[:, None]
        return np.stack([(half * np.cos(np.pi * s)) @ _GL_WEIGHTS, (half * np.sin(np.pi * s)) @ _GL_WEIGHTS], axis=-1)

    def distance(self, t: FloatArray) -> FloatArray:
        """Path length travelled since standing (m), turns included: ``speed · ∫ w dt``."""
        start = self.walk_s - self.ramp_s
        u = np.clip((t - start) / self.ramp_s, 0.0, 1.0)
        travelled = np.where(t < self.walk_s, self.ramp_s * smoothstep_integral(u), self.ramp_s / 2 + t - self.walk_s)
        result: FloatArray = self.speed * travelled
        return result

    def position(self, t: FloatArray) -> FloatArray:
        """Horizontal path point (n, 3) in metres; z is 0."""
        xy = np.stack([self.distance(t), np.zeros_like(t)], axis=-1)
        if self.every_s is not None:
            k, tau = self._turn_index(t)
            on = k >= 1
            if np.any(on):
                k_on, tau_on = k[on], tau[on]
                sign = np.where(np.mod(k_on - 1.0, 2.0) == 0.0, 1.0, -1.0)[:, None]
                first = np.array([self.speed * (self.ramp_s / 2 + self.every_s), 0.0])
                anchor = first + np.mod(k_on - 1.0, 2.0)[:, None] * self.period_disp
                turning = tau_on < self.turn_s
                local = np.empty((tau_on.size, 2))
                local[turning] = self.speed * self._turn_integral(tau_on[turning])
                straight = tau_on[~turning] - self.turn_s
                local[~turning] = self.turn_disp - self.speed * np.stack([straight, 0.0 * straight], axis=-1)
                xy[on] = anchor + sign * local
        return np.concatenate([xy, np.zeros((t.size, 1))], axis=-1)

    def acceleration(self, t: FloatArray) -> FloatArray:
        """Path acceleration (n, 3) in m/s², from ``d/dt [speed · w · (cos h, sin h)]``."""
        w, h = self.envelope(t), self.heading(t)
        c, s = np.cos(h.v), np.sin(h.v)
        tangential, normal = self.speed * w.d, self.speed * w.v * h.d
        return np.stack([tangential * c - normal * s, tangential * s + normal * c, np.zeros_like(t)], axis=-1)
