"""Within-session uncertainty of the session metrics: 95 % intervals from a circular block bootstrap over strides.

A session value is a mean over a few dozen strides, and a clinician comparing two sessions needs to know how far
that mean could move had the patient walked a different handful of strides. Each metric's valid per-stride values,
in time order, are resampled with the circular block bootstrap (Politis & Romano 1992, "A circular block-resampling
procedure for stationary data"): blocks of ``round(n^(1/3))`` consecutive strides (the order of the block length
that is optimal for variance estimation, Hall, Horowitz & Jing 1995, Biometrika 82:561) wrapped around the end, so
that the stride-to-stride correlation of walking (a long stride tends to follow a long one) is kept inside a
block. The interval is the 2.5th–97.5th percentile of ``N_BOOT`` resampled statistics. Symmetry indices resample
each side on its own and combine the resampled side means, as the session value combines the side means.

The trunk metrics (``pipeline.trunk``) are resampled the same way: harmonic ratios and iHR are per-stride means
(both sides' strides in time order); the phase coordination index is recomputed from each resample of the
reference leg's per-stride phases; step and stride regularity are recomputed from resampled windows of lag
products (:func:`resampled_sums`; Künsch 1989). Step symmetry and walking time (a total, not a mean) have no
interval; ``pipeline.trunk.TrunkResult.bootstrap`` says why for step symmetry.

Contact timing from the pelvis alone. Against foot sensors, a pelvis-only session's contacts carry an offset that
stays put for the whole walk but differs between the left and the right side (IC 18 ms, FC 9 ms SD per side on
110 walks of 19 healthy people; single contacts scatter only ≈ 8 ms around it; ``bench/validate_symmetry.py``,
``docs/validation/README.md`` §n). Resampling strides cannot see an offset every stride shares, so symmetry
intervals add one: each bootstrap sample draws a left and a right offset per contact kind
(:data:`PELVIS_CONTACT_OFFSET_SD_S`, scaled by the share of that side's contacts that came from the pelvis) and
shifts the side means by what those offsets do to each duration (stance = FC − IC of the same side, step = IC −
the other side's IC, …). Without it the interval of a pelvis-only stance-time SI held the reference in 46 % of those
walks instead of 95 %. Thigh contacts have no such term: no real recording here measures theirs.

What the interval is not: it covers the sampling of strides within this session only. The same person varies more
from walk to walk (on 19 healthy adults' repeated walks the intervals of two walks were apart in 70 % of pairs for
walking speed), so two sessions whose intervals do not overlap differ by more than stride sampling explains, not
necessarily by more than a person varies; :mod:`pipeline.change` adds that walk-to-walk part (the minimal detectable
change).

The resampling is seeded, so re-processing a session gives the same intervals.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

N_BOOT = 1000
LEVEL = 0.95
SEED = 20261121
# SD of one side's per-walk contact-time offset for contacts found from the pelvis alone, s (module docstring)
PELVIS_CONTACT_OFFSET_SD_S: Mapping[str, float] = {"IC": 0.018, "FC": 0.009}


def block_length(n: int) -> int:
    """Block length for ``n`` strides: ``round(n^(1/3))``, at least 1."""
    return max(1, int(round(n ** (1.0 / 3.0))))


def block_starts(n: int, rng: np.random.Generator, n_boot: int = N_BOOT) -> NDArray[np.int64]:
    """(n_boot, ceil(n / block_length(n))) random block starts, in ``[0, n)``, of the circular block bootstrap."""
    return np.asarray(rng.integers(0, n, size=(n_boot, -(-n // block_length(n)))), dtype=np.int64)


def resample_indices(n: int, rng: np.random.Generator, n_boot: int = N_BOOT) -> NDArray[np.int64]:
    """(n_boot, n) indices of circular block bootstrap samples of a length-``n`` series."""
    starts = block_starts(n, rng, n_boot)
    idx = (starts[:, :, None] + np.arange(block_length(n))[None, None, :]) % n
    return np.asarray(idx.reshape(n_boot, -1)[:, :n], dtype=np.int64)


def bootstrap(
    x: FloatArray, statistic: Callable[[FloatArray], FloatArray], rng: np.random.Generator, n_boot: int = N_BOOT
) -> FloatArray:
    """``statistic`` (row-wise, (k, n) → (k,)) of resamples of the finite values of ``x`` (kept in order).

    (n_boot,); all NaN with fewer than 2 finite values.
    """
    x = x[np.isfinite(x)]
    if x.size < 2:
        return np.full(n_boot, np.nan)
    return np.asarray(statistic(x[resample_indices(x.size, rng, n_boot)]), dtype=np.float64)


def bootstrap_means(x: FloatArray, rng: np.random.Generator, n_boot: int = N_BOOT) -> FloatArray:
    """Resampled means of the finite values of ``x`` (kept in order): (n_boot,), all NaN with fewer than 2."""
    return bootstrap(x, lambda r: np.asarray(r.mean(axis=1), dtype=np.float64), rng, n_boot)


def resampled_sums(x: FloatArray, bounds: NDArray[np.int64], starts: NDArray[np.int64]) -> FloatArray:
    """Sums of resampled rows of ``x`` over the positions ``[bounds[g], bounds[g + 1])``: (k, groups, *x.shape[1:]).

    The resamples are those of :func:`resample_indices` with the block ``starts`` ((k, blocks), from
    :func:`block_starts` for ``n = len(x)``), i.e. ``x[idx][:, bounds[g]:bounds[g + 1]].sum(axis=1)``, computed from
    prefix sums of ``x`` without building ``x[idx]``: for statistics that are functions of sums over parts of the
    series, such as an autocorrelation from windowed lag products (Künsch 1989). ``bounds`` rise strictly from 0
    to ``len(x)``.
    """
    n, length = x.shape[0], block_length(x.shape[0])
    prefix = np.concatenate((np.zeros((1, *x.shape[1:])), np.cumsum(np.concatenate((x, x)), axis=0)))  # wrap
    # pieces of positions lying in one block and one group: the cuts are the same for every resample
    cuts = np.union1d(np.arange(0, n, length), bounds)
    lo, hi = cuts[:-1], cuts[1:]
    block, group = lo // length, np.searchsorted(bounds, lo, side="right") - 1
    out = np.zeros((starts.shape[0], bounds.size - 1, *x.shape[1:]))
    for b, g, a, z in zip(block, group, lo - block * length, hi - block * length, strict=True):  # pieces, not samples
        out[:, g] += prefix[starts[:, b] + z] - prefix[starts[:, b] + a]
    return out


def interval(samples: FloatArray, level: float = LEVEL) -> tuple[float, float]:
    """The central ``level`` percentile interval of bootstrap ``samples``; NaNs when any sample is not finite."""
    if samples.size == 0 or not np.isfinite(samples).all():
        return float("nan"), float("nan")
    tail = 100.0 * (1.0 - level) / 2.0
    lo, hi = np.percentile(samples, [tail, 100.0 - tail])
    return float(lo), float(hi)


def contact_offsets(
    sd_s: Mapping[tuple[str, str], float], rng: np.random.Generator, n_boot: int = N_BOOT
) -> dict[tuple[str, str], FloatArray]:
    """One normal offset per bootstrap sample for each ``(side, kind)`` in ``sd_s`` (s; zeros where the SD is 0)."""
    return {key: rng.normal(0.0, sd, n_boot) if sd > 0 else np.zeros(n_boot) for key, sd in sd_s.items()}
