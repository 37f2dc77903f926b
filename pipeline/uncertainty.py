"""Within-session uncertainty of the session metrics: 95 % intervals from a circular block bootstrap over strides.

A session value is a mean over a few dozen strides, and a clinician comparing two sessions needs to know how far
that mean could move had the patient walked a different handful of strides. Each metric's valid per-stride values,
in time order, are resampled with the circular block bootstrap (Politis & Romano 1992, "A circular block-resampling
procedure for stationary data"): blocks of ``round(n^(1/3))`` consecutive strides (the order of the block length
that is optimal for variance estimation, Hall, Horowitz & Jing 1995, Biometrika 82:561) wrapped around the end, so
that the stride-to-stride correlation of walking (a long stride tends to follow a long one) is kept inside a
block. The interval is the 2.5th–97.5th percentile of ``N_BOOT`` resampled statistics. Symmetry indices resample
each side on its own and combine the resampled side means, as the session value combines the side means.

What the interval is not: it covers the sampling of strides within this session only. Day-to-day variability of
the same person (the test–retest minimal detectable change) is larger, so two sessions whose intervals do not
overlap differ by more than stride sampling explains, not necessarily by a clinically meaningful change.

The resampling is seeded, so re-processing a session gives the same intervals.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

N_BOOT = 1000
LEVEL = 0.95
SEED = 20261121


def block_length(n: int) -> int:
    """Block length for ``n`` strides: ``round(n^(1/3))``, at least 1."""
    return max(1, int(round(n ** (1.0 / 3.0))))


def resample_indices(n: int, rng: np.random.Generator, n_boot: int = N_BOOT) -> NDArray[np.int64]:
    """(n_boot, n) indices of circular block bootstrap samples of a length-``n`` series."""
    length = block_length(n)
    blocks = -(-n // length)
    starts = rng.integers(0, n, size=(n_boot, blocks))
    idx = (starts[:, :, None] + np.arange(length)[None, None, :]) % n
    return np.asarray(idx.reshape(n_boot, blocks * length)[:, :n], dtype=np.int64)


def bootstrap_means(x: FloatArray, rng: np.random.Generator, n_boot: int = N_BOOT) -> FloatArray:
    """Resampled means of the finite values of ``x`` (kept in order): (n_boot,), all NaN with fewer than 2."""
    x = x[np.isfinite(x)]
    if x.size < 2:
        return np.full(n_boot, np.nan)
    return np.asarray(x[resample_indices(x.size, rng, n_boot)].mean(axis=1), dtype=np.float64)


def interval(samples: FloatArray, level: float = LEVEL) -> tuple[float, float]:
    """The central ``level`` percentile interval of bootstrap ``samples``; NaNs when any sample is not finite."""
    if samples.size == 0 or not np.isfinite(samples).all():
        return float("nan"), float("nan")
    tail = 100.0 * (1.0 - level) / 2.0
    lo, hi = np.percentile(samples, [tail, 100.0 - tail])
    return float(lo), float(hi)
