"""``imugait subject set/show`` and ``imugait process`` using the profile, through the real command."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.schemas import COMPENSATION, SUMMARY
from pipeline.store import read_table
from tests.e2e.conftest import imugait
from tests.pipeline.conftest import build_sim_session


def test_set_show_and_validation(tmp_path: Path) -> None:
    done = imugait("subject", "set", "p01", "--data", str(tmp_path), "--height", "1.75", "--affected-side", "right")
    assert done.returncode == 0, done.stderr
    path = tmp_path / "p01" / "subject.json"
    assert done.stdout.strip().splitlines()[-1] == str(path)
    assert json.loads(path.read_text())["affected_side"] == "right"
    shown = imugait("subject", "show", "p01", "--data", str(tmp_path))
    assert shown.returncode == 0, shown.stderr
    assert "leg length\t0.9275 m (estimated" in shown.stdout
    assert "affected side\tright" in shown.stdout
    cleared = imugait("subject", "set", "p01", "--data", str(tmp_path), "--affected-side", "none", "--notes", "ok")
    assert cleared.returncode == 0, cleared.stderr
    data = json.loads(path.read_text())
    assert (data["affected_side"], data["height_m"], data["notes"]) == (None, 1.75, "ok")


def test_bad_input_exits_1_with_the_fix(tmp_path: Path) -> None:
    cm = imugait("subject", "set", "p01", "--data", str(tmp_path), "--height", "175")
    assert cm.returncode == 1
    assert "looks like centimetres — give metres" in cm.stderr
    assert not (tmp_path / "p01" / "subject.json").exists()
    missing = imugait("subject", "show", "nobody", "--data", str(tmp_path))
    assert missing.returncode == 1
    assert "imugait subject set nobody" in missing.stderr.replace("\n", " ")
    side = imugait("subject", "set", "p01", "--data", str(tmp_path), "--affected-side", "middle")
    assert side.returncode == 1
    future = tmp_path / "p02" / "subject.json"
    future.parent.mkdir()
    future.write_text(json.dumps({"subject": "p02", "format": 99}))
    newer = imugait("subject", "show", "p02", "--data", str(tmp_path))
    assert newer.returncode == 1
    assert "newer than this imugait" in newer.stderr


def test_process_uses_the_profile(tmp_path: Path) -> None:
    sim = build_sim_session(tmp_path, "antalgic_right", duration_s=40.0)
    subject = sim.session.meta.subject
    done = imugait(
        "subject", "set", subject, "--data", str(tmp_path), "--leg-length", "0.9", "--affected-side", "right"
    )
    assert done.returncode == 0, done.stderr
    processed = imugait("process", str(sim.session.path))
    assert processed.returncode == 0, processed.stderr
    summary = read_table(sim.session.derived_path("summary"), SUMMARY).to_pandas()
    assert summary[summary.metric == "walking_speed_m_s"].value.iloc[0] > 0.3
    involved = summary[(summary.metric == "stance_time_si_involved_pct")].value.iloc[0]
    assert involved < -3.0
    report = read_table(sim.session.derived_path("compensation"), COMPENSATION).to_pandas()
    assert set(report[report.flagged].pattern) >= {"antalgic_gait", "trendelenburg"}


def _flat(text: str) -> str:
    """Terminal output with rich's line wrapping undone."""
    return " ".join(text.split())


def test_calibrate_on_a_walk_then_every_session_is_reanalysed(tmp_path: Path) -> None:
    """``imugait subject calibrate SESSION --speed`` (a treadmill belt) stores the factor and re-analyses the
    subject's sessions; without a profile it says what to set; a second ``subject set`` of the sensor height drops
    the pendulum's factor and says so."""
    sim = build_sim_session(tmp_path, "healthy", duration_s=40.0)
    subject, truth = sim.session.meta.subject, sim.model.truth.speed_m_s
    refused = imugait("subject", "calibrate", str(sim.session.path), "--speed", f"{truth}")
    assert refused.returncode == 1
    assert f"imugait subject set {subject} --height M" in _flat(refused.stderr)
    imugait("subject", "set", subject, "--data", str(tmp_path), "--leg-length", "0.9", "--pelvis-sensor-height", "1.0")
    both = imugait("subject", "calibrate", str(sim.session.path), "--speed", "1.2", "--distance", "20")
    assert both.returncode == 1
    assert "not both" in _flat(both.stderr)
    done = imugait("subject", "calibrate", str(sim.session.path), "--speed", f"{truth}")
    assert done.returncode == 0, done.stderr
    assert "pelvis: the model read" in _flat(done.stderr)
    assert "-> factor" in _flat(done.stderr)
    assert "processed 1 of 1 sessions" in _flat(done.stderr)
    stored = json.loads((tmp_path / subject / "subject.json").read_text())
    assert {c["method"] for c in stored["step_length_calibration"]} == {"pelvis", "thigh"}
    summary = read_table(sim.session.derived_path("summary"), SUMMARY).to_pandas()
    speed = summary[summary.metric == "walking_speed_m_s"].value.iloc[0]
    assert abs(speed - truth) < 0.01 * truth  # calibrated on this very walk: it reads the reference back
    shown = imugait("subject", "show", subject, "--data", str(tmp_path))
    assert "step-length calibration\tpelvis ×" in shown.stdout
    moved = imugait("subject", "set", subject, "--data", str(tmp_path), "--pelvis-sensor-height", "0.95")
    assert moved.returncode == 0, moved.stderr
    assert "dropped the pelvis step-length calibration" in _flat(moved.stderr)
    stored = json.loads((tmp_path / subject / "subject.json").read_text())
    assert [c["method"] for c in stored["step_length_calibration"]] == ["thigh"]
    # the same thigh record as imugait < 1.13 wrote it (subject format 2, the bare compass chord): still applied,
    # rescaled to the new population factor, and `subject show` says so
    (thigh,) = stored["step_length_calibration"]
    del thigh["model_factor"]
    (tmp_path / subject / "subject.json").write_text(json.dumps({**stored, "format": 2}))
    old = imugait("subject", "show", subject, "--data", str(tmp_path))
    assert old.returncode == 0, old.stderr
    assert "population factor is now 1.150 (was 1.000)" in _flat(old.stdout)
    assert "not applied" not in old.stdout
