"""bench/thigh_packet_loss.py without its (unshipped) data: notification-sized drops, the tallies, a clear skip."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import thigh_packet_loss as tpl  # noqa: E402
import validate_thighs as vt  # noqa: E402


def test_whole_notifications_are_dropped() -> None:
    keep = tpl.drop_packets(8003, 0.2, np.random.default_rng(0))
    assert keep.size == 8003
    blocks = keep[:8000].reshape(-1, 8)
    assert np.all(blocks.all(axis=1) | ~blocks.any(axis=1))  # each notification kept or lost as a whole
    assert 0.17 < 1 - blocks.all(axis=1).mean() < 0.23
    assert tpl.drop_packets(100, 0.0, np.random.default_rng(0)).all()
    everything = tpl.drop_packets(100, 1.0, np.random.default_rng(0))
    assert everything[:8].all()  # the first is kept: the session keeps its time origin
    assert not everything[8:].any()


def _detection(left_ic: list[float]) -> vt.Detection:
    t = np.array(left_ic)
    n = t.size
    return vt.Detection(t, np.full(n, "left"), np.full(n, "IC"), np.full(n, "left_thigh"), {})


def test_tally_pairs_with_the_lossfree_run_and_the_reference() -> None:
    base = _detection([1.0, 2.0, 3.0, 4.0])
    lossy = _detection([1.01, 3.0, 4.5])  # one moved 10 ms, one unchanged, one lost, one outside ±0.2 s
    empty = np.zeros(0)
    ref = vt.Reference(np.array([1.0, 2.0, 3.0]), np.full(3, "left"), empty, empty.astype(str), 1.0, 3.0, 0, ())
    t = tpl.tally(base, lossy, ref, "IC")
    assert t.lossfree == 4
    assert t.shift_s == pytest.approx([0.01, 0.0])
    assert t.reference == 3
    assert sorted(t.ref_error_s) == pytest.approx([0.0, 0.01])
    (row,) = tpl.rows({(0.2, 0.3, "IC"): t}, default=0.3)
    assert row[:4] == ["20%", "0.3 s (default)", "IC", "2 / 4 (50.0%)"]
    assert row[4] == "+5.0 ± 5.0"
    assert row[7] == "0.667"


def test_missing_data_is_skipped_not_failed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert tpl.main(["--data", str(tmp_path)]) == 0
    assert "SKIPPED" in capsys.readouterr().out
