"""Session folders built straight from the simulator's gait model (no BLE), with realistic raw-stream defects.

The writing is :func:`sensors.sim.offline.write_simulated_session`; here are the fixtures around it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pipeline.store import Session
from sensors.sim.offline import HOST_T0_NS, RATE_HZ, LinkImperfections, write_simulated_session

__all__ = ["HOST_T0_NS", "RATE_HZ", "SimSession", "build_sim_session"]


@dataclass(frozen=True)
class SimSession:
    """A session on disk plus the model that generated it."""

    session: Session
    model: Any  # sensors.sim.gait_model.GaitModel


def build_sim_session(
    root: Path,
    profile: str = "healthy",
    *,
    sites: Sequence[str] = ("pelvis", "left_thigh", "right_thigh"),
    duration_s: float = 60.0,
    seed: int = 0,
    mountings: dict[str, np.ndarray] | None = None,
    with_device_clock: bool = True,
    nan_at: tuple[float, float] | None = None,
    gyr_biases: dict[str, tuple[float, float, float]] | None = None,
    **overrides: Any,
) -> SimSession:
    """Simulate ``profile`` and write a session folder with raw streams for ``sites``.

    ``mountings`` replaces sensor mountings, ``gyr_biases`` their gyro biases (deg/s, sensor axes); ``nan_at`` =
    (start, end) model seconds of NaN accelerometer values.
    """
    gait_model = pytest.importorskip("sensors.sim.gait_model")
    prof = gait_model.get_profile(profile, **overrides)
    if mountings or gyr_biases:
        sensors = dict(prof.sensors)
        for site in set(mountings or {}) | set(gyr_biases or {}):
            old = sensors[site]
            sensors[site] = gait_model.SensorSpec(
                (mountings or {}).get(site, old.mounting),
                old.acc_noise_m_s2,
                old.gyr_noise_dps,
                old.acc_bias_m_s2,
                (gyr_biases or {}).get(site, old.gyr_bias_dps),
            )
        prof = gait_model.get_profile(profile, sensors=sensors, **overrides)
    model = gait_model.GaitModel(prof, duration_s, seed=seed)
    link = LinkImperfections(with_device_clock=with_device_clock, nan_at=nan_at)
    session = write_simulated_session(root, model, duration_s=duration_s, sites=sites, seed=seed, link=link)
    return SimSession(session, model)


@pytest.fixture(scope="session")
def sim_factory(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., SimSession]:
    """Build (and cache) simulated sessions: ``sim_factory("healthy", sites=(...), seed=...)``."""
    cache: dict[tuple[Any, ...], SimSession] = {}

    def make(profile: str = "healthy", **kwargs: Any) -> SimSession:
        key = (profile, tuple(sorted((k, repr(v)) for k, v in kwargs.items())))
        if key not in cache:
            cache[key] = build_sim_session(tmp_path_factory.mktemp("sim"), profile, **kwargs)
        return cache[key]

    return make


def match_events(est: np.ndarray, truth: np.ndarray, tol_s: float = 0.3) -> np.ndarray:
    """Signed timing errors (s) of the estimate nearest each true event within ``tol_s``."""
    if est.size == 0 or truth.size == 0:
        return np.zeros(0)
    j = np.clip(np.searchsorted(est, truth), 1, est.size - 1) if est.size > 1 else np.zeros(truth.size, dtype=int)
    cand = np.stack([est[np.maximum(j - 1, 0)], est[j]])
    best = cand[np.argmin(np.abs(cand - truth), axis=0), np.arange(truth.size)]
    err = best - truth
    return err[np.abs(err) <= tol_s]


@pytest.fixture(scope="session")
def match() -> Callable[..., np.ndarray]:
    """:func:`match_events` as a fixture (test modules here are not a package)."""
    return match_events


@pytest.fixture(scope="session")
def sim_builder() -> Callable[..., SimSession]:
    """:func:`build_sim_session` as a fixture: ``sim_builder(tmp_path, "healthy", duration_s=...)``."""
    return build_sim_session
