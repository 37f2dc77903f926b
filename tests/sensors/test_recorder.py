"""The recorder through the simulated bleak backend: the same client code that drives real sensors."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from imugait._commands import RecordRequest, record
from pipeline import store
from pipeline.store import iter_sessions, load_session, read_raw
from sensors.errors import SensorNotFoundError
from sensors.recorder import LinkBackend, SensorTarget, discover
from tests.e2e.conftest import start_simulated_recording, wait_for_files


async def _record(tmp_path: Path, **kwargs: object) -> object:
    request = RecordRequest(root=tmp_path, subject="R1", targets=(), **{"simulate": "healthy", "speed": None, **kwargs})
    return await record(request)  # type: ignore[arg-type]


async def test_records_three_sensors_to_complete_session(tmp_path: Path) -> None:
    result = await _record(tmp_path, duration_s=20.0)
    session = load_session(result.session.path)  # type: ignore[attr-defined]
    assert session.meta.status == "complete"
    assert session.meta.clock == "simulated"
    assert session.meta.source == "simulator"
    assert [s.site for s in session.meta.sensors] == ["pelvis", "left_thigh", "right_thigh"]
    assert all(s.family == "movesense" and s.rate_hz == 104.0 for s in session.meta.sensors)
    for site in session.raw_sites():
        raw = read_raw(session.raw_path(site))
        seconds = (raw.t_host_ns[-1] - raw.t_host_ns[0]) / 1e9
        assert 18.0 < seconds <= 20.5, (site, seconds)
        assert abs(len(raw) / seconds - 104.0) < 3.0  # no loss configured: the full rate arrived
        assert np.all(np.diff(raw.t_device_us) > 0)
        assert np.all(np.diff(raw.packet) >= 0)
    assert (session.path / "sim" / "truth.json").is_file()
    truth_cadence = json.loads((session.path / "sim" / "truth.json").read_text())["summary"]["cadence_spm"]
    for st in result.status:  # type: ignore[attr-defined]
        assert st.cadence_spm == pytest.approx(truth_cadence, rel=0.05), st.site


async def test_packet_loss_is_counted_not_fatal(tmp_path: Path) -> None:
    result = await _record(tmp_path, duration_s=15.0, loss=0.05)
    statuses = {st.site: st for st in result.status}  # type: ignore[attr-defined]
    for st in statuses.values():
        assert st.lost_packets > 0
        assert st.lost_packets == pytest.approx(0.05 * (st.packets + st.lost_packets), abs=15)


async def test_disconnect_reconnects_and_keeps_recording(tmp_path: Path) -> None:
    result = await _record(tmp_path, duration_s=25.0, disconnects=(("left_thigh", 8.0, 3.0),))
    statuses = {st.site: st for st in result.status}  # type: ignore[attr-defined]
    assert statuses["left_thigh"].reconnects == 1
    assert statuses["pelvis"].reconnects == 0
    raw = read_raw(result.session.path / "raw" / "left_thigh.arrows")  # type: ignore[attr-defined]
    gaps = np.diff(raw.t_device_us) / 1e6
    assert gaps.max() > 2.5  # the link was down ~3 s: a gap, flagged by device time, not interpolated
    assert (raw.t_host_ns[-1] - raw.t_host_ns[0]) / 1e9 > 20.0  # and recording resumed afterwards
    assert load_session(result.session.path).meta.status == "complete"  # type: ignore[attr-defined]


async def test_a_sensor_that_reboots_is_reconnected_and_its_restarted_clock_is_timed(tmp_path: Path) -> None:
    """A sensor that restarts mid-recording comes back with its clock at zero: the recorder reconnects and keeps
    writing the same file, and the analysis times what came after the reboot as truly as what came before."""
    from pipeline.run import process_session

    result = await _record(tmp_path, duration_s=40.0, reboots=(("left_thigh", 12.0, 3.0),))
    statuses = {st.site: st for st in result.status}  # type: ignore[attr-defined]
    assert statuses["left_thigh"].reconnects == 1
    path = result.session.path  # type: ignore[attr-defined]
    raw = read_raw(path / "raw" / "left_thigh.arrows")
    assert np.count_nonzero(np.diff(raw.t_device_us) < 0) == 1  # the clock went back to zero once

    processed = process_session(load_session(path))

    assert processed.quality["left_thigh.clock_restarts"] == 1
    assert processed.quality["pelvis.clock_restarts"] == 0
    truth = json.loads((path / "sim" / "truth.json").read_text())["events"]
    t_true = np.array(truth["t_s"])
    true_ic = np.sort(t_true[(np.array(truth["side"]) == "left") & (np.array(truth["event"]) == "IC")])
    events = processed.events.to_pandas()
    ours = events[(events.side == "left") & (events.event == "IC") & (events.source == "left_thigh")].t_s.to_numpy()
    after = ours[ours > 20.0]
    assert after.size >= 10  # the thigh carried the left side again after its reboot
    nearest = np.abs(after[:, None] - true_ic[None, :]).min(axis=1)
    assert np.median(nearest) < 0.05, nearest  # as close as before the reboot (thigh IC bias ≈ +8 ms)


async def test_disk_full_marks_session_interrupted_and_keeps_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = {"n": 0}
    real_flush = store.RawStreamWriter.flush

    def flaky_flush(self: store.RawStreamWriter, *, now_ns: int | None = None) -> None:
        calls["n"] += 1
        if calls["n"] > 30:
            raise store.StorageError("No space left on device", path=self.path)
        real_flush(self, now_ns=now_ns)

    monkeypatch.setattr(store.RawStreamWriter, "flush", flaky_flush)
    result = await _record(tmp_path, duration_s=30.0)
    session = load_session(result.session.path)  # type: ignore[attr-defined]
    assert session.meta.status == "interrupted"
    assert "storage error" in session.meta.extra["stop_reason"]
    monkeypatch.undo()
    assert all(len(read_raw(session.raw_path(site))) > 0 for site in session.raw_sites())


async def test_missing_sensor_names_what_was_seen(tmp_path: Path) -> None:
    from sensors.sim.gait_model import GaitModel, get_profile
    from sensors.sim.world import SimConditions, SimWorld, sim_backends

    world = SimWorld(GaitModel(get_profile("healthy"), duration_s=5.0), SimConditions(speed=None))
    scanner, client = sim_backends(world)
    backend = LinkBackend(scanner, client, world.clock_ns, "simulated", "simulator", world.done)
    from sensors.devices.movesense import MovesenseDriver

    with pytest.raises(SensorNotFoundError, match=r"right_thigh=Movesense 999.*seen: .*Movesense"):
        await discover([SensorTarget("right_thigh", "Movesense 999")], [MovesenseDriver()], backend, timeout_s=0.5)
    assert not list(tmp_path.iterdir())  # nothing created for a recording that never started


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT delivery differs on Windows")
def test_ctrl_c_stops_and_marks_complete(tmp_path: Path) -> None:
    proc = start_simulated_recording(tmp_path, "C1", capture=True)
    wait_for_files(proc, tmp_path, "C1/*/raw/*.arrows")
    time.sleep(3.0)
    os.kill(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err[-2000:]
    (session,) = list(iter_sessions(tmp_path))
    assert session.meta.status == "complete"
    assert out.strip().splitlines()[-1] == str(session.path)
    assert all(len(read_raw(session.raw_path(s))) > 104 for s in session.raw_sites())
