"""A recording killed with SIGKILL keeps its raw files readable up to at most one second before the kill."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.store import iter_sessions, read_raw


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_sigkill_loses_at_most_one_second(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "imugait",
            "record",
            "--simulate",
            "healthy",
            "--speed",
            "1",
            "--duration",
            "60",
            "--data",
            str(tmp_path),
            "--subject",
            "K1",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not list(tmp_path.glob("K1/*/session.json")):
            assert proc.poll() is None, "recorder exited before creating the session"
            assert time.monotonic() < deadline, "no session folder appeared"
            time.sleep(0.01)
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
