"""The compare page: two sessions of one subject side by side."""

from __future__ import annotations

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
