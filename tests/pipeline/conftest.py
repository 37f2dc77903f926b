"""Session folders built straight from the simulator's gait model (no BLE), with realistic raw-stream defects.

Each site is sampled at 104 Hz by a device clock that drifts (tens of ppm) and starts at an arbitrary offset;
samples travel in notifications of 8 that share one host stamp (BLE latency 7.5 ms + exponential jitter, mean
8 ms, occasionally 60 ms), and a fraction of notifications is lost. Session time 0 is model time 0.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pipeline.store import RawBatch, RawStreamWriter, SensorInfo, Session, create_session, raw_schema_metadata

RATE_HZ = 104.0
HOST_T0_NS = 5_000_000_000_000


@dataclass(frozen=True)
class SimSession:
    """A session on disk plus the model that generated it."""

    session: Session
    model: Any  # sensors.sim.gait_model.GaitModel


def write_site(
    session: Session,
    sensor: SensorInfo,
    acc: np.ndarray,
    gyr: np.ndarray,
    t_model_s: np.ndarray,
    dev_us: np.ndarray | None,
    rng: np.random.Generator,
    *,
    loss: float = 0.02,
    packet: int = 8,
) -> None:
    """Write one raw stream: packets of ``packet`` samples, jittered host stamps, random packet loss."""
    n = t_model_s.shape[0] // packet * packet
    n_packets = n // packet
    keep_packet = rng.random(n_packets) >= loss
    latency = 0.0075 + rng.exponential(0.008, n_packets) + (rng.random(n_packets) < 0.01) * 0.06
    last = t_model_s[packet - 1 : n : packet]
    host = HOST_T0_NS + np.rint((last + latency) * 1e9).astype(np.int64)
    host = np.maximum.accumulate(host)
    keep = np.repeat(keep_packet, packet)
    batch = RawBatch(
        packet=np.repeat(np.arange(n_packets), packet)[keep],
        t_host_ns=np.repeat(host, packet)[keep],
        t_device_us=None if dev_us is None else dev_us[:n][keep],
        counter=None,
        acc=acc[:n][keep],
        gyr=gyr[:n][keep],
    )
    writer = RawStreamWriter(session.raw_path(sensor.site), raw_schema_metadata(session, sensor))
    writer.append(batch, now_ns=int(host[-1]))
    writer.close()


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
    **overrides: Any,
) -> SimSession:
    """Simulate ``profile`` and write a session folder with raw streams for ``sites``.

    ``mountings`` replaces sensor mountings; ``nan_at`` = (start, end) model seconds of NaN accelerometer values.
    """
    gait_model = pytest.importorskip("sensors.sim.gait_model")
    prof = gait_model.get_profile(profile, **overrides)
    if mountings:
        sensors = dict(prof.sensors)
        for site, m in mountings.items():
            old = sensors[site]
            sensors[site] = gait_model.SensorSpec(
                m, old.acc_noise_m_s2, old.gyr_noise_dps, old.acc_bias_m_s2, old.gyr_bias_dps
            )
        prof = gait_model.get_profile(profile, sensors=sensors, **overrides)
    model = gait_model.GaitModel(prof, duration_s, seed=seed)
    infos = tuple(SensorInfo(site=s, family="sim", rate_hz=RATE_HZ) for s in sites)
    session = create_session(root, "sim", infos, host_t0_ns=HOST_T0_NS, source="simulator", clock="simulated")
    rng = np.random.default_rng(seed + 100)
    for info in infos:
        drift = rng.uniform(-50e-6, 50e-6)
        start = rng.uniform(0.0, 0.05)
        k = np.arange(int((duration_s - start) * RATE_HZ * (1 - 1e-4)))
        t_model = start + k / RATE_HZ / (1.0 + drift)  # device ticks 1/104 s of its own (drifting) time
        dev_us = np.int64(rng.integers(0, 10**9)) + np.rint(k / RATE_HZ * 1e6).astype(np.int64)
        acc, gyr = model.imu(info.site, t_model, rng)
        if nan_at is not None:
            acc[(t_model >= nan_at[0]) & (t_model < nan_at[1])] = np.nan
        write_site(session, info, acc, gyr, t_model, dev_us if with_device_clock else None, rng)
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
