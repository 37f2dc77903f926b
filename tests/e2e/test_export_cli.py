"""``imugait export``: the analysed sessions under a folder as CSV or Excel workbooks, the export folder as the last
line of stdout."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tests.e2e.conftest import imugait
from tests.pipeline.conftest import build_sim_session


def test_export_writes_every_analysed_session_and_names_the_rest(tmp_path: Path) -> None:
    data = tmp_path / "data"
    analysed = [build_sim_session(data, "healthy", duration_s=30.0, seed=s).session for s in (1, 2)]
    raw_only = build_sim_session(data, "healthy", duration_s=10.0, seed=3).session
    for s in analysed:
        assert imugait("process", str(s.path)).returncode == 0
    out = tmp_path / "export"
    done = imugait("export", str(data), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == str(out)
    said = " ".join(done.stderr.split())
    assert "exported 2 of 3 sessions" in said
    assert f"not analysed, left out: {raw_only.meta.subject}/{raw_only.meta.session_id}" in said
    summary = pd.read_csv(out / "summary.csv", encoding="utf-8-sig", dtype={"session_id": str})
    assert set(summary["session_id"]) == {s.meta.session_id for s in analysed}
    assert (out / "columns.csv").is_file()
    for s in analysed:
        assert (out / s.meta.subject / s.meta.session_id / "strides.csv").is_file()
    workbooks = tmp_path / "workbooks"
    done = imugait("export", str(data), "--out", str(workbooks), "--format", "xlsx")
    assert done.returncode == 0, done.stderr
    assert "exported 2 of 3 sessions (3 files)" in " ".join(done.stderr.split())
    summary = pd.read_excel(workbooks / "summary.xlsx", sheet_name="summary", dtype={"session_id": str})
    assert set(summary["session_id"]) == {s.meta.session_id for s in analysed}
    for s in analysed:
        assert "strides" in pd.read_excel(workbooks / s.meta.subject / f"{s.meta.session_id}.xlsx", sheet_name=None)


def test_export_fails_clearly_when_nothing_can_be_exported(tmp_path: Path) -> None:
    raw_only = build_sim_session(tmp_path / "data", "healthy", duration_s=10.0).session
    done = imugait("export", str(raw_only.path), "--out", str(tmp_path / "export"))
    assert done.returncode == 1
    assert "run 'imugait process' on them first" in " ".join(done.stderr.split())
    assert not (tmp_path / "export").exists()
    inside = imugait("export", str(raw_only.path), "--out", str(raw_only.path / "csv"))
    assert inside.returncode == 1
    assert "export to a folder outside the data" in " ".join(inside.stderr.split())
    assert not (raw_only.path / "csv").exists()
    unknown = imugait("export", str(raw_only.path), "--out", str(tmp_path / "export"), "--format", "ods")
    assert unknown.returncode == 1
    assert "--format must be one of csv, xlsx, not 'ods'" in unknown.stderr
    missing = imugait("export", str(tmp_path / "nowhere"))
    assert missing.returncode == 1
    assert "does not exist" in missing.stderr
