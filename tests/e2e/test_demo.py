"""The demo, end to end and non-interactive: simulated sensors → BLE client → Arrow → analysis.

Also the issue's acceptance check: the simulated right-knee antalgic subject's stance- and step-time asymmetry
comes out of the whole chain (bytes over the simulated BLE link included) with the simulator's sign and size.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.schemas import EVENTS, STRIDES, SUMMARY
from pipeline.store import iter_sessions, read_raw, read_table

# Tolerance on a symmetry index, percentage points, between the pipeline and the simulator's truth.
SI_TOLERANCE_PP = 3.0


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.e2e.conftest import imugait

    root = tmp_path_factory.mktemp("demo")
    done = imugait("demo", "--no-dashboard", "--data", str(root), "--duration", "45")
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == str(root)
    assert "(healthy control): ended after its planned 45 s, simulated in" in " ".join(
        (done.stdout + done.stderr).split()
    )
    return root


def _summary(path: Path) -> dict[tuple[str, str], float]:
    table = read_table(path / "derived" / "summary.arrow", SUMMARY).to_pylist()
    return {(r["metric"], r["side"]): r["value"] for r in table}


@pytest.mark.slow
def test_demo_leaves_complete_analysed_sessions(demo_root: Path) -> None:
    sessions = list(iter_sessions(demo_root))
    assert len(sessions) >= 4
    for s in sessions:
        assert s.meta.status == "complete", s.path
        assert s.raw_sites() == ["pelvis", "left_thigh", "right_thigh"]
        for site in s.raw_sites():
            assert len(read_raw(s.raw_path(site))) > 100 * 30, (s.path, site)
        events = read_table(s.derived_path("events"), EVENTS)
        assert set(events.column("side").to_pylist()) == {"left", "right"}
        assert set(events.column("event").to_pylist()) == {"IC", "FC"}
        assert read_table(s.derived_path("strides"), STRIDES).num_rows > 20


@pytest.mark.slow
def test_antalgic_asymmetry_matches_simulator_truth(demo_root: Path) -> None:
    first = min((s for s in iter_sessions(demo_root) if s.meta.subject == "demo-knee"), key=lambda s: s.meta.start_utc)
    truth = json.loads((first.path / "sim" / "truth.json").read_text())["summary"]
    measured = _summary(first.path)
    # Right-knee antalgic gait: the painful right leg's stance is shorter (stance SI < 0) and the sound left leg
    # swings through faster, so the left step is the short one (step SI = (R - L)/mean > 0).
    assert truth["stance_time_si_pct"] < -3.0, truth
    assert truth["step_time_si_pct"] > 3.0, truth
    for metric in ("stance_time_si_pct", "step_time_si_pct"):
        want, got = truth[metric], measured[(metric, "both")]
        assert got * want > 0, f"{metric}: measured {got:.2f} has the wrong sign (truth {want:.2f})"
        assert abs(got - want) <= SI_TOLERANCE_PP, f"{metric}: measured {got:.2f} vs truth {want:.2f}"


@pytest.mark.slow
def test_asymmetry_shrinks_over_the_demo_rehabilitation(demo_root: Path) -> None:
    series = sorted(
        (s for s in iter_sessions(demo_root) if s.meta.subject == "demo-knee"), key=lambda s: s.meta.start_utc
    )
    si = [_summary(s.path)[("stance_time_si_pct", "both")] for s in series]
    assert si[0] < si[-1], si  # first visit more asymmetric (more negative) than the last
    assert abs(si[-1]) < abs(si[0]) / 2, si


@pytest.mark.slow
def test_demo_reuses_existing_sessions_instead_of_duplicating(demo_root: Path) -> None:
    from tests.e2e.conftest import imugait

    before = sorted(s.path for s in iter_sessions(demo_root))
    again = imugait("demo", "--no-dashboard", "--data", str(demo_root), "--duration", "45")
    assert again.returncode == 0, again.stderr[-2000:]
    assert "reusing" in again.stderr
    assert sorted(s.path for s in iter_sessions(demo_root)) == before
