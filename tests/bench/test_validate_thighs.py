"""bench/validate_thighs.py without its (unshipped) data: a clear skip, exit 0."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import validate_thighs as vt  # noqa: E402


def test_missing_data_is_skipped_not_failed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert vt.main(["--data", str(tmp_path)]) == 0
    assert "SKIPPED" in capsys.readouterr().out
