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
