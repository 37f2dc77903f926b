"""``imugait replay``: a stored session streams back through the live path and reproduces its samples; ``imugait
process --outdated`` re-analyses what an older pipeline wrote."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from pipeline.run import PIPELINE_VERSION
from pipeline.store import load_session, read_raw
from tests.e2e.conftest import imugait


def test_replay_reproduces_the_recording(tmp_path: Path) -> None:
    recorded = imugait(
        "record", "--simulate", "antalgic_right", "--duration", "12", "--speed", "max", "--loss", "0.02",
        "--data", str(tmp_path / "orig"), "--subject", "R1",
    )  # fmt: skip
    assert recorded.returncode == 0, recorded.stderr[-2000:]
    assert "complete: ended after its planned 12 s" in " ".join(recorded.stderr.split())
    original = load_session(Path(recorded.stdout.strip().splitlines()[-1]))

    replayed = imugait("replay", str(original.path), "--speed", "max", "--data", str(tmp_path / "copy"))
    assert replayed.returncode == 0, replayed.stderr[-2000:]
    copy = load_session(Path(replayed.stdout.strip().splitlines()[-1]))
    assert copy.meta.status == "complete"
    assert "complete: the replayed session ended" in " ".join(replayed.stderr.split())
    assert copy.meta.source == "replay"
    assert copy.meta.extra["replay_of"] == str(original.path)
    assert "cadence" in replayed.stderr  # the live status view ran, with its live metrics
    for site in original.raw_sites():
        a, b = read_raw(original.raw_path(site)), read_raw(copy.raw_path(site))
        assert len(a) == len(b), site
        np.testing.assert_array_equal(a.acc, b.acc)
        np.testing.assert_array_equal(a.gyr, b.gyr)
        np.testing.assert_array_equal(a.t_device_us - a.t_device_us[0], b.t_device_us - b.t_device_us[0])
        # arrival times keep the recorded pace on the replay's own clock
        np.testing.assert_allclose(np.diff(a.t_host_ns), np.diff(b.t_host_ns), atol=2e6)


def test_why_a_recording_ended_is_said_in_words() -> None:
    from imugait._commands import describe_stop

    assert describe_stop("duration", 60.0) == "ended after its planned 60 s"
    assert describe_stop("duration", None) == "ended after its planned length"
    assert describe_stop("storage error: disk full", 60.0) == "storage error: disk full"  # said as it came


def test_replay_of_a_missing_session_is_a_clear_error(tmp_path: Path) -> None:
    done = imugait("replay", str(tmp_path / "nope"))
    assert done.returncode == 1
    assert "no session.json here" in done.stderr


def test_process_outdated_reanalyses_only_older_sessions(tmp_path: Path) -> None:
    """After an upgrade, ``process --outdated`` re-analyses the sessions an older pipeline wrote (the stored v1
    session says 1.0) and leaves current ones alone; the raw files are untouched."""
    fixture = Path(__file__).parents[1] / "data" / "sessions_v1"
    root = tmp_path / "root"
    shutil.copytree(fixture, root)
    session = load_session(next(root.glob("*/*/session.json")).parent)
    raw_before = {site: session.raw_path(site).read_bytes() for site in session.raw_sites()}
    assert session.processed_with() == "1.0" != PIPELINE_VERSION
    first = imugait("process", str(root), "--outdated")
    assert first.returncode == 0, first.stderr[-2000:]
    assert "processed 1 of 1 sessions" in first.stderr
    assert session.processed_with() == PIPELINE_VERSION
    again = imugait("process", str(root), "--outdated")
    assert again.returncode == 0, again.stderr[-2000:]
    assert "processed 0 of 0 sessions" in again.stderr
    assert {site: session.raw_path(site).read_bytes() for site in session.raw_sites()} == raw_before
