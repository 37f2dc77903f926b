"""Trunk (pelvis-sensor) step-to-step symmetry and regularity, with no laterality needed (reference §3).

Input signals are the pelvis's *free* acceleration in a gravity-levelled body frame (:func:`body_acc`): vertical
``V`` (up +), antero-posterior ``AP`` (the pelvis's forward axis projected on the horizontal plane, forward +) and
medio-lateral ``ML`` (left +), gravity and sensor offset removed, as in Moe-Nilssen's (1998) tilt correction.
Windows come from the gait events: a stride is IC_i → IC_i+2 of the pooled ICs, which is exactly a row of the
stride table (a side's IC to its next IC), so both sides' strides are used and their side labels are not.

* **Harmonic ratio** (Smidt 1971; Menz 2003; skdh ``HarmonicRatioV``): the DFT of one stride of acceleration puts
  harmonic k at k × stride frequency. Even harmonics repeat every step, odd ones every stride, so for V and AP
  (two cycles per stride) ``HR = Σ_even A_k / Σ_odd A_k`` and for ML (one cycle per stride)
  ``HR = Σ_odd A_k / Σ_even A_k``, over k = 1…20 (A_k amplitudes). Higher = more alike consecutive steps.
* **Improved harmonic ratio** (Pasciuto et al. 2017): ``iHR = 100 × Σ_intrinsic P_k / Σ_{k=1..20} P_k`` with
  P_k = A_k², intrinsic = even for V and AP, odd for ML; bounded 0–100 %, 100 % for identical steps.
* **Step / stride regularity, step symmetry** (Moe-Nilssen & Helbostad 2004): the unbiased autocorrelation
  ``Ad(m) = 1/(N − |m|) Σ x_i x_{i+m}``, normalised by Ad(0), of each straight bout. Ad1 (peak near one step lag)
  is step regularity, Ad2 (peak near one stride lag) stride regularity, Ad1/Ad2 step symmetry (1 = symmetric).
  Peaks are searched within ±``lag_tolerance`` of half and one median valid stride time; bout values are
  averaged weighted by bout length. Reported for V and AP (ML is anti-phased between steps).
* **Phase coordination index** (Plotnik et al. 2007): φ_i = 360° × (contralateral IC − IC_i) / (IC_i+2 − IC_i)
  for the strides of a reference leg; ``PCI = 100 × SD(φ)/mean(φ) + 100 × mean|φ − 180°| / 180°`` (%),
  0 for perfectly anti-phased steps. φ per stride is computed with the stride table (``metrics.stride_table``).

95 % within-session intervals (``pipeline.uncertainty``, :meth:`TrunkResult.bootstrap`): HR, iHR, PCI, step and
stride regularity; none for step symmetry (see there why).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from pipeline import _signal as sig
from pipeline import uncertainty
from pipeline.bouts import merge_intervals
from pipeline.orientation import track_up

FloatArray = NDArray[np.float64]
AXES: tuple[str, ...] = ("v", "ap", "ml")


@dataclass(frozen=True)
class TrunkConfig:
    """Parameters of the trunk metrics."""

    n_harmonics: int = 20  # harmonics 1..n enter the (improved) harmonic ratios
    samples_per_stride: int = 128  # each stride is resampled to this many points before its DFT
    lag_tolerance: float = 0.25  # autocorrelation peaks searched within ±25 % of the expected step/stride lag
    min_bout_strides: int = 4  # shorter runs of valid strides give no autocorrelation
    fusion_cutoff_hz: float = 0.05  # gravity tracking for the levelled frame (as in orientation)


@dataclass(frozen=True)
class HarmonicRatios:
    """Per-stride harmonic ratios; columns in :data:`AXES` order (V, AP, ML); NaN where a stride is unusable."""

    hr: FloatArray  # (strides, 3), dimensionless
    ihr_pct: FloatArray  # (strides, 3), %


@dataclass(frozen=True)
class LagSums:
    """The bouts' autocorrelations as sums over windows of each bout, so that windows can be resampled.

    A bout's samples are split into windows at the starts of its strides (steps, mostly). For window w and lag m,
    ``sums[w, m, :2]`` is Σ x_i·x_{i+m} (V, AP; bout mean removed) over the window's i with i + m inside the bout,
    ``sums[w, m, 2]`` the number of those terms; a bout's unbiased autocorrelation at lag m is exactly its windows'
    product sum over their term count. Resampling blocks of windows resamples the lag products, not the signal,
    so that no product spans a join between resampled blocks (Künsch 1989, Ann. Statist. 17:1217).
    """

    sums: FloatArray  # (windows, lags, 3): V products, AP products, term counts
    lags: NDArray[np.int64]  # (lags,) samples, rising from 0
    step: NDArray[np.bool_]  # (lags,) inside the step-peak search range
    stride: NDArray[np.bool_]  # (lags,) inside the stride-peak search range
    bounds: NDArray[np.int64]  # (bouts + 1,) bout b holds windows bounds[b]:bounds[b + 1]
    weights: FloatArray  # (bouts,) bout length, samples


@dataclass(frozen=True)
class Regularity:
    """Unbiased-autocorrelation regularity of V and AP (ML, anti-phased between steps, has no step peak).

    NaN with n = 0 when no bout was long enough.
    """

    step_regularity: FloatArray  # Ad1, (2,): V, AP
    stride_regularity: FloatArray  # Ad2, (2,)
    step_symmetry: FloatArray  # Ad1 / Ad2, (2,)
    n: int  # valid strides inside the bouts used
    lag_sums: LagSums  # what the values are computed from (and resampled from)


def body_acc(
    acc_seg: FloatArray, gyr_seg: FloatArray, valid: NDArray[np.bool_], fs_hz: float, *, config: TrunkConfig
) -> FloatArray:
    """Free acceleration (m/s², (n, 3): V, AP, ML) of the pelvis in a gravity-levelled frame; NaN where invalid.

    ``acc_seg``/``gyr_seg`` are segment-frame (x anterior, y left, z up) accelerometer (m/s²) and gyro (deg/s).
    The world vertical ``u`` is tracked with the complementary filter of :mod:`pipeline.orientation`; V = a·u minus
    its mean (gravity and offset), AP = a·x_h with x_h the pelvis x axis projected on the horizontal plane, and
    ML = a·(u × x_h). The horizontal axes follow the pelvis's heading, so turning does not mix AP and ML.
    """
    acc, gyr = sig.fill_invalid(acc_seg, valid), sig.fill_invalid(gyr_seg, valid)
    u = track_up(acc, gyr, fs_hz, cutoff_hz=config.fusion_cutoff_hz)
    x_h = np.array([1.0, 0.0, 0.0]) - u[:, :1] * u
    x_h /= np.maximum(np.linalg.norm(x_h, axis=1, keepdims=True), 1e-9)
    y_h = np.cross(u, x_h)
    vertical = np.einsum("ij,ij->i", acc, u)
    out = np.column_stack(
        (vertical - vertical[valid].mean() if valid.any() else vertical, (acc * x_h).sum(1), (acc * y_h).sum(1))
    )
    out[~valid] = np.nan
    return out


def harmonic_ratios(
    acc: FloatArray, fs_hz: float, start_s: FloatArray, end_s: FloatArray, *, config: TrunkConfig = TrunkConfig()
) -> HarmonicRatios:
    """HR and iHR of each stride ``[start_s, end_s)`` of ``acc`` ((n, 3) V, AP, ML on a grid from t = 0).

    Each stride is resampled (linear interpolation, one ``np.interp`` over all strides) to ``samples_per_stride``
    points, so harmonic k of the stride is DFT bin k exactly; the stride mean is removed. Strides with a
    non-finite sample, outside the signal, or too short for the harmonics (fewer than 2 × ``n_harmonics`` + 1
    grid samples) are NaN.
    """
    k_max, m = config.n_harmonics, config.samples_per_stride
    s = start_s.shape[0]
    nan = np.full((s, 3), np.nan)
    n = acc.shape[0]
    if s == 0 or n < 2:
        return HarmonicRatios(nan, nan.copy())
    t = start_s[:, None] + (end_s - start_s)[:, None] * (np.arange(m) / m)[None, :]  # (s, m), half-open stride
    grid = np.arange(n) / fs_hz
    x = np.stack([np.interp(t.ravel(), grid, acc[:, j]).reshape(s, m) for j in range(3)], axis=-1)  # axes, not samples
    a = np.ceil(start_s * fs_hz).astype(np.int64)
    b = np.ceil(end_s * fs_hz).astype(np.int64)
    inside = (a >= 0) & (b <= n) & (b - a > 2 * k_max)
    finite = np.isfinite(acc).all(axis=1)
    bad = np.concatenate(([0], np.cumsum(~finite)))
    usable = inside & (bad[np.clip(b, 0, n)] - bad[np.clip(a, 0, n)] == 0)
    amp = np.abs(np.fft.rfft(x - x.mean(axis=1, keepdims=True), axis=1))[:, 1 : k_max + 1, :]  # (s, k, 3)
    even = np.arange(1, k_max + 1) % 2 == 0
    a_even, a_odd = amp[:, even].sum(axis=1), amp[:, ~even].sum(axis=1)
    p_even, p_odd = (amp[:, even] ** 2).sum(axis=1), (amp[:, ~even] ** 2).sum(axis=1)
    intrinsic_even = np.array([True, True, False])  # V, AP: two cycles per stride; ML: one
    with np.errstate(divide="ignore", invalid="ignore"):
        hr = np.where(intrinsic_even, a_even / a_odd, a_odd / a_even)
        ihr = 100.0 * np.where(intrinsic_even, p_even, p_odd) / (p_even + p_odd)
    hr[~usable], ihr[~usable] = np.nan, np.nan
    return HarmonicRatios(hr, ihr)


def _search_lags(lag: float, tol: float) -> NDArray[np.int64]:
    """Lags (samples) within ±``tol`` of ``lag``: ``floor((1 − tol)·lag)`` … ``ceil((1 + tol)·lag)``."""
    return np.arange(int(np.floor((1 - tol) * lag)), int(np.ceil((1 + tol) * lag)) + 1)


def lag_products(x: FloatArray, edges: NDArray[np.int64], lags: NDArray[np.int64]) -> FloatArray:
    """Windowed lag products of one bout ``x`` ((n, c), mean removed): (windows, lags, c + 1) as in :class:`LagSums`.

    Windows are ``[edges[w], edges[w + 1])`` with ``edges`` rising from 0 (the last ends at n); ``lags`` rise.
    Summed over the windows, products / terms is the unbiased autocovariance ``1/(N − m) Σ_{i=1}^{N−m} x_i x_{i+m}``.
    """
    n, c = x.shape
    lo, hi = edges, np.append(edges[1:], n)
    out = np.zeros((edges.size, lags.size, c + 1))
    for k, m in enumerate(lags[lags < n]):  # lags, not samples
        prefix = np.concatenate((np.zeros((1, c)), np.cumsum(x[: n - m] * x[m:], axis=0)))
        a, b = np.minimum(lo, n - m), np.minimum(hi, n - m)
        out[:, k, :c] = prefix[b] - prefix[a]
        out[:, k, c] = b - a
    return out


def bout_regularity(bout_sums: FloatArray, lag_sums: LagSums) -> tuple[FloatArray, FloatArray]:
    """Step and stride regularity ((..., 2): V, AP) from each bout's summed :class:`LagSums` ((..., bouts, lags, 3)).

    Per bout, the autocorrelation (products / terms, normalised by lag 0) peaks within the step and stride
    search ranges; the bouts' peaks are averaged weighted by bout length.
    """
    terms = bout_sums[..., 2:]
    with np.errstate(divide="ignore", invalid="ignore"):
        ac = bout_sums[..., :2] / terms
        ac = np.where(terms > 0, ac / ac[..., :1, :], -np.inf)  # a lag longer than the bout has no terms
    w = lag_sums.weights[:, None] / lag_sums.weights.sum()
    peaks = []
    for search in (lag_sums.step, lag_sums.stride):
        peak = ac[..., search, :].max(axis=-2)
        peaks.append(np.asarray((np.where(np.isneginf(peak), np.nan, peak) * w).sum(axis=-2), dtype=np.float64))
    return peaks[0], peaks[1]


def regularity(
    acc: FloatArray,
    fs_hz: float,
    start_s: FloatArray,
    end_s: FloatArray,
    *,
    config: TrunkConfig = TrunkConfig(),
) -> Regularity:
    """Step/stride regularity and step symmetry of V and AP (``acc`` (n, 3) V, AP, ML) over bouts of strides.

    ``start_s``/``end_s`` are the valid strides (any side); overlapping strides form bouts, and a bout needs
    ``min_bout_strides`` strides (per side, i.e. twice as many rows) and at least 90 % finite samples (short
    gaps are filled linearly before the autocorrelation). The autocorrelation is kept as windowed lag products
    (:class:`LagSums`, one window per stride start) so that its sampling can be bootstrapped.
    """
    nan2 = np.full(2, np.nan)
    stride = float(np.median(end_s - start_s)) if start_s.size else float("nan")
    lag1 = _search_lags(stride / 2 * fs_hz, config.lag_tolerance) if start_s.size else np.zeros(0, dtype=np.int64)
    lag2 = _search_lags(stride * fs_hz, config.lag_tolerance) if start_s.size else np.zeros(0, dtype=np.int64)
    lags = np.union1d(np.union1d([0], lag1), lag2).astype(np.int64)
    starts = np.sort(start_s)
    b0, b1, counts = merge_intervals(start_s, end_s)
    parts, bounds, weights, n_used = [], [0], [], 0
    for t0, t1, count in zip(b0, b1, counts, strict=True):  # bouts, not samples
        i0, i1 = int(np.ceil(t0 * fs_hz)), min(int(np.ceil(t1 * fs_hz)), acc.shape[0])
        seg = acc[i0:i1, :2]
        finite = np.asarray(np.isfinite(seg).all(axis=1), dtype=bool)
        if count < 2 * config.min_bout_strides or finite.mean() < 0.9:
            continue
        x = sig.fill_invalid(seg, finite)  # valid strides hold only short gaps
        inside = starts[np.searchsorted(starts, t0) : np.searchsorted(starts, t1)]
        edges = np.union1d([0], np.clip(np.ceil(inside * fs_hz).astype(np.int64) - i0, 0, x.shape[0] - 1))
        parts.append(lag_products(x - x.mean(axis=0), edges, lags))
        bounds.append(bounds[-1] + edges.size)
        weights.append(float(i1 - i0))
        n_used += int(count)
    lag_sums = LagSums(
        np.concatenate(parts) if parts else np.zeros((0, lags.size, 3)),
        lags,
        np.isin(lags, lag1),
        np.isin(lags, lag2),
        np.asarray(bounds, dtype=np.int64),
        np.asarray(weights, dtype=np.float64),
    )
    if not weights:
        return Regularity(nan2, nan2.copy(), nan2.copy(), 0, lag_sums)
    step_r, stride_r = bout_regularity(np.add.reduceat(lag_sums.sums, lag_sums.bounds[:-1], axis=0), lag_sums)
    with np.errstate(divide="ignore", invalid="ignore"):
        return Regularity(step_r, stride_r, step_r / stride_r, n_used, lag_sums)


def pci_pct(phase_deg: FloatArray) -> FloatArray:
    """PCI (%) of each row of finite phases φ ((..., n) deg, n ≥ 2); see :func:`phase_coordination_index`."""
    cv = 100.0 * phase_deg.std(axis=-1, ddof=1) / phase_deg.mean(axis=-1)
    return np.asarray(cv + 100.0 * np.abs(phase_deg - 180.0).mean(axis=-1) / 180.0, dtype=np.float64)


def phase_coordination_index(phase_deg: FloatArray) -> tuple[float, int]:
    """Plotnik et al. (2007) PCI, %, from the per-stride phases φ (deg) of the reference leg; NaN if < 2 phases.

    ``PCI = φ_CV + P_φABS`` with ``φ_CV = 100 × SD(φ)/mean(φ)`` (sample SD) and
    ``P_φABS = 100 × mean|φ − 180°| / 180°``; 0 % for perfect, consistent anti-phase stepping. Its interval
    resamples the φ in stride order and recomputes the PCI (:func:`pci_pct`) of each resample.
    """
    phi = phase_deg[np.isfinite(phase_deg)]
    if phi.size < 2:
        return float("nan"), int(phi.size)
    return float(pci_pct(phi)), int(phi.size)


@dataclass(frozen=True)
class TrunkResult:
    """Harmonic ratios per stride (rows of the strides given) and regularity over the valid strides' bouts."""

    harmonics: HarmonicRatios
    regularity: Regularity
    valid: NDArray[np.bool_]  # strides that enter the session means
    start_s: FloatArray  # the strides' starts: their time order, in which they are resampled

    def summary(self) -> dict[str, tuple[float, int]]:
        """Session values (mean over valid strides for HR/iHR) and their counts, keyed by catalogue name."""
        out: dict[str, tuple[float, int]] = {}
        for name, x in self._per_stride().items():
            out[name] = (float(x.mean()), int(x.size)) if x.size else (float("nan"), 0)
        reg = self.regularity
        for j, axis in enumerate(AXES[:2]):
            out[f"step_regularity_{axis}"] = (float(reg.step_regularity[j]), reg.n)
            out[f"stride_regularity_{axis}"] = (float(reg.stride_regularity[j]), reg.n)
            out[f"step_symmetry_{axis}"] = (float(reg.step_symmetry[j]), reg.n)
        return out

    def bootstrap(self, rng: np.random.Generator, n_boot: int = uncertainty.N_BOOT) -> dict[str, FloatArray]:
        """Bootstrap samples ((n_boot,), ``pipeline.uncertainty``) of the :meth:`summary` values that have an interval.

        HR and iHR: means of the circular block bootstrap of the valid strides' values in time order, as for the
        temporal metrics. Step and stride regularity: the same block bootstrap of the windows of :class:`LagSums`
        in time order; each bout's place is filled with as many resampled windows as it has, and its
        autocorrelation, peaks and the weighted average are recomputed from their sums. All NaN with fewer than 2
        values or windows.

        Step symmetry gets no interval: its sampling error is what is left after the noise in the step-lag and
        stride-lag products cancels, and the products a sample shares with the samples one and two steps away fall
        into different windows, which block joins separate. On steps with white noise (the coverage test's
        signal) the resampled SD of Ad1/Ad2 is 1.7–2.0 times its true SD (coverage 100 %), while with step-time
        jitter it is about right, so no one interval fits.
        """
        out = {name: uncertainty.bootstrap_means(x, rng, n_boot) for name, x in self._per_stride().items()}
        step, stride = _regularity_bootstrap(self.regularity.lag_sums, rng, n_boot)
        for j, axis in enumerate(AXES[:2]):
            out[f"step_regularity_{axis}"] = step[:, j]
            out[f"stride_regularity_{axis}"] = stride[:, j]
        return out

    def _per_stride(self) -> dict[str, FloatArray]:
        """The valid strides' finite HR and iHR values in time order, keyed by catalogue name."""
        order = np.argsort(self.start_s, kind="stable")
        order = order[self.valid[order]]
        out: dict[str, FloatArray] = {}
        for j, axis in enumerate(AXES):
            for name, values in (
                (f"harmonic_ratio_{axis}", self.harmonics.hr),
                (f"ihr_{axis}_pct", self.harmonics.ihr_pct),
            ):
                x = values[order, j]
                out[name] = x[np.isfinite(x)]
        return out


_BOOT_CHUNK = 2_000_000  # floats of resampled bout sums held at once


def _regularity_bootstrap(lag_sums: LagSums, rng: np.random.Generator, n_boot: int) -> tuple[FloatArray, FloatArray]:
    """(n_boot, 2) resampled step and stride regularity (see :meth:`TrunkResult.bootstrap`)."""
    n = lag_sums.sums.shape[0]
    if n < 2:
        return np.full((n_boot, 2), np.nan), np.full((n_boot, 2), np.nan)
    starts = uncertainty.block_starts(n, rng, n_boot)
    per_boot = max(1, _BOOT_CHUNK // (lag_sums.sums[0].size * lag_sums.weights.size))
    step, stride = zip(
        *(
            bout_regularity(
                uncertainty.resampled_sums(lag_sums.sums, lag_sums.bounds, starts[k : k + per_boot]), lag_sums
            )
            for k in range(0, n_boot, per_boot)  # chunks of resamples, to bound memory
        ),
        strict=True,
    )
    return np.concatenate(step), np.concatenate(stride)


def trunk_metrics(
    acc: FloatArray,
    fs_hz: float,
    start_s: FloatArray,
    end_s: FloatArray,
    valid: NDArray[np.bool_],
    *,
    config: TrunkConfig = TrunkConfig(),
) -> TrunkResult:
    """All trunk metrics of :func:`body_acc` output ``acc`` for strides ``[start_s, end_s)`` (any side).

    Harmonic ratios are computed for every stride; session values and the autocorrelation use ``valid`` ones.
    """
    valid = np.asarray(valid, dtype=bool)
    return TrunkResult(
        harmonic_ratios(acc, fs_hz, start_s, end_s, config=config),
        regularity(acc, fs_hz, start_s[valid], end_s[valid], config=config),
        valid,
        np.asarray(start_s, dtype=np.float64),
    )
