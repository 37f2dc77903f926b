"""Our pelvis-only figures next to mobgap's on the same Mobilise-D example trials, with ratios.

Run with the benchmark virtualenv, which has mobgap and an editable imugait (mobgap is never a dependency of
imugait)::

    .venv-bench/bin/python bench/compare_mobgap.py --data /tmp/mobgap_example/example_data

Data and scoring are those of ``bench/validate_real.py`` (INDIP reference walking bouts only, one-to-one pairing
by ``pipeline.evaluation``). mobgap is loaded offline through ``GenericMobilisedDataset`` on the same ``data.mat``
files (``LabExampleDataset`` would look for a ``v<version>`` sub-folder and try to download).

Detectors compared (all scored by the same code):
  imugait            our pipeline on the whole trial (import_tables + process_session), pelvis only.
  IcdIonescu/+Ullrich, IcdShinImproved/+Ullrich
                     mobgap's IC detectors run on each reference walking bout, as in mobgap's ICD validation
                     (IcdEmulationPipeline), laterality from mobgap's default LrcUllrich on the detected ICs.
  mobgap pipeline    MobilisedPipelineUniversal (healthy or impaired by cohort) on the whole trial: its own gait
                     sequences, ICs and laterality (``raw_ic_list_``), and walking speed (``per_wb_parameters_``).
Laterality on the reference ICs (mobgap's LRC validation protocol; our pipeline cannot take given ICs) is shown for
LrcMcCamley, LrcMansour and LrcUllrich. As a check of the scoring code, mobgap's own ICD scorer
(``icd_per_datapoint_score``, mutual-nearest-neighbour matching at ±0.5 s) is printed for IcdIonescu, and its
pipeline scorer (``pipeline_per_datapoint_score``: bouts matched at 80 % overlap both ways, its "matched"
walking-speed errors) next to ``matched_bout_rows`` for its pipeline.
"""

from __future__ import annotations

import argparse
import math
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from rich.console import Console
from validate_real import (
    BOUT_HEADER,
    COMBINED_HEADER,
    DATA_ENV,
    MATCHED_HEADER,
    Detection,
    Trial,
    TrialScores,
    bout_rows,
    combined_rows,
    data_dir_argument,
    edge_margin_argument,
    evaluate,
    find_lab_dir,
    load_trials,
    markdown,
    matched_bout_rows,
    print_rows,
    run_all_ours,
    speed_over,
)

from pipeline.evaluation import per_trial_mean, pool

try:
    import pandas as pd
    from mobgap.data import GenericMobilisedDataset
    from mobgap.initial_contacts import IcdIonescu, IcdShinImproved
    from mobgap.initial_contacts.evaluation import icd_per_datapoint_score
    from mobgap.initial_contacts.pipeline import IcdEmulationPipeline
    from mobgap.laterality import LrcMansour, LrcMcCamley, LrcUllrich
    from mobgap.pipeline import MobilisedPipelineUniversal
    from mobgap.pipeline.evaluation import pipeline_per_datapoint_score
    from mobgap.utils.conversions import to_body_frame
except ImportError:  # reported in main(); the benchmark venv has mobgap
    GenericMobilisedDataset = None


def mobgap_dataset(lab_dir: Path) -> Any:
    """mobgap's loader on the same files, offline, INDIP continuous walking periods as reference bouts."""
    return GenericMobilisedDataset(
        paths_list=sorted(lab_dir.glob("*/*/data.mat")),
        test_level_names=GenericMobilisedDataset.COMMON_TEST_LEVEL_NAMES["tvs_lab"],
        parent_folders_as_metadata=["cohort", "participant_id"],
        measurement_condition="laboratory",
        reference_system="INDIP",
        reference_para_level="wb",
    )


def _datapoint(dataset: Any, trial: Trial) -> Any:
    return dataset.get_subset(cohort=trial.cohort, participant_id=trial.participant, test=trial.test, trial=trial.trial)


def per_bout(dp: Any, icd: Callable[[], Any], lrc: Callable[[], Any] | None) -> Detection:
    """An IC detector (and optionally an LR classifier) on each reference walking bout; times in recording s."""
    fs = dp.sampling_rate_hz
    data = to_body_frame(dp.data_ss)
    times, sides = [], []
    for _, wb in dp.reference_parameters_.wb_list.iterrows():
        start, end = int(wb["start"]), int(wb["end"])
        segment = data.iloc[start:end]
        ics = icd().detect(segment, sampling_rate_hz=fs).ic_list_
        if ics.empty:
            continue
        if lrc is not None:
            labels = lrc().predict(segment, ics, sampling_rate_hz=fs).ic_lr_list_["lr_label"].astype(str)
        else:
            labels = pd.Series([""] * len(ics))
        times.append((ics["ic"].to_numpy(dtype=float) + start) / fs)
        sides.append(labels.to_numpy(dtype=str))
    t = np.concatenate(times) if times else np.zeros(0)
    s = np.concatenate(sides) if sides else np.zeros(0, dtype=str)
    return Detection(t, s, np.zeros(0), np.zeros(0, dtype=str))


WB_PARAMETERS = ("walking_speed_mps", "cadence_spm", "stride_length_m")  # mobgap per_wb_parameters_ columns


def full_pipeline(dp: Any, trial: Trial) -> Detection:
    """mobgap's universal pipeline on the whole trial: ICs with laterality, the walking speed (duration-weighted
    over its walking bouts) and, per reference bout, its bouts' speed, cadence and stride length, each weighted by
    the bout's overlap with the reference bout (as mobgap's own validation compares them with INDIP's)."""
    pipe = MobilisedPipelineUniversal().safe_run(dp)
    fs = dp.sampling_rate_hz
    ic = pipe.pipeline_.raw_ic_list_
    t = ic["ic"].to_numpy(dtype=float) / fs if len(ic) else np.zeros(0)
    side = ic["lr_label"].astype(str).to_numpy() if "lr_label" in ic and len(ic) else np.full(t.size, "")
    wb = pipe.per_wb_parameters_
    speed = math.nan
    per_bout = {c: np.full(trial.wb_start_s.size, np.nan) for c in WB_PARAMETERS}
    start = end = own_speed = np.zeros(0)
    if len(wb) and "walking_speed_mps" in wb:
        start, end = (wb[c].to_numpy(dtype=float) / fs for c in ("start", "end"))
        own_speed = v = wb["walking_speed_mps"].to_numpy(dtype=float)
        ok = np.isfinite(v)
        if ok.any():
            speed = float(np.average(v[ok], weights=(end - start)[ok]))
        for c in WB_PARAMETERS:
            if c in wb:
                per_bout[c] = speed_over(trial.wb_start_s, trial.wb_end_s, start, end, wb[c].to_numpy(dtype=float))
    return Detection(
        t,
        side,
        np.zeros(0),
        np.zeros(0, dtype=str),
        speed,
        bout_speed_m_s=per_bout["walking_speed_mps"],
        bout_cadence_spm=per_bout["cadence_spm"],
        bout_stride_length_m=per_bout["stride_length_m"],
        own_bout_start_s=start,
        own_bout_end_s=end,
        own_bout_speed_m_s=own_speed,
    )


def lrc_on_reference(dp: Any, lrc: Callable[[], Any]) -> float:
    """Laterality accuracy of an LR classifier given the reference ICs of each bout (mobgap's LRC protocol)."""
    fs = dp.sampling_rate_hz
    data = to_body_frame(dp.data_ss)
    ref = dp.reference_parameters_
    correct = []
    for wb_id, wb in ref.wb_list.iterrows():
        start, end = int(wb["start"]), int(wb["end"])
        ics = ref.ic_list.loc[wb_id].reset_index()
        rel = ics[["step_id", "ic"]].set_index("step_id")
        rel["ic"] = rel["ic"] - start
        rel = rel[(rel["ic"] >= 0) & (rel["ic"] < end - start)]
        if rel.empty:
            continue
        predicted = lrc().predict(data.iloc[start:end], rel, sampling_rate_hz=fs).ic_lr_list_["lr_label"]
        truth = ics.set_index("step_id").loc[predicted.index, "lr_label"]
        known = truth.notna().to_numpy()
        correct.append(predicted.astype(str).to_numpy()[known] == truth.astype(str).to_numpy()[known])
    flat = np.concatenate(correct) if correct else np.zeros(0, dtype=bool)
    return float(flat.mean()) if flat.size else math.nan


def _f(value: float, spec: str) -> str:
    return "n/a" if not math.isfinite(value) else spec.format(value)


def _nanmean(values: Sequence[float]) -> float:
    x = np.asarray(values, dtype=np.float64)
    return float(x[np.isfinite(x)].mean()) if np.isfinite(x).any() else math.nan


def _pooled_bout_mae(scores: Sequence[TrialScores]) -> float:
    err = np.concatenate([s.bout_speed_err_m_s for s in scores]) if scores else np.zeros(0)
    err = err[np.isfinite(err)]
    return float(np.abs(err).mean()) if err.size else math.nan


def common_bout_rows(
    trials: Sequence[Trial], detectors: dict[str, list[TrialScores]]
) -> tuple[list[str], list[list[str]]]:
    """Per system, over the reference bouts that every system gave a speed for, then over all the bouts it gave a
    speed for: MAE (m/s), relative MAE (% of the INDIP bout speed, the unit of the published 15–21 %; slow bouts
    weigh heavily in it) and bias."""
    ref = np.concatenate([t.wb_speed_m_s for t in trials]) if trials else np.zeros(0)
    errors = {n: np.concatenate([s.bout_speed_err_m_s for s in sc]) for n, sc in detectors.items()}
    common = np.isfinite(ref) & np.logical_and.reduce([np.isfinite(e) for e in errors.values()])

    def row(label: str, e: NDArray[np.float64], sel: NDArray[np.bool_]) -> list[str]:
        if not sel.any():
            return [label, "0", "n/a", "n/a", "n/a"]
        rel = 100 * np.abs(e[sel]) / ref[sel]
        return [
            label,
            str(int(sel.sum())),
            f"{np.abs(e[sel]).mean():.3f}",
            f"{rel.mean():.1f}",
            f"{e[sel].mean():+.3f}",
        ]

    header = ["system", "bouts", "MAE m/s", "relative MAE %", "bias m/s"]
    rows = [row(f"{n} (common bouts)", e, common) for n, e in errors.items()]
    rows += [row(f"{n} (all its bouts)", e, np.isfinite(ref) & np.isfinite(e)) for n, e in errors.items()]
    return header, rows


def missing_bouts(
    trials: Sequence[Trial], detectors: dict[str, list[TrialScores]]
) -> list[tuple[Trial, int, dict[str, float]]]:
    """The reference bouts some system gave no speed for, with each system's error (NaN: none)."""
    out = []
    for i, t in enumerate(trials):
        for k in range(t.wb_start_s.size):
            errors = {
                n: float(sc[i].bout_speed_err_m_s[k]) if sc[i].bout_speed_err_m_s.size else math.nan
                for n, sc in detectors.items()
            }
            if not all(math.isfinite(e) for e in errors.values()):
                out.append((t, k, errors))
    return out


def _ratio(ours: float, theirs: float) -> str:
    return "n/a" if not (math.isfinite(ours) and math.isfinite(theirs)) or theirs == 0 else f"{ours / theirs:.2f}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    data_dir_argument(parser)
    edge_margin_argument(parser)
    parser.add_argument("--markdown", type=Path, help="also write the tables as markdown to this file")
    args = parser.parse_args(argv)
    console = Console(width=220)
    lab = find_lab_dir(args.data)
    if lab is None:
        console.print(f"SKIPPED: no mobgap example data found (--data {args.data}, ${DATA_ENV}).")
        return 0
    if GenericMobilisedDataset is None:
        console.print(
            "SKIPPED: mobgap is not installed in this interpreter; run with .venv-bench/bin/python "
            "(make validate-real sets it up)."
        )
        return 0
    warnings.filterwarnings("ignore")  # mobgap's loader warns about its cache and known INDIP quirks
    trials = [t for t in load_trials(lab) if t.wb_start_s.size]
    dataset = mobgap_dataset(lab)
    margin = args.edge_margin_samples
    detectors: dict[str, list[TrialScores]] = {"imugait": run_all_ours(trials, args.edge_margin_samples)}
    lrc_ref: dict[str, list[float]] = {"LrcMcCamley": [], "LrcMansour": [], "LrcUllrich": []}
    mobgap_own_f1, mobgap_own_mae = [], []
    mobgap_own_wb: list[tuple[int, float, float]] = []  # mobgap's own scorer: matched bouts, matched, combined MAE
    with console.status("running mobgap") as status:
        for trial in trials:
            status.update(f"running mobgap on {trial.label}")
            dp = _datapoint(dataset, trial)
            for name, icd in (("IcdIonescu+Ullrich", IcdIonescu), ("IcdShinImproved+Ullrich", IcdShinImproved)):
                detectors.setdefault(name, []).append(
                    evaluate(trial, per_bout(dp, icd, LrcUllrich), with_fc=False, edge_margin_samples=margin)
                )
            detectors.setdefault("mobgap pipeline", []).append(
                evaluate(trial, full_pipeline(dp, trial), with_fc=False, edge_margin_samples=margin)
            )
            for name, lrc in (("LrcMcCamley", LrcMcCamley), ("LrcMansour", LrcMansour), ("LrcUllrich", LrcUllrich)):
                lrc_ref[name].append(lrc_on_reference(dp, lrc))
            own = icd_per_datapoint_score(IcdEmulationPipeline(IcdIonescu()), dp)
            mobgap_own_f1.append(float(own["f1_score"]))
            mobgap_own_mae.append(float(own["tp_absolute_timing_error_s"]) * 1e3)
            wb_own = pipeline_per_datapoint_score(MobilisedPipelineUniversal(), dp)
            mobgap_own_wb.append(
                (
                    int(wb_own["matched__n_matched_wbs"]),
                    float(wb_own["matched__walking_speed_mps__abs_error"]),
                    float(wb_own["combined__walking_speed_mps__abs_error"]),
                )
            )

    # Per trial: F1 at ±0.5 s, MAE and laterality per detector.
    names = list(detectors)
    header = ["trial", *(f"{n} F1/MAE ms/lat" for n in names)]
    rows = []
    for i, trial in enumerate(trials):
        cells = [trial.label]
        for n in names:
            a = detectors[n][i].ic[0.5]
            f1, mae = _f(a.f1, "{:.3f}"), _f(a.mean_abs_error_s * 1e3, "{:.0f}")
            cells.append(f"{f1} / {mae} / {_f(a.laterality_accuracy, '{:.2f}')}")
        rows.append(cells)
    print_rows(console, "Per trial at ±0.5 s: F1 / mean abs timing error / laterality accuracy", header, rows)
    speed_names = [n for n in names if any(s.bout_speed_err_m_s.size for s in detectors[n])]
    speed_header = ["trial", "INDIP bouts", *(f"{n} bout speed MAE m/s" for n in speed_names)]
    speed_rows = [
        [t.label, str(t.wb_start_s.size), *(_f(detectors[n][i].bout_speed_mae_m_s, "{:.3f}") for n in speed_names)]
        for i, t in enumerate(trials)
    ]
    print_rows(console, "Walking speed per INDIP bout: mean absolute error", speed_header, speed_rows)
    bout_table = bout_rows(trials, {n: detectors[n] for n in speed_names})
    title = "Per INDIP bout, each quantity as INDIP defines it (mobgap: its bouts' values weighted by overlap)"
    print_rows(console, title, BOUT_HEADER, bout_table)
    matched_rows = matched_bout_rows(trials, {n: detectors[n] for n in speed_names})
    matched_title = "Walking speed on matched bouts (mobgap's 'matched' protocol: ≥ 80 % overlap both ways)"
    print_rows(console, matched_title, MATCHED_HEADER, matched_rows)
    combined = combined_rows(trials, {n: detectors[n] for n in speed_names})
    combined_title = "Walking speed per trial, mobgap's 'combined' protocol: median of own bouts vs median of INDIP's"
    print_rows(console, combined_title, COMBINED_HEADER, combined)
    common_header, common_rows = common_bout_rows(trials, {n: detectors[n] for n in speed_names})
    print_rows(console, "Walking speed over the INDIP bouts every system measured", common_header, common_rows)
    for t, k, errors in missing_bouts(trials, {n: detectors[n] for n in speed_names}):
        measured = ", ".join(f"{n} {e:+.3f}" for n, e in errors.items() if math.isfinite(e)) or "nobody"
        console.print(
            f"left out: {t.label} bout {k} ({t.wb_speed_m_s[k]:.2f} m/s, {t.wb_duration_s[k]:.1f} s): {measured}"
        )

    # Summary: macro (mean of trials, as mobgap publishes) and pooled, per detector.
    sum_header = [
        "detector",
        "F1 ±0.5 (macro)",
        "F1 ±0.25 (macro)",
        "F1 ±0.1 (macro)",
        "F1 ±0.5 (pooled)",
        "MAE ms (macro)",
        "bias ms (pooled)",
        "lat acc (macro)",
        "lat acc (pooled)",
        "speed |err| m/s",
        "bout speed MAE m/s (pooled)",
        "bout speed MAE m/s (macro)",
    ]
    figures: dict[str, dict[str, float]] = {}
    for n in names:
        sc = detectors[n]
        speed = np.array([s.speed_err_m_s for s in sc])
        fin = speed[np.isfinite(speed)]
        figures[n] = {
            "f1_5": per_trial_mean([s.ic[0.5] for s in sc], "f1"),
            "f1_25": per_trial_mean([s.ic[0.25] for s in sc], "f1"),
            "f1_1": per_trial_mean([s.ic[0.1] for s in sc], "f1"),
            "f1_pooled": pool([s.ic[0.5] for s in sc]).f1,
            "mae": per_trial_mean([s.ic[0.5] for s in sc], "mean_abs_error_s") * 1e3,
            "bias": pool([s.ic[0.5] for s in sc]).mean_error_s * 1e3,
            "lat": per_trial_mean([s.ic[0.5] for s in sc], "laterality_accuracy"),
            "lat_pooled": pool([s.ic[0.5] for s in sc]).laterality_accuracy,
            "speed": float(np.abs(fin).mean()) if fin.size else math.nan,
            "bout_speed": _pooled_bout_mae(sc),
            "bout_speed_macro": _nanmean([s.bout_speed_mae_m_s for s in sc]),
        }
    fmt = {"mae": "{:.0f}", "bias": "{:+.0f}", "speed": "{:.3f}", "bout_speed": "{:.3f}", "bout_speed_macro": "{:.3f}"}
    keys = list(figures["imugait"])
    sum_rows = [[n, *(_f(figures[n][k], fmt.get(k, "{:.3f}")) for k in keys)] for n in names]
    for n in names[1:]:
        sum_rows.append([f"ratio imugait / {n}", *(_ratio(figures["imugait"][k], figures[n][k]) for k in keys)])
    print_rows(console, f"Summary over {len(trials)} trials with reference bouts", sum_header, sum_rows)

    lrc_header = ["trial", *lrc_ref, "imugait (own ICs, pairs ±0.5 s)"]
    lrc_rows = [
        [
            t.label,
            *(_f(lrc_ref[n][i], "{:.3f}") for n in lrc_ref),
            _f(detectors["imugait"][i].ic[0.5].laterality_accuracy, "{:.3f}"),
        ]
        for i, t in enumerate(trials)
    ]
    lrc_rows.append(
        [
            "mean of trials",
            *(_f(float(np.nanmean(v)), "{:.3f}") for v in lrc_ref.values()),
            _f(figures["imugait"]["lat"], "{:.3f}"),
        ]
    )
    print_rows(console, "Laterality given the reference ICs (mobgap's LRC protocol)", lrc_header, lrc_rows)

    console.print(
        "Scoring check, IcdIonescu at ±0.5 s, mean of trials: pipeline.evaluation "
        f"F1 {figures['IcdIonescu+Ullrich']['f1_5']:.3f}, MAE {figures['IcdIonescu+Ullrich']['mae']:.0f} ms; "
        f"mobgap icd_per_datapoint_score F1 {np.nanmean(mobgap_own_f1):.3f}, MAE {np.nanmean(mobgap_own_mae):.0f} ms"
    )
    own_maes = [mae for n, mae, _ in mobgap_own_wb if n and math.isfinite(mae)]
    own_combined = [c for _, _, c in mobgap_own_wb if math.isfinite(c)]
    missing = ["mobgap pipeline", "", "n/a", "n/a", "n/a", "n/a", "n/a", "n/a"]
    matched_mobgap = next((r for r in matched_rows if r[0] == "mobgap pipeline"), missing)
    combined_mobgap = next((r for r in combined if r[0] == "mobgap pipeline"), missing)
    console.print(
        f"Scoring check, mobgap pipeline on matched bouts: matched_bout_rows {matched_mobgap[3]} matched, "
        f"mean of trials {matched_mobgap[7]}; mobgap pipeline_per_datapoint_score "
        f"{sum(n for n, _, _ in mobgap_own_wb)} matched, "
        f"mean of trials {_nanmean(own_maes):.3f} ({len(own_maes)} trials)"
    )
    console.print(
        f"Scoring check, mobgap pipeline 'combined': combined_rows {combined_mobgap[2]} ({combined_mobgap[1]} "
        f"trials); mobgap pipeline_per_datapoint_score {_nanmean(own_combined):.3f} ({len(own_combined)} trials)"
    )
    if args.markdown:
        args.markdown.write_text(
            "\n\n".join(
                markdown(h, r)
                for h, r in (
                    (header, rows),
                    (speed_header, speed_rows),
                    (BOUT_HEADER, bout_table),
                    (MATCHED_HEADER, matched_rows),
                    (COMBINED_HEADER, combined),
                    (common_header, common_rows),
                    (sum_header, sum_rows),
                    (lrc_header, lrc_rows),
                )
            )
            + "\n",
            encoding="utf-8",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
