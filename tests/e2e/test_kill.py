"""A recording killed with SIGKILL keeps its raw files readable up to at most one second before the kill."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

from pipeline.store import iter_sessions, read_raw
from tests.e2e.conftest import start_simulated_recording, wait_for_files


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_sigkill_loses_at_most_one_second(tmp_path: Path) -> None:
    proc = start_simulated_recording(tmp_path, "K1", "--duration", "60")
    try:
        wait_for_files(proc, tmp_path, "K1/*/session.json")
        created = time.monotonic()  # at or after the session's time 0, so the check below is not lenient
        time.sleep(4.0)
        killed_after_s = time.monotonic() - created
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    (session,) = list(iter_sessions(tmp_path))
    assert session.meta.status == "recording"  # nobody got to mark it: the kill was hard
    sites = session.raw_sites()
    assert sites == ["pelvis", "left_thigh", "right_thigh"]
    for site in sites:
        raw = read_raw(session.raw_path(site))
        assert len(raw) > 0, site
        recorded_s = (int(raw.t_host_ns.max()) - session.meta.host_t0_ns) / 1e9
        assert recorded_s >= killed_after_s - 1.0, f"{site}: data ends {killed_after_s - recorded_s:.2f} s before kill"
