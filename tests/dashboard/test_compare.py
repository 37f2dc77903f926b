"""The compare page: two sessions of one subject side by side."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from dashboard.charts import compare_display, compare_figure, compare_summaries
from pipeline.schemas import SUMMARY
from pipeline.store import SensorInfo, create_session, read_table, write_table

PAGE = "app_pages/compare.py"


def stance_si_row(at, tables):
    (table,) = tables(at, "Difference (B − A)")
    return table[table["Metric"] == "Stance-time symmetry index"].iloc[0]


def test_defaults_to_first_against_latest_processed_session(data_root, run_app, tables):
    at = run_app(data_root.root, PAGE)

    first, latest = data_root.visits[0], data_root.visits[3]
    row = stance_si_row(at, tables)
    assert (row["Session A"], row["Session B"]) == (first.stance_si_pct, latest.stance_si_pct)
    assert row["Difference (B − A)"] == latest.stance_si_pct - first.stance_si_pct
    assert row["Change"] == "↑"
    assert row["Toward symmetry"] == "yes"
    assert row["Unit"] == "%"
    # the baseline was processed before intervals: nothing to compare them with
    assert (row["95 % CI A"], row["95 % CI B"]) == ("", "[-3.2, -0.8]")
    assert row["Change vs variation"] == ""


def test_table_has_every_metric_and_side_with_arrows(data_root, run_app, tables):
    at = run_app(data_root.root, PAGE)

    (table,) = tables(at, "Difference (B − A)")
    drop = table[table["Metric"] == "Contralateral pelvic drop"].set_index("Side")
    assert list(drop.index) == ["left", "right"]
    assert drop.loc["right", "Change"] == "↓"
    assert drop.loc["left", "Change"] == "↑"
    assert drop.loc["right", "Toward symmetry"] == ""  # not a symmetry index
    assert set(table["Change"]) <= {"↑", "↓", "→", ""}


def test_picking_other_sessions_updates_table_and_chart(data_root, run_app, tables, figure, values):
    at = run_app(data_root.root, PAGE)

    at.selectbox(key="compare_a").set_value(data_root.sessions[1].meta.session_id).run()
    at.selectbox(key="compare_b").set_value(data_root.sessions[2].meta.session_id).run()

    row = stance_si_row(at, tables)
    assert (row["Session A"], row["Session B"]) == (-7.0, -4.0)
    spec = figure(at, "compare_bars")
    assert spec["layout"]["barmode"] == "group"
    bars_b = [t for t in spec["data"] if t["name"].startswith("B: ")]
    assert "week 8" in bars_b[0]["name"]
    bars_a = [t for t in spec["data"] if t["name"].startswith("A: ")]
    assert any("Stance-time symmetry index" in list(t["x"]) for t in bars_a)
    units = [a["text"] for a in spec["layout"]["annotations"]]
    assert {"in %", "in deg", "in s"} <= set(units)


def test_needs_two_processed_sessions(tmp_path, data_root, run_app):
    only = create_session(tmp_path, "P03", (SensorInfo("pelvis", "movesense"),))
    write_table(
        only.derived_path("summary"), read_table(data_root.sessions[0].derived_path("summary"), SUMMARY), SUMMARY
    )

    at = run_app(tmp_path, PAGE)

    assert "needs two processed sessions of P03" in at.info[0].value


def test_corrupt_summary_is_an_error_message(own_data_root, run_app):
    broken = own_data_root.sessions[3].derived_path("summary")
    broken.write_text("garbage", encoding="utf-8")

    at = run_app(own_data_root.root, PAGE)

    at.selectbox(key="compare_b").set_value(own_data_root.sessions[2].meta.session_id).run()
    assert not at.error
    at.selectbox(key="compare_b").set_value(own_data_root.sessions[3].meta.session_id).run()
    assert not at.exception
    assert "Cannot show the comparison" in at.error[0].value
    assert str(broken) in at.error[0].value


def test_empty_data_root(tmp_path, run_app):
    at = run_app(tmp_path, PAGE)

    assert "needs two processed sessions" in at.info[0].value


# ---------------------------------------------------------------------------------------------------------------
# 95 % within-session intervals

NAN = math.nan


def _summary(rows: list[tuple[str, str, float, float, float]]) -> pd.DataFrame:
    """A summary frame as ``dashboard.data.load_summary`` returns it, from (metric, side, value, ci_low, ci_high)."""
    units = {
        "stance_time_si_pct": "%",
        "step_time_si_pct": "%",
        "cadence_spm": "steps/min",
        "pelvic_drop_deg": "deg",
        "pelvic_obliquity_range_deg": "deg",
        "pelvic_tilt_range_deg": "deg",
        "thigh_range_deg": "deg",
    }
    return pd.DataFrame(
        {
            "metric": [r[0] for r in rows],
            "side": [r[1] for r in rows],
            "value": [r[2] for r in rows],
            "unit": [units[r[0]] for r in rows],
            "n": [30] * len(rows),
            "ci_low": [r[3] for r in rows],
            "ci_high": [r[4] for r in rows],
            "label": [r[0] for r in rows],
        }
    )


A = _summary(
    [
        ("stance_time_si_pct", "both", -7.0, -8.2, -5.8),
        ("cadence_spm", "both", 100.0, 98.0, 102.0),
        ("pelvic_drop_deg", "right", 6.0, 5.5, 6.0),
        ("step_time_si_pct", "both", -4.0, NAN, NAN),  # e.g. a session written before intervals
        ("pelvic_drop_deg", "left", 4.0, 3.6, 4.4),  # only in A
        ("pelvic_obliquity_range_deg", "both", 7.0, 6.8, 7.2),
        ("pelvic_tilt_range_deg", "both", 4.0, 3.8, 4.2),
        ("thigh_range_deg", "left", 40.0, 39.0, 41.0),
    ]
)
B = _summary(
    [
        ("stance_time_si_pct", "both", -4.0, -5.2, -2.8),
        ("cadence_spm", "both", 101.0, 99.0, 103.0),
        ("pelvic_drop_deg", "right", 6.5, 6.0, 7.0),  # touches A's interval
        ("step_time_si_pct", "both", -2.0, -3.0, -1.0),
        ("pelvic_obliquity_range_deg", "both", 8.0, 7.8, 8.2),  # apart, but healthy walkers vary that much
        ("pelvic_tilt_range_deg", "both", 12.0, 11.8, 12.2),  # apart and beyond it
        ("thigh_range_deg", "left", 45.0, 44.0, 46.0),  # apart; no walk-to-walk figure for the thighs
    ]
)


def test_compare_table_says_where_intervals_are_apart():
    shown = compare_display(compare_summaries(A, B)).set_index(["Metric", "Side"])

    intervals = shown["Change vs variation"]
    assert intervals[("Stance-time symmetry index", "both")] == "beyond walk-to-walk variation"
    assert intervals[("Pelvic obliquity range", "both")] == "within walk-to-walk variation"
    assert intervals[("Pelvic tilt range", "both")] == "beyond walk-to-walk variation"
    assert intervals[("Thigh sagittal range", "left")] == "beyond stride sampling"
    assert intervals[("Cadence", "both")] == "overlap"
    assert intervals[("Contralateral pelvic drop", "right")] == "overlap"  # touching is not apart
    assert intervals[("Step-time symmetry index", "both")] == ""  # A has no interval
    assert intervals[("Contralateral pelvic drop", "left")] == ""  # not in B
    assert shown.loc[("Stance-time symmetry index", "both"), "95 % CI A"] == "[-8.2, -5.8]"
    assert shown.loc[("Cadence", "both"), "95 % CI B"] == "[99, 103]"
    assert shown.loc[("Step-time symmetry index", "both"), ["95 % CI A", "95 % CI B"]].tolist() == ["", "[-3.0, -1.0]"]
    assert shown.loc[("Contralateral pelvic drop", "left"), "95 % CI B"] == ""


def test_change_wording_is_symmetric_in_the_sessions():
    forward = compare_summaries(A, B).set_index(["metric", "side"])["intervals"]
    backward = compare_summaries(B, A).set_index(["metric", "side"])["intervals"]
    assert forward.sort_index().tolist() == backward.sort_index().tolist()


def test_compare_bars_carry_each_sessions_interval():
    fig = compare_figure(compare_summaries(A, B), "A", "B")

    a_pct, b_pct = (t for t in fig.data if "Stance-time symmetry index" in t.x)  # the % panel, A then B
    assert list(a_pct.x) == ["Step-time symmetry index", "Stance-time symmetry index"]
    assert np.isnan(a_pct.error_y.array[0])  # no interval, no bar
    assert np.isnan(a_pct.error_y.arrayminus[0])
    assert (a_pct.error_y.arrayminus[1], a_pct.error_y.array[1]) == (pytest.approx(1.2), pytest.approx(1.2))
    assert list(b_pct.y - b_pct.error_y.arrayminus) == pytest.approx([-3.0, -5.2])
    assert list(b_pct.y + b_pct.error_y.array) == pytest.approx([-1.0, -2.8])
    assert b_pct.customdata[1] == "-4.0 % (95 % CI -5.2 to -2.8)"


def test_picked_sessions_with_apart_and_overlapping_intervals(data_root, run_app, tables, figure, values):
    at = run_app(data_root.root, PAGE)
    at.selectbox(key="compare_a").set_value(data_root.sessions[1].meta.session_id).run()
    at.selectbox(key="compare_b").set_value(data_root.sessions[2].meta.session_id).run()

    row = stance_si_row(at, tables)
    assert (row["95 % CI A"], row["95 % CI B"]) == ("[-8.2, -5.8]", "[-5.2, -2.8]")
    assert row["Change vs variation"] == "beyond walk-to-walk variation"
    (table,) = tables(at, "Change vs variation")
    wording = {
        "",
        "overlap",
        "beyond stride sampling",
        "within walk-to-walk variation",
        "beyond walk-to-walk variation",
    }
    assert set(table["Change vs variation"]) <= wording  # no clinical wording
    caption = next(c.value for c in at.caption if "walk-to-walk variation" in c.value)
    assert "healthy adults" in caption
    assert "Days apart" in caption
    assert "not make it a clinically meaningful change" in caption

    at.selectbox(key="compare_a").set_value(data_root.sessions[3].meta.session_id).run()
    assert stance_si_row(at, tables)["Change vs variation"] == "overlap"
    bars = {t["name"][:1]: t for t in figure(at, "compare_bars")["data"] if "Stance-time symmetry index" in t["x"]}
    for name, centre in (("A", -2.0), ("B", -4.0)):
        i = list(bars[name]["x"]).index("Stance-time symmetry index")
        assert values(bars[name]["error_y"], "array")[i] == pytest.approx(1.2)
        assert values(bars[name], "y")[i] == centre
