"""``imugait process`` tells the user what the quality record says: warnings per session, then a count."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import imugait
from tests.pipeline.conftest import build_sim_session
from tests.pipeline.test_crosscheck import _swap_files


def test_process_prints_the_quality_warnings(tmp_path: Path) -> None:
    clean = build_sim_session(tmp_path, "healthy", duration_s=40.0, seed=1)
    swapped = build_sim_session(tmp_path, "antalgic_right", duration_s=40.0, seed=2)
    _swap_files(swapped.session)
    done = imugait("process", str(tmp_path))
    assert done.returncode == 0, done.stderr
    out = " ".join(done.stderr.split())  # messages go to stderr (stdout is for paths); rich wraps long lines
    assert f"warning: {swapped.session.meta.subject}/{swapped.session.meta.session_id}: The left and right thigh" in out
    assert f"{clean.session.meta.session_id}: " not in out  # no warning for the clean walk
    assert "processed 2 of 2 sessions" in out
    assert "1 session(s) with data-quality warnings" in out
