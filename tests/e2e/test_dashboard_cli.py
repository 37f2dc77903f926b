"""``imugait dashboard`` serves the dashboard and takes its Streamlit server down with it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serving(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://localhost:{port}/_stcore/health", timeout=1) as reply:
            return bool(reply.status == 200)
    except OSError:
        return False


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM is POSIX")
def test_dashboard_serves_and_stops_with_its_server(tmp_path: Path) -> None:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "imugait", "dashboard", "--data", str(tmp_path), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not _serving(port):
            assert proc.poll() is None, "imugait dashboard exited early"
            assert time.monotonic() < deadline, "the dashboard never answered"
            time.sleep(0.25)
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        deadline = time.monotonic() + 15
        while _serving(port) and time.monotonic() < deadline:
            time.sleep(0.25)
        assert not _serving(port), "the Streamlit server outlived imugait dashboard"
    finally:
        if proc.poll() is None:
            proc.kill()
