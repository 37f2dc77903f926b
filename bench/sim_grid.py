"""Simulator truth error table: run the real pipeline over a grid of simulated walkers and score it against truth.

Every cell simulates one walker with :class:`sensors.sim.gait_model.GaitModel`, writes raw Arrow streams the way
``tests/pipeline/conftest.py`` does (104 Hz device clocks that drift and start at random offsets, notifications of
8 samples with jittered BLE host stamps, random packet loss), runs :func:`pipeline.run.process_session` on a
three-sensor session and on a pelvis-only session of the same walk, and compares the result with the model's
truth (:meth:`GaitTruth.summary` and the truth event list).

The grid varies one factor at a time around a baseline (healthy, 108 steps/min, 1.3 m/s, the profile's sensor
noise, default mountings, ±50 ppm drift, 2 % packet loss), plus a worst-case cell that combines the hard levels;
every cell runs with two seeds. ``--full`` runs the full factorial (432 conditions × 2 seeds, 120 s walks) and
reports aggregates per factor level.

Columns (errors are pipeline − truth):
  thigh IC / FC bias ± SD (ms): signed timing error of thigh-detected events paired with truth events of the
      same side within ±0.3 s (pipeline.evaluation, one-to-one), walking period only; F1 of thigh ICs.
  stance SI / step SI err (pp): session symmetry index (Robinson) minus truth; "truth in 95 % CI": 1 when the
      truth lies inside the session's within-session interval (``pipeline.uncertainty``), 0 when not (aggregate:
      the share of cells).
  obliq err (deg): pelvic obliquity range minus truth; drop err L / R (deg): contralateral pelvic drop per side.
  cadence err (steps/min); speed err (%) when the pipeline reports a walking speed, else "n/a"; thigh speed err
      (%): the same session's walking speed from the thighs' compass model alone (``walking_speed_thigh_m_s``, what
      a session without a pelvis sensor reports).
  pelvis-only: IC F1 (±0.3 s, both sides pooled, side ignored), IC bias ± SD (ms), laterality accuracy of the
      paired ICs.

Usage::

    .venv/bin/python bench/sim_grid.py            # 50 cells, seconds on 2 cores
    .venv/bin/python bench/sim_grid.py --full     # 864 cells, about 4 min on 2 cores
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from scipy.spatial.transform import Rotation

from pipeline.errors import ImuGaitError
from pipeline.evaluation import EventScores, pool, score_events
from pipeline.run import process_session
from pipeline.store import Session
from pipeline.subjects import SubjectProfile, save_profile
from sensors.sim.gait_model import GaitModel, GaitProfile, SensorSpec, get_profile
from sensors.sim.offline import LinkImperfections, standing_sensor_height_m, write_simulated_session
from sensors.sim.progression import blend_profiles

ROOT = Path(__file__).resolve().parent.parent
TOLERANCE_S = 0.3
SITES = ("pelvis", "left_thigh", "right_thigh")
SPEED_METRICS = ("walking_speed_m_s", "speed_m_s", "gait_speed_m_s")


@dataclass(frozen=True)
class Cell:
    """One grid condition."""

    name: str
    severity: float = 0.0  # 0 healthy … 1 antalgic_right (stance and step asymmetry, right thigh ROM)
    step_share_left: float | None = None  # overrides the blended step share (step-time asymmetry)
    drop_deg: float = 0.0  # extra contralateral pelvic drop during right single support
    cadence_spm: float = 108.0
    speed_m_s: float = 1.30
    noise_scale: float = 1.0  # multiplies the profile's white-noise SDs
    mount: str = "default"  # "default" | "random" (uniformly random rotation of every sensor)
    drift_ppm: float = 50.0  # device clock drift drawn from ±this
    loss: float = 0.02  # fraction of lost notifications
    seed: int = 0
    duration_s: float = 60.0


def make_profile(cell: Cell) -> GaitProfile:
    """The walker of a cell: a blend of healthy and antalgic_right, then the cell's overrides."""
    healthy, impaired = get_profile("healthy"), get_profile("antalgic_right")
    blended = blend_profiles(healthy, impaired, cell.severity, name=cell.name)
    rng = np.random.default_rng(cell.seed + 7)
    sensors = {}
    for site, spec in healthy.sensors.items():
        mounting = spec.mounting
        if cell.mount == "random":
            mounting = Rotation.random(random_state=rng).as_matrix() @ mounting
        sensors[site] = SensorSpec(
            mounting,
            spec.acc_noise_m_s2 * cell.noise_scale,
            spec.gyr_noise_dps * cell.noise_scale,
            spec.acc_bias_m_s2,
            spec.gyr_bias_dps,
        )
    changes: dict[str, Any] = {
        "cadence_spm": cell.cadence_spm,
        "speed_m_s": cell.speed_m_s,
        "pelvic_drop_extra_deg": (0.0, cell.drop_deg),
        "sensors": sensors,
    }
    if cell.step_share_left is not None:
        changes["step_share_left"] = cell.step_share_left
    return dataclasses.replace(blended, **changes)


def build_session(root: Path, model: GaitModel, cell: Cell, sites: Sequence[str]) -> Session:
    """Raw streams of ``sites`` for ``model`` (session time 0 = model time 0), as the pipeline tests build them."""
    link = LinkImperfections(loss=cell.loss, drift_ppm=cell.drift_ppm)
    # the walker's leg length, as a clinician would enter it with 'imugait subject set'
    profile = SubjectProfile(
        subject="sim",
        leg_length_m=model.profile.leg_length_m,
        pelvis_sensor_height_m=standing_sensor_height_m(model),
    )
    save_profile(root, profile)
    return write_simulated_session(root, model, duration_s=cell.duration_s, sites=sites, seed=cell.seed, link=link)


def _summary_value(summary: Any, metric: str, side: str = "both") -> float:
    names, sides, values = (summary[c].to_pylist() for c in ("metric", "side", "value"))
    for n, s, v in zip(names, sides, values, strict=True):
        if n == metric and s == side:
            return math.nan if v is None else float(v)
    return math.nan


def _covers(summary: Any, metric: str, truth: float) -> float:
    """1.0 when ``truth`` lies inside the metric's 95 % within-session interval, 0.0 when not, NaN without one."""
    for n, s, lo, hi in zip(*(summary[c].to_pylist() for c in ("metric", "side", "ci_low", "ci_high")), strict=True):
        if n == metric and s == "both":
            if lo is None or hi is None or not (math.isfinite(lo) and math.isfinite(hi)):
                return math.nan
            return float(lo <= truth <= hi)
    return math.nan


def _truth_events(model: GaitModel, kind: str) -> tuple[np.ndarray, np.ndarray]:
    truth = model.truth
    sel = truth.events_kind == kind
    return truth.events_t_s[sel], truth.events_side[sel]


def _side_scores(events: Any, model: GaitModel, kind: str, source_suffix: str) -> EventScores:
    """Pool per-side scores of events of ``kind`` from sources ending in ``source_suffix``, walking period only."""
    t = np.asarray(events["t_s"].to_numpy(), dtype=np.float64)
    side = np.asarray(events["side"].to_pylist())
    event = np.asarray(events["event"].to_pylist())
    source = np.asarray(events["source"].to_pylist())
    truth_t, truth_side = _truth_events(model, kind)
    walking = (t >= model.truth.walking_start_s) & (t < model.duration_s)
    parts = []
    for s in ("left", "right"):
        det = t[walking & (event == kind) & (side == s) & np.char.endswith(source, source_suffix)]
        parts.append(score_events(det, truth_t[truth_side == s], tolerance_s=TOLERANCE_S))
    return pool(parts)


def run_cell(cell: Cell) -> dict[str, Any]:
    """Simulate, process (three sensors, then pelvis only) and score one cell."""
    row: dict[str, Any] = {"cell": cell.name, "seed": cell.seed, "error": ""}
    row.update({f: getattr(cell, f) for f in FACTORS})
    model = GaitModel(make_profile(cell), cell.duration_s, seed=cell.seed)
    truth = model.truth.summary()
    row["truth_stance_si"] = truth["stance_time_si_pct"]
    row["truth_step_si"] = truth["step_time_si_pct"]
    with tempfile.TemporaryDirectory(prefix="imugait-grid-") as tmp:
        try:
            full = process_session(build_session(Path(tmp) / "full", model, cell, SITES))
        except ImuGaitError as exc:
            row["error"] = f"3 sensors: {exc}"
        else:
            ic = _side_scores(full.events, model, "IC", "_thigh")
            fc = _side_scores(full.events, model, "FC", "_thigh")
            s = full.summary
            row.update(
                ic_f1=ic.f1,
                ic_bias_ms=ic.mean_error_s * 1e3,
                ic_sd_ms=ic.sd_error_s * 1e3,
                fc_bias_ms=fc.mean_error_s * 1e3,
                fc_sd_ms=fc.sd_error_s * 1e3,
                stance_si_err=_summary_value(s, "stance_time_si_pct") - truth["stance_time_si_pct"],
                step_si_err=_summary_value(s, "step_time_si_pct") - truth["step_time_si_pct"],
                obliq_err=_summary_value(s, "pelvic_obliquity_range_deg") - truth["obliquity_range_deg"],
                drop_err_l=_summary_value(s, "pelvic_drop_deg", "left") - truth["pelvic_drop_deg_left"],
                drop_err_r=_summary_value(s, "pelvic_drop_deg", "right") - truth["pelvic_drop_deg_right"],
                cadence_err=_summary_value(s, "cadence_spm") - truth["cadence_spm"],
                stance_si_in_ci=_covers(s, "stance_time_si_pct", truth["stance_time_si_pct"]),
            )
            speed = next((v for m in SPEED_METRICS if math.isfinite(v := _summary_value(s, m))), math.nan)
            row["speed_err_pct"] = (speed - truth["speed_m_s"]) / truth["speed_m_s"] * 100.0
            thigh_speed = _summary_value(s, "walking_speed_thigh_m_s")
            row["thigh_speed_err_pct"] = (thigh_speed - truth["speed_m_s"]) / truth["speed_m_s"] * 100.0
        try:
            pelvis = process_session(build_session(Path(tmp) / "pelvis", model, cell, ("pelvis",)))
        except ImuGaitError as exc:
            row["error"] += f" pelvis only: {exc}"
        else:
            p = pelvis.events
            t = np.asarray(p["t_s"].to_numpy(), dtype=np.float64)
            kind, side = np.asarray(p["event"].to_pylist()), np.asarray(p["side"].to_pylist())
            truth_t, truth_side = _truth_events(model, "IC")
            sel = (kind == "IC") & (t >= model.truth.walking_start_s) & (t < model.duration_s)
            pe = score_events(
                t[sel], truth_t, tolerance_s=TOLERANCE_S, detected_side=side[sel], reference_side=truth_side
            )
            row.update(
                p_ic_f1=pe.f1,
                p_ic_bias_ms=pe.mean_error_s * 1e3,
                p_ic_sd_ms=pe.sd_error_s * 1e3,
                p_lat_acc=pe.laterality_accuracy,
            )
    return row


def grid(full: bool) -> list[Cell]:
    """Default: one factor at a time around the baseline, a worst case and asymmetry × speed crosses, two seeds.

    ``full``: the full factorial of asymmetry × drop × speed × noise × mounting × drift × loss (432 conditions),
    two seeds, 120 s walks; its report aggregates by factor level instead of listing every cell.
    """
    if full:
        return [
            Cell(
                f"sev{sev} drop{drop:g} {cad:.0f}/{speed} n×{noise:g} {mount} {drift:g}ppm loss{loss:g}",
                severity=sev,
                drop_deg=drop,
                cadence_spm=cad,
                speed_m_s=speed,
                noise_scale=noise,
                mount=mount,
                drift_ppm=drift,
                loss=loss,
                seed=seed,
                duration_s=120.0,
            )
            for sev, drop, (cad, speed), noise, mount, drift, loss, seed in itertools.product(
                (0.0, 0.5, 1.0),
                (0.0, 4.0, 8.0),
                ((90.0, 0.8), (108.0, 1.3), (125.0, 1.7)),
                (1.0, 4.0),
                ("default", "random"),
                (50.0, 300.0),
                (0.02, 0.10),
                (0, 1),
            )
        ]
    cells = [
        Cell("baseline"),
        Cell("asym sev 0.25", severity=0.25),
        Cell("asym sev 0.5", severity=0.5),
        Cell("asym sev 0.75", severity=0.75),
        Cell("asym sev 1.0", severity=1.0),
        Cell("step SI 20 %", severity=1.0, step_share_left=0.45),
        Cell("drop +2°", drop_deg=2.0),
        Cell("drop +4°", drop_deg=4.0),
        Cell("drop +8°", drop_deg=8.0),
        Cell("very slow 80/0.5", cadence_spm=80.0, speed_m_s=0.5),
        Cell("slow 90/0.8", cadence_spm=90.0, speed_m_s=0.8),
        Cell("fast 125/1.7", cadence_spm=125.0, speed_m_s=1.7),
        Cell("noise ×4", noise_scale=4.0),
        Cell("noise ×8", noise_scale=8.0),
        Cell("random mount", mount="random"),
        Cell("drift ±300 ppm", drift_ppm=300.0),
        Cell("drift ±1000 ppm", drift_ppm=1000.0),
        Cell("loss 5 %", loss=0.05),
        Cell("loss 10 %", loss=0.10),
        Cell("loss 20 %", loss=0.20),
    ]
    for severity in (0.5, 1.0):
        for cadence, speed in ((90.0, 0.8), (125.0, 1.7)):
            cells.append(
                Cell(f"sev {severity} × {cadence:.0f}/{speed}", severity=severity, cadence_spm=cadence, speed_m_s=speed)
            )
    cells.append(
        Cell(
            "worst case",
            severity=1.0,
            drop_deg=8.0,
            cadence_spm=90.0,
            speed_m_s=0.8,
            noise_scale=4.0,
            mount="random",
            drift_ppm=300.0,
            loss=0.10,
        )
    )
    return cells + [dataclasses.replace(c, seed=1) for c in cells]


FACTORS = ("severity", "drop_deg", "cadence_spm", "noise_scale", "mount", "drift_ppm", "loss")


COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("thigh IC F1", "ic_f1", "{:.3f}"),
    ("thigh IC bias±SD ms", "ic", ""),
    ("thigh FC bias±SD ms", "fc", ""),
    ("stance SI err pp", "stance_si_err", "{:+.2f}"),
    ("stance SI truth in 95 % CI", "stance_si_in_ci", "{:.2f}"),
    ("step SI err pp", "step_si_err", "{:+.2f}"),
    ("obliq err °", "obliq_err", "{:+.2f}"),
    ("drop err L/R °", "drop", ""),
    ("cad err spm", "cadence_err", "{:+.2f}"),
    ("speed err %", "speed_err_pct", "{:+.2f}"),  # two decimals: the ±5 % target is decidable
    ("thigh speed err %", "thigh_speed_err_pct", "{:+.2f}"),
    ("pelvis IC F1", "p_ic_f1", "{:.3f}"),
    ("pelvis IC bias±SD ms", "p_ic", ""),
    ("pelvis lat acc", "p_lat_acc", "{:.3f}"),
)


def _fmt(row: dict[str, Any], key: str, spec: str) -> str:
    def num(k: str, f: str) -> str:
        v = row.get(k, math.nan)
        if v is None or not math.isfinite(v):
            return "n/a"
        return f.replace("+", "").format(v) if row.get("aggregate") else f.format(v)

    if key in ("ic", "fc", "p_ic"):
        return f"{num(key + '_bias_ms', '{:+.0f}')} ± {num(key + '_sd_ms', '{:.0f}')}"
    if key == "drop":
        return f"{num('drop_err_l', '{:+.2f}')} / {num('drop_err_r', '{:+.2f}')}"
    return num(key, spec)


def _cell_label(row: dict[str, Any]) -> str:
    return row["cell"] if row.get("aggregate") else f"{row['cell']} (seed {row['seed']})"


def _aggregate(rows: list[dict[str, Any]], label: str = "all cells: mean abs err, min F1/acc") -> dict[str, Any]:
    """Mean |error| over cells for the error columns (NaN-aware); F1 / accuracy minimum; bias mean |.|, SD mean."""
    out: dict[str, Any] = {"cell": f"{label} (n={len(rows)})", "seed": 0, "aggregate": True}
    for key in ("ic_f1", "p_ic_f1", "p_lat_acc"):
        v = np.array([r.get(key, math.nan) for r in rows], dtype=float)
        out[key] = float(np.nanmin(v)) if np.isfinite(v).any() else math.nan
    for key in (
        "ic_bias_ms", "fc_bias_ms", "p_ic_bias_ms", "stance_si_err", "step_si_err", "obliq_err", "drop_err_l",
        "drop_err_r", "cadence_err", "speed_err_pct", "thigh_speed_err_pct",
    ):  # fmt: skip
        v = np.abs(np.array([r.get(key, math.nan) for r in rows], dtype=float))
        out[key] = float(np.nanmean(v)) if np.isfinite(v).any() else math.nan
    for key in ("ic_sd_ms", "fc_sd_ms", "p_ic_sd_ms", "stance_si_in_ci"):  # the last: share of cells covered
        v = np.array([r.get(key, math.nan) for r in rows], dtype=float)
        out[key] = float(np.nanmean(v)) if np.isfinite(v).any() else math.nan
    return out


def display_rows(rows: list[dict[str, Any]], full: bool) -> list[dict[str, Any]]:
    """Every cell then the overall aggregate; for ``full``, one aggregate per factor level instead of every cell."""
    if not full:
        return [*rows, _aggregate(rows)]
    out = []
    for factor in FACTORS:
        for level in sorted({r[factor] for r in rows}, key=str):
            out.append(_aggregate([r for r in rows if r[factor] == level], f"{factor}={level}"))
    return [*out, _aggregate(rows)]


def _git_commit() -> str:
    try:
        sha = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{sha}{' + uncommitted changes' if dirty else ''}"


def to_markdown(rows: list[dict[str, Any]], cells: list[Cell], command: str, seconds: float, full: bool) -> str:
    header = ["cell", "truth stance/step SI %", *(c[0] for c in COLUMNS)]
    lines = [
        "# Simulator truth error table",
        "",
        f"Command: `{command}`  ",
        f"Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; commit {_git_commit()}; {len(cells)} cells, "
        f"{cells[0].duration_s:.0f} s each, {seconds:.0f} s wall time.",
        "",
        "Errors are pipeline − simulator truth. Events are paired one-to-one within ±0.3 s "
        "(`pipeline.evaluation`), walking period only. `n/a`: the pipeline reports no such value (or it failed).",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    for row in display_rows(rows, full):
        truth = f"{row['truth_stance_si']:+.1f} / {row['truth_step_si']:+.1f}" if not row.get("aggregate") else ""
        cells_md = [_cell_label(row), truth, *(_fmt(row, key, spec) for _, key, spec in COLUMNS)]
        lines.append("| " + " | ".join(cells_md) + " |")
    errors = [f"- {_cell_label(r)}: {r['error']}" for r in rows if r.get("error")]
    if errors:
        lines += ["", "Failures:", *errors]
    if full:
        lines += ["", "Aggregate rows: error columns are mean |error|, SD columns mean SD, F1/accuracy the minimum."]
        return "\n".join(lines) + "\n"
    lines += [
        "",
        "Aggregate row: error columns are mean |error|, SD columns mean SD, F1/accuracy the minimum over cells.",
        "",
        "Cell definitions (baseline: healthy, 108 steps/min, 1.3 m/s, profile noise, default mountings, "
        "±50 ppm drift, 2 % packet loss; every cell with seeds 0 and 1; severity blends healthy → antalgic_right):",
        "",
    ]
    for c in cells:
        if c.seed == 0:
            changed = {
                f.name: getattr(c, f.name)
                for f in dataclasses.fields(Cell)
                if f.name not in ("name", "seed", "duration_s") and getattr(c, f.name) != getattr(Cell("x"), f.name)
            }
            lines.append(f"- {c.name}: {', '.join(f'{k}={v}' for k, v in changed.items()) or 'baseline'}")
    return "\n".join(lines) + "\n"


def print_table(console: Console, rows: list[dict[str, Any]], full: bool) -> None:
    table = Table(title="Simulator truth error table (pipeline − truth)")
    table.add_column("cell")
    table.add_column("truth SI st/step")
    for title, _, _ in COLUMNS:
        table.add_column(title, justify="right")
    for row in display_rows(rows, full):
        truth = f"{row['truth_stance_si']:+.1f}/{row['truth_step_si']:+.1f}" if not row.get("aggregate") else ""
        table.add_row(_cell_label(row), truth, *(_fmt(row, key, spec) for _, key, spec in COLUMNS))
    console.print(table)
    for row in rows:
        if row.get("error"):
            console.print(f"[red]{_cell_label(row)}: {row['error']}[/red]")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true", help="full factorial grid, 120 s walks, per-level aggregates")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker processes (default: all cores)")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "docs/validation/sim_grid.md", help="markdown report to (over)write"
    )
    args = parser.parse_args(argv)
    command = "python bench/sim_grid.py" + (" --full" if args.full else "")
    console = Console(width=250)
    cells = grid(args.full)
    start = time.perf_counter()
    results: dict[int, dict[str, Any]] = {}
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("simulating and processing", total=len(cells))
        with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool_:
            futures = {pool_.submit(run_cell, cell): i for i, cell in enumerate(cells)}
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                progress.advance(task)
    rows = [results[i] for i in range(len(cells))]
    seconds = time.perf_counter() - start
    print_table(console, rows, args.full)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(to_markdown(rows, cells, command, seconds, args.full), encoding="utf-8")
    console.print(f"{len(cells)} cells in {seconds:.1f} s; wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
