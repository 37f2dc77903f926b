"""Helpers for end-to-end tests: run the real ``imugait`` command in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest


def imugait(*args: str, cwd: Path | None = None, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run ``imugait ARGS`` with this interpreter and return the finished process (output captured)."""
    env = {**os.environ, "COLUMNS": "160"}
    return subprocess.run(
        [sys.executable, "-m", "imugait", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env=env,
        check=False,
    )


@pytest.fixture
def run_imugait():  # type: ignore[no-untyped-def]
    return imugait


def start_simulated_recording(data: Path, subject: str, *extra: str, capture: bool = False) -> subprocess.Popen[str]:
    """``imugait record --simulate healthy --speed 1`` in the background (real time, so signals arrive live)."""
    output = subprocess.PIPE if capture else subprocess.DEVNULL
    return subprocess.Popen(
        [sys.executable, "-m", "imugait", "record", "--simulate", "healthy", "--speed", "1",
         "--data", str(data), "--subject", subject, *extra],
        stdout=output,
        stderr=output,
        text=True,
    )  # fmt: skip


def wait_for_files(proc: subprocess.Popen[str], folder: Path, pattern: str, *, timeout_s: float = 60.0) -> None:
    """Poll until ``pattern`` matches under ``folder``, failing if the process exits first or time runs out."""
    deadline = time.monotonic() + timeout_s
    while not list(folder.glob(pattern)):
        assert proc.poll() is None, f"the recorder exited before {pattern} appeared"
        assert time.monotonic() < deadline, f"no {pattern} after {timeout_s:g} s"
        time.sleep(0.01)
