"""Simulated sessions written straight from the gait model, without the BLE link or an event loop.

For tests and benchmarks that need many sessions fast. The raw streams look like the recorder's: 104 Hz device
clocks that drift and start at random offsets, notifications of 8 samples sharing one jittered host arrival time
(7.5 ms connection-interval floor, exponential delays, occasional 60 ms stalls), and whole notifications lost at
random. Session time 0 is model time 0. The byte-exact path (codec, bleak backend, recorder) is exercised by the
simulator backend and the recorder instead; this module trades it for speed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.store import RawBatch, RawStreamWriter, SensorInfo, Session, create_session, raw_schema_metadata
from sensors.sim.gait_model import SITES, GaitModel

RATE_HZ = 104.0
HOST_T0_NS = 5_000_000_000_000
PACKET = 8


@dataclass(frozen=True)
class LinkImperfections:
    """What the BLE link and device clocks do to a stream."""

    loss: float = 0.02  # fraction of notifications lost
    drift_ppm: float = 50.0  # device clocks drift uniformly within ±drift_ppm
    with_device_clock: bool = True
    nan_at: tuple[float, float] | None = None  # model seconds [start, end) of NaN accelerometer values


def write_site(
    session: Session,
    sensor: SensorInfo,
    acc: np.ndarray,
    gyr: np.ndarray,
    t_model_s: np.ndarray,
    dev_us: np.ndarray | None,
    rng: np.random.Generator,
    *,
    loss: float,
) -> None:
    """Write one raw stream in notifications of 8 samples with jittered host stamps and random loss."""
    n = t_model_s.shape[0] // PACKET * PACKET
    n_packets = n // PACKET
    keep_packet = rng.random(n_packets) >= loss
    latency = 0.0075 + rng.exponential(0.008, n_packets) + (rng.random(n_packets) < 0.01) * 0.06
    last = t_model_s[PACKET - 1 : n : PACKET]
    host = HOST_T0_NS + np.rint((last + latency) * 1e9).astype(np.int64)
    host = np.maximum.accumulate(host)
    keep = np.repeat(keep_packet, PACKET)
    batch = RawBatch(
        packet=np.repeat(np.arange(n_packets), PACKET)[keep],
        t_host_ns=np.repeat(host, PACKET)[keep],
        t_device_us=None if dev_us is None else dev_us[:n][keep],
        counter=None,
        acc=acc[:n][keep],
        gyr=gyr[:n][keep],
    )
    writer = RawStreamWriter(session.raw_path(sensor.site), raw_schema_metadata(session, sensor))
    try:
        writer.append(batch, now_ns=int(host[-1]))
    finally:
        writer.close()


def write_simulated_session(
    root: Path,
    model: GaitModel,
    *,
    duration_s: float,
    sites: Sequence[str] = SITES,
    seed: int = 0,
    link: LinkImperfections = LinkImperfections(),
    subject: str = "sim",
) -> Session:
    """A complete session of ``model`` under ``root/subject`` with raw streams for ``sites``."""
    infos = tuple(SensorInfo(site=s, family="sim", rate_hz=RATE_HZ) for s in sites)
    session = create_session(root, subject, infos, host_t0_ns=HOST_T0_NS, source="simulator", clock="simulated")
    rng = np.random.default_rng(seed + 100)
    for info in infos:
        drift = rng.uniform(-link.drift_ppm, link.drift_ppm) * 1e-6
        start = rng.uniform(0.0, 0.05)
        k = np.arange(int((duration_s - start) * RATE_HZ * (1 - 1e-4)))
        t_model = start + k / RATE_HZ / (1.0 + drift)  # the device ticks 1/104 s of its own (drifting) time
        dev_us = np.int64(rng.integers(0, 10**9)) + np.rint(k / RATE_HZ * 1e6).astype(np.int64)
        acc, gyr = model.imu(info.site, t_model, rng)
        if link.nan_at is not None:
            acc[(t_model >= link.nan_at[0]) & (t_model < link.nan_at[1])] = np.nan
        write_site(session, info, acc, gyr, t_model, dev_us if link.with_device_clock else None, rng, loss=link.loss)
    return session.update(status="complete")


def standing_sensor_height_m(model: GaitModel) -> float:
    """The sacral sensor's height above the floor while the walker stands: what a clinician measures with a tape
    for ``imugait subject set --pelvis-sensor-height`` (the pendulum length of the step-length model)."""
    return float(model.segment_pose("pelvis", np.array([0.5 * model.profile.standing_s]))[1][0, 2])
